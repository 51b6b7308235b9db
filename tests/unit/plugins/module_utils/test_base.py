# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import contextlib
import functools
import json

import httpx
import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.threefold.grid.plugins.module_utils import _session
from ansible_collections.threefold.grid.plugins.module_utils._argspec import (
    explorer_argument_spec,
    identity_argument_spec,
    stellar_argument_spec,
    wait_argument_spec,
)
from ansible_collections.threefold.grid.plugins.module_utils._base import ZosModule
from ansible_collections.threefold.grid.plugins.module_utils._errors import ExplorerError, GridError
from ansible_collections.threefold.grid.plugins.module_utils._explorer import ExplorerClient
from ansible_collections.threefold.grid.plugins.module_utils._session import Runner

SEED = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
PUBKEY = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
ENV_VARS = ("TFGRID_NETWORK", "TFGRID_EXPLORER_URL", "TFGRID_IDENTITY_NAME", "TFGRID_IDENTITY_SEED",
            "TFGRID_IDENTITY_MNEMONIC", "TFGRID_IDENTITY_SEED_FILE", "TFGRID_STELLAR_SECRET", "TFGRID_HORIZON_URL")


# Module args stay patched until the test ends: fail_json/exit_json need them too.
MODULE_ARGS = contextlib.ExitStack()


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    yield
    MODULE_ARGS.close()


def build(args, identity=True, spec=None, **kwargs):
    MODULE_ARGS.enter_context(patch_module_args(args))
    return ZosModule(spec or {}, identity=identity, **kwargs)


def build_failure(capsys, args, identity=True, spec=None):
    """Run ZosModule construction expecting fail_json; return the decoded result and raw stdout."""
    with pytest.raises(SystemExit):
        build(args, identity=identity, spec=spec)
    out = capsys.readouterr().out
    return json.loads(out), out


def call_failing(capsys, func):
    with pytest.raises(SystemExit):
        func()
    out = capsys.readouterr().out
    return json.loads(out), out


def running(zmodule, work):
    """What ZosModule.run does with a Runner whose run() is ``work(session)``."""
    class Work(Runner):
        def run(self):
            return work(self.session)
    return lambda: zmodule.run(Work)


def reading(zmodule, attribute):
    return running(zmodule, lambda session: getattr(session, attribute))


def failing(error):
    def work(session):
        raise error
    return work


def phonebook(users):
    def handler(request):
        if request.url.path == "/explorer/users":
            name = request.url.params.get("name")
            found = [u for u in users if name is None or u["name"] == name]
            return httpx.Response(200, json=found, headers={"Pages": "1"})
        return httpx.Response(404, text="404 page not found\n")
    return handler


def mock_explorer(monkeypatch, handler):
    monkeypatch.setattr(_session, "ExplorerClient",
                        functools.partial(ExplorerClient, transport=httpx.MockTransport(handler)))


def test_common_specs_have_env_fallbacks_and_no_log():
    spec = dict(explorer_argument_spec(), **identity_argument_spec())
    spec.update(stellar_argument_spec())
    assert spec["network"]["fallback"][1] == ["TFGRID_NETWORK"]
    assert spec["explorer_url"]["fallback"][1] == ["TFGRID_EXPLORER_URL"]
    assert spec["horizon_url"]["fallback"][1] == ["TFGRID_HORIZON_URL"]
    for secret in ("identity_seed", "identity_mnemonic", "stellar_secret"):
        assert spec[secret]["no_log"] is True
    assert wait_argument_spec() == {"wait": {"type": "bool", "default": True},
                                    "wait_timeout": {"type": "int", "default": 600},
                                    "wait_sleep": {"type": "int", "default": 5}}


def test_defaults_select_localgrid():
    zmodule = build({}, identity=False)
    settings = zmodule.session.settings
    assert settings["network"] == "local"
    assert settings["explorer_url"] == "http://127.0.0.1:8080/explorer"
    assert settings["network_passphrase"] == "Localgrid Stellar Network ; threefold.grid"
    assert zmodule.check_mode is False


def test_env_fallbacks(monkeypatch):
    monkeypatch.setenv("TFGRID_NETWORK", "test")
    monkeypatch.setenv("TFGRID_EXPLORER_URL", "http://127.0.0.1:9999/explorer/")
    monkeypatch.setenv("TFGRID_IDENTITY_SEED", SEED)
    monkeypatch.setenv("TFGRID_IDENTITY_NAME", "alice.3bot")
    zmodule = build({})
    assert zmodule.params["network"] == "test"
    assert zmodule.session.settings["explorer_url"] == "http://127.0.0.1:9999/explorer"
    assert zmodule.session.settings["horizon_url"] == "https://horizon-testnet.stellar.org"
    assert zmodule.session.identity.public_key_hex == PUBKEY
    assert zmodule.params["identity_name"] == "alice.3bot"
    assert SEED in zmodule.module.no_log_values


def test_empty_env_values_count_as_unset(monkeypatch):
    # AWX injects every credential field, the empty ones as "".
    monkeypatch.setenv("TFGRID_NETWORK", "")
    monkeypatch.setenv("TFGRID_IDENTITY_SEED", SEED)
    monkeypatch.setenv("TFGRID_IDENTITY_MNEMONIC", "")
    monkeypatch.setenv("TFGRID_IDENTITY_SEED_FILE", "")
    zmodule = build({})
    assert zmodule.params["network"] == "local"
    assert zmodule.params["identity_mnemonic"] is None
    assert zmodule.session.identity.public_key_hex == PUBKEY


def test_explicit_options_beat_env(monkeypatch):
    monkeypatch.setenv("TFGRID_NETWORK", "test")
    zmodule = build({"network": "main"}, identity=False)
    assert zmodule.session.settings["explorer_url"] == "https://explorer.grid.tf/explorer"


def test_stellar_options_override_horizon(monkeypatch):
    monkeypatch.setenv("TFGRID_HORIZON_URL", "http://127.0.0.1:1234/stellar/")
    zmodule = build({}, identity=False, spec=stellar_argument_spec())
    assert zmodule.session.settings["horizon_url"] == "http://127.0.0.1:1234/stellar"


def test_client_uses_the_connection_options():
    zmodule = build({"explorer_url": "http://127.0.0.1:9/explorer", "explorer_timeout": 3.5,
                     "explorer_retries": 1, "validate_certs": False}, identity=False)
    client = zmodule.session.client
    assert client is zmodule.session.client
    assert client.base_url == "http://127.0.0.1:9/explorer"
    assert client.retries == 1
    assert client._http.timeout.read == 3.5 and client._http.timeout.connect == 3.5


def test_identity_sources_are_mutually_exclusive(capsys):
    result, out = build_failure(capsys, {"identity_seed": SEED, "identity_mnemonic": "abandon art"})
    assert result["failed"] is True
    assert "mutually exclusive: identity_seed|identity_mnemonic|identity_seed_file" in result["msg"]
    assert SEED not in out


def test_env_identity_counts_for_mutual_exclusion(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("TFGRID_IDENTITY_SEED", SEED)
    result, out = build_failure(capsys, {"identity_seed_file": str(tmp_path / "seed")})
    assert "mutually exclusive" in result["msg"] and SEED not in out


def test_modules_without_identity_accept_identity_options_for_group_defaults():
    zmodule = build({"identity_name": "alice", "identity_seed": SEED}, identity=False)
    assert zmodule.params["identity_name"] == "alice"


def test_modules_without_identity_still_reject_two_identity_sources(capsys):
    result = build_failure(capsys, {"identity_seed": SEED, "identity_mnemonic": "abandon"}, identity=False)[0]
    assert "mutually exclusive" in result["msg"] and SEED not in json.dumps(result)


def test_missing_identity_fails_naming_the_options(capsys):
    zmodule = build({})
    result = call_failing(capsys, reading(zmodule, "identity"))[0]
    assert result["msg"].startswith("No identity configured: set one of identity_seed, identity_mnemonic or "
                                    "identity_seed_file")
    assert "TFGRID_IDENTITY_SEED" in result["msg"]


def test_bad_seed_fails_without_the_secret(capsys):
    secret = SEED[:-1] + "x"
    zmodule = build({"identity_seed": secret})
    result, out = call_failing(capsys, reading(zmodule, "identity"))
    assert result["msg"] == "identity_seed must be 64 hexadecimal characters (a 32-byte ed25519 seed)"
    assert secret not in out


def test_bad_mnemonic_fails_without_the_secret(capsys):
    words = " ".join(["zoo"] * 24)
    zmodule = build({"identity_mnemonic": words})
    result, out = call_failing(capsys, reading(zmodule, "identity"))
    assert result["msg"] == "identity_mnemonic must be 24 English BIP39 words with a valid checksum"
    assert "zoo" not in out


def test_identity_from_seed_file(tmp_path):
    path = tmp_path / "seed"
    path.write_text(SEED + "\n")
    zmodule = build({"identity_seed_file": str(path)})
    assert zmodule.session.identity.public_key_hex == PUBKEY


def test_user_and_tid_from_the_phonebook(monkeypatch):
    mock_explorer(monkeypatch, phonebook([{"id": 7, "name": "alice.3bot", "pubkey": PUBKEY.upper()}]))
    zmodule = build({"identity_seed": SEED, "identity_name": "alice.3bot"})
    assert zmodule.session.user["id"] == 7
    assert zmodule.session.tid == 7


def test_user_unknown_fails(capsys, monkeypatch):
    mock_explorer(monkeypatch, phonebook([]))
    zmodule = build({"identity_seed": SEED, "identity_name": "ghost.3bot", "explorer_url": "http://x/explorer"})
    result = call_failing(capsys, reading(zmodule, "user"))[0]
    assert result["msg"] == ("Identity ghost.3bot is not registered in the phonebook of http://x/explorer; "
                             "register it with threefold.grid.zos_identity first")


def test_user_with_another_key_fails(capsys, monkeypatch):
    mock_explorer(monkeypatch, phonebook([{"id": 9, "name": "alice.3bot", "pubkey": "ab" * 32}]))
    zmodule = build({"identity_seed": SEED, "identity_name": "alice.3bot"})
    result, out = call_failing(capsys, reading(zmodule, "tid"))
    assert "Identity alice.3bot (tid 9) is registered with public key %s" % ("ab" * 32) in result["msg"]
    assert SEED not in out


def test_user_requires_identity_name(capsys):
    zmodule = build({"identity_seed": SEED})
    result = call_failing(capsys, reading(zmodule, "user"))[0]
    assert result["msg"].startswith("identity_name is required")


def test_user_lookup_error_is_structured(capsys, monkeypatch):
    mock_explorer(monkeypatch, lambda request: httpx.Response(500, json={"error": "database down"}))
    zmodule = build({"identity_seed": SEED, "identity_name": "alice.3bot", "explorer_retries": 0})
    result = call_failing(capsys, reading(zmodule, "user"))[0]
    assert result["msg"] == "Failed to look up identity alice.3bot in the phonebook: database down"
    assert result["failure"] == {"status": 500, "method": "GET", "path": "/users", "message": "database down"}


def test_fail_with_explorer_error_and_extra(capsys):
    zmodule = build({}, identity=False)
    error = ExplorerError("mongo: no documents in result", status=404, method="GET", path="/farms/99")
    failure = GridError.during("Failed to read farm 99", error)
    failure.returns = {"farm_id": 99}
    result = call_failing(capsys, running(zmodule, failing(failure)))[0]
    assert result["msg"] == "Failed to read farm 99: mongo: no documents in result"
    assert result["failure"] == {"status": 404, "method": "GET", "path": "/farms/99",
                                 "message": "mongo: no documents in result"}
    assert result["farm_id"] == 99


def test_fail_with_unexpected_error_adds_the_traceback_and_plain(capsys, monkeypatch):
    zmodule = build({}, identity=False)
    failures = []

    def fail_json(**kwargs):
        failures.append(kwargs)
        raise SystemExit(1)
    monkeypatch.setattr(zmodule.module, "fail_json", fail_json)
    with pytest.raises(SystemExit):
        running(zmodule, failing(ValueError("bad value")))()
    with pytest.raises(SystemExit):
        running(zmodule, failing(GridError("Plain")))()
    unexpected, plain = failures
    assert unexpected["msg"] == "Unexpected error: ValueError: bad value" and "failure" not in unexpected
    # The traceback goes with a bug (Ansible shows it with -vvv), never with a grid failure.
    assert "Traceback" in unexpected["exception"] and "ValueError: bad value" in unexpected["exception"]
    assert plain == {"msg": "Plain"}


def test_no_log_values_are_masked_even_if_echoed(capsys):
    zmodule = build({"identity_seed": SEED})
    result, out = call_failing(capsys, running(zmodule, failing(GridError("oops " + SEED))))
    assert SEED not in out


def test_exit_and_check_mode(capsys):
    zmodule = build({"_ansible_check_mode": True}, identity=False, spec={"thing": {"type": "str"}})
    assert zmodule.check_mode is True
    with pytest.raises(SystemExit):
        running(zmodule, lambda session: {"changed": True, "thing": {"id": 1}})()
    result = json.loads(capsys.readouterr().out)
    assert result["changed"] is True and result["thing"] == {"id": 1}


def test_extra_mutually_exclusive_is_merged(capsys):
    spec = {"generate_seed_file": {"type": "path"}}
    with pytest.raises(SystemExit):
        build({"generate_seed_file": "/tmp/x", "identity_seed": SEED}, spec=spec,
              mutually_exclusive=[["generate_seed_file", "identity_seed"]])
    assert "mutually exclusive: generate_seed_file|identity_seed" in json.loads(capsys.readouterr().out)["msg"]


@pytest.mark.parametrize("args, message", [
    ({"explorer_timeout": 0}, "explorer_timeout must be a positive number of seconds, got 0"),
    ({"explorer_retries": -1}, "explorer_retries must be 0 or more"),
    ({"wait_timeout": -5}, "wait_timeout must be 0 or more seconds, got -5"),
    ({"wait_sleep": -1}, "wait_sleep must be 0 or more seconds"),
    ({"name": ""}, "name must not be empty"),
    ({"name": "  "}, "name must not be empty"),
    ({"name": "web "}, "name 'web ' has leading or trailing spaces"),
    ({"name": "we\nb"}, "control characters"),
])
def test_out_of_range_options_fail_before_anything_runs(capsys, args, message):
    spec = dict(wait_argument_spec(), name=dict(type="str"))
    result = build_failure(capsys, dict(args, explorer_url="http://127.0.0.1:9/explorer"), identity=False,
                           spec=spec)[0]
    assert result["failed"] is True and message in result["msg"]


def test_in_range_options_pass():
    spec = dict(wait_argument_spec(), name=dict(type="str"))
    zmodule = build({"explorer_timeout": 0.5, "wait_timeout": 0, "name": "web-1"}, identity=False, spec=spec)
    assert zmodule.params["wait_timeout"] == 0
