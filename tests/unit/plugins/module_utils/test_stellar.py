# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import decimal
import json
import os
import time
import urllib.parse

import pytest

from stellar_sdk import Keypair, TransactionEnvelope
from stellar_sdk import exceptions as sdk_exceptions
from stellar_sdk.client.base_sync_client import BaseSyncClient
from stellar_sdk.client.response import Response
from stellar_sdk.operation import ChangeTrust, CreateAccount, Payment

from ansible_collections.threefold.grid.plugins.module_utils import _horizon_errors, _payment, _stellar, _workloads
from ansible_collections.threefold.grid.plugins.module_utils._amounts import amount_to_stroops, stroops_to_amount
from ansible_collections.threefold.grid.plugins.module_utils._errors import PaymentError, StellarError
from ansible_collections.threefold.grid.plugins.module_utils._payment import pay_escrow
from ansible_collections.threefold.grid.plugins.module_utils._session import GridSession
from ansible_collections.threefold.grid.plugins.module_utils._horizon_errors import describe_horizon_error
from ansible_collections.threefold.grid.plugins.module_utils._stellar import escrow_total_stroops, parse_asset
from ansible_collections.threefold.grid.tests.unit.plugins.grid_fake import FakeExplorer, fake_session

# tfexplorer v0.3.0 asset vectors (tests/vectors/, shared with localgrid's tests).
VECTORS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "vectors", "stellar_assets_v030.json")
PASSPHRASE = "Localgrid Stellar Network ; threefold.grid"
HORIZON = "http://horizon.invalid/stellar"


# ---- amounts ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text, stroops", [
    ("3.454642", 34546420), ("0.0000001", 1), ("10", 100000000), ("10.0000000", 100000000),
    (" 1.5 ", 15000000), ("0", 0), (decimal.Decimal("922337203685.4775807"), 9223372036854775807),
])
def test_amount_to_stroops_exact(text, stroops):
    assert amount_to_stroops(text) == stroops


def test_amount_to_stroops_int_means_whole_units():
    assert amount_to_stroops(7) == 70000000


@pytest.mark.parametrize("bad", ["0.00000001", "-1", "abc", "", "NaN", "Infinity", 1.5, True, None, [1]])
def test_amount_to_stroops_refuses(bad):
    with pytest.raises(ValueError):
        amount_to_stroops(bad)


@pytest.mark.parametrize("stroops, text", [
    (34546420, "3.4546420"), (1, "0.0000001"), (0, "0.0000000"), (100000000, "10.0000000"), (-5, "-0.0000005"),
])
def test_stroops_to_amount_has_seven_decimals(stroops, text):
    assert stroops_to_amount(stroops) == text
    assert amount_to_stroops(text.lstrip("-")) == abs(stroops)


@pytest.mark.parametrize("bad", [1.0, "1", True, None])
def test_stroops_to_amount_refuses_non_int(bad):
    with pytest.raises(ValueError):
        stroops_to_amount(bad)


def test_escrow_total_sums_details_exactly():
    # 0.1 + 0.2 in floats is 0.30000000000000004; in stroops it is exact.
    details = [{"farmer_id": 1, "total_amount": 1000000}, {"farmer_id": 2, "total_amount": 2000000},
               {"farmer_id": 3, "total_amount": 34546420}]
    assert escrow_total_stroops({"details": details}) == 37546420
    assert stroops_to_amount(escrow_total_stroops({"details": details})) == "3.7546420"


@pytest.mark.parametrize("escrow, stroops", [
    ({"amount": 34546420}, 34546420),
    ({"amount": "3.454642"}, 34546420),
    ({"details": None, "amount": None}, 0),
    ({"details": [], "address": ""}, 0),
    ({}, 0),
])
def test_escrow_total_from_amount(escrow, stroops):
    assert escrow_total_stroops(escrow) == stroops


@pytest.mark.parametrize("details", [[{"total_amount": 1.5}], [{"total_amount": "10"}], [{"total_amount": -1}],
                                     [{"farmer_id": 1}]])
def test_escrow_total_refuses_non_stroops(details):
    with pytest.raises(ValueError):
        escrow_total_stroops({"details": details})


@pytest.mark.parametrize("total, limit, above", [
    ("3.4546420", "3.454642", False), ("3.4546421", "3.454642", True), ("0.0000001", "0", True),
])
def test_max_amount_comparison_in_stroops(total, limit, above):
    assert (amount_to_stroops(total) > amount_to_stroops(limit)) is above


# ---- assets ----------------------------------------------------------------------------------

def _vector_cases():
    with open(VECTORS) as handle:
        return json.load(handle)


def test_asset_vectors_validate_cases():
    cases = _vector_cases()["validate_cases"]
    assert cases
    for case in cases:
        if case["error"] is None:
            assert parse_asset(case["asset"]) == (case["code"], case["issuer"])
        else:
            with pytest.raises(ValueError) as info:
                parse_asset(case["asset"])
            assert str(info.value) == case["error"]


def test_known_assets_match_vectors():
    vectors = _vector_cases()
    for network, key in (("main", "mainnet"), ("test", "testnet")):
        expected = sorted(vectors[key])
        got = sorted("%s:%s" % (code, issuer) for code, issuer in _stellar.KNOWN_ASSETS[network].items())
        assert got == expected
    assert _stellar.KNOWN_ASSETS["dev"] == _stellar.KNOWN_ASSETS["test"]


def test_resolve_asset_codes_and_full_strings():
    issuers = _stellar.KNOWN_ASSETS["test"]
    assert _stellar.resolve_asset("FreeTFT", issuers) == "FreeTFT:" + issuers["FreeTFT"]
    assert _stellar.resolve_asset("ABC:GXYZ", issuers) == "ABC:GXYZ"
    with pytest.raises(ValueError, match="unknown asset code 'TFX'"):
        _stellar.resolve_asset("TFX", issuers)


def test_sdk_asset_rejects_bad_issuer_readably():
    with pytest.raises(ValueError, match="is not a valid Stellar asset"):
        _stellar.sdk_asset("TFT:SomethingSomethingSomething")
    asset = _stellar.sdk_asset("FreeTFT:" + _stellar.KNOWN_ASSETS["main"]["FreeTFT"])
    assert asset.type == "credit_alphanum12"


def test_bad_secret_is_never_echoed():
    secret = "SBADSECRETNOTBASE32XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
    with pytest.raises(StellarError) as info:
        _stellar.keypair_from_secret(secret)
    assert secret not in str(info.value) and info.value.code == "invalid_secret"


def test_a_wallet_key_is_derived_once_per_process_and_a_bad_secret_is_refused_every_time(monkeypatch):
    secret = _stellar.Keypair.random().secret
    derived = []
    real = _stellar.Keypair.from_secret
    monkeypatch.setattr(_stellar.Keypair, "from_secret", lambda text: derived.append(1) or real(text))
    # zos_containers checks and pays each of its containers with the same wallet.
    first, again = _stellar.keypair_from_secret(secret), _stellar.keypair_from_secret(" %s\n" % secret)
    assert first.public_key == again.public_key and first.secret == secret and len(derived) == 1
    broken = secret[:-1] + ("B" if secret.endswith("A") else "A")  # its checksum no longer matches
    for _attempt in range(2):
        with pytest.raises(StellarError):
            _stellar.keypair_from_secret(broken)
    assert len(derived) == 3


def test_localgrid_issuers_are_derived_once_and_callers_get_their_own_copy():
    issuers = _stellar.localgrid_issuers("a test passphrase")
    issuers["TFT"] = "changed by a caller"
    again = _stellar.localgrid_issuers("a test passphrase")
    assert again["TFT"] != "changed by a caller" and _stellar.is_account_id(again["TFT"])
    assert again != _stellar.localgrid_issuers("another passphrase")


# ---- Horizon error mapping -------------------------------------------------------------------

def _problem(tx, ops=None, status=400):
    codes = {"transaction": tx}
    if ops is not None:
        codes["operations"] = ops
    return {"type": "https://stellar.org/horizon-errors/transaction_failed", "title": "Transaction Failed",
            "status": status, "detail": "The transaction failed when submitted to the stellar network.",
            "extras": {"envelope_xdr": "AAAA", "result_xdr": "AAAA", "result_codes": codes}}


@pytest.mark.parametrize("body, fragment, code", [
    (_problem("tx_bad_seq"), "sequence number moved", "bad_sequence"),
    (_problem("tx_bad_auth"), "network passphrase does not match", "bad_auth"),
    (_problem("tx_insufficient_fee"), "below the network's base fee", "insufficient_fee"),
    (_problem("tx_failed", ["op_underfunded"]), "does not hold enough of the asset (op_underfunded)", "underfunded"),
    (_problem("tx_failed", ["op_success", "op_no_trust"]), "destination account has no trustline", "escrow_no_trust"),
    (_problem("tx_failed", ["op_no_destination"]), "destination account does not exist", "escrow_missing"),
    (_problem("tx_failed", ["op_line_full"]), "trustline limit would be exceeded", "escrow_line_full"),
    (_problem("tx_failed", ["op_src_no_trust"]), "paying account has no trustline", "no_trustline"),
    (_problem("tx_weird_new_code"), "transaction failed (tx_weird_new_code)", "tx_weird_new_code"),
])
def test_describe_horizon_error(body, fragment, code):
    message, failure = describe_horizon_error(body)
    assert fragment in message
    assert failure["status"] == 400 and failure["type"] == "transaction_failed"
    assert "envelope_xdr" not in json.dumps(failure)
    assert _horizon_errors.error_code(failure) == code


def test_describe_malformed_and_not_found():
    message, failure = describe_horizon_error(
        {"type": "https://stellar.org/horizon-errors/transaction_malformed", "title": "Transaction Malformed",
         "status": 400, "extras": {"envelope_xdr": "xx"}})
    assert "transaction_malformed" in message and failure["result_codes"] is None
    message, failure = describe_horizon_error({"type": "https://stellar.org/horizon-errors/not_found",
                                               "title": "Resource Missing", "status": 404})
    assert message == "Horizon answered HTTP 404: Resource Missing"
    message, failure = describe_horizon_error(None, status=502)
    assert message == "Horizon answered HTTP 502: HTTP 502"


# ---- pre-checks ------------------------------------------------------------------------------

ISSUER = Keypair.random().public_key
TFT = "TFT:" + ISSUER


def _account(address, xlm="10.0000000", tft="100.0000000", subentries=1, trust=True, limit="922337203685.4775807"):
    balances = [{"asset_type": "native", "balance": xlm, "selling_liabilities": "0.0000000"}]
    if trust:
        balances.append({"asset_type": "credit_alphanum4", "asset_code": "TFT", "asset_issuer": ISSUER,
                         "balance": tft, "limit": limit, "selling_liabilities": "0.0000000",
                         "buying_liabilities": "0.0000000"})
    return {"id": address, "account_id": address, "subentry_count": subentries, "balances": balances}


@pytest.mark.parametrize("payer, escrow, stroops, code", [
    (None, _account("GESCROW"), 1, "payer_missing"),
    (_account("GPAYER"), None, 1, "escrow_missing"),
    (_account("GPAYER", trust=False, subentries=0), _account("GESCROW"), 1, "no_trustline"),
    (_account("GPAYER", tft="1.0000000"), _account("GESCROW"), 10000001, "underfunded"),
    # 1.5 XLM is exactly the minimum balance with one trustline: nothing left for the fee.
    (_account("GPAYER", xlm="1.5000000"), _account("GESCROW"), 1, "fee_underfunded"),
    (_account("GPAYER"), _account("GESCROW", trust=False), 1, "escrow_no_trust"),
    (_account("GPAYER"), _account("GESCROW", tft="5.0000000", limit="5.0000000"), 1, "escrow_line_full"),
])
def test_check_payment_possible_failures(payer, escrow, stroops, code):
    with pytest.raises(StellarError) as info:
        _stellar.check_payment_possible(payer, escrow, TFT, stroops, 100, 5000000)
    assert info.value.code == code


def test_check_payment_possible_passes_at_exact_balance():
    _stellar.check_payment_possible(_account("GPAYER", xlm="1.5000100"), _account("GESCROW"), TFT,
                                    amount_to_stroops("100"), 100, 5000000)


# ---- a fake Horizon (in-process stellar-sdk client) --------------------------------------------

def _native(stroops):
    return {"asset_type": "native", "balance": stroops_to_amount(stroops), "selling_liabilities": "0.0000000",
            "buying_liabilities": "0.0000000"}


class FakeHorizon(BaseSyncClient):
    """A tiny ledger behind stellar-sdk's client interface: accounts, payments, submit, lookups.

    `faults` is a list consumed by submissions: "lose" applies the transaction then raises a
    ConnectionError (a lost confirmation), "drop" raises before applying, "504" answers a gateway timeout.
    """

    def __init__(self, passphrase=PASSPHRASE):
        self.passphrase = passphrase
        self.accounts = {}
        self.transactions = {}
        self.payments = []
        self.faults = []
        self.submissions = 0
        self.lookups = 0

    # -- seeding --
    def create(self, address, xlm="10", trust=()):
        self.accounts[address] = {"sequence": 1000, "native": amount_to_stroops(xlm),
                                  "lines": dict((asset, 0) for asset in trust)}

    def credit(self, address, asset, amount):
        self.accounts[address]["lines"][asset] += amount_to_stroops(amount)

    # -- client interface --
    def get(self, url, params=None, max_content_size=None):
        path = urllib.parse.urlsplit(url).path[len("/stellar"):]
        params = dict(params or {})
        parts = [p for p in path.split("/") if p]
        if not parts:
            return self._json(200, {"network_passphrase": self.passphrase})
        if parts == ["ledgers"]:
            return self._json(200, {"_embedded": {"records": [
                {"base_fee_in_stroops": 100, "base_reserve_in_stroops": 5000000}]}})
        if parts[0] == "accounts" and len(parts) == 2:
            if parts[1] not in self.accounts:
                return self._not_found()
            return self._json(200, self._account_record(parts[1]))
        if parts[0] == "accounts" and parts[2:] == ["payments"]:
            return self._json(200, self._payments_page(parts[1], params))
        if parts[0] == "transactions" and len(parts) == 2:
            self.lookups += 1
            if parts[1] not in self.transactions:
                return self._not_found()
            return self._json(200, self.transactions[parts[1]])
        return self._not_found()

    def post(self, url, data=None, json_data=None):
        self.submissions += 1
        fault = self.faults.pop(0) if self.faults else None
        if fault == "drop":
            raise ConnectionError("connection reset")
        if fault == "504":
            return self._json(504, {"type": "https://stellar.org/horizon-errors/timeout", "title": "Timeout",
                                    "status": 504})
        response = self._apply(data["tx"])
        if fault == "lose":
            raise ConnectionError("read timed out")
        return response

    def stream(self, url, params=None):
        raise NotImplementedError

    def close(self):
        pass

    # -- internals --
    def _json(self, status, body):
        return Response(status, json.dumps(body), {}, "")

    def _not_found(self):
        return self._json(404, {"type": "https://stellar.org/horizon-errors/not_found",
                                "title": "Resource Missing", "status": 404})

    def _account_record(self, address):
        acct = self.accounts[address]
        balances = [_native(acct["native"])]
        for asset, stroops in acct["lines"].items():
            code, issuer = asset.split(":")
            balances.append({"asset_type": "credit_alphanum4" if len(code) <= 4 else "credit_alphanum12",
                             "asset_code": code, "asset_issuer": issuer, "balance": stroops_to_amount(stroops),
                             "limit": "922337203685.4775807", "selling_liabilities": "0.0000000",
                             "buying_liabilities": "0.0000000"})
        return {"id": address, "account_id": address, "sequence": str(acct["sequence"]),
                "subentry_count": len(acct["lines"]), "balances": balances, "data": {}}

    def _payments_page(self, address, params):
        mine = [p for p in self.payments if address in (p["from"], p["to"])]
        newest_first = params.get("order") == "desc"
        if newest_first:
            mine.reverse()
        if "cursor" in params:
            cursor = int(params["cursor"])
            mine = [p for p in mine if (int(p["paging_token"]) < cursor if newest_first
                                        else int(p["paging_token"]) > cursor)]
        page = mine[:int(params.get("limit", 10))]
        if params.get("join") != "transactions":
            page = [dict((k, v) for k, v in p.items() if k != "transaction") for p in page]
        return {"_links": {}, "_embedded": {"records": page}}

    def _tx_failed(self, tx_code, ops=None):
        return self._json(400, _problem(tx_code, ops))

    def _apply(self, tx_b64):
        env = TransactionEnvelope.from_xdr(tx_b64, self.passphrase)
        tx = env.transaction
        source = tx.source.account_id
        acct = self.accounts.get(source)
        if acct is None:
            return self._tx_failed("tx_no_source_account")
        if tx.sequence != acct["sequence"] + 1:
            return self._tx_failed("tx_bad_seq")
        # Every source account (the transaction's and each operation's) must have signed.
        for signer in set([source] + [op.source.account_id for op in tx.operations if op.source]):
            if not any(self._signed_by(signer, env, signature) for signature in env.signatures):
                return self._tx_failed("tx_bad_auth")
        for op in tx.operations:
            failure = self._check_op(op.source.account_id if op.source else source, op)
            if failure:
                acct["sequence"] = tx.sequence
                return self._tx_failed("tx_failed", [failure])
        acct["sequence"] = tx.sequence
        acct["native"] -= tx.fee
        memo = tx.memo.memo_text.decode() if hasattr(tx.memo, "memo_text") else None
        tx_hash = env.hash_hex()
        record = {"id": tx_hash, "hash": tx_hash, "successful": True, "ledger": 7, "source_account": source,
                  "memo_type": "text" if memo is not None else "none", "result_xdr": ""}
        if memo is not None:
            record["memo"] = memo
        for op in tx.operations:
            self._apply_op(op.source.account_id if op.source else source, op, record)
        self.transactions[tx_hash] = record
        return self._json(200, record)

    @staticmethod
    def _signed_by(address, env, signature):
        try:
            Keypair.from_public_key(address).verify(env.hash(), signature.signature)
        except sdk_exceptions.BadSignatureError:
            return False
        return True

    def _check_op(self, source, op):
        if isinstance(op, ChangeTrust):
            return None
        if isinstance(op, CreateAccount):
            return "op_already_exists" if op.destination in self.accounts else None
        asset = "%s:%s" % (op.asset.code, op.asset.issuer)
        destination = op.destination.account_id
        if destination not in self.accounts:
            return "op_no_destination"
        if asset not in self.accounts[source]["lines"]:
            return "op_src_no_trust"
        if asset not in self.accounts[destination]["lines"]:
            return "op_no_trust"
        if self.accounts[source]["lines"][asset] < amount_to_stroops(op.amount):
            return "op_underfunded"
        return None

    def _apply_op(self, source, op, record):
        if isinstance(op, ChangeTrust):
            self.accounts[source]["lines"].setdefault("%s:%s" % (op.asset.code, op.asset.issuer), 0)
            return
        if isinstance(op, CreateAccount):
            self.create(op.destination, xlm=op.starting_balance)
            self.accounts[source]["native"] -= amount_to_stroops(op.starting_balance)
            return
        assert isinstance(op, Payment)
        asset = "%s:%s" % (op.asset.code, op.asset.issuer)
        stroops = amount_to_stroops(op.amount)
        self.accounts[source]["lines"][asset] -= stroops
        self.accounts[op.destination.account_id]["lines"][asset] += stroops
        self.payments.append({
            "id": str(len(self.payments) + 1), "paging_token": str(len(self.payments) + 1), "type": "payment",
            "transaction_successful": True, "transaction_hash": record["hash"], "from": source,
            "to": op.destination.account_id, "asset_type": "credit_alphanum4", "asset_code": op.asset.code,
            "asset_issuer": op.asset.issuer, "amount": stroops_to_amount(stroops), "transaction": record,
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})


# ---- the exactly-once payment flow -------------------------------------------------------------

def grid(next_action=2, missing=False, then=()):
    """The fake explorer where every reservation paid waits in ``next_action`` (none exists when ``missing``);
    its reads then go through the states ``then``."""
    explorer = FakeExplorer(users=[{"id": 1, "name": "alice.3bot", "pubkey": "00" * 32}])
    explorer.nodes_report = False
    explorer.state_of_new = None if missing else next_action
    explorer.then = list(then)
    return explorer


def session_on(explorer, check_mode=False):
    """A session on ``explorer`` holding the reservations a payment reads."""
    return fake_session(explorer, None, check_mode=check_mode, network="local", horizon_url=HORIZON)


@pytest.fixture
def ledger(monkeypatch):
    fake = FakeHorizon()
    monkeypatch.setattr(_stellar, "new_http_client", lambda: fake)
    payer = Keypair.random()
    escrow = Keypair.random().public_key
    fake.create(payer.public_key, xlm="10", trust=[TFT])
    fake.credit(payer.public_key, TFT, "100")
    fake.create(escrow, xlm="5", trust=[TFT])
    fake.payer = payer
    fake.escrow = escrow
    return fake


def _escrow(ledger, *amounts):
    return {"address": ledger.escrow, "asset": TFT,
            "details": [{"farmer_id": i + 1, "total_amount": a} for i, a in enumerate(amounts)]}


def _pay(ledger, rid=42, escrow=None, check_mode=False, explorer=None, **payment):
    payment.setdefault("stellar_secret", ledger.payer.secret)
    explorer = explorer or grid()
    if explorer.state_of_new is not None and rid not in explorer.reservations:
        explorer.add({}, rid=rid, next_action=explorer.state_of_new)
        explorer.script[rid] = [{"next_action": state} for state in explorer.then]
    return pay_escrow(session_on(explorer, check_mode), rid, escrow or _escrow(ledger, 30000000, 4546420), payment)


def _escrow_balance(ledger):
    return ledger.accounts[ledger.escrow]["lines"][TFT]


def test_pays_sum_of_details_with_memo(ledger):
    result = _pay(ledger)
    assert result["changed"] is True and result["free"] is False
    assert result["amount"] == "3.4546420" == result["total_amount"]
    assert result["already_paid"] == "0.0000000"
    assert (result["destination"], result["asset"], result["memo"]) == (ledger.escrow, TFT, "42")
    assert _escrow_balance(ledger) == 34546420
    assert ledger.transactions[result["transaction_hash"]]["memo"] == "42"
    assert ledger.payer.secret not in json.dumps(result)


def test_second_run_pays_nothing(ledger):
    _pay(ledger)
    again = _pay(ledger)
    assert again["changed"] is False and again["transaction_hash"] is None
    assert again["already_paid"] == "3.4546420"
    assert len(ledger.payments) == 1


def test_partial_payment_pays_only_the_remainder(ledger):
    first = _pay(ledger, escrow=_escrow(ledger, 10000000))
    assert first["amount"] == "1.0000000"
    rest = _pay(ledger, escrow=_escrow(ledger, 10000000, 4546420))
    assert rest["changed"] is True and rest["already_paid"] == "1.0000000" and rest["amount"] == "0.4546420"
    assert _escrow_balance(ledger) == 14546420


def test_other_memos_are_not_counted(ledger):
    _pay(ledger, rid=41)
    result = _pay(ledger, rid=42)
    assert result["changed"] is True and result["already_paid"] == "0.0000000"
    assert len(ledger.payments) == 2


def test_memo_found_without_join_support(ledger, monkeypatch):
    _pay(ledger)
    original = ledger._payments_page
    monkeypatch.setattr(ledger, "_payments_page", lambda address, params: original(address, dict(params, join="")))
    assert _pay(ledger)["changed"] is False


def test_payments_are_read_across_pages(ledger, monkeypatch):
    monkeypatch.setattr(_stellar, "PAGE_LIMIT", 2)
    for rid in (1, 2, 3, 4):
        _pay(ledger, rid=rid, escrow=_escrow(ledger, 1))
    assert _pay(ledger, rid=4, escrow=_escrow(ledger, 1))["changed"] is False
    assert _pay(ledger, rid=5, escrow=_escrow(ledger, 1))["changed"] is True


def test_check_mode_submits_nothing(ledger):
    result = _pay(ledger, check_mode=True)
    assert result["changed"] is True and result["amount"] == "3.4546420" and result["transaction_hash"] is None
    assert ledger.submissions == 0 and _escrow_balance(ledger) == 0


def test_free_reservation_needs_no_payment(ledger):
    free = ({"address": "", "asset": "", "details": None}, {"address": ledger.escrow, "asset": TFT, "details": []})
    for escrow in free:
        result = _pay(ledger, escrow=escrow, stellar_secret=None)
        assert result["free"] is True and result["changed"] is False
    assert ledger.submissions == 0


def test_reservation_no_longer_waiting_for_payment(ledger):
    result = _pay(ledger, explorer=grid(next_action=3))
    assert result["changed"] is False and result["next_action"] == "deploy"
    assert ledger.submissions == 0


def test_unknown_reservation_fails_clearly(ledger):
    with pytest.raises(PaymentError) as info:
        _pay(ledger, explorer=grid(missing=True))
    assert info.value.code == "reservation_not_found" and "reservation 42 does not exist" in info.value.msg
    assert ledger.submissions == 0


def test_above_max_amount_fails_before_anything(ledger):
    with pytest.raises(PaymentError) as info:
        _pay(ledger, max_amount="3.454641")
    assert info.value.code == "above_max_amount" and "3.4546420" in info.value.msg
    assert ledger.submissions == 0
    assert _pay(ledger, max_amount="3.454642")["changed"] is True


@pytest.mark.parametrize("setup, code", [
    (lambda l: l.accounts[l.payer.public_key]["lines"].pop(TFT), "no_trustline"),
    (lambda l: l.accounts[l.payer.public_key]["lines"].__setitem__(TFT, 1), "underfunded"),
    (lambda l: l.accounts.pop(l.escrow), "escrow_missing"),
    (lambda l: l.accounts[l.escrow]["lines"].pop(TFT), "escrow_no_trust"),
    (lambda l: l.accounts.pop(l.payer.public_key), "payer_missing"),
])
def test_prechecks_fail_with_nothing_paid(ledger, setup, code):
    setup(ledger)
    with pytest.raises(PaymentError) as info:
        _pay(ledger)
    assert info.value.code == code
    assert ledger.submissions == 0
    assert ledger.payer.secret not in info.value.msg + json.dumps(info.value.to_failure())


def test_wrong_asset_on_escrow_fails(ledger):
    other = "TFTA:" + ISSUER
    with pytest.raises(PaymentError) as info:
        _pay(ledger, escrow=dict(_escrow(ledger, 10), asset=other))
    assert info.value.code == "no_trustline" and other in info.value.msg


def test_invalid_escrow_asset_fails(ledger):
    with pytest.raises(PaymentError) as info:
        _pay(ledger, escrow=dict(_escrow(ledger, 10), asset="TFT"))
    assert info.value.code == "invalid_escrow" and "expected 2" in info.value.msg


def test_lost_confirmation_is_resolved_by_hash_not_resubmitted(ledger):
    ledger.faults = ["lose"]
    result = _pay(ledger)
    assert result["changed"] is True and result["transaction_hash"] in ledger.transactions
    assert ledger.submissions == 1 and ledger.lookups >= 1
    assert len(ledger.payments) == 1 and _escrow_balance(ledger) == 34546420


def test_dropped_submission_resubmits_the_same_envelope(ledger, monkeypatch):
    monkeypatch.setattr(_stellar.Horizon, "__init__", _no_sleep_init(_stellar.Horizon.__init__))
    ledger.faults = ["drop", "504"]
    result = _pay(ledger)
    assert ledger.submissions == 3 and len(ledger.payments) == 1
    assert result["transaction_hash"] in ledger.transactions


def test_timeout_then_bad_seq_finds_the_applied_transaction(ledger, monkeypatch):
    # The first POST applied but its answer timed out; the resubmission hits the used sequence number.
    monkeypatch.setattr(_stellar.Horizon, "__init__", _no_sleep_init(_stellar.Horizon.__init__))
    original = ledger._apply
    answers = []

    def apply_then_hide(tx_b64):
        response = original(tx_b64)
        answers.append(response.status_code)
        if len(answers) == 1:
            raise ConnectionError("timeout")
        return response
    monkeypatch.setattr(ledger, "_apply", apply_then_hide)
    monkeypatch.setattr(ledger, "get", _hide_first_lookup(ledger))
    result = _pay(ledger)
    assert answers == [200, 400]
    assert len(ledger.payments) == 1 and result["transaction_hash"] in ledger.transactions


def test_never_confirmed_fails_after_bounded_attempts(ledger, monkeypatch):
    monkeypatch.setattr(_stellar.Horizon, "__init__", _no_sleep_init(_stellar.Horizon.__init__))
    ledger.faults = ["drop", "drop", "drop"]
    with pytest.raises(PaymentError) as info:
        _pay(ledger)
    assert info.value.code == "unconfirmed" and ledger.submissions == 3 and not ledger.payments
    assert "transaction_hash" in info.value.failure


def test_wrong_passphrase_maps_to_bad_auth(ledger, monkeypatch):
    monkeypatch.setattr(_payment, "horizon_settings", lambda session, url=None: (HORIZON, "Some Other Network"))
    with pytest.raises(PaymentError) as info:
        _pay(ledger)
    assert info.value.code == "bad_auth" and "passphrase" in info.value.msg
    assert info.value.failure["result_codes"] == {"transaction": "tx_bad_auth"}


def test_horizon_passphrase_read_from_root_for_explicit_url(ledger):
    ledger.passphrase = "Custom ; net"
    url, passphrase = _payment.horizon_settings(session_on(grid()), HORIZON)
    assert (url, passphrase) == (HORIZON, "Custom ; net")


@pytest.mark.parametrize("network", ["test", "main", "dev"])
def test_a_localgrid_horizon_on_a_public_network_is_refused_before_signing(ledger, network):
    # TFGRID_HORIZON_URL left at a localgrid while network=test would mix two grids (op_no_issuer at best).
    session = fake_session(grid(), None, network=network, horizon_url=HORIZON)
    with pytest.raises(StellarError) as info:
        _payment.horizon_settings(session)
    assert info.value.code == "network_mismatch" and ledger.submissions == 0
    assert "horizon_url %s serves the Stellar network %r, but network=%s pays on" % (HORIZON, PASSPHRASE, network) \
        in info.value.msg and "TFGRID_HORIZON_URL" in info.value.msg


def test_a_public_horizon_on_the_local_network_is_refused(ledger):
    ledger.passphrase = "Test SDF Network ; September 2015"
    with pytest.raises(StellarError) as info:
        _payment.horizon_settings(fake_session(grid(), None, network="local", horizon_url=HORIZON))
    assert info.value.code == "network_mismatch" and "but network=local pays on a localgrid's own ledger" in info.value.msg


def test_a_public_network_mirror_with_its_passphrase_is_accepted(ledger):
    ledger.passphrase = "Test SDF Network ; September 2015"
    session = fake_session(grid(), None, network="test", horizon_url=HORIZON)
    assert _payment.horizon_settings(session) == (HORIZON, "Test SDF Network ; September 2015")


def _answer_everything_with(ledger, monkeypatch, status, text):
    monkeypatch.setattr(ledger, "get", lambda url, params=None, max_content_size=None: Response(
        status_code=status, text=text, headers={"Content-Type": "text/html"}, url=url))


def test_a_web_page_instead_of_horizon_names_the_option(ledger, monkeypatch):
    _answer_everything_with(ledger, monkeypatch, 200, "<!doctype html><html><title>Welcome to nginx!</title></html>")
    horizon = _stellar.Horizon(HORIZON, sleep=lambda seconds: None)
    for call in (horizon.network_passphrase, horizon.fees, lambda: horizon.account(ledger.payer.public_key)):
        with pytest.raises(StellarError) as info:
            call()
        assert info.value.code == "not_horizon" and "Expecting value" not in info.value.msg
        assert "answered with something that is not JSON (<!doctype html><html><title>Welcome" in info.value.msg
        assert "so it is not a Horizon server: check horizon_url (or TFGRID_HORIZON_URL)" in info.value.msg


@pytest.mark.parametrize("status, text, fragment", [
    (404, "<html>404 Not Found</html>", "answered HTTP 404 for its root document"),
    (200, "{}", "answered its root document without a network_passphrase"),
])
def test_a_url_that_is_not_a_horizon_is_refused_by_its_root_document(ledger, monkeypatch, status, text, fragment):
    _answer_everything_with(ledger, monkeypatch, status, text)
    with pytest.raises(StellarError) as info:
        _payment.horizon_settings(session_on(grid()), HORIZON)
    assert info.value.code == "not_horizon" and fragment in info.value.msg and "check horizon_url" in info.value.msg


def test_local_horizon_follows_explorer_override():
    session = GridSession({"network": "local", "explorer_url": "http://127.0.0.1:1/explorer"})
    calls = []
    original = _stellar.Horizon.network_passphrase
    try:
        _stellar.Horizon.network_passphrase = lambda self: calls.append(self.url) or PASSPHRASE
        url, passphrase = _payment.horizon_settings(session)
    finally:
        _stellar.Horizon.network_passphrase = original
    assert url == "http://127.0.0.1:1/stellar" and calls == [url]
    assert passphrase == PASSPHRASE


def _no_sleep_init(init):
    def patched(self, url, client=None, sleep=None, **kwargs):
        init(self, url, client=client, sleep=lambda seconds: None, **kwargs)
    return patched


def _hide_first_lookup(ledger):
    original = ledger.get
    state = {"hidden": False}

    def get(url, params=None, max_content_size=None):
        if "/transactions/" in url and not state["hidden"]:
            state["hidden"] = True
            return ledger._not_found()
        return original(url, params, max_content_size)
    return get


# ---- waiting for the explorer ------------------------------------------------------------------

def test_expected_results_counts_network_resources():
    data = {"containers": [{}], "volumes": [{}, {}], "networks": [{"network_resources": [{}, {}]}]}
    assert _workloads.node_workload_count(data) == 5


def test_deployment_outcome_reports_node_error():
    reservation = {"id": 7, "next_action": 4, "results": [{"state": 0, "node_id": "n1", "message": "no space"}]}
    with pytest.raises(PaymentError, match="failed on node n1: no space"):
        _payment.deployment_outcome(reservation)


def test_deployment_outcome_deployed_when_all_results_ok():
    reservation = {"id": 7, "next_action": 3, "data_reservation": {"volumes": [{}]}, "results": [{"state": 1}]}
    assert _payment.deployment_outcome(reservation) == "deployed"
    reservation["results"] = []
    assert _payment.deployment_outcome(reservation) == "pending"


def test_wait_until_paid_after_payment(ledger):
    explorer = grid(then=[2, 2, 3])
    result = _pay(ledger, explorer=explorer, wait=True, wait_sleep=0.001, wait_timeout=5)
    assert result["next_action"] == "deploy"


def test_wait_reports_cancellation_with_the_paid_hash(ledger):
    # Read before paying, re-read just before signing, then cancelled while waiting.
    explorer = grid(then=[2, 2, 4])
    with pytest.raises(PaymentError) as info:
        _pay(ledger, explorer=explorer, wait=True, wait_sleep=0.001, wait_timeout=5)
    assert info.value.code == "reservation_cancelled"
    assert info.value.failure["transaction_hash"] in ledger.transactions


# ---- retried reads -----------------------------------------------------------------------------

def _failing_reads(ledger, monkeypatch, statuses):
    """The next reads of the ledger answer these statuses (None: connection lost), then work again."""
    original = ledger.get
    pending = list(statuses)

    def get(url, params=None, max_content_size=None):
        if pending:
            status = pending.pop(0)
            if status is None:
                raise ConnectionError("connection reset")
            return Response(status_code=status, text="<html>bad gateway</html>", headers={}, url=url)
        return original(url, params, max_content_size)
    monkeypatch.setattr(ledger, "get", get)
    return pending


def test_horizon_reads_survive_5xx_429_and_lost_connections(ledger, monkeypatch):
    pauses = []
    pending = _failing_reads(ledger, monkeypatch, [502, 500, 429, None, 503])
    horizon = _stellar.Horizon(HORIZON, sleep=pauses.append)
    assert horizon.account(ledger.payer.public_key)["account_id"] == ledger.payer.public_key
    assert pending == [] and len(pauses) == 5 and all(0 < pause <= 8 for pause in pauses)


def test_horizon_reads_give_up_after_the_retries(ledger, monkeypatch):
    _failing_reads(ledger, monkeypatch, [502] * 3)
    with pytest.raises(StellarError) as info:
        _stellar.Horizon(HORIZON, sleep=lambda seconds: None, retries=2).account(ledger.payer.public_key)
    assert info.value.failure["status"] == 502 and "loading account" in info.value.msg


def test_horizon_client_errors_are_not_retried(ledger, monkeypatch):
    pending = _failing_reads(ledger, monkeypatch, [400, 502])
    with pytest.raises(StellarError):
        _stellar.Horizon(HORIZON, sleep=lambda seconds: None).fees()
    assert pending == [502]


def test_payment_survives_a_horizon_502_on_a_read(ledger, monkeypatch):
    _failing_reads(ledger, monkeypatch, [502, 502])
    monkeypatch.setattr(_stellar.Horizon, "__init__", _no_sleep_init(_stellar.Horizon.__init__))
    assert _pay(ledger)["changed"] is True and _escrow_balance(ledger) == 34546420


# ---- parallel payments from one wallet ---------------------------------------------------------

def _parallel_payment_first(ledger, monkeypatch, times=1, memo_paid=None):
    """Before each of the next `times` submissions, another run's transaction uses the payer's sequence number
    (and, with `memo_paid`, pays that much of this memo)."""
    original = ledger._apply
    left = [times]

    def apply(tx_b64):
        if left[0]:
            left[0] -= 1
            ledger.accounts[ledger.payer.public_key]["sequence"] += 1
            if memo_paid:
                _pay_directly(ledger, memo_paid)
        return original(tx_b64)
    monkeypatch.setattr(ledger, "_apply", apply)


def _pay_directly(ledger, stroops):
    """Another run's payment of memo 42, applied straight to the ledger."""
    record = {"hash": "cd" * 32, "memo": "42", "successful": True}
    ledger.transactions[record["hash"]] = record
    ledger.accounts[ledger.payer.public_key]["lines"][TFT] -= stroops
    ledger.accounts[ledger.escrow]["lines"][TFT] += stroops
    ledger.payments.append({"id": str(len(ledger.payments) + 1), "paging_token": str(len(ledger.payments) + 1),
                            "type": "payment", "transaction_successful": True, "transaction_hash": record["hash"],
                            "from": ledger.payer.public_key, "to": ledger.escrow, "asset_type": "credit_alphanum4",
                            "asset_code": "TFT", "asset_issuer": ISSUER, "amount": stroops_to_amount(stroops),
                            "transaction": record})


def test_bad_sequence_is_signed_again_with_a_fresh_sequence(ledger, monkeypatch):
    monkeypatch.setattr(_stellar.Horizon, "__init__", _no_sleep_init(_stellar.Horizon.__init__))
    _parallel_payment_first(ledger, monkeypatch)
    result = _pay(ledger)
    assert result["changed"] is True and result["transaction_hash"] in ledger.transactions
    assert _escrow_balance(ledger) == 34546420 and len(ledger.payments) == 1


def test_bad_sequence_retry_pays_only_what_the_memo_still_lacks(ledger, monkeypatch):
    monkeypatch.setattr(_stellar.Horizon, "__init__", _no_sleep_init(_stellar.Horizon.__init__))
    _parallel_payment_first(ledger, monkeypatch, memo_paid=34546420)
    result = _pay(ledger)
    assert result["transaction_hash"] is None and _escrow_balance(ledger) == 34546420


def test_ten_parallel_payers_ahead_still_get_paid_once_with_growing_pauses(ledger, monkeypatch):
    # Forks paying from one wallet: more collisions than the old 3 signings, each followed by a random pause
    # whose bound doubles, capped; the payment applies once.
    pauses = []

    def recording_init(self, url, client=None, sleep=None, **kwargs):
        init(self, url, client=client, sleep=pauses.append, **kwargs)
    init = _stellar.Horizon.__init__
    monkeypatch.setattr(_stellar.Horizon, "__init__", recording_init)
    _parallel_payment_first(ledger, monkeypatch, times=_payment.SEQUENCE_ATTEMPTS - 1)
    result = _pay(ledger)
    assert result["transaction_hash"] in ledger.transactions and len(ledger.payments) == 1
    assert _escrow_balance(ledger) == 34546420 and len(pauses) == _payment.SEQUENCE_ATTEMPTS - 1
    # The fake ledger answers at once, so every attempt's window is the minimum pause.
    assert all(0 <= pause <= min(_payment.SEQUENCE_PAUSE_MAX, _payment.SEQUENCE_PAUSE * 2 ** attempt)
               for attempt, pause in enumerate(pauses))
    assert any(pause > _payment.SEQUENCE_PAUSE for pause in pauses)  # the bound grows


def test_bad_sequence_gives_up_after_bounded_signings(ledger, monkeypatch):
    monkeypatch.setattr(_stellar.Horizon, "__init__", _no_sleep_init(_stellar.Horizon.__init__))
    _parallel_payment_first(ledger, monkeypatch, times=_payment.SEQUENCE_ATTEMPTS)
    with pytest.raises(PaymentError) as info:
        _pay(ledger)
    assert info.value.code == "bad_sequence" and _escrow_balance(ledger) == 0


def test_reservation_cancelled_just_before_paying_is_not_paid(ledger):
    explorer = grid()
    explorer.add({}, rid=42, next_action=2)
    explorer.script[42] = [{"next_action": 2}, {"next_action": 6}]
    with pytest.raises(PaymentError) as info:
        _pay(ledger, explorer=explorer)
    assert info.value.code == "reservation_cancelled" and "nothing was paid" in info.value.msg
    assert ledger.submissions == 0 and _escrow_balance(ledger) == 0


def test_a_turn_that_came_late_reads_the_reservation_again_inside_it(ledger, monkeypatch):
    # Read by the payment, then before the wallet's turn (payable), then inside it: cancelled in between.
    explorer = grid()
    explorer.add({}, rid=42, next_action=2)
    explorer.script[42] = [{"next_action": 2}, {"next_action": 2}, {"next_action": 6}]
    monkeypatch.setattr(_payment, "RE_READ_AGE", -1.0)  # every turn comes "late"
    with pytest.raises(PaymentError) as info:
        _pay(ledger, explorer=explorer)
    assert info.value.code == "reservation_cancelled" and ledger.submissions == 0 and _escrow_balance(ledger) == 0


def test_a_turn_that_came_soon_pays_on_the_read_just_before_it(ledger):
    explorer = grid()
    explorer.add({}, rid=42, next_action=2)
    explorer.script[42] = [{"next_action": 2}, {"next_action": 2}, {"next_action": 6}]
    assert _pay(ledger, explorer=explorer)["transaction_hash"] and ledger.submissions == 1


def _pay_after_check(ledger, explorer, listed):
    """A payment whose check before the wallet's turn returns ``listed`` (its listing's copy, or None)."""
    checks = []

    def before_submit():
        checks.append(True)
        return listed
    payment = {"stellar_secret": ledger.payer.secret}
    result = pay_escrow(session_on(explorer), 42, _escrow(ledger, 30000000, 4546420), payment,
                        before_submit=before_submit)
    return result, checks


def test_the_checks_listing_stands_in_for_the_read_before_the_turn(ledger):
    explorer = grid()
    explorer.add({}, rid=42, next_action=2)
    explorer.script[42] = [{"next_action": 2}, {"next_action": 6}]  # a GET before the turn would see it cancelled
    result, checks = _pay_after_check(ledger, explorer, {"id": 42, "next_action": 2, "epoch": int(time.time())})
    assert result["transaction_hash"] and ledger.submissions == 1 and checks == [True]
    assert explorer.paths("/explorer/reservations/42") == ["/explorer/reservations/42"]  # the first read only


def test_a_listing_that_shows_the_reservation_cancelled_stops_the_payment(ledger):
    explorer = grid()
    explorer.add({}, rid=42, next_action=2)
    with pytest.raises(PaymentError) as info:
        _pay_after_check(ledger, explorer, {"id": 42, "next_action": 6, "epoch": int(time.time())})
    assert info.value.code == "reservation_cancelled" and ledger.submissions == 0 and _escrow_balance(ledger) == 0


def test_a_check_without_a_copy_leaves_the_read_before_the_turn(ledger):
    explorer = grid()
    explorer.add({}, rid=42, next_action=2)
    explorer.script[42] = [{"next_action": 2}, {"next_action": 6}]
    with pytest.raises(PaymentError) as info:
        _pay_after_check(ledger, explorer, None)
    assert info.value.code == "reservation_cancelled" and ledger.submissions == 0
    assert len(explorer.paths("/explorer/reservations/42")) == 2


def test_payments_older_than_the_reservation_are_not_read(ledger, monkeypatch):
    _pay(ledger, rid=41)
    ledger.payments[0]["created_at"] = "2020-01-01T00:00:00Z"
    pages = []
    original = ledger._payments_page
    monkeypatch.setattr(ledger, "_payments_page", lambda address, params: pages.append(address) or original(
        address, params))
    result = _pay(ledger, rid=42)
    assert result["changed"] is True and pages == [ledger.payer.public_key]
    assert _stellar.Horizon(HORIZON).recent_payments(ledger.payer.public_key, int(time.time()) - 600) == \
        ledger.payments[1:][::-1]


def test_wallet_paid_memo_sees_only_this_wallets_payments_with_that_memo(ledger):
    _pay(ledger, rid=41)
    explorer = grid()
    session = session_on(explorer)
    block = {"stellar_secret": ledger.payer.secret}
    reservation = {"id": 42, "epoch": int(time.time())}
    assert _payment.wallet_paid_memo(session, reservation, block) is False
    _pay(ledger, rid=42)
    assert _payment.wallet_paid_memo(session, reservation, block) is True
    other = Keypair.random()
    ledger.create(other.public_key)
    assert _payment.wallet_paid_memo(session, reservation, {"stellar_secret": other.secret}) is False


def test_horizon_objects_of_one_task_share_one_http_client():
    # The checks and the payment each make a Horizon; one httpx client (one SSL context) serves them all.
    first, second = _stellar.Horizon("http://127.0.0.1:1/stellar"), _stellar.Horizon("http://127.0.0.1:2/stellar")
    assert first.client is second.client and isinstance(first.client, _stellar.HttpClient)
    assert _stellar.Horizon("http://127.0.0.1:1/stellar", timeout=3).client is not first.client
