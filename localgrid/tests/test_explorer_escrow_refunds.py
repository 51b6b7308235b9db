"""The escrow's refunds follow docs/contract/explorer.md §7.6 and tfexplorer v0.3.2
(pkg/escrow/stellar.go refundClients and refundExpiredReservations, pkg/stellar/stellar.go
Wallet.Refund and GetBalance):

a cancel (or a missed provisioning deadline) refunds what payments with the reservation's memo brought
to the escrow account at that moment, to the first funder, then marks the escrow cancelled; a
payment landing afterwards stays in the escrow. The scans run from the test (``escrow.scan()``) so
"stays" is checked after scans that really happened.
"""

import pytest

from localgrid.tests.conftest import Customer
from localgrid.tests.test_explorer_lifecycle import NODE_A, NODE_B, XLM, _client, _create, _funded_wallet, _ok, _state


@pytest.fixture
def lg(start_localgrid):
    return start_localgrid(quiet=True)


class Escrow:
    """One registered reservation, its escrow account and helpers to pay, cancel and audit it."""

    def __init__(self, lg, client, name):
        self.lg, self.client, self.ledger = lg, client, lg.app_state.ledger
        self.customer = Customer(client, name)
        answer, self.body = _create(client, lg, self.customer)
        self.rid, info = answer["reservation_id"], answer["escrow_information"]
        self.address, self.memo = info["address"], str(self.rid)
        self.total = sum(detail["total_amount"] for detail in info["details"])

    def pay(self, wallet, amount, code="TFT", memo=None):
        self.ledger.pay(wallet, self.address, code, amount, memo_text=memo or self.memo)

    def cancel(self):
        signature = self.customer.delete_signature(self.rid, self.body["json"])
        assert self.client.post("/reservations/%d/sign/delete" % self.rid, json=signature).status_code == 201
        assert _state(self.client, self.rid) == 4

    def held(self, code="TFT"):
        return self.ledger.memo_balance(self.address, code, self.memo)

    def record(self):
        with self.lg.app_state.store.transaction() as conn:
            return dict(conn.execute("SELECT * FROM escrow_records WHERE reservation_id = ?", (self.rid,)).fetchone())

    def sequence(self):
        with self.lg.app_state.store.transaction() as conn:
            return conn.execute(
                "SELECT sequence FROM stellar_accounts WHERE account_id = ?", (self.address,)
            ).fetchone()["sequence"]

    def scan_twice(self):
        for _ in range(2):
            self.lg.app_state.escrow.scan()


def test_cancel_refunds_a_partial_payment_then_a_later_payment_stays(lg):
    with _client(lg) as client:
        escrow = Escrow(lg, client, "partial.3bot")
        payer = _funded_wallet(escrow.ledger)
        start = escrow.ledger.balance(payer, "TFT")
        escrow.pay(payer, escrow.total // 3)
        escrow.cancel()
        assert escrow.ledger.balance(payer, "TFT") == start and escrow.held() == 0
        assert escrow.record()["cancelled"] == 1
        escrow.pay(payer, escrow.total)  # the run that did not see the cancel pays now
        escrow.scan_twice()
        lg.app_state.escrow.cancel(escrow.rid)  # a second cancel is a no-op, as on a cancelled escrow upstream
        assert escrow.held() == escrow.total
        assert escrow.ledger.balance(payer, "TFT") == start - escrow.total
        assert _state(client, escrow.rid) == 4


def test_cancel_refunds_every_payment_with_the_memo_not_only_the_last(lg):
    with _client(lg) as client:
        escrow = Escrow(lg, client, "twice.3bot")
        payer = _funded_wallet(escrow.ledger)
        start = escrow.ledger.balance(payer, "TFT")
        escrow.pay(payer, escrow.total // 3)  # two runs each paid a part: still too little, still waiting
        escrow.pay(payer, escrow.total // 3)
        escrow.cancel()
        assert escrow.held() == 0 and escrow.ledger.balance(payer, "TFT") == start
        assert escrow.record()["cancelled"] == 1


def test_cancel_of_an_unpaid_reservation_sends_nothing_and_a_later_payment_stays(lg):
    with _client(lg) as client:
        escrow = Escrow(lg, client, "unpaid.3bot")
        sent_before = escrow.sequence()
        escrow.cancel()
        assert escrow.record()["cancelled"] == 1
        assert escrow.sequence() == sent_before  # no refund transaction left the escrow account
        payer = _funded_wallet(escrow.ledger)
        escrow.pay(payer, escrow.total)
        escrow.scan_twice()
        assert escrow.held() == escrow.total and _state(client, escrow.rid) == 4


def test_cancel_refunds_every_funder_s_payment_to_the_first_funder(lg):
    with _client(lg) as client:
        escrow = Escrow(lg, client, "funders.3bot")
        first, second = _funded_wallet(escrow.ledger), _funded_wallet(escrow.ledger)
        other_asset = _funded_wallet(escrow.ledger, "TFTA")
        first_start, second_start = escrow.ledger.balance(first, "TFT"), escrow.ledger.balance(second, "TFT")
        escrow.pay(first, 2 * XLM)
        escrow.pay(second, 3 * XLM)
        escrow.pay(other_asset, 4 * XLM, code="TFTA")  # another asset is not this escrow's balance
        escrow.pay(second, 5 * XLM, memo=str(escrow.rid + 1000))  # nor is another memo
        escrow.cancel()
        assert escrow.ledger.balance(first, "TFT") == first_start + 3 * XLM
        assert escrow.ledger.balance(second, "TFT") == second_start - 3 * XLM - 5 * XLM
        assert escrow.held() == 0 and escrow.held("TFTA") == 4 * XLM


def test_cancel_after_the_payout_refunds_nothing(lg):
    with _client(lg) as client:
        escrow = Escrow(lg, client, "released.3bot")
        payer = _funded_wallet(escrow.ledger)
        escrow.pay(payer, escrow.total)
        lg.app_state.escrow.scan()
        assert _state(client, escrow.rid) == 3
        rid = escrow.rid
        for gwid, node, category in (("%d-1", NODE_A, 1), ("%d-2", NODE_A, 3), ("%d-3", NODE_B, 1), ("%d-2", NODE_B, 3)):
            _ok(client, gwid % rid, node, category=category)
        assert escrow.record()["released"] == 1 and escrow.held() == 0
        after_payout = escrow.ledger.balance(payer, "TFT")
        escrow.pay(payer, XLM)  # paid again by mistake after the payout
        escrow.cancel()
        escrow.scan_twice()
        assert escrow.record()["cancelled"] == 0  # released escrows are never refunded or cancelled
        assert escrow.held() == XLM and escrow.ledger.balance(payer, "TFT") == after_payout - XLM


def test_missed_deadline_refunds_what_was_held_then_a_later_payment_stays(lg):
    with _client(lg) as client:
        escrow = Escrow(lg, client, "deadline.3bot")
        payer = _funded_wallet(escrow.ledger)
        start = escrow.ledger.balance(payer, "TFT")
        escrow.pay(payer, escrow.total - 1)
        lg.app_state.clock.advance(1801)  # past expiration_provisioning
        escrow.scan_twice()
        assert escrow.record()["cancelled"] == 1 and escrow.ledger.balance(payer, "TFT") == start
        escrow.pay(payer, escrow.total)
        escrow.scan_twice()
        assert escrow.held() == escrow.total and escrow.ledger.balance(payer, "TFT") == start - escrow.total


def test_a_refund_that_fails_leaves_the_escrow_open_and_does_not_stop_the_scan(lg):
    with _client(lg) as client:
        stuck, other = Escrow(lg, client, "stuck.3bot"), Escrow(lg, client, "other.3bot")
        ledger = stuck.ledger
        gone, payer = _funded_wallet(ledger), _funded_wallet(ledger)
        stuck.pay(gone, XLM)
        other.pay(payer, XLM)
        # the first funder gives up its trustline: the refund to it fails (op_no_trust)
        ledger.pay(gone, ledger.issuer("TFT"), "TFT", ledger.balance(gone, "TFT"))
        ledger.change_trust(gone, "TFT", 0)
        stuck.cancel()
        assert stuck.record()["cancelled"] == 0 and stuck.held() == XLM  # refundClients returns before marking
        lg.app_state.clock.advance(1801)
        stuck.scan_twice()
        assert other.record()["cancelled"] == 1 and other.held() == 0  # the other escrow is still refunded
        assert stuck.record()["cancelled"] == 0
        ledger.change_trust(gone, "TFT")
        stuck.scan_twice()  # refundExpiredReservations retries until the refund goes through
        assert stuck.record()["cancelled"] == 1 and ledger.balance(gone, "TFT") == XLM


def test_a_scan_finds_the_payment_that_completes_an_escrow_and_one_paid_before_its_signatures(lg):
    """A pass weighs only escrows whose funding can have changed: both of these must still be found."""
    with _client(lg) as client:
        parts = Escrow(lg, client, "parts.3bot")
        payer = _funded_wallet(parts.ledger)
        parts.pay(payer, parts.total - 1)
        parts.scan_twice()
        assert parts.record()["paid"] == 0 and _state(client, parts.rid) == 2
        parts.pay(payer, 1)
        parts.scan_twice()
        assert parts.record()["paid"] == 1 and _state(client, parts.rid) == 3

        customer, cosigner = Customer(client, "early.3bot"), Customer(client, "early-cosigner.3bot")
        answer, body = _create(client, lg, customer, signing_request_provision={"signers": [cosigner.tid], "quorum_min": 1})
        rid, info = answer["reservation_id"], answer["escrow_information"]
        parts.ledger.pay(payer, info["address"], "TFT", sum(d["total_amount"] for d in info["details"]), memo_text=str(rid))
        parts.scan_twice()  # funded, but the reservation still waits for its provision signature
        assert _state(client, rid) == 1
        message = "%d%s" % (rid, body["json"])
        signed = client.post("/reservations/%d/sign/provision" % rid, json={"tid": cosigner.tid, "signature": cosigner.sign(message)})
        assert signed.status_code == 201
        parts.scan_twice()  # no new payment since: the escrow is weighed again because it was funded
        assert _state(client, rid) == 3
