# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
import os
import re

import httpx
import pytest
import yaml

from ansible.errors import AnsibleError, AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import inventory_loader
from ansible.template import Templar, trust_as_template

from ansible_collections.threefold.grid.plugins.plugin_utils._zos_containers import ansible_host
from ansible_collections.threefold.grid.tests.unit.plugins.grid_fake import FakeExplorer

EXPLORER = "http://explorer.test/explorer"
NAME = "alice.3bot"
TID = 12
# RFC 8032 test vector 1 (the key of tests/vectors/signing_generated_v030.json).
SEED = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
PUBKEY = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
OTHER_SEED = "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"
NODES = {"node-a": 1, "node-b": 2}
PAGE_FILLERS = 110  # deleted reservations that push the newest one onto the second page


def tag(name, kind="container"):
    return json.dumps({"ansible": {"name": name, "kind": kind, "fp": "0" * 64}})


def container(wid, node, network, public_ip6=False, memory=1024):
    return {
        "workload_id": wid, "node_id": node, "flist": "https://hub.grid.tf/zaibon/zaibon-ubuntu-ssh-0.0.2.flist",
        "environment": {}, "secret_environment": {"PASSWORD": "abcdef"},
        "network_connection": [{"network_id": network, "ipaddress": "10.1.1.%d" % wid, "public_ip6": public_ip6}],
        "capacity": {"cpu": 1, "memory": memory, "disk_size": 256, "disk_type": 1},
    }


def ok(rid, wid, ipv4, ipv6=""):
    return {"category": 1, "workload_id": "%d-%d" % (rid, wid), "state": 1, "message": "",
            "data_json": {"id": "%d-%d" % (rid, wid), "ipv4": ipv4, "ipv6": ipv6}}


def reservation(rid, containers, next_action=3, metadata="", results=(), expires=1900000000):
    return {
        "id": rid, "customer_tid": TID, "next_action": next_action, "metadata": metadata,
        "data_reservation": {"containers": containers, "volumes": [], "networks": [],
                             "expiration_reservation": expires},
        "results": list(results),
    }


def fixture_reservations():
    reservations = [
        reservation(1, [container(1, "node-a", "net-a", public_ip6=True)], metadata=tag("web-1"),
                    results=[ok(1, 1, "10.1.1.1", "2001:db8:5e::1")]),
        reservation(2, [container(1, "node-b", "net-b", memory=4096), container(2, "node-a", "net-b")],
                    results=[ok(2, 1, "10.2.1.1", "fd12:3456::1"), ok(2, 2, "10.2.2.1")]),
        reservation(3, [container(1, "node-a", "net-a")], next_action=2, metadata=tag("db-1")),
        reservation(4, [container(1, "node-b", "net-a")], metadata=tag("bad-1"),
                    results=[{"category": 1, "workload_id": "4-1", "state": 0, "message": "flist not found",
                              "data_json": {"id": "", "ipv4": "", "ipv6": ""}}]),
        reservation(5, [container(1, "node-a", "net-a")], next_action=6, metadata=tag("gone-1"),
                    results=[ok(5, 1, "10.1.1.5")]),
        reservation(6, [container(1, "node-a", "net-a")], next_action=4, metadata=tag("deleting-1"),
                    results=[ok(6, 1, "10.1.1.6")]),
        reservation(7, [], metadata=tag("net-a", kind="network")),
        reservation(8, [container(1, "node-a", "net-a")], metadata=tag("api"), results=[ok(8, 1, "10.1.1.8")]),
    ]
    reservations += [reservation(100 + i, [container(1, "node-a", "net-a")], next_action=6)
                     for i in range(PAGE_FILLERS)]
    reservations.append(reservation(900, [container(1, "node-b", "net-a")], metadata=tag("api"),
                                    results=[ok(900, 1, "10.1.1.9")]))
    return reservations


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for key in list(os.environ):
        if key.startswith("TFGRID_") or key.startswith("ANSIBLE_INVENTORY_CACHE"):
            monkeypatch.delenv(key)


@pytest.fixture
def explorer(monkeypatch):
    fake = FakeExplorer(users=[{"id": TID, "name": NAME, "pubkey": PUBKEY}],
                        nodes=[{"node_id": node_id, "farm_id": farm_id} for node_id, farm_id in NODES.items()])
    fake.reservations = dict((item["id"], item) for item in fixture_reservations())
    fake.install(monkeypatch)
    return fake


def run(tmp_path, read_cache=True, **options):
    """Parse a config file of these options like ansible-inventory does; read_cache=False is --flush-cache."""
    config = {"plugin": "threefold.grid.zos", "explorer_url": EXPLORER, "identity_name": NAME,
              "explorer_retries": 0}
    config.update(options)
    path = tmp_path / "test.zos.yml"
    path.write_text(yaml.safe_dump(config))
    plugin = inventory_loader.get("threefold.grid.zos")
    inventory = InventoryData()
    plugin.parse(inventory, DataLoader(), str(path), cache=read_cache)
    if getattr(plugin, "_cache", None) is not None:  # as the InventoryManager does after parse
        plugin.update_cache_if_changed()
    return inventory


def hostvars(inventory, name):
    return inventory.get_host(name).get_vars()


def group_hosts(inventory, group):
    return sorted(host.name for host in inventory.groups[group].get_hosts())


def test_verify_file_accepts_zos_yaml_names_only(tmp_path):
    plugin = inventory_loader.get("threefold.grid.zos")
    for name, expected in [("grid.zos.yml", True), ("grid.zos.yaml", True), ("zos.yml", True),
                           ("grid.yml", False), ("notzos.yml", False), ("grid.zos.json", False)]:
        path = tmp_path / name
        path.write_text("plugin: threefold.grid.zos\n")
        assert plugin.verify_file(str(path)) is expected, name


def test_running_containers_become_hosts_with_zos_hostvars(tmp_path, explorer):
    inventory = run(tmp_path)

    assert group_hosts(inventory, "zos") == ["2-1", "2-2", "api", "web-1"]
    web = hostvars(inventory, "web-1")
    assert web["ansible_host"] == "10.1.1.1"
    assert web["zos_node_id"] == "node-a"
    assert web["zos_farm_id"] == 1
    assert web["zos_reservation_id"] == 1
    assert web["zos_workload_id"] == "1-1"
    assert web["zos_flist"] == "https://hub.grid.tf/zaibon/zaibon-ubuntu-ssh-0.0.2.flist"
    assert web["zos_capacity"] == {"cpu": 1, "memory": 1024, "disk_size": 256, "disk_type": "SSD"}
    assert web["zos_expires_at"] == 1900000000
    assert web["zos_network"] == "net-a"
    assert web["zos_ipv4"] == "10.1.1.1"
    assert web["zos_ipv6"] == "2001:db8:5e::1"
    assert web["zos_state"] == "ok"
    assert "zos_error" not in web
    # Untagged containers are named <reservation id>-<workload id>.
    assert hostvars(inventory, "2-1")["zos_farm_id"] == 2
    assert hostvars(inventory, "2-2")["zos_workload_id"] == "2-2"


def test_values_from_the_grid_are_never_rendered_as_templates(tmp_path, explorer):
    explorer.reservations[1]["data_reservation"]["containers"][0]["flist"] = "{{ 6 * 7 }}"
    inventory = run(tmp_path)

    templar = Templar(loader=DataLoader(), variables=hostvars(inventory, "web-1"))
    assert templar.template(trust_as_template("{{ zos_flist }}")) == "{{ 6 * 7 }}"


def test_secret_environment_is_not_exposed(tmp_path, explorer):
    inventory = run(tmp_path)

    for host in inventory.hosts.values():
        assert "abcdef" not in json.dumps(host.get_vars(), default=str)


def test_every_page_is_read_and_newest_duplicate_wins(tmp_path, explorer):
    inventory = run(tmp_path)

    pages = [request.url.params.get("page") for request in explorer.requests
             if request.url.path == "/explorer/reservations"]
    assert pages == ["1", "2"]
    assert all(request.url.params.get("customer_tid") == str(TID) for request in explorer.requests
               if request.url.path == "/explorer/reservations")
    api = hostvars(inventory, "api")
    assert api["zos_reservation_id"] == 900
    assert api["zos_node_id"] == "node-b"


def test_running_container_stays_listed_while_its_replacement_is_pending(tmp_path, explorer):
    explorer.reservations[901] = reservation(901, [container(1, "node-a", "net-a")], next_action=2,
                                             metadata=tag("web-1"))

    assert hostvars(run(tmp_path), "web-1")["zos_reservation_id"] == 1
    assert hostvars(run(tmp_path, states=["ok", "pending"]), "web-1")["zos_reservation_id"] == 901


def test_nodes_are_read_once_per_run(tmp_path, explorer):
    run(tmp_path, states=["ok", "pending", "error"])

    assert sorted(explorer.paths("/explorer/nodes/")) == ["/explorer/nodes/node-a", "/explorer/nodes/node-b"]


def test_deleted_and_deleting_reservations_are_never_listed(tmp_path, explorer):
    inventory = run(tmp_path, states=["ok", "pending", "error"])

    assert "gone-1" not in inventory.hosts
    assert "deleting-1" not in inventory.hosts
    assert not [name for name in inventory.hosts if re.match(r"^1\d\d-1$", name)]


def test_states_filter_adds_pending_and_error_containers(tmp_path, explorer):
    inventory = run(tmp_path, states=["pending", "error"])

    assert group_hosts(inventory, "zos") == ["bad-1", "db-1"]
    pending = hostvars(inventory, "db-1")
    assert pending["zos_state"] == "pending"
    assert pending["zos_ipv4"] is None
    assert "ansible_host" not in pending
    failed = hostvars(inventory, "bad-1")
    assert failed["zos_state"] == "error"
    assert failed["zos_error"] == "flist not found"


@pytest.mark.parametrize("options, expected", [
    ({"name_patterns": ["web-*", "2-?"]}, ["2-1", "2-2", "web-1"]),
    ({"node_ids": ["node-b"]}, ["2-1", "api"]),
    ({"farm_ids": [1]}, ["2-2", "web-1"]),
    ({"networks": ["net-b"]}, ["2-1", "2-2"]),
    ({"networks": ["net-b"], "farm_ids": [2]}, ["2-1"]),
    ({"name_patterns": ["nothing-*"]}, []),
])
def test_filters(tmp_path, explorer, options, expected):
    inventory = run(tmp_path, **options)

    assert group_hosts(inventory, "zos") == expected


def test_address_choice_and_fallback(tmp_path, explorer):
    inventory = run(tmp_path, address="public_ipv6")

    assert hostvars(inventory, "web-1")["ansible_host"] == "2001:db8:5e::1"
    # 2-1 has only a unique local IPv6 (no public IPv6 requested): back to its private IPv4.
    assert hostvars(inventory, "2-1")["ansible_host"] == "10.2.1.1"


def test_ansible_host_falls_back_to_public_ipv6_without_ipv4():
    record = {"ipv4": None, "ipv6": "2a02::5", "public_ipv6": True}
    assert ansible_host(record, "private_ipv4") == "2a02::5"
    assert ansible_host(dict(record, public_ipv6=False), "private_ipv4") is None


def test_constructed_keyed_groups_groups_and_compose(tmp_path, explorer):
    inventory = run(
        tmp_path,
        keyed_groups=[{"key": "zos_network", "prefix": "network"}, {"key": "zos_farm_id | string", "prefix": "farm"}],
        groups={"big": "zos_capacity.memory >= 4096"},
        compose={"ansible_user": "'root'", "ansible_host": "zos_ipv6 | default(zos_ipv4, true)"},
    )

    assert group_hosts(inventory, "network_net_a") == ["api", "web-1"]
    assert group_hosts(inventory, "network_net_b") == ["2-1", "2-2"]
    assert group_hosts(inventory, "farm_1") == ["2-2", "web-1"]
    assert group_hosts(inventory, "big") == ["2-1"]
    assert hostvars(inventory, "web-1")["ansible_user"] == "root"
    assert hostvars(inventory, "2-1")["ansible_host"] == "fd12:3456::1"
    assert hostvars(inventory, "2-2")["ansible_host"] == "10.2.2.1"


def test_strict_mode_fails_on_a_bad_compose_expression(tmp_path, explorer):
    compose = {"zos_owner": "zos_no_such_var.name"}
    lenient = run(tmp_path, compose=compose)
    assert "zos_owner" not in hostvars(lenient, "web-1")

    with pytest.raises(AnsibleError, match="zos_no_such_var"):
        run(tmp_path, compose=compose, strict=True)


def test_cache_hit_reads_nothing_from_the_explorer(tmp_path, explorer):
    cache = {"cache": True, "cache_plugin": "ansible.builtin.jsonfile",
             "cache_connection": str(tmp_path / "cache"), "cache_timeout": 3600}
    first = run(tmp_path, **cache)
    assert explorer.requests

    explorer.down = True
    explorer.requests.clear()
    second = run(tmp_path, **cache)

    assert explorer.requests == []
    assert group_hosts(second, "zos") == group_hosts(first, "zos")
    assert hostvars(second, "web-1")["zos_farm_id"] == 1
    # Filters apply to cached data too.
    assert group_hosts(run(tmp_path, name_patterns=["web-*"], **cache), "zos") == ["web-1"]
    # cache=False (ansible-inventory --flush-cache, meta: refresh_inventory) goes back to the explorer.
    with pytest.raises(AnsibleParserError, match="cannot reach the explorer"):
        run(tmp_path, read_cache=False, **cache)


def test_cache_is_per_identity(tmp_path, explorer):
    cache = {"cache": True, "cache_plugin": "ansible.builtin.jsonfile", "cache_connection": str(tmp_path / "cache")}
    run(tmp_path, **cache)
    explorer.users.append({"id": 13, "name": "bob.3bot", "pubkey": "00" * 32})
    explorer.requests.clear()

    inventory = run(tmp_path, identity_name="bob.3bot", **cache)

    assert explorer.paths("/explorer/reservations")
    assert group_hosts(inventory, "zos") == []


def test_templated_credentials(tmp_path, explorer):
    inventory = run(tmp_path, identity_name="{{ 'alice' ~ '.3bot' }}", identity_seed="{{ '%s' }}" % SEED)

    assert "web-1" in inventory.hosts


def test_credentials_from_the_environment(tmp_path, explorer, monkeypatch):
    monkeypatch.setenv("TFGRID_IDENTITY_NAME", NAME)
    monkeypatch.setenv("TFGRID_IDENTITY_SEED", SEED)
    monkeypatch.setenv("TFGRID_EXPLORER_URL", EXPLORER)
    # AWX sets the variable of an empty optional credential field to "".
    monkeypatch.setenv("TFGRID_IDENTITY_MNEMONIC", "")
    path = tmp_path / "env.zos.yml"
    path.write_text("plugin: threefold.grid.zos\nexplorer_retries: 0\n")
    inventory = InventoryData()

    inventory_loader.get("threefold.grid.zos").parse(inventory, DataLoader(), str(path))

    assert "web-1" in inventory.hosts


def test_unknown_identity_fails_clearly(tmp_path, explorer):
    with pytest.raises(AnsibleParserError, match=r"identity nobody\.3bot is not registered in the phonebook of "
                                                 r"http://explorer\.test/explorer"):
        run(tmp_path, identity_name="nobody.3bot")
    assert not explorer.paths("/explorer/reservations")


def test_missing_identity_name_fails_clearly(tmp_path, explorer):
    with pytest.raises(AnsibleParserError, match="identity_name is required .*TFGRID_IDENTITY_NAME"):
        run(tmp_path, identity_name="")
    assert explorer.requests == []


def test_seed_of_another_key_fails_without_showing_the_seed(tmp_path, explorer):
    with pytest.raises(AnsibleParserError) as failure:
        run(tmp_path, identity_seed=OTHER_SEED)

    message = str(failure.value)
    assert "is not the key of the configured seed" in message
    assert PUBKEY in message
    assert OTHER_SEED not in message
    assert not explorer.paths("/explorer/reservations")


def test_malformed_seed_fails_without_showing_it(tmp_path, explorer):
    bad_seed = "zz" + SEED[2:]
    with pytest.raises(AnsibleParserError, match="identity_seed must be 64 hexadecimal characters") as failure:
        run(tmp_path, identity_seed=bad_seed)

    assert bad_seed not in str(failure.value)
    assert explorer.requests == []


def test_unreachable_explorer_fails_clearly(tmp_path, explorer):
    explorer.down = True

    with pytest.raises(AnsibleParserError, match="failed to look up identity alice.3bot in the phonebook: "
                                                 ".*cannot reach the explorer at http://explorer.test/explorer"):
        run(tmp_path)


def test_explorer_error_on_reservations_is_reported(tmp_path, explorer, monkeypatch):
    explorer.reservations = {}
    monkeypatch.setattr(explorer, "_page", lambda request, items: httpx.Response(
        500, json={"error": "database unavailable"}) if request.url.path.endswith("reservations")
        else FakeExplorer._page(request, items))

    with pytest.raises(AnsibleParserError, match=r"failed to list the reservations of alice\.3bot \(tid 12\): "
                                                 r".*HTTP 500: database unavailable"):
        run(tmp_path)


def vm(wid, node, size=1, master_ips=()):
    return {"workload_id": wid, "node_id": node, "size": size, "network_id": "net-k", "ipaddress": "10.5.1.%d" % wid,
            "cluster_secret": "c0ffee", "master_ips": list(master_ips), "ssh_keys": []}


def vm_ok(rid, wid, ip):
    return {"category": 4, "workload_id": "%d-%d" % (rid, wid), "state": 1, "message": "",
            "data_json": {"id": "%d-%d" % (rid, wid), "ip": ip}}


def add_cluster(explorer):
    """Cluster "k8s-a" of zos_kubernetes (a master, a worker, a failed worker) and one untagged VM."""
    def add(rid, vms, metadata="", results=()):
        item = reservation(rid, [], metadata=metadata, results=results)
        item["data_reservation"]["kubernetes"] = vms
        explorer.reservations[rid] = item
    add(50, [vm(1, "node-a")], tag("k8s-a", "kubernetes_master"), [vm_ok(50, 1, "10.5.1.1")])
    add(51, [vm(1, "node-b", 2, ["10.5.1.1"])], tag("k8s-a/w1", "kubernetes_worker"), [vm_ok(51, 1, "10.5.1.9")])
    add(52, [vm(1, "node-b", 1, ["10.5.1.1"])], tag("k8s-a/w2", "kubernetes_worker"),
        [{"category": 4, "workload_id": "52-1", "state": 0, "message": "failed to reserve filesystem for vm: no space",
          "data_json": {"id": "52-1", "ip": "10.5.1.1"}}])
    add(53, [vm(1, "node-a")], results=[vm_ok(53, 1, "10.5.1.3")])


def test_kubernetes_vms_are_hosts_grouped_by_cluster_and_role(tmp_path, explorer):
    add_cluster(explorer)
    inventory = run(tmp_path)

    assert group_hosts(inventory, "zos_kubernetes") == ["53-1", "k8s-a-master", "k8s-a-w1"]
    assert group_hosts(inventory, "zos_kubernetes_masters") == ["53-1", "k8s-a-master"]
    assert group_hosts(inventory, "zos_kubernetes_workers") == ["k8s-a-w1"]
    assert group_hosts(inventory, "zos_cluster_k8s_a") == ["k8s-a-master", "k8s-a-w1"]
    assert group_hosts(inventory, "zos_containers") == ["2-1", "2-2", "api", "web-1"]
    assert "k8s-a-w1" in group_hosts(inventory, "zos")
    worker = hostvars(inventory, "k8s-a-w1")
    assert worker["ansible_host"] == worker["zos_ipv4"] == "10.5.1.9"
    assert (worker["zos_kind"], worker["zos_kubernetes_cluster"], worker["zos_kubernetes_role"]) == (
        "kubernetes", "k8s-a", "worker")
    assert worker["zos_kubernetes_size"] == 2 and worker["zos_kubernetes_master_ips"] == ["10.5.1.1"]
    assert worker["zos_capacity"] == {"cpu": 2, "memory": 4096, "disk_size": 102400, "disk_type": "SSD"}
    assert worker["zos_network"] == "net-k" and worker["zos_farm_id"] == 2
    assert "zos_flist" not in worker and "c0ffee" not in json.dumps(worker)
    assert hostvars(inventory, "53-1")["zos_kubernetes_cluster"] is None
    assert hostvars(inventory, "web-1")["zos_kind"] == "container"


def test_failed_vms_are_listed_with_their_error_when_asked(tmp_path, explorer):
    add_cluster(explorer)
    inventory = run(tmp_path, states=["error"])
    assert group_hosts(inventory, "zos_kubernetes") == ["k8s-a-w2"]
    assert hostvars(inventory, "k8s-a-w2")["zos_error"] == "failed to reserve filesystem for vm: no space"
    assert "ansible_host" not in hostvars(inventory, "k8s-a-w2")


@pytest.mark.parametrize("workloads, expected", [
    (["kubernetes"], ["53-1", "k8s-a-master", "k8s-a-w1"]),
    (["container"], ["2-1", "2-2", "api", "web-1"]),
])
def test_workloads_option_picks_the_kinds(tmp_path, explorer, workloads, expected):
    add_cluster(explorer)
    assert group_hosts(run(tmp_path, workloads=workloads), "zos") == expected


def labelled(explorer):
    """Two more running containers: shop (labels app=shop, env=prod) and vault (the same, sealed with SEED)."""
    from ansible_collections.threefold.grid.plugins.module_utils._identity import Identity
    sealed = Identity.from_seed_hex(SEED).seal_for_self(json.dumps({"app": "shop", "env": "prod"}))
    for rid, name, fields in [(950, "shop", {"labels": {"app": "shop", "env": "prod"}}),
                              (951, "vault", {"sealed_labels": sealed})]:
        metadata = json.dumps({"ansible": dict(fields, name=name, kind="container", fp="0" * 64)})
        explorer.reservations[rid] = reservation(rid, [container(1, "node-a", "net-a")], metadata=metadata,
                                                 results=[ok(rid, 1, "10.1.1.%d" % (rid - 900))])


def test_labels_become_keyed_groups_and_filter(tmp_path, explorer):
    labelled(explorer)
    inventory = run(tmp_path, keyed_groups=[{"key": "zos_labels", "prefix": "label"}])
    assert group_hosts(inventory, "label_app_shop") == ["shop"]
    assert group_hosts(inventory, "label_env_prod") == ["shop"]
    assert hostvars(inventory, "shop")["zos_labels"] == {"app": "shop", "env": "prod"}
    # Sealed and no seed configured: no labels, said so.
    assert hostvars(inventory, "vault")["zos_labels"] == {} and hostvars(inventory, "vault")["zos_labels_sealed"]
    assert hostvars(inventory, "web-1")["zos_labels"] == {}
    only = run(tmp_path, labels={"env": "prod"})
    assert group_hosts(only, "zos") == ["shop"]


def test_sealed_labels_are_opened_with_the_configured_seed(tmp_path, explorer):
    labelled(explorer)
    inventory = run(tmp_path, identity_seed=SEED, keyed_groups=[{"key": "zos_labels", "prefix": "label"}],
                    labels={"app": "shop"})
    assert group_hosts(inventory, "label_app_shop") == ["shop", "vault"]
    assert hostvars(inventory, "vault")["zos_labels"] == {"app": "shop", "env": "prod"}


def test_kubernetes_vms_are_grouped_by_their_labels_sealed_or_not(tmp_path, explorer):
    """zos_kubernetes writes the cluster's labels into every VM's tag: each VM joins the label groups."""
    from ansible_collections.threefold.grid.plugins.module_utils._identity import Identity
    sealed = Identity.from_seed_hex(SEED).seal_for_self(json.dumps({"app": "k3s"}))
    for rid, name, kind, fields, ips in [(60, "k8s-b", "kubernetes_master", {"labels": {"app": "k3s"}}, []),
                                         (61, "k8s-b/w1", "kubernetes_worker", {"sealed_labels": sealed},
                                          ["10.5.1.1"])]:
        item = reservation(rid, [], metadata=json.dumps({"ansible": dict(fields, name=name, kind=kind, fp="0" * 64)}),
                           results=[vm_ok(rid, 1, "10.5.1.%d" % (rid - 50))])
        item["data_reservation"]["kubernetes"] = [vm(1, "node-a", 1, ips)]
        explorer.reservations[rid] = item
    keyed = [{"key": "zos_labels", "prefix": "label"}]
    plain = run(tmp_path, keyed_groups=keyed)
    assert group_hosts(plain, "label_app_k3s") == ["k8s-b-master"]
    assert hostvars(plain, "k8s-b-w1")["zos_labels"] == {} and hostvars(plain, "k8s-b-w1")["zos_labels_sealed"]
    opened = run(tmp_path, identity_seed=SEED, keyed_groups=keyed, labels={"app": "k3s"})
    assert group_hosts(opened, "label_app_k3s") == ["k8s-b-master", "k8s-b-w1"]
    assert group_hosts(opened, "zos") == ["k8s-b-master", "k8s-b-w1"]


def test_a_bad_label_filter_fails_clearly(tmp_path, explorer):
    with pytest.raises(AnsibleParserError, match="threefold.grid.zos: labels: the value of app is a list"):
        run(tmp_path, labels={"app": ["x"]})
