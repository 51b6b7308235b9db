# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The name index: one GET instead of a listing for an unchanged reservation, a listing for every decision to
register, and a file that holds no secret and can be deleted at any time."""

from __future__ import annotations

import json
import os
import stat

import pytest

from ansible_collections.threefold.grid.plugins.module_utils import _spec, _workloads
from ansible_collections.threefold.grid.plugins.module_utils._cache_file import cache_directory
from ansible_collections.threefold.grid.plugins.module_utils._identity import Identity
from ansible_collections.threefold.grid.plugins.module_utils._name_index import NameIndex
from ansible_collections.threefold.grid.plugins.module_utils._tid_cache import TidCache
from ansible_collections.threefold.grid.tests.unit.plugins.module_utils.test_lifecycle import (
    LIFE,
    NODE_A,
    PUBKEY,
    SEED,
    TID,
    add,
    container,
    data_with,
    deployed,
    grid_explorer,
    lifecycle,
    network_data,
    spec,
    tag_for,
)

URL = "http://explorer.test/explorer"


@pytest.fixture
def explorer():
    return grid_explorer()


def listings(explorer):
    return [call for call in explorer.calls() if call == ("GET", "/reservations")]


def check(explorer):
    """One idempotent task: a fresh lifecycle (a new process) ensures "web" with the same spec."""
    lc = lifecycle(explorer)
    return lc.ensure_present("web", "container", lambda: pytest.fail("workloads built"), spec(), LIFE)


def test_the_file_is_private_and_holds_no_secret(name_index_dir):
    index = NameIndex(URL, TID, PUBKEY)
    index.replace({"container/web": 4})
    assert os.path.dirname(index.path) == str(name_index_dir)
    assert stat.S_IMODE(os.stat(index.path).st_mode) == 0o600
    text = open(index.path).read()
    assert SEED not in text and '"container/web": 4' in text
    assert NameIndex(URL, TID, PUBKEY).get("container", "web") == 4
    NameIndex(URL, TID, PUBKEY).forget("container", "web")
    assert index.get("container", "web") is None


def test_each_explorer_and_identity_has_its_own_index():
    NameIndex(URL, TID, PUBKEY).replace({"container/web": 4})
    assert NameIndex("http://other.test/explorer", TID, PUBKEY).get("container", "web") is None
    assert NameIndex(URL, TID + 1, PUBKEY).get("container", "web") is None


def test_a_broken_or_unwritable_index_is_an_empty_one(name_index_dir, tmp_path):
    index = NameIndex(URL, TID, PUBKEY)
    os.makedirs(str(name_index_dir))
    with open(index.path, "w") as handle:
        handle.write("{not json")
    assert index.get("container", "web") is None
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    unwritable = NameIndex(URL, TID, PUBKEY, directory=str(blocker / "below"))
    unwritable.replace({"container/web": 4})
    assert unwritable.get("container", "web") is None


def test_cache_directory_follows_the_environment():
    assert cache_directory({"TFGRID_CACHE_DIR": "/x/y"}) == "/x/y"
    assert cache_directory({"XDG_CACHE_HOME": "/c"}) == "/c/threefold.grid"


def test_an_unchanged_check_reads_one_reservation_instead_of_listing(explorer):
    lc = lifecycle(explorer)
    add(explorer, 4, data_with(container()), tag_for(lc, "web", "container", spec()), **deployed())
    assert check(explorer).action == "none"
    assert len(listings(explorer)) == 3  # the first check lists (sign, pay, deploy) and fills the index
    del explorer.requests[:]
    second = check(explorer)
    assert second.action == "none" and second.reservation["id"] == 4
    assert listings(explorer) == [] and ("GET", "/reservations/4") in explorer.calls()


def test_requests_per_check_do_not_grow_with_the_fleet(explorer):
    lc = lifecycle(explorer)
    add(explorer, 4, data_with(container()), tag_for(lc, "web", "container", spec()), **deployed())
    check(explorer)
    counts = []
    for others in (10, 300):
        while len(explorer.reservations) <= others:
            explorer.add(data_with(), name="vol%d" % len(explorer.reservations), kind="volume")
        del explorer.requests[:]
        check(explorer)
        counts.append(len(explorer.requests))
    assert counts[0] == counts[1] == 2  # the phonebook user, reservation 4


def test_a_stale_entry_falls_back_to_a_listing(explorer):
    lc = lifecycle(explorer)
    add(explorer, 4, data_with(container()), tag_for(lc, "web", "container", spec()), **deployed())
    check(explorer)
    explorer.reservations[4]["next_action"] = 6  # cancelled by another run
    add(explorer, 5, data_with(container()), tag_for(lc, "web", "container", spec()), **deployed())
    del explorer.requests[:]
    assert check(explorer).reservation["id"] == 5
    assert len(listings(explorer)) == 3
    del explorer.requests[:]
    assert check(explorer).reservation["id"] == 5 and listings(explorer) == []


def test_an_entry_pointing_at_another_tag_is_not_trusted(explorer):
    lc = lifecycle(explorer)
    add(explorer, 4, data_with(container(ip="10.1.3.11")), _spec.metadata_tag("db", "container", "f"), **deployed())
    NameIndex(URL, TID, PUBKEY).replace({"container/web": 4})
    result = lc.ensure_present("web", "container", {"containers": [container()]}, spec(), LIFE, wait=False)
    # One listing to decide, one after registering (did another run register the name too?).
    assert result.action == "create" and len(listings(explorer)) == 6
    assert NameIndex(URL, TID, PUBKEY).get("container", "web") == 5


def test_a_change_lists_and_sees_another_runs_reservation(explorer):
    lc = lifecycle(explorer)
    add(explorer, 4, data_with(container()), tag_for(lc, "web", "container", spec()), **deployed())
    check(explorer)
    # Another run registered "web" too; the index still points at 4 (live, same tag).
    add(explorer, 5, data_with(container(cpu=2)), tag_for(lc, "web", "container", spec(cpu=2)), **deployed())
    lc = lifecycle(explorer, check_mode=True)
    result = lc.ensure_present("web", "container", {"containers": [container(cpu=3)]}, spec(cpu=3), LIFE)
    assert result.action == "replace" and result.replaced == [5] and explorer.posts() == []
    assert any("2 live reservations carry this name (5, 4)" in w for w in lc.session.warnings)


def test_network_and_volume_references_use_the_index(explorer):
    lc = lifecycle(explorer)
    add(explorer, 1, network_data(), _spec.metadata_tag("net", "network", "f"))
    data = data_with()
    data["volumes"] = [_workloads.volume_workload(1, NODE_A, 5)]
    add(explorer, 6, data, _spec.metadata_tag("data", "volume", "f"))
    lc.reservations.live()
    del explorer.requests[:]
    lookup = lifecycle(explorer).lookup
    assert lookup.network_subnet("net", NODE_A) == "10.1.3.0/24"
    assert lookup.volume_id("data", NODE_A, "volumes[0].volume") == "6-1"
    assert lookup.volume_id("6-1", NODE_A, "volumes[0].volume") == "6-1"
    assert listings(explorer) == []


def signed_by_alice(explorer, rid):
    reservation = explorer.reservations[rid]
    reservation["customer_signature"] = Identity.from_seed_hex(SEED).sign_reservation(reservation["json"])


def test_a_check_of_a_reservation_signed_by_the_identity_skips_the_phonebook(explorer):
    lc = lifecycle(explorer)
    add(explorer, 4, data_with(container()), tag_for(lc, "web", "container", spec()), **deployed())
    signed_by_alice(explorer, 4)
    check(explorer)  # reads the phonebook, lists, fills the name index and the tid cache
    assert TidCache(URL, PUBKEY).get("alice.3bot") == TID
    del explorer.requests[:]
    assert check(explorer).reservation["id"] == 4
    assert explorer.calls() == [("GET", "/reservations/4")]


def test_an_unsigned_reservation_confirms_the_cached_tid_with_the_phonebook(explorer):
    lc = lifecycle(explorer)
    add(explorer, 4, data_with(container()), tag_for(lc, "web", "container", spec()), **deployed())
    explorer.reservations[4]["customer_signature"] = "00" * 64  # not alice's
    check(explorer)
    del explorer.requests[:]
    assert check(explorer).reservation["id"] == 4
    assert ("GET", "/users") in explorer.calls() and listings(explorer) == []


def test_a_wrong_cached_tid_costs_a_listing_never_a_wrong_answer(explorer):
    lc = lifecycle(explorer)
    add(explorer, 4, data_with(container()), tag_for(lc, "web", "container", spec()), **deployed())
    signed_by_alice(explorer, 4)
    NameIndex(URL, 99, PUBKEY).replace({"container/web": 4})
    TidCache(URL, PUBKEY).put("alice.3bot", 99)  # reservation 4 carries tid 12: not trusted
    assert check(explorer).reservation["id"] == 4
    assert len(listings(explorer)) == 3 and TidCache(URL, PUBKEY).get("alice.3bot") == TID


def test_a_decision_to_register_reads_the_phonebook(explorer):
    TidCache(URL, PUBKEY).put("alice.3bot", TID)
    lc = lifecycle(explorer)
    result = lc.ensure_present("web", "container", {"containers": [container()]}, spec(), LIFE, wait=False)
    assert result.action == "create" and ("GET", "/users") in explorer.calls()


def test_the_tid_cache_is_private_and_holds_no_secret(name_index_dir):
    TidCache(URL, PUBKEY).put("alice.3bot", TID)
    path = TidCache(URL, PUBKEY).file.path
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path) as handle:
        text = handle.read()
    assert SEED not in text and "alice.3bot" in text


def test_the_file_is_parsed_again_only_when_another_writer_replaced_it(name_index_dir, monkeypatch):
    from ansible_collections.threefold.grid.plugins.module_utils import _cache_file
    index = NameIndex(URL, TID, PUBKEY)
    index.replace({"container/web-%d" % i: i for i in range(300)})
    parsed = []
    real_load = _cache_file.json.load
    monkeypatch.setattr(_cache_file.json, "load", lambda handle: parsed.append(1) or real_load(handle))
    # zos_containers looks up every container of its batch: the process's own write is known without a parse.
    assert [index.get("container", "web-%d" % i) for i in (0, 150, 299)] == [0, 150, 299]
    assert parsed == []
    # Another process (another task) replaces the file: the next look-up sees its entries.
    other = index.path + ".other"
    with open(other, "w") as handle:
        json.dump({"owner": index.owner, "names": {"container/web-0": 7}}, handle)
    os.replace(other, index.path)
    assert index.get("container", "web-0") == 7 and index.get("container", "web-150") is None
    assert parsed == [1]
    os.unlink(index.path)
    assert index.get("container", "web-0") is None
