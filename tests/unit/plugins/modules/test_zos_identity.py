# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
import os
import stat

import httpx
import pytest

from ansible_collections.threefold.grid.plugins.modules import zos_identity
from ansible_collections.threefold.grid.tests.unit.plugins.grid_fake import (
    FakeExplorer,
    unreachable_explorer,
    run_module,
)

SEED = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
PUBKEY = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
OTHER_PUBKEY = "687643012371bc439a905161f5c8dd0632b46de1514b13fe29505b414059a888"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in ("TFGRID_NETWORK", "TFGRID_EXPLORER_URL", "TFGRID_IDENTITY_NAME", "TFGRID_IDENTITY_SEED",
                 "TFGRID_IDENTITY_MNEMONIC", "TFGRID_IDENTITY_SEED_FILE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def run(monkeypatch, capsys):
    def runner(args, explorer):
        result = run_module(monkeypatch, capsys, zos_identity.main, args, explorer)
        assert SEED not in json.dumps(result)
        return result
    return runner


def registered(**fields):
    user = {"id": 1, "name": "alice.3bot", "email": "alice@example.com", "pubkey": PUBKEY,
            "host": "", "description": "", "signature": ""}
    user.update(fields)
    return user


ALICE = {"identity_name": "alice.3bot", "email": "alice@example.com", "identity_seed": SEED}


def test_creates_identity_and_sets_description_with_a_signed_update(run):
    explorer = FakeExplorer()
    result = run(dict(ALICE, description="Alice's deployments"), explorer)
    assert result["changed"] is True
    assert result["identity"] == {"tid": 1, "name": "alice.3bot", "email": "alice@example.com",
                                  "description": "Alice's deployments", "host": "", "public_key": PUBKEY}
    assert explorer.writes() == [("POST", "/explorer/users"), ("PUT", "/explorer/users/1")]
    assert explorer.users[0]["description"] == "Alice's deployments"


def test_create_without_extra_fields_needs_no_update(run):
    explorer = FakeExplorer()
    result = run(ALICE, explorer)
    assert result["changed"] is True and result["identity"]["tid"] == 1
    assert explorer.writes() == [("POST", "/explorer/users")]


def test_same_name_and_key_is_unchanged(run):
    explorer = FakeExplorer(users=[registered(description="d")])
    result = run(dict(ALICE, description="d"), explorer)
    assert result["changed"] is False
    assert result["identity"]["tid"] == 1 and result["identity"]["description"] == "d"
    assert explorer.writes() == []


def test_omitted_fields_are_kept(run):
    explorer = FakeExplorer(users=[registered(description="keep me", host="h.example")])
    result = run({"identity_name": "alice.3bot", "identity_seed": SEED}, explorer)
    assert result["changed"] is False
    assert result["identity"]["description"] == "keep me" and result["identity"]["host"] == "h.example"


def test_changed_email_is_updated(run):
    explorer = FakeExplorer(users=[registered()])
    result = run(dict(ALICE, email="alice@new.example"), explorer)
    assert result["changed"] is True
    assert result["identity"]["email"] == "alice@new.example"
    assert explorer.writes() == [("PUT", "/explorer/users/1")]
    assert explorer.users[0]["email"] == "alice@new.example"


def test_diff_shows_before_and_after(run):
    explorer = FakeExplorer(users=[registered()])
    result = run(dict(ALICE, description="new", _ansible_diff=True), explorer)
    assert result["diff"]["before"]["description"] == ""
    assert result["diff"]["after"]["description"] == "new"
    assert result["diff"]["after"]["public_key"] == PUBKEY


def test_check_mode_registers_nothing(run):
    explorer = FakeExplorer()
    result = run(dict(ALICE, _ansible_check_mode=True, _ansible_diff=True), explorer)
    assert result["changed"] is True
    assert result["identity"]["tid"] is None and result["identity"]["public_key"] == PUBKEY
    assert result["diff"]["before"] == {}
    assert explorer.writes() == [] and explorer.users == []


def test_check_mode_update_changes_nothing(run):
    explorer = FakeExplorer(users=[registered()])
    result = run(dict(ALICE, email="x@example.com", _ansible_check_mode=True), explorer)
    assert result["changed"] is True and result["identity"]["email"] == "x@example.com"
    assert explorer.writes() == [] and explorer.users[0]["email"] == "alice@example.com"


def test_name_taken_by_another_key_fails_naming_the_tid(run):
    explorer = FakeExplorer(users=[registered(id=5, pubkey=OTHER_PUBKEY)])
    result = run(ALICE, explorer)
    assert result["failed"] is True
    assert result["msg"].startswith("Identity name alice.3bot is already registered as tid 5 with another "
                                    "public key (%s)" % OTHER_PUBKEY)
    assert explorer.writes() == []


def test_bad_seed_fails_clearly(run):
    result = run(dict(ALICE, identity_seed="12" * 31), FakeExplorer())
    assert result["msg"] == "identity_seed must be 64 hexadecimal characters (a 32-byte ed25519 seed)"
    assert "12" * 31 not in json.dumps(result)


def test_no_identity_source_names_generate_seed_file(run):
    result = run({"identity_name": "alice.3bot"}, FakeExplorer())
    assert result["msg"].startswith("No identity configured: set generate_seed_file to create one")


def test_explorer_rejection_is_structured(run):
    result = run(dict(ALICE, identity_name="Alice.3bot"), FakeExplorer())
    assert result["msg"] == "Failed to register identity Alice.3bot: name should be all lower case"
    assert result["failure"] == {"status": 400, "method": "POST", "path": "/users",
                                 "message": "name should be all lower case"}


def test_unreachable_explorer_fails_with_cause(run, monkeypatch, capsys):
    result = run_module(monkeypatch, capsys, zos_identity.main,
                        dict(ALICE, explorer_url="http://127.0.0.1:9/explorer", explorer_retries=0),
                        unreachable_explorer())
    assert result["msg"].startswith("Failed to look up identity alice.3bot in the phonebook: cannot reach the "
                                    "explorer at http://127.0.0.1:9/explorer")
    assert result["failure"]["status"] is None and result["failure"]["path"] == "/users"


@pytest.mark.parametrize("seed_format, words", [("hex", 1), ("mnemonic", 24)])
def test_generate_seed_file_then_reuse_it(run, tmp_path, seed_format, words):
    path = tmp_path / "alice.seed"
    explorer = FakeExplorer()
    args = {"identity_name": "alice.3bot", "email": "alice@example.com", "generate_seed_file": str(path),
            "seed_format": seed_format}
    first = run(args, explorer)
    assert first["changed"] is True and first["seed_file"] == str(path) and first["seed_file_created"] is True
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    content = path.read_text().strip()
    assert len(content.split()) == words
    assert content not in json.dumps(first)

    second = run(args, explorer)
    assert second["changed"] is False and second["seed_file_created"] is False
    assert second["identity"] == first["identity"]
    assert path.read_text().strip() == content


def test_generate_seed_file_in_check_mode_writes_nothing(run, tmp_path):
    path = tmp_path / "new.seed"
    result = run({"identity_name": "new.3bot", "email": "n@example.com", "generate_seed_file": str(path),
                  "_ansible_check_mode": True}, FakeExplorer())
    assert result["changed"] is True and result["seed_file_created"] is False
    assert not path.exists()


def test_generate_seed_file_excludes_other_sources(run, tmp_path):
    result = run(dict(ALICE, generate_seed_file=str(tmp_path / "s")), FakeExplorer())
    assert "mutually exclusive" in result["msg"] and "generate_seed_file" in result["msg"]


def test_identity_name_from_env(run, monkeypatch):
    monkeypatch.setenv("TFGRID_IDENTITY_NAME", "alice.3bot")
    explorer = FakeExplorer(users=[registered()])
    result = run({"identity_seed": SEED}, explorer)
    assert result["changed"] is False and result["identity"]["tid"] == 1


class EmailHidingExplorer(FakeExplorer):
    """v0.3.2: emails are blanked unless the request carries a user HTTP signature."""

    def list_users(self, request, body):
        response = super(EmailHidingExplorer, self).list_users(request, body)
        return httpx.Response(200, json=[dict(u, email="") for u in response.json()], headers={"Pages": "1"})

    def get_user(self, request, body, tid):
        response = super(EmailHidingExplorer, self).get_user(request, body, tid)
        signed = self.requests[-1].headers.get("Authorization", "").startswith('Signature keyId="%s"' % tid)
        return response if signed else httpx.Response(200, json=dict(response.json(), email=""))


def test_hidden_email_is_read_with_a_signed_request(run):
    explorer = EmailHidingExplorer(users=[registered()])
    result = run(ALICE, explorer)
    assert result["changed"] is False and result["identity"]["email"] == "alice@example.com"


class IdOnlyExplorer(FakeExplorer):
    """An explorer whose POST /users answers only {"id": N}, as the JumpScale SDK documents it."""

    def create_user(self, request, body):
        response = super(IdOnlyExplorer, self).create_user(request, body)
        return httpx.Response(response.status_code, json={"id": response.json()["id"]})


def test_create_with_an_id_only_answer_still_sets_description(run):
    explorer = IdOnlyExplorer()
    result = run(dict(ALICE, description="d"), explorer)
    assert result["identity"]["tid"] == 1 and result["identity"]["description"] == "d"
    assert explorer.users[0]["description"] == "d"


@pytest.mark.parametrize("email", ["alice", "alice@", "Alice@Example.com", "a b@example.com", "alice@example"])
def test_invalid_email_fails_before_anything_is_written(run, tmp_path, email):
    explorer = FakeExplorer()
    seed_file = tmp_path / "seed"
    result = run({"identity_name": "alice.3bot", "email": email, "generate_seed_file": str(seed_file)}, explorer)
    assert result["failed"] is True and "is not a lowercase address" in result["msg"]
    assert explorer.writes() == [] and not seed_file.exists()


class LossyExplorer(FakeExplorer):
    """POST /users answers 502: ``applied`` says, per attempt, whether the explorer stored the user first."""

    def __init__(self, applied):
        super().__init__()
        self.applied = list(applied)

    def create_user(self, request, body):
        if not self.applied:
            return super().create_user(request, body)
        if self.applied.pop(0):
            super().create_user(request, body)
        return httpx.Response(502, text="bad gateway")


def test_a_lost_registration_answer_adopts_the_stored_entry(run):
    explorer = LossyExplorer([True])
    result = run(dict(ALICE, description="Alice's deployments"), explorer)
    assert result["changed"] is True and result["identity"]["tid"] == 1
    assert result["identity"]["description"] == "Alice's deployments"
    assert explorer.writes() == [("POST", "/explorer/users"), ("PUT", "/explorer/users/1")]
    assert len(explorer.users) == 1


def test_a_registration_that_did_not_apply_is_sent_again(run):
    explorer = LossyExplorer([False, False])
    result = run(ALICE, explorer)
    assert result["changed"] is True and result["identity"]["tid"] == 1
    assert explorer.writes() == [("POST", "/explorer/users")] * 3


def test_registration_gives_up_after_its_attempts(run):
    explorer = LossyExplorer([False] * zos_identity.CREATE_ATTEMPTS)
    result = run(ALICE, explorer)
    assert result["msg"].startswith("Failed to register identity alice.3bot")
    assert result["failure"]["status"] == 502 and explorer.users == []
