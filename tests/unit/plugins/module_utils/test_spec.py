# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json

import pytest

from ansible_collections.threefold.grid.plugins.module_utils import _spec, _views
from ansible_collections.threefold.grid.plugins.module_utils._spec import Secret, SpecError

SEED = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
NODE = "2fi9ZZiBGW4G9pnrN656bMfW6x55RSoHDeMrd9pgSA8T"


def options(**overrides):
    base = {
        "node_id": NODE,
        "flist": "https://hub.grid.tf/zaibon/zaibon-ubuntu-ssh-0.0.2.flist",
        "env": {"A": "1", "B": 2},
        "secret_env": {"PASSWORD": "hunter2"},
        "entrypoint": "/sbin/my_init",
        "network_connection": {"name": "net", "ip_address": "10.1.3.10"},
        "volumes": [{"volume": "data", "mountpoint": "/data/"}, {"volume": "12-1", "mountpoint": "/cache"}],
        "capacity": {"cpu": 2, "memory": None, "disk_size": 2048, "disk_type": "ssd"},
    }
    base.update(overrides)
    return base


def fp(opts, seed=SEED):
    spec = _spec.normalise_container(opts)[0]
    return _spec.fingerprint(spec, bytes.fromhex(seed))


def test_defaults_and_normalisation():
    spec, warnings = _spec.normalise_container(options())
    assert warnings == []
    assert spec["capacity"] == {"cpu": 2, "memory": 1024, "disk_size": 2048, "disk_type": "SSD"}
    assert spec["env"] == {"A": "1", "B": "2"}
    assert spec["volumes"] == [{"volume": "12-1", "mountpoint": "/cache"}, {"volume": "data", "mountpoint": "/data"}]
    assert spec["network_connection"] == {"name": "net", "ip_address": "10.1.3.10", "public_ipv6": False}
    assert spec["interactive"] is False and spec["hub_url"] == "" and spec["logs"] == []
    assert isinstance(spec["secret_env"]["PASSWORD"], Secret)


def test_sdk_defaults_when_capacity_missing():
    spec = _spec.normalise_container(options(capacity=None))[0]
    assert spec["capacity"] == {"cpu": 1, "memory": 1024, "disk_size": 256, "disk_type": "SSD"}


def test_fingerprint_stable_across_key_order_and_explicit_defaults():
    reordered = dict(reversed(list(options().items())))
    reordered["env"] = {"B": "2", "A": "1"}
    reordered["volumes"] = list(reversed(options()["volumes"]))
    explicit = options(capacity={"cpu": 2, "memory": 1024, "disk_size": 2048, "disk_type": "SSD"},
                       interactive=False, hub_url="", logs=[])
    assert fp(options()) == fp(reordered) == fp(explicit)


def test_fingerprint_changes_with_secret_value_and_key():
    assert fp(options()) != fp(options(secret_env={"PASSWORD": "hunter3"}))
    assert fp(options()) != fp(options(secret_env={"PASS": "hunter2"}))
    assert fp(options()) != fp(options(capacity={"cpu": 3}))


def test_fingerprint_is_keyed_by_the_identity_seed():
    other = "00" * 32
    assert fp(options(), SEED) != fp(options(), other)
    # without secrets the key does not matter (nothing secret to hide)
    assert fp(options(secret_env={}), SEED) == fp(options(secret_env={}), other)


def test_metadata_tag_holds_no_secret():
    tag = _spec.metadata_tag("web", "container", fp(options()))
    assert "hunter2" not in tag
    assert json.loads(tag) == {"ansible": {"name": "web", "kind": "container", "fp": fp(options())}}
    assert _spec.parse_metadata(tag) == {"name": "web", "kind": "container", "fp": fp(options())}


@pytest.mark.parametrize("name", ["x" * 129, "y" * 3000, "my web", "web,db", "web:1", "!web", "~web", "web*",
                                  "w[1]", "-web", ".web", "web/1", "café"])
def test_names_that_would_break_are_refused_with_the_rule(name):
    with pytest.raises(SpecError) as info:
        _spec.metadata_tag(name, "container", "0" * 64)
    assert "is refused: a name is 1 to 128 letters, digits, dots, dashes and underscores" in info.value.msg
    assert len(info.value.msg) < 400  # a 3000 character name is shortened in the message


@pytest.mark.parametrize("name", ["web", "a", "Web_01.prod-eu", "9" * 128, "gwproxy-x.3bot"])
def test_every_valid_name_fits_the_explorer_metadata_limit(name):
    # The explorer refuses metadata above 1024 bytes ("metadata can not be bigger than 1024 bytes").
    tag = _spec.metadata_tag(name, "reverse_proxy", "f" * 64)
    assert len(tag.encode("utf-8")) <= 1024 and _spec.parse_metadata(tag)["name"] == name


@pytest.mark.parametrize("text", ["", "not json", "[]", '{"other": 1}', '{"ansible": {"name": 1, "kind": "x"}}'])
def test_foreign_metadata_is_ignored(text):
    assert _spec.parse_metadata(text) is None


def test_masked_and_diff_hide_secrets():
    spec = _spec.normalise_container(options())[0]
    shown = _spec.masked(spec)
    assert shown["secret_env"] == {"PASSWORD": "********"}
    assert "hunter2" not in json.dumps(_spec.diff(spec, spec))
    assert "hunter2" not in repr(spec)
    assert isinstance(spec["secret_env"]["PASSWORD"], Secret)  # masked() did not change the original


def test_interactive_drops_entrypoint_with_warning():
    spec, warnings = _spec.normalise_container(options(interactive=True))
    assert spec["entrypoint"] == ""
    assert len(warnings) == 1 and "7681" in warnings[0] and "entrypoint" in warnings[0]
    assert fp(options(interactive=True)) == fp(options(interactive=True, entrypoint="/other"))


@pytest.mark.parametrize("overrides, message", [
    ({"flist": "ftp://hub/x.flist"}, "flist: 'ftp://hub/x.flist' is not an http"),
    ({"flist": "https://hub.grid.tf/x.tar"}, "flist: 'https://hub.grid.tf/x.tar'"),
    ({"capacity": {"cpu": 0}}, "capacity.cpu: 0 is outside 1..32"),
    ({"capacity": {"cpu": 33}}, "capacity.cpu: 33 is outside"),
    ({"capacity": {"memory": 255}}, "capacity.memory: 255 is outside 256..262144"),
    ({"capacity": {"disk_size": 100}}, "capacity.disk_size: 100 is outside"),
    ({"capacity": {"disk_type": "nvme"}}, "capacity.disk_type: 'NVME' is not SSD or HDD"),
    ({"env": {"1BAD": "x"}}, "env: key '1BAD' is not a valid variable name"),
    ({"secret_env": {"BAD-KEY": "x"}}, "secret_env: key 'BAD-KEY'"),
    ({"env": {"PASSWORD": "x"}}, "env and secret_env both set PASSWORD"),
    ({"network_connection": {"name": "net", "ip_address": "10.1.3"}}, "network_connection.ip_address: '10.1.3' is not an IPv4"),
    ({"network_connection": {"ip_address": "10.1.3.4"}}, "network_connection.name: None"),
    ({"volumes": [{"volume": "v", "mountpoint": "data"}]}, "volumes[0].mountpoint: 'data' is not an absolute"),
    ({"volumes": [{"volume": "v", "mountpoint": "/a"}, {"volume": "w", "mountpoint": "/a/"}]},
     "volumes[1].mountpoint: '/a' is used twice"),
    ({"logs": [{"stdout": "redis://h:6379/c-out", "stderr": "http://h/c"}]}, "logs[0].stderr: 'http://h/c'"),
    ({"node_id": ""}, "node_id: ''"),
    ({"secret_env": {"TOKEN": {"nested": "hunter2"}}}, "secret_env: the value of TOKEN is a dict; give a string"),
    ({"env": {"LIST": [1, 2]}}, "env: the value of LIST is a list"),
    ({"hub_url": "hub.grid.tf"}, "hub_url: 'hub.grid.tf' is not a flist storage URL"),
    ({"hub_url": "ftp://hub.grid.tf"}, "hub_url: 'ftp://hub.grid.tf'"),
    ({"hub_url": "zdb://hub.grid.tf:9900/x y"}, "hub_url: "),
])
def test_validation_names_option_and_value(overrides, message):
    with pytest.raises(SpecError) as error:
        _spec.normalise_container(options(**overrides))
    assert message in str(error.value)


def test_validation_never_echoes_secret_values():
    with pytest.raises(SpecError) as error:
        _spec.normalise_container(options(env={"PASSWORD": "x"}, secret_env={"PASSWORD": "hunter2"}))
    assert "hunter2" not in str(error.value)


def test_prefix_is_used_in_messages():
    with pytest.raises(SpecError, match=r"containers\[1\]\.capacity\.cpu"):
        _spec.normalise_container(options(capacity={"cpu": 99}), prefix="containers[1].")


@pytest.mark.parametrize("text, seconds", [("30d", 2592000), ("12h", 43200), ("90m", 5400), ("45s", 45),
                                           ("2w", 1209600), ("3600", 3600), (7200, 7200), (" 1h ", 3600)])
def test_parse_duration(text, seconds):
    assert _spec.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["1y", "h", "-1h", "1.5h", True])
def test_parse_duration_rejects(text):
    with pytest.raises(SpecError, match="duration"):
        _spec.parse_duration(text)


@pytest.mark.parametrize("value, epoch", [(1700000000, 1700000000), ("1700000000", 1700000000),
                                          ("2023-11-14T22:13:20Z", 1700000000),
                                          ("2023-11-14T22:13:20", 1700000000),
                                          ("2023-11-15T00:13:20+02:00", 1700000000)])
def test_parse_epoch(value, epoch):
    assert _spec.parse_epoch(value) == epoch


def test_parse_epoch_rejects_garbage():
    with pytest.raises(SpecError, match="expires_at: 'tomorrow'"):
        _spec.parse_epoch("tomorrow")


def test_lifetime_and_expiration():
    assert _spec.lifetime() == {"duration": 30 * 86400}
    assert _spec.lifetime(duration="2h") == {"duration": 7200}
    assert _spec.lifetime(expires_at="1700000000") == {"expires_at": 1700000000}
    with pytest.raises(SpecError, match="duration: '59m' is shorter than the 1 hour minimum"):
        _spec.lifetime(duration="59m")
    assert _spec.expiration_epoch({"duration": 7200}, 1000) == 8200
    # exactly one hour gets the margin so the explorer (which measures on arrival) accepts it
    assert _spec.expiration_epoch({"duration": 3600}, 1000) == 1000 + 3660
    assert _spec.expiration_epoch({"expires_at": 10000}, 1000) == 10000
    with pytest.raises(SpecError, match="expires_at: 4000 is less than 1 hour from now"):
        _spec.expiration_epoch({"expires_at": 4000}, 1000)


def test_currencies():
    assert _spec.normalise_currencies(None) == ["TFT"]
    assert _spec.normalise_currencies(["TFTA", "TFT", "TFTA"]) == ["TFTA", "TFT"]
    with pytest.raises(SpecError, match="currencies: 'XLM'"):
        _spec.normalise_currencies(["XLM"])


@pytest.mark.parametrize("ip, ok", [("10.1.3.10", True), ("10.1.3.2", True), ("10.1.3.254", True),
                                    ("10.1.3.0", False), ("10.1.3.1", False), ("10.1.3.255", False),
                                    ("10.1.4.10", False)])
def test_ip_in_node_subnet(ip, ok):
    if ok:
        _spec.ip_in_node_subnet(ip, "10.1.3.0/24", "network.ip_address")
    else:
        with pytest.raises(SpecError, match="network.ip_address: '%s'" % ip):
            _spec.ip_in_node_subnet(ip, "10.1.3.0/24", "network.ip_address")


def test_secret_env_value_never_in_its_error():
    with pytest.raises(SpecError) as error:
        _spec.normalise_container(options(secret_env={"TOKEN": {"nested": "hunter2"}}))
    assert "hunter2" not in str(error.value)


@pytest.mark.parametrize("hub_url", ["", "zdb://hub.grid.tf:9900", "https://hub.grid.tf", "redis://10.0.0.1:6379"])
def test_hub_urls_0_os_mounts(hub_url):
    assert _spec.normalise_container(options(hub_url=hub_url))[0]["hub_url"] == hub_url


def test_secret_digests_tell_values_apart_without_showing_them():
    spec = {"secret_env": {"A": _spec.Secret("hunter2"), "B": _spec.Secret("x")}, "zdbs": [{"password": _spec.Secret("p")}]}
    digests = _spec.secret_digests(spec, b"seed one")
    assert sorted(digests) == ["secret_env.A", "secret_env.B", "zdbs[0].password"]
    assert digests != _spec.secret_digests(spec, b"seed two") and "hunter2" not in json.dumps(digests)
    spec["secret_env"]["A"] = _spec.Secret("hunter3")
    changed = _spec.secret_digests(spec, b"seed one")
    assert changed["secret_env.A"] != digests["secret_env.A"] and changed["secret_env.B"] == digests["secret_env.B"]


def test_secret_digests_stay_out_of_a_tag_they_would_overflow():
    many = dict(("SECRET_NUMBER_%03d" % i, "0" * 16) for i in range(60))
    tag = _spec.metadata_tag("web", "container", "f" * 64, secrets=many)
    assert len(tag.encode("utf-8")) <= 1024 and "secrets" not in _spec.parse_metadata(tag)
    assert _spec.parse_metadata(_spec.metadata_tag("web", "container", "f" * 64, secrets={"a": "1"}))["secrets"] == {"a": "1"}


@pytest.mark.parametrize("before, after, changed, shown_before, shown_after", [
    ({"s.A": "1", "s.B": "2"}, {"s.A": "1", "s.B": "3", "s.C": "4"}, True,
     {"s.B": "********"}, {"s.B": "(changed)", "s.C": "(added)"}),
    ({"s.A": "1", "s.B": "2"}, {"s.A": "1"}, True, {"s.B": "********"}, {}),
    (None, {"s.A": "1"}, True, {"s.A": "********"}, {"s.A": "(may have changed)"}),
])
def test_mark_secret_changes(before, after, changed, shown_before, shown_after):
    diff = {"before": {}, "after": {}}
    _views.mark_secret_changes(diff, before, after, changed)
    assert diff == {"before": {"secrets": shown_before}, "after": {"secrets": shown_after}}


def test_no_secret_change_adds_nothing_to_the_diff():
    diff = {"before": {}, "after": {}}
    _views.mark_secret_changes(diff, {"s.A": "1"}, {"s.A": "1"}, False)
    _views.mark_secret_changes(diff, None, {"s.A": "1"}, False)
    assert diff == {"before": {}, "after": {}}
