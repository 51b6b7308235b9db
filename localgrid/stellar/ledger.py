"""The Stellar ledger of localgrid: accounts, trustlines, applying transactions, history.

Two ways in, the same rules:

* ``submit(envelope_xdr)``: a signed envelope from any Stellar client (Horizon's POST /transactions);
* the Python API (``create_account``, ``change_trust``, ``pay``) used by localgrid's own explorer
  wallets. These need no signature and pay no fee, but they consume the source's sequence
  number and are recorded as real transactions (hash, memo, operations, effects).

How the explorer's accounts come to exist: the explorer wallet is created with
``create_account(wallet, stroops)`` (funded by the network root that also backs friendbot);
each escrow account with ``create_account(escrow, (2 + 3) * 5_000_000, funder=wallet)`` followed
by ``change_trust(escrow, code)`` for TFT, TFTA and FreeTFT. A trustline needs 0.5 XLM of reserve
like on Stellar, so an account funded with less gets ``op_low_reserve``.

Every call runs in one store transaction, so concurrent submissions keep balances exact and
sequence numbers strict.
"""

import contextlib
import dataclasses
import json

from stellar_sdk import NoneMemo, TextMemo

from . import envelope, history, operations, state, validation
from .amounts import MAX_INT64
from .assets import ASSET_CODES, is_account_id, localgrid_asset, root_keypair
from .internal_envelope import unsigned_envelope
from .operations import Op
from .results import result_xdr

ROOT_BALANCE = 10**18  # 100 billion XLM, as on Stellar's genesis ledger
ISSUER_STARTING_BALANCE = 100 * 10**7


class LedgerError(Exception):
    """A rule of the ledger refused a call; ``code`` is the Horizon result code (e.g. op_underfunded)."""

    def __init__(self, code, message=None):
        super().__init__(message or code)
        self.code = code


@dataclasses.dataclass(frozen=True)
class SubmitResult:
    """Outcome of an applied (or already known) submission."""

    hash: str
    successful: bool
    result_codes: dict
    result_xdr: str


class _OpsFailed(Exception):
    pass


@contextlib.contextmanager
def _savepoint(conn, name):
    conn.execute("SAVEPOINT " + name)
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK TO " + name)
        conn.execute("RELEASE " + name)
        raise
    conn.execute("RELEASE " + name)


class Ledger:
    def __init__(self, store, clock, on_change=None):
        self.store = store
        self.clock = clock
        # Called after each applied transaction (the escrow loop wakes to look for payments).
        self.on_change = on_change
        store.migrate("stellar", state.SCHEMA)
        self._ensure_genesis()

    # ---- assets ------------------------------------------------------------------------------

    def asset_string(self, code):
        """``CODE:ISSUER`` as the explorer's escrow_information.asset."""
        return "%s:%s" % _asset(code)

    def issuer(self, code):
        return _asset(code).issuer

    @property
    def root_account(self):
        return root_keypair().public_key

    # ---- queries -----------------------------------------------------------------------------

    def account_exists(self, account_id):
        with self.store.transaction() as conn:
            return state.get_account(conn, account_id) is not None

    def balance(self, account_id, asset_code):
        """Stroops; "XLM" for native. 0 when the account or its trustline does not exist."""
        asset = _asset(asset_code)
        with self.store.transaction() as conn:
            if asset.issuer is None:
                row = state.get_account(conn, account_id)
            else:
                row = state.get_trustline(conn, account_id, asset)
            return row["balance"] if row else 0

    def memo_balance(self, account_id, asset_code, memo_text):
        """Credited minus debited to account_id in that asset, over successful transactions with that text memo."""
        asset = _asset(asset_code)
        with self.store.transaction() as conn:
            row = conn.execute(
                "SELECT COALESCE(SUM(CASE e.type WHEN 'account_credited' THEN e.amount ELSE -e.amount END), 0) "
                # CROSS JOIN keeps this order: the memo's transactions first (an escrow account has
                # effects for every reservation its customer ever paid), then their effects.
                "AS total FROM stellar_transactions t CROSS JOIN stellar_effects e ON t.id = e.tx_id "
                "WHERE e.account = ? AND e.type IN ('account_credited', 'account_debited') "
                "AND e.asset_code = ? AND e.asset_issuer IS ? AND t.memo_type = 'text' AND t.memo = ? "
                "AND t.successful = 1",
                (account_id, asset.code, asset.issuer, memo_text),
            ).fetchone()
        return row["total"]

    def memos_since(self, cursor):
        """(text memos of the successful transactions applied after ``cursor``, the cursor after them);
        cursor 0 is before the first transaction."""
        with self.store.transaction() as conn:
            last = conn.execute("SELECT MAX(id) AS last FROM stellar_transactions").fetchone()["last"] or 0
            rows = conn.execute(
                "SELECT DISTINCT memo FROM stellar_transactions WHERE id > ? AND id <= ? AND successful = 1 "
                "AND memo_type = 'text'", (cursor, last),
            ).fetchall()
        return {row["memo"] for row in rows}, max(cursor, last)

    def memo_funders(self, account_id, asset_code, memo_text):
        """Accounts that paid account_id in that asset with that text memo, first payer first."""
        asset = _asset(asset_code)
        with self.store.transaction() as conn:
            rows = conn.execute(
                "SELECT d.account, MIN(d.op_id) AS first_op FROM stellar_effects c "
                "JOIN stellar_effects d ON d.op_id = c.op_id AND d.type = 'account_debited' "
                "JOIN stellar_transactions t ON t.id = c.tx_id "
                "WHERE c.account = ? AND c.type = 'account_credited' AND c.asset_code = ? "
                "AND c.asset_issuer IS ? AND d.account != c.account AND t.memo_type = 'text' AND t.memo = ? "
                "AND t.successful = 1 GROUP BY d.account ORDER BY first_op",
                (account_id, asset.code, asset.issuer, memo_text),
            ).fetchall()
        return [row["account"] for row in rows]

    # ---- internal transactions (no signature, no fee) ------------------------------------------

    def create_account(self, account_id, starting_balance_stroops, funder=None):
        """funder None = the network root (friendbot's funder). Returns the transaction hash."""
        funder = funder or self.root_account
        self._check_account_id(account_id)
        return self._internal(funder, [Op("create_account", funder, account_id, None, int(starting_balance_stroops))])

    def change_trust(self, account_id, asset_code, limit_stroops=MAX_INT64):
        """Add (or with limit 0 remove) the account's trustline to a localgrid asset; returns the hash."""
        asset = _asset(asset_code)
        if asset.issuer is None:
            raise LedgerError("op_malformed", "XLM needs no trustline")
        return self._internal(account_id, [Op("change_trust", account_id, asset=asset, limit=int(limit_stroops))])

    def pay(self, source, destination, asset_code, amount_stroops, memo_text=None):
        """Payment recorded as a real transaction; returns its hash. Raises LedgerError(code)."""
        return self.pay_many(source, [(destination, amount_stroops)], asset_code, memo_text)

    def pay_many(self, source, payments, asset_code, memo_text=None):
        """One transaction with a payment operation per (destination, stroops), all or nothing; returns its hash."""
        for destination, _amount in payments:
            self._check_account_id(destination)
        asset = _asset(asset_code)
        ops = [Op("payment", source, destination, asset, int(amount)) for destination, amount in payments]
        return self._internal(source, ops, memo_text)

    # ---- submitted envelopes -----------------------------------------------------------------

    def submit(self, envelope_xdr):
        """Validate and apply a signed envelope.

        Raises envelope.MalformedTransaction (undecodable) or validation.TransactionRejected (refused
        before apply). Returns a SubmitResult: successful, or failed at operation level (fee and sequence
        consumed, recorded with successful=false). A hash already known returns its first outcome.
        """
        try:
            tx, tx_hash, signatures = envelope.decode(envelope_xdr)
        except envelope.FeeBumpNotSupported:
            raise validation.TransactionRejected("tx_not_supported") from None
        with self.store.transaction() as conn:
            known = conn.execute(
                "SELECT hash, successful, result_codes, result_xdr FROM stellar_transactions WHERE hash = ?",
                (tx.hash,)).fetchone()
            if known is not None:
                return SubmitResult(known["hash"], bool(known["successful"]), json.loads(known["result_codes"]),
                                    known["result_xdr"])
            fee = validation.validate(conn, tx, tx_hash, signatures, int(self.clock.now()))
            return self._apply(conn, tx, fee)

    # ---- applying ------------------------------------------------------------------------------

    def _apply(self, conn, tx, fee):
        """Charge the fee, consume the sequence, apply the ops all-or-nothing, record; returns SubmitResult."""
        ledger = state.latest_ledger(conn)["sequence"] + 1
        closed_at = self.clock.now()
        state.add_native(conn, tx.source, -fee, ledger)
        state.set_sequence(conn, tx.source, tx.sequence, ledger)
        codes, effects = [], []
        try:
            with _savepoint(conn, "stellar_ops"):
                for op in tx.ops:
                    code, op_effects = operations.apply(conn, op, ledger)
                    codes.append(code)
                    effects.append(op_effects)
                if any(code != "op_success" for code in codes):
                    raise _OpsFailed()
        except _OpsFailed:
            pass
        successful = all(code == "op_success" for code in codes)
        tx_code = "tx_success" if successful else "tx_failed"
        result = result_xdr(tx_code, fee, [(op.type, code) for op, code in zip(tx.ops, codes)])
        result_codes = {"transaction": tx_code, "operations": codes}
        history.close_ledger(conn, ledger, closed_at, int(successful), int(not successful), len(tx.ops))
        history.record_transaction(conn, tx, ledger, closed_at, fee, successful, result, result_codes, effects)
        if self.on_change is not None:
            # Inside the transaction: whoever it wakes reads the store only after this commit.
            self.on_change()
        return SubmitResult(tx.hash, successful, result_codes, result)

    def _internal(self, source, ops, memo_text=None):
        with self.store.transaction() as conn, _savepoint(conn, "stellar_internal"):
            account = state.get_account(conn, source)
            if account is None:
                raise LedgerError("tx_no_source_account", "account %s does not exist" % source)
            tx = self._internal_tx(source, account["sequence"], ops, memo_text)
            outcome = self._apply(conn, tx, 0)
            if not outcome.successful:
                failed = next(code for code in outcome.result_codes["operations"] if code != "op_success")
                # Raising rolls the savepoint back: an internal call that fails leaves no trace.
                raise LedgerError(failed)
            return outcome.hash

    @staticmethod
    def _internal_tx(source, sequence, ops, memo_text):
        """A real (unsigned, fee 0) envelope for an internal transaction, so its hash is a genuine one."""
        if any(op.amount < 0 or (op.limit or 0) < 0 or max(op.amount, op.limit or 0) > MAX_INT64 for op in ops):
            raise LedgerError("op_malformed", "amounts must be between 0 and 2^63-1 stroops")
        try:
            memo = NoneMemo() if memo_text is None else TextMemo(memo_text)
        except Exception as exc:  # stellar-sdk's MemoInvalidException: text longer than 28 bytes
            raise LedgerError("tx_malformed", "invalid memo: %s" % exc) from exc
        tx_hash, envelope_xdr = unsigned_envelope(source, sequence + 1, ops, memo)
        memo_type, memo, memo_bytes = envelope.memo_fields(memo)
        return history.TxInput(
            hash=tx_hash, source=source, sequence=sequence + 1, max_fee=0, ops=ops, envelope_xdr=envelope_xdr,
            memo_type=memo_type, memo=memo, memo_bytes=memo_bytes,
            valid_after=0, valid_before=0,
        )

    @staticmethod
    def _check_account_id(account_id):
        if not is_account_id(account_id):
            raise LedgerError("op_malformed", "not a Stellar account id: %r" % (account_id,))

    def _ensure_genesis(self):
        """Ledger 1 holds the root; the issuers are then created by real create_account transactions."""
        with self.store.transaction() as conn:
            if state.latest_ledger(conn) is not None:
                return
            root = self.root_account
            state.insert_account(conn, root, ROOT_BALANCE, 1)
            state.set_sequence(conn, root, 0, 1)
            history.close_ledger(conn, 1, self.clock.now(), 0, 0, 0)
            for code in ASSET_CODES:
                self.create_account(self.issuer(code), ISSUER_STARTING_BALANCE)


def _asset(code):
    try:
        return localgrid_asset(code)
    except KeyError:
        raise LedgerError("op_malformed", "unknown asset %r: use XLM, %s" % (code, ", ".join(ASSET_CODES))) from None
