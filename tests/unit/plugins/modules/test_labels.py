# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Labels of the resource modules (zos_volume stands for all: they share ResourceRunner and the arg spec)."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.basic import AnsibleModule

from ansible_collections.threefold.grid.plugins.module_utils import _labels
from ansible_collections.threefold.grid.plugins.module_utils._errors import SpecError
from ansible_collections.threefold.grid.plugins.module_utils._identity import Identity
from ansible_collections.threefold.grid.plugins.modules import zos_volume
from ansible_collections.threefold.grid.tests.unit.plugins.modules.sample_grid import IDENTITY, PUBLIC_1, sample_runner


@pytest.fixture
def volume(monkeypatch, capsys, explorer):
    return sample_runner(monkeypatch, capsys, zos_volume.main, explorer, wait_sleep=0)


def vol_args(**extra):
    args = {"name": "data", "node_id": PUBLIC_1["node_id"], "size": 10}
    args.update(extra)
    return args


def tag(explorer, rid):
    return json.loads(explorer.reservations[rid]["metadata"])["ansible"]


def test_labels_are_kept_readable_in_the_metadata_and_returned(volume, explorer):
    result = volume(vol_args(labels={"app": "web", "tier": 2, "canary": True}))
    assert tag(explorer, 1)["labels"] == {"app": "web", "tier": "2", "canary": "true"}
    assert result["volume"]["labels"] == {"app": "web", "tier": "2", "canary": "true"}
    assert result["volume"]["labels_sealed"] is False


def test_sealed_labels_are_ciphertext_only_the_identity_opens(volume, explorer):
    result = volume(vol_args(labels={"app": "web"}, seal_labels=True))
    stored = tag(explorer, 1)
    assert "labels" not in stored and "web" not in explorer.reservations[1]["metadata"]
    assert (stored["name"], stored["kind"]) == ("data", "volume")  # still found by name
    assert json.loads(IDENTITY.open_sealed(stored["sealed_labels"])) == {"app": "web"}
    assert Identity.from_seed_hex("01" * 32).open_sealed(stored["sealed_labels"]) is None
    assert result["volume"]["labels"] == {"app": "web"} and result["volume"]["labels_sealed"] is True


def test_a_label_change_alone_registers_and_pays_nothing_and_warns(volume, explorer, monkeypatch):
    # Record warn() calls: where a warning ends up depends on what else the test process loaded.
    warned = []
    monkeypatch.setattr(AnsibleModule, "warn", lambda self, text: warned.append(text))
    volume(vol_args(labels={"app": "web"}))
    again = volume(vol_args(labels={"app": "api"}))
    assert again["changed"] is False and again["action"] == "none" and len(explorer.posted()) == 1
    assert again["volume"]["labels"] == {"app": "web"}
    assert len(warned) == 1 and "reservation 1 keeps the labels it was registered with ({'app': 'web'})" in warned[0]
    volume(vol_args(labels={"app": "web"}))
    volume(vol_args())  # labels not given: nothing said about them
    assert len(warned) == 1


def test_the_next_registration_writes_the_new_labels(volume, explorer):
    volume(vol_args(labels={"app": "web"}))
    bigger = volume(vol_args(size=20, labels={"app": "api"}))
    assert bigger["action"] == "replace" and tag(explorer, 2)["labels"] == {"app": "api"}


@pytest.mark.parametrize("labels, message", [
    ({"app": {"nested": 1}}, "labels: the value of app is a dict; a label value is a string"),
    ({"app": None}, "labels: the value of app is a null"),
    ({"bad key": "x"}, "labels: key 'bad key' is not a label key"),
    ({"-app": "x"}, "labels: key '-app' is not a label key"),
    ({"app": "x" * 300}, "longer than 255 characters"),
    (dict(("k%d" % i, "v" * 100) for i in range(9)), "labels: the reservation metadata would be"),
])
def test_bad_labels_fail_before_anything_is_signed(volume, explorer, labels, message):
    result = volume(vol_args(labels=labels))
    assert result["failed"] is True and message in result["msg"]
    assert explorer.writes() == []


def test_sealed_labels_count_against_the_limit():
    labels = dict(("k%d" % i, "v" * 80) for i in range(8))
    plain = _labels.tag_fields(labels, False, IDENTITY)
    _labels.check_metadata_size("data", "volume", plain)
    sealed = _labels.tag_fields(labels, True, IDENTITY)
    with pytest.raises(SpecError, match="labels, sealed"):
        _labels.check_metadata_size("data", "volume", sealed)


def test_matches_needs_every_wanted_pair_and_readable_labels():
    assert _labels.matches({"app": "web", "env": "prod"}, {"app": "web"})
    assert not _labels.matches({"app": "web"}, {"app": "web", "env": "prod"})
    assert not _labels.matches(None, {"app": "web"})
    assert _labels.matches(None, {})
