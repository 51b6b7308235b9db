"""Unit tests of localgrid's Stellar ledger through its Python API (the one the explorer escrow uses)."""

import threading

import pytest
from stellar_sdk import Keypair, TransactionEnvelope

from localgrid.clock import Clock
from localgrid.stellar import NETWORK_PASSPHRASE, Ledger, LedgerError
from localgrid.store import Store

XLM = 10**7
TFT = 10**7


@pytest.fixture
def store(tmp_path):
    store = Store(str(tmp_path / "state.db"))
    yield store
    store.close()


@pytest.fixture
def ledger(store):
    return Ledger(store, Clock(store))


def new_account(ledger, xlm=100, trust=("TFT",), funder=None):
    account_id = Keypair.random().public_key
    ledger.create_account(account_id, xlm * XLM, funder=funder)
    for code in trust:
        ledger.change_trust(account_id, code)
    return account_id


def mint(ledger, account_id, amount, code="TFT"):
    ledger.pay(ledger.issuer(code), account_id, code, amount)


def tx_count(store):
    with store.transaction() as conn:
        return conn.execute("SELECT COUNT(*) FROM stellar_transactions").fetchone()[0]


def sequence_of(store, account_id):
    with store.transaction() as conn:
        return conn.execute("SELECT sequence FROM stellar_accounts WHERE account_id = ?", (account_id,)).fetchone()[0]


def test_passphrase_and_issuers_are_fixed_across_stores(tmp_path, ledger):
    other_store = Store(str(tmp_path / "other.db"))
    other = Ledger(other_store, Clock(other_store))
    assert NETWORK_PASSPHRASE == "Localgrid Stellar Network ; threefold.grid"
    for code in ("TFT", "TFTA", "FreeTFT"):
        issuer = ledger.issuer(code)
        assert issuer.startswith("G") and len(issuer) == 56
        assert ledger.asset_string(code) == "%s:%s" % (code, issuer) == other.asset_string(code)
        assert ledger.account_exists(issuer)
    assert len({ledger.issuer(code) for code in ("TFT", "TFTA", "FreeTFT")}) == 3
    other_store.close()


def test_restart_keeps_state_and_does_not_replay_genesis(store, ledger):
    account = new_account(ledger)
    mint(ledger, account, 42 * TFT)
    count = tx_count(store)
    restarted = Ledger(store, Clock(store))
    assert restarted.balance(account, "TFT") == 42 * TFT
    assert tx_count(store) == count


def test_create_account_debits_the_funder(ledger):
    funder = new_account(ledger, xlm=100, trust=())
    escrow = Keypair.random().public_key
    assert not ledger.account_exists(escrow)
    ledger.create_account(escrow, (2 + 3) * 5_000_000, funder=funder)
    assert ledger.account_exists(escrow)
    assert ledger.balance(escrow, "XLM") == 25_000_000
    assert ledger.balance(funder, "XLM") == 100 * XLM - 25_000_000
    for code in ("TFT", "TFTA", "FreeTFT"):
        ledger.change_trust(escrow, code)
    assert ledger.balance(escrow, "FreeTFT") == 0


@pytest.mark.parametrize("amount, funder_xlm, code", [
    (5 * XLM, 100, "op_already_exists"),
    (9_999_999, 100, "op_low_reserve"),
    (50 * XLM, 50, "op_underfunded"),
])
def test_create_account_failures(ledger, amount, funder_xlm, code):
    funder = new_account(ledger, xlm=funder_xlm, trust=())
    target = new_account(ledger, trust=()) if code == "op_already_exists" else Keypair.random().public_key
    with pytest.raises(LedgerError) as exc:
        ledger.create_account(target, amount, funder=funder)
    assert exc.value.code == code


def test_trustline_needs_reserve(ledger):
    poor = new_account(ledger, xlm=1, trust=())
    with pytest.raises(LedgerError) as exc:
        ledger.change_trust(poor, "TFT")
    assert exc.value.code == "op_low_reserve"
    ledger.pay(ledger.root_account, poor, "XLM", 5_000_000)
    ledger.change_trust(poor, "TFT")
    assert ledger.balance(poor, "TFT") == 0


def test_pay_moves_credit_and_records_a_transaction(store, ledger):
    alice, bob = new_account(ledger), new_account(ledger)
    mint(ledger, alice, 100 * TFT)
    sequence = sequence_of(store, alice)
    tx_hash = ledger.pay(alice, bob, "TFT", 12_3456789, memo_text="42")
    assert len(tx_hash) == 64 and int(tx_hash, 16) >= 0
    assert ledger.balance(alice, "TFT") == 100 * TFT - 12_3456789
    assert ledger.balance(bob, "TFT") == 12_3456789
    assert sequence_of(store, alice) == sequence + 1
    with store.transaction() as conn:
        row = conn.execute("SELECT * FROM stellar_transactions WHERE hash = ?", (tx_hash,)).fetchone()
    assert (row["memo_type"], row["memo"], row["successful"], row["source_account"]) == ("text", "42", 1, alice)


def test_internal_transactions_are_genuine_envelopes(store, ledger):
    """What stellar-sdk reads back from a recorded internal envelope: its hash, source, sequence, memo, operations."""
    alice, bob = Keypair.random().public_key, Keypair.random().public_key
    ledger.create_account(alice, 1000 * XLM)
    ledger.create_account(bob, 100 * XLM, funder=alice)
    ledger.change_trust(bob, "FreeTFT", 12_3456789)
    mint(ledger, bob, 5 * TFT, code="FreeTFT")
    ledger.pay(bob, alice, "XLM", 2 * XLM, memo_text="7" * 28)
    with store.transaction() as conn:
        rows = conn.execute("SELECT * FROM stellar_transactions ORDER BY id DESC LIMIT 5").fetchall()
    read = [TransactionEnvelope.from_xdr(row["envelope_xdr"], NETWORK_PASSPHRASE) for row in reversed(rows)]
    assert [envelope.hash_hex() for envelope in read] == [row["hash"] for row in reversed(rows)]
    assert all(envelope.transaction.fee == 0 and not envelope.signatures for envelope in read)
    assert [(e.transaction.source.account_id, e.transaction.sequence) for e in read] == [
        (row["source_account"], row["source_sequence"]) for row in reversed(rows)]
    create, trust, minted, paid = (envelope.transaction.operations[0] for envelope in read[1:])
    assert (create.destination, create.starting_balance) == (bob, "100")
    assert (trust.asset.code, trust.asset.issuer, trust.limit) == ("FreeTFT", ledger.issuer("FreeTFT"), "12.3456789")
    assert (minted.destination.account_id, minted.asset.code, minted.amount) == (bob, "FreeTFT", "5")
    assert (paid.destination.account_id, paid.asset.is_native(), paid.amount) == (alice, True, "2")
    assert read[-1].transaction.memo.memo_text == b"7" * 28 and read[-1].transaction.preconditions.time_bounds.max_time == 0


@pytest.mark.parametrize("case, code", [
    ("no_destination", "op_no_destination"),
    ("no_trust", "op_no_trust"),
    ("src_no_trust", "op_src_no_trust"),
    ("underfunded", "op_underfunded"),
    ("line_full", "op_line_full"),
    ("xlm_below_reserve", "op_underfunded"),
])
def test_pay_failures_leave_no_trace(store, ledger, case, code):
    alice, bob = new_account(ledger), new_account(ledger)
    mint(ledger, alice, 10 * TFT)
    source, destination, asset, amount = alice, bob, "TFT", 1 * TFT
    if case == "no_destination":
        destination = Keypair.random().public_key
    elif case == "no_trust":
        destination = new_account(ledger, trust=())
    elif case == "src_no_trust":
        source = new_account(ledger, trust=())
    elif case == "underfunded":
        amount = 10 * TFT + 1
    elif case == "line_full":
        ledger.change_trust(bob, "TFT", limit_stroops=5 * TFT)
        amount = 5 * TFT + 1
    elif case == "xlm_below_reserve":
        asset, amount = "XLM", 100 * XLM - 15_000_000 + 1  # one trustline: reserve is 1.5 XLM
    before = (tx_count(store), sequence_of(store, alice), ledger.balance(alice, "TFT"), ledger.balance(alice, "XLM"))
    with pytest.raises(LedgerError) as exc:
        ledger.pay(source, destination, asset, amount)
    assert exc.value.code == code
    assert (tx_count(store), sequence_of(store, alice), ledger.balance(alice, "TFT"),
            ledger.balance(alice, "XLM")) == before


def test_failure_inside_an_outer_store_transaction_is_rolled_back(store, ledger):
    alice, bob = new_account(ledger), new_account(ledger)
    mint(ledger, alice, 5 * TFT)
    count = tx_count(store)
    with store.transaction():
        with pytest.raises(LedgerError):
            ledger.pay(alice, bob, "TFT", 6 * TFT)
        ledger.pay(alice, bob, "TFT", 2 * TFT)
    assert tx_count(store) == count + 1
    assert (ledger.balance(alice, "TFT"), ledger.balance(bob, "TFT")) == (3 * TFT, 2 * TFT)


def test_issuer_mints_and_payment_to_issuer_burns(ledger):
    issuer = ledger.issuer("FreeTFT")
    holder = new_account(ledger, trust=("FreeTFT",))
    ledger.pay(issuer, holder, "FreeTFT", 1_000_000 * TFT)
    assert ledger.balance(holder, "FreeTFT") == 1_000_000 * TFT
    ledger.pay(holder, issuer, "FreeTFT", 400_000 * TFT, memo_text="burn")
    assert ledger.balance(holder, "FreeTFT") == 600_000 * TFT
    assert ledger.balance(issuer, "FreeTFT") == 0  # the issuer holds no line of its own asset


def test_memo_balance_is_credited_minus_debited(ledger):
    escrow, alice, farmer = new_account(ledger, trust=("TFT", "TFTA")), new_account(ledger), new_account(ledger)
    mint(ledger, alice, 1000 * TFT)
    ledger.change_trust(alice, "TFTA")
    mint(ledger, alice, 1000 * TFT, code="TFTA")
    ledger.pay(alice, escrow, "TFT", 10 * TFT, memo_text="7")
    ledger.pay(alice, escrow, "TFT", 5 * TFT, memo_text="7")
    ledger.pay(escrow, farmer, "TFT", 3 * TFT, memo_text="7")
    ledger.pay(alice, escrow, "TFT", 100 * TFT, memo_text="8")
    ledger.pay(alice, escrow, "TFTA", 50 * TFT, memo_text="7")
    ledger.pay(alice, escrow, "TFT", 1 * TFT)
    assert ledger.memo_balance(escrow, "TFT", "7") == 12 * TFT
    assert ledger.memo_balance(escrow, "TFT", "8") == 100 * TFT
    assert ledger.memo_balance(escrow, "TFTA", "7") == 50 * TFT
    assert ledger.memo_balance(escrow, "TFT", "9") == 0
    assert ledger.memo_balance(farmer, "TFT", "7") == 3 * TFT


def test_memo_funders_first_payer_first(ledger):
    escrow, bob, carol, farmer = (new_account(ledger) for _ in range(4))
    for payer in (bob, carol):
        mint(ledger, payer, 100 * TFT)
    ledger.pay(bob, escrow, "TFT", 1 * TFT, memo_text="11")
    ledger.pay(carol, escrow, "TFT", 1 * TFT, memo_text="11")
    ledger.pay(bob, escrow, "TFT", 1 * TFT, memo_text="11")
    ledger.pay(escrow, farmer, "TFT", 1 * TFT, memo_text="11")
    ledger.pay(farmer, escrow, "TFT", 1 * TFT, memo_text="12")
    assert ledger.memo_funders(escrow, "TFT", "11") == [bob, carol]
    assert ledger.memo_funders(escrow, "TFT", "12") == [farmer]
    assert ledger.memo_funders(escrow, "TFTA", "11") == []


@pytest.mark.parametrize("asset, amount, memo, code", [
    ("XLM", XLM, "x" * 29, "tx_malformed"),
    ("TFT", 0, None, "op_malformed"),
    ("TFT", -5, None, "op_malformed"),
    ("TFT", 2**63, None, "op_malformed"),
    ("BTC", XLM, None, "op_malformed"),
])
def test_malformed_internal_payments(store, ledger, asset, amount, memo, code):
    alice, bob = new_account(ledger), new_account(ledger)
    mint(ledger, alice, 10 * TFT)
    count = tx_count(store)
    with pytest.raises(LedgerError) as exc:
        ledger.pay(alice, bob, asset, amount, memo_text=memo)
    assert exc.value.code == code
    assert tx_count(store) == count


def test_concurrent_payments_keep_balances_exact(store, ledger):
    escrow = new_account(ledger)
    payers = [new_account(ledger) for _ in range(6)]
    for payer in payers:
        mint(ledger, payer, 1000 * TFT)
    start_sequences = {payer: sequence_of(store, payer) for payer in payers}
    errors = []

    def pay_many(payer):
        try:
            for i in range(20):
                ledger.pay(payer, escrow, "TFT", 1 * TFT + i, memo_text="c")
                ledger.pay(escrow, payer, "TFT", 1, memo_text="c")
        except Exception as exc:  # reported below: a thread's exception would otherwise be lost
            errors.append(exc)

    threads = [threading.Thread(target=pay_many, args=(payer,)) for payer in payers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    sent = sum(1 * TFT + i for i in range(20))
    for payer in payers:
        assert ledger.balance(payer, "TFT") == 1000 * TFT - sent + 20
        assert sequence_of(store, payer) == start_sequences[payer] + 20
    assert ledger.balance(escrow, "TFT") == len(payers) * (sent - 20)
    assert ledger.memo_balance(escrow, "TFT", "c") == len(payers) * (sent - 20)
