# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What zos_containers' threads share (_container_batch.py): listings, the cache files and one wallet's payments.

Each test runs real threads against the fakes, made to interleave with short pauses between requests.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from ansible_collections.threefold.grid.plugins.module_utils import _spec, _stellar
from ansible_collections.threefold.grid.plugins.module_utils._container_items import merged
from ansible_collections.threefold.grid.plugins.module_utils._escrow_cache import EscrowCache
from ansible_collections.threefold.grid.plugins.module_utils._lookup import Reservations
from ansible_collections.threefold.grid.plugins.module_utils._name_index import NameIndex
from ansible_collections.threefold.grid.plugins.module_utils._payment import pay_escrow
from ansible_collections.threefold.grid.tests.unit.plugins.grid_fake import EXPLORER_URL
from ansible_collections.threefold.grid.tests.unit.plugins.module_utils.test_escrow_recovery import (
    TFT,
    memo_total,
    payment_block,
)
from ansible_collections.threefold.grid.tests.unit.plugins.module_utils.test_escrow_recovery import ledger  # noqa: F401 pylint: disable=unused-import
from ansible_collections.threefold.grid.tests.unit.plugins.module_utils.test_lifecycle import (
    PUBKEY,
    TID,
    LIFE,
    add,
    container,
    data_with,
    grid_explorer,
    lifecycle,
    session,
    spec,
)

THREADS = 8


def together(work, count=THREADS):
    """``work(i)`` in ``count`` threads released at once; their results in order."""
    start = threading.Barrier(count)

    def run(index):
        start.wait()
        return work(index)
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def listings(explorer):
    return [r for r in explorer.requests if r.method == "GET" and r.url.path.endswith("/reservations")]


@pytest.fixture
def slow_explorer(monkeypatch):
    """The lifecycle tests' explorer whose listing pages take 20 ms, so that threads overlap."""
    explorer = grid_explorer()
    listing = explorer.list_reservations

    def slow(request, body):
        time.sleep(0.02)
        return listing(request, body)
    monkeypatch.setattr(explorer, "list_reservations", slow)
    return explorer


def test_threads_that_need_a_fresh_listing_at_once_share_one(slow_explorer, tmp_path, monkeypatch):
    monkeypatch.setenv("TFGRID_CACHE_DIR", str(tmp_path))
    add(slow_explorer, 1, data_with(container()), "")
    reservations = Reservations(session(slow_explorer))
    seen = together(lambda _index: [r["id"] for r in reservations.live(refresh=True)])
    assert seen == [[1]] * THREADS
    # 3 requests per listing (one per stored state); 8 threads alone would list 8 times.
    assert len(listings(slow_explorer)) <= 2 * 3


def test_one_listing_checks_a_whole_wave_of_registrations(slow_explorer, tmp_path, monkeypatch):
    monkeypatch.setenv("TFGRID_CACHE_DIR", str(tmp_path))
    reservations = Reservations(session(slow_explorer))
    reservations.writers.expect(THREADS)

    def register_then_check(index):
        with reservations.writers.writing():
            time.sleep(0.005 * index)  # the wave's registrations end one after the other
            add(slow_explorer, index + 1, data_with(container(ip="10.1.3.%d" % (10 + index))), "")
            reservations.invalidate()
            return [r["id"] for r in reservations.live(refresh=True)]
    seen = together(register_then_check)
    # Each check sees its own registration (a listing begun after it) and here every other one too: one listing
    # (3 requests) instead of one per thread that registered while the previous listing ran.
    assert seen == [list(range(1, THREADS + 1))] * THREADS
    assert len(listings(slow_explorer)) == 3


def test_a_writer_lists_at_once_and_a_stuck_one_delays_listings_so_long(slow_explorer, tmp_path, monkeypatch):
    from ansible_collections.threefold.grid.plugins.module_utils import _pending_writers
    monkeypatch.setenv("TFGRID_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(_pending_writers, "MAX_WAIT", 0.2)
    reservations = Reservations(session(slow_explorer))
    reservations.writers.expect(2)
    with reservations.writers.writing():
        started = time.monotonic()
        assert reservations.live(refresh=True) == []  # its decision to register: no wait for itself
        assert time.monotonic() - started < 0.2
    # One thread of the wave is done, the other never writes: a listing waits MAX_WAIT for it, then goes on.
    started = time.monotonic()
    assert reservations.live(refresh=True) == []
    assert 0.2 <= time.monotonic() - started < 2


def test_a_refresh_sees_what_was_registered_before_it_was_asked(slow_explorer, tmp_path, monkeypatch):
    monkeypatch.setenv("TFGRID_CACHE_DIR", str(tmp_path))
    reservations = Reservations(session(slow_explorer))
    assert reservations.live() == []
    add(slow_explorer, 1, data_with(container()), "")
    assert reservations.live() == []  # the cached listing, until a write or a refresh
    assert [r["id"] for r in reservations.live(refresh=True)] == [1]
    add(slow_explorer, 2, data_with(container(ip="10.1.3.11")), "")
    reservations.invalidate()
    assert [r["id"] for r in reservations.live()] == [1, 2]


def test_a_failed_shared_listing_fails_its_callers_and_the_next_call_lists_again(slow_explorer, tmp_path, monkeypatch):
    monkeypatch.setenv("TFGRID_CACHE_DIR", str(tmp_path))
    reservations = Reservations(session(slow_explorer))
    slow_explorer.down = True
    with pytest.raises(Exception, match="cannot reach the explorer"):
        reservations.live()
    slow_explorer.down = False
    assert reservations.live() == []


def test_each_tag_is_parsed_once_per_listing_however_many_names_are_looked_up(slow_explorer, tmp_path, monkeypatch):
    monkeypatch.setenv("TFGRID_CACHE_DIR", str(tmp_path))
    for index in range(6):
        add(slow_explorer, index + 1, data_with(container(ip="10.1.3.%d" % (10 + index))),
            _spec.metadata_tag("web-%d" % index, "container", "f"))
    reservations = Reservations(session(slow_explorer))
    parsed = []
    parse = _spec.parse_metadata
    monkeypatch.setattr(_spec, "parse_metadata", lambda text: parsed.append(text) or parse(text))
    found = together(lambda index: [r["id"] for r in reservations.find("web-%d" % (index % 6), "container")])
    assert found == [[index % 6 + 1] for index in range(THREADS)]
    assert len(parsed) == 6  # one listing, its 6 tags; not 6 per lookup
    reservations.invalidate()
    assert [r["id"] for r in reservations.find("web-5", "container")] == [6]
    assert len(parsed) == 12


def test_a_new_reservation_is_paid_on_its_listings_without_a_read(ledger, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("TFGRID_CACHE_DIR", str(tmp_path))
    explorer = grid_explorer()
    explorer.escrow = {"address": ledger.escrow, "asset": TFT, "details": [{"farmer_id": 1, "total_amount": 5000}]}
    result = lifecycle(explorer).ensure_present("web", "container", {"containers": [container()]}, spec(), LIFE,
                                                wait=False, payment=payment_block(ledger))
    rid = result.reservation["id"]
    assert memo_total(ledger, str(rid)) == 5000 and result.payment["changed"] is True
    # The listing after registering stands in for the payment's first read, the check's listing just before the
    # wallet's turn for G2's read: the answer's read (wait: false) is the only one.
    assert explorer.calls().count(("GET", "/reservations/%d" % rid)) == 1


def test_a_caller_that_waits_next_gets_the_listed_reservation_without_a_read_after_paying(ledger, tmp_path,  # noqa: F811
                                                                                          monkeypatch):
    monkeypatch.setenv("TFGRID_CACHE_DIR", str(tmp_path))
    explorer = grid_explorer()
    explorer.escrow = {"address": ledger.escrow, "asset": TFT, "details": [{"farmer_id": 1, "total_amount": 5000}]}
    paying = lifecycle(explorer)
    paying.read_after_payment = False
    result = paying.ensure_present("web", "container", {"containers": [container()]}, spec(), LIFE, wait=False,
                                   payment=payment_block(ledger))
    rid = result.reservation["id"]
    assert memo_total(ledger, str(rid)) == 5000 and result.payment["changed"] is True
    # No read at all: the listings stand in for every read; the returned state is the listing's, from before the
    # payment.
    assert explorer.calls().count(("GET", "/reservations/%d" % rid)) == 0
    assert result.reservation["state"] == "pay"


def test_concurrent_cache_updates_keep_every_entry(tmp_path):
    escrows = EscrowCache(EXPLORER_URL, TID, PUBKEY, directory=str(tmp_path))
    together(lambda index: escrows.remember(100 + index, {"address": "GESCROW%d" % index, "asset": TFT,
                                                          "details": [{"total_amount": index + 1}]}), 16)
    assert [escrows.recall(100 + index)["address"] for index in range(16)] == ["GESCROW%d" % i for i in range(16)]
    index = NameIndex(EXPLORER_URL, TID, PUBKEY, directory=str(tmp_path))
    index.replace(dict(("container/web-%d" % i, i) for i in range(16)))
    together(lambda i: index.forget("container", "web-%d" % i), 16)
    assert all(index.get("container", "web-%d" % i) is None for i in range(16))


def test_threads_paying_from_one_wallet_take_turns_and_pay_each_memo_once(ledger, monkeypatch):  # noqa: F811
    explorer = grid_explorer()
    # One request at a time, as a server answers them, with a pause between requests so that threads interleave.
    horizon = ledger
    serving = threading.Lock()
    get, post = horizon.get, horizon.post

    def one_at_a_time(call):
        def request(*args, **kwargs):
            time.sleep(0.002)
            with serving:
                return call(*args, **kwargs)
        return request
    monkeypatch.setattr(horizon, "get", one_at_a_time(get))
    monkeypatch.setattr(horizon, "post", one_at_a_time(post))
    monkeypatch.setattr(_stellar, "new_http_client", lambda: horizon)
    for rid in range(1, THREADS + 1):
        add(explorer, rid, data_with(container(ip="10.1.3.%d" % (10 + rid))), "", next_action=2, epoch=int(time.time()))
    escrow = {"address": ledger.escrow, "asset": TFT, "details": [{"total_amount": 1000}]}
    paid = together(lambda index: pay_escrow(session(explorer), index + 1, escrow, payment_block(ledger)))
    assert all(result["changed"] and result["transaction_hash"] for result in paid)
    assert [memo_total(ledger, str(rid)) for rid in range(1, THREADS + 1)] == [1000] * THREADS
    # No payment took another's sequence number: one submission each, none refused with tx_bad_seq.
    assert ledger.submissions == THREADS


def test_defaults_merge_under_items_key_by_key():
    defaults = {"capacity": {"cpu": 2, "memory": None}, "env": {"A": "1"}, "volumes": [{"volume": "v", "mountpoint": "/v"}],
                "flist": "https://hub/x.flist", "entrypoint": None}
    item = {"name": "web", "capacity": {"memory": 512, "cpu": None}, "env": {"B": "2"}, "volumes": [], "flist": None}
    assert merged(defaults, item) == {"name": "web", "capacity": {"cpu": 2, "memory": 512}, "env": {"A": "1", "B": "2"},
                                      "volumes": [], "flist": "https://hub/x.flist"}


class OtherProcess:
    """Another process paying from the same wallet: the same ledger, without this process's caches."""

    def __init__(self, ledger):
        self.get, self.post = ledger.get, ledger.post


def test_a_process_reuses_its_wallet_record_and_reads_only_newer_payments(ledger, monkeypatch):  # noqa: F811
    explorer = grid_explorer()
    # Like the process's shared client: it keeps what does not change (_stellar.HttpClient).
    ledger.histories, ledger.wallet_records = {}, {}
    reads = []
    get = ledger.get

    def recording(url, params=None, **kwargs):
        reads.append((url.rsplit("/stellar", 1)[-1], dict(params or {}).get("order")))
        return get(url, params, **kwargs)
    monkeypatch.setattr(ledger, "get", recording)
    for rid in (1, 2, 3):
        add(explorer, rid, data_with(container(ip="10.1.3.%d" % (10 + rid))), "", next_action=2, epoch=int(time.time()))
    escrow = {"address": ledger.escrow, "asset": TFT, "details": [{"total_amount": 1000}]}
    wallet = "/accounts/" + ledger.payer.public_key
    pay_escrow(session(explorer), 1, escrow, payment_block(ledger))
    assert reads.count((wallet, None)) == 1 and reads.count((wallet + "/payments", "desc")) == 1
    # Another process pays reservation 2: the wallet's sequence number moves on without this process knowing.
    monkeypatch.setattr(_stellar, "new_http_client", lambda: OtherProcess(ledger))
    pay_escrow(session(explorer), 2, escrow, payment_block(ledger))
    monkeypatch.setattr(_stellar, "new_http_client", lambda: ledger)
    del reads[:]
    submissions = ledger.submissions
    paid = pay_escrow(session(explorer), 3, escrow, payment_block(ledger))
    # The kept record was stale: refused with tx_bad_seq (never applied), read again, paid once.
    assert paid["transaction_hash"] and ledger.submissions == submissions + 2
    assert reads.count((wallet, None)) == 1
    # The first attempt, chained on the kept record, read no payment; the retry read them (in full: the process's
    # only read came before its first payment, when the wallet had none, so there is no newest one to read after).
    memo_reads = [read for read in reads if read[0] == wallet + "/payments"]
    assert memo_reads == [(wallet + "/payments", "desc")]
    assert [memo_total(ledger, str(rid)) for rid in (1, 2, 3)] == [1000, 1000, 1000]
    # Paying it again finds the memo paid in the payments read since.
    assert pay_escrow(session(explorer), 3, escrow, payment_block(ledger))["changed"] is False
    assert memo_total(ledger, "3") == 1000


def test_chained_payments_read_nothing_and_a_memo_another_process_paid_is_not_paid_again(ledger, monkeypatch):  # noqa: F811
    explorer = grid_explorer()
    ledger.histories, ledger.wallet_records = {}, {}
    reads = []
    get = ledger.get

    def recording(url, params=None, **kwargs):
        reads.append(url.rsplit("/stellar", 1)[-1])
        return get(url, params, **kwargs)
    monkeypatch.setattr(ledger, "get", recording)
    for rid in (1, 2, 3, 4):
        add(explorer, rid, data_with(container(ip="10.1.3.%d" % (10 + rid))), "", next_action=2, epoch=int(time.time()))
    escrow = {"address": ledger.escrow, "asset": TFT, "details": [{"total_amount": 1000}]}
    wallet = "/accounts/" + ledger.payer.public_key
    pay_escrow(session(explorer), 1, escrow, payment_block(ledger))
    del reads[:]
    # The next payments take the record the previous one left and the payments known: no read of the wallet.
    for rid in (2, 3):
        assert pay_escrow(session(explorer), rid, escrow, payment_block(ledger))["changed"] is True
    assert wallet not in reads and wallet + "/payments" not in reads
    # This process's own payment counts for its memo without a read.
    again = pay_escrow(session(explorer), 3, escrow, payment_block(ledger))
    assert again["changed"] is False and again["already_paid"] == "0.0001000"
    assert wallet + "/payments" not in reads
    # Another process pays 600 of reservation 4's 1000: the chained envelope for it carries a sequence number that
    # is used up, is refused with tx_bad_seq, and the memo read that follows counts the 600: 400 are paid.
    monkeypatch.setattr(_stellar, "new_http_client", lambda: OtherProcess(ledger))
    pay_escrow(session(explorer), 4, dict(escrow, details=[{"total_amount": 600}]), payment_block(ledger))
    monkeypatch.setattr(_stellar, "new_http_client", lambda: ledger)
    submissions = ledger.submissions
    del reads[:]
    paid = pay_escrow(session(explorer), 4, escrow, payment_block(ledger))
    assert paid["amount"] == "0.0000400" and paid["already_paid"] == "0.0000000"
    assert ledger.submissions == submissions + 2 and reads.count(wallet) == 1 and reads.count(wallet + "/payments") == 1
    assert [memo_total(ledger, str(rid)) for rid in (1, 2, 3, 4)] == [1000] * 4
