"""The rules of the three supported operations (stellar-core's checks, in stellar-core's order).

``apply`` changes state through the caller's connection and returns the Horizon result code plus
the effects; the caller rolls back to a savepoint when any operation of a transaction fails.
"""

import dataclasses

from . import state
from .amounts import MAX_INT64, format_amount
from .assets import Asset, asset_fields

SUPPORTED = ("payment", "create_account", "change_trust")
_TYPE_I = {"create_account": 0, "payment": 1, "change_trust": 6}


@dataclasses.dataclass(frozen=True)
class Op:
    type: str  # one of SUPPORTED, or the name of an operation localgrid does not apply
    source: str
    destination: str = None
    asset: Asset = None
    amount: int = 0  # payment amount or starting balance, stroops
    limit: int = None  # change_trust limit, stroops (0 removes the trustline)

    @property
    def type_i(self):
        return _TYPE_I.get(self.type, -1)

    def participants(self):
        return {a for a in (self.source, self.destination) if a}

    def details(self):
        """The type-specific fields of Horizon's operation record."""
        if self.type == "payment":
            return dict(asset_fields(self.asset), **{
                "from": self.source, "to": self.destination, "amount": format_amount(self.amount)})
        if self.type == "create_account":
            return {"starting_balance": format_amount(self.amount), "funder": self.source,
                    "account": self.destination}
        if self.type == "change_trust":
            return dict(asset_fields(self.asset), limit=format_amount(self.limit), trustee=self.asset.issuer,
                        trustor=self.source)
        return {}


@dataclasses.dataclass(frozen=True)
class Effect:
    account: str
    type: str
    asset: Asset = None
    amount: int = None
    extra: dict = dataclasses.field(default_factory=dict)


def apply(conn, op, ledger):
    """Apply one operation; returns (code, [Effect]) with code "op_success" or a failure code."""
    return _APPLY[op.type](conn, op, ledger)


def _payment(conn, op, ledger):
    if op.amount <= 0:
        return "op_malformed", []
    if state.get_account(conn, op.destination) is None:
        return "op_no_destination", []
    if op.asset.issuer is None:
        return _native_payment(conn, op, ledger)
    # Destination first, then source: stellar-core's path-payment order.
    if op.destination != op.asset.issuer:
        line = state.get_trustline(conn, op.destination, op.asset)
        if line is None:
            return "op_no_trust", []
        if line["balance"] + op.amount > line["trust_limit"]:
            return "op_line_full", []
    if op.source != op.asset.issuer:
        line = state.get_trustline(conn, op.source, op.asset)
        if line is None:
            return "op_src_no_trust", []
        if line["balance"] < op.amount:
            return "op_underfunded", []
        state.add_credit(conn, op.source, op.asset, -op.amount, ledger)
    # Paying the issuer burns the tokens; the issuer paying mints them.
    if op.destination != op.asset.issuer:
        state.add_credit(conn, op.destination, op.asset, op.amount, ledger)
    return "op_success", _transfer_effects(op)


def _native_payment(conn, op, ledger):
    source = state.get_account(conn, op.source)
    destination = state.get_account(conn, op.destination)
    if source["balance"] - op.amount < state.min_balance(source["subentry_count"]):
        return "op_underfunded", []
    if destination["balance"] + op.amount > MAX_INT64:
        return "op_line_full", []
    state.add_native(conn, op.source, -op.amount, ledger)
    state.add_native(conn, op.destination, op.amount, ledger)
    return "op_success", _transfer_effects(op)


def _transfer_effects(op):
    return [
        Effect(op.destination, "account_credited", op.asset, op.amount),
        Effect(op.source, "account_debited", op.asset, op.amount),
    ]


def _create_account(conn, op, ledger):
    if op.amount <= 0 or op.destination == op.source:
        return "op_malformed", []
    if state.get_account(conn, op.destination) is not None:
        return "op_already_exists", []
    if op.amount < state.min_balance(0):
        return "op_low_reserve", []
    funder = state.get_account(conn, op.source)
    if funder["balance"] - op.amount < state.min_balance(funder["subentry_count"]):
        return "op_underfunded", []
    state.add_native(conn, op.source, -op.amount, ledger)
    state.insert_account(conn, op.destination, op.amount, ledger)
    native = Asset("XLM", None)
    return "op_success", [
        Effect(op.destination, "account_created", extra={"starting_balance": format_amount(op.amount)}),
        Effect(op.source, "account_debited", native, op.amount),
        Effect(op.destination, "signer_created", extra={"weight": 1, "public_key": op.destination}),
    ]


def _change_trust(conn, op, ledger):
    if op.asset.issuer is None or op.limit < 0:
        return "op_malformed", []
    if op.asset.issuer == op.source:
        return "op_malformed", []
    line = state.get_trustline(conn, op.source, op.asset)
    extra = {"limit": format_amount(op.limit)}
    if op.limit == 0:
        if line is None or line["balance"] != 0:
            return "op_invalid_limit", []
        state.delete_trustline(conn, op.source, op.asset)
        state.add_subentries(conn, op.source, -1, ledger)
        return "op_success", [Effect(op.source, "trustline_removed", op.asset, extra=extra)]
    if line is not None:
        if op.limit < line["balance"]:
            return "op_invalid_limit", []
        state.put_trustline(conn, op.source, op.asset, op.limit, ledger)
        return "op_success", [Effect(op.source, "trustline_updated", op.asset, extra=extra)]
    if state.get_account(conn, op.asset.issuer) is None:
        return "op_no_issuer", []
    account = state.get_account(conn, op.source)
    if account["balance"] < state.min_balance(account["subentry_count"] + 1):
        return "op_low_reserve", []
    state.put_trustline(conn, op.source, op.asset, op.limit, ledger)
    state.add_subentries(conn, op.source, 1, ledger)
    return "op_success", [Effect(op.source, "trustline_created", op.asset, extra=extra)]


_APPLY = {"payment": _payment, "create_account": _create_account, "change_trust": _change_trust}
