"""Each provisioner of the simulated node against a temp store, without HTTP to the explorer:
every node error string and every success shape."""

import base64
import hashlib

import httpx
import nacl.public
import nacl.signing
import pytest

from localgrid.keys import b58decode, b58encode, node_id_of, node_signing_key
from localgrid.node.provision import container, kubernetes, network, volume, zdb
from localgrid.node.provision.base import NodeContext, ProvisionError
from localgrid.node.secrets import node_box
from localgrid.node.state import NodeState
from localgrid.store import Store

SEED = "6743306737a6732afeda0cd4e04bfa2e4e5a4cc79b9d4be9b13d93bc876c0f9a"
HUB = "http://127.0.0.1:9/hub/"
CATALOGUE_FLIST = "https://hub.grid.tf/zaibon/zaibon-ubuntu-ssh-0.0.2.flist"
USER = "12"


def seal(node_id, plaintext):
    """What a client does (docs/contract/node.md §1.2): sealed box for the node's curve25519 key, hex."""
    verify_key = nacl.signing.VerifyKey(b58decode(node_id))
    return nacl.public.SealedBox(verify_key.to_curve25519_public_key()).encrypt(plaintext).hex()


def hub_handler(request):
    if request.url.path == "/hub/alice/good.flist":
        return httpx.Response(200, content=b"flist")
    if request.url.path == "/hub/alice/secret.flist":
        return httpx.Response(403)
    return httpx.Response(404)


@pytest.fixture
def ctx(tmp_path):
    key = node_signing_key(SEED)
    node_id = node_id_of(key.verify_key)
    store = Store(str(tmp_path / "state.db"))
    context = NodeContext(
        node_id=node_id,
        signing_key=key,
        box=node_box(key),
        total_resources={"cru": 4, "mru": 8, "hru": 1000, "sru": 100},
        public_config={"ipv4": "192.0.2.7/24", "ipv6": "2001:db8:5e:0:1000::7/64",
                       "gw4": "192.0.2.1", "gw6": "2001:db8:5e::1"},
        state=NodeState(store, node_id),
        hub_base_url=HUB,
        flist_catalogue=[CATALOGUE_FLIST, {"url": "https://hub.grid.tf/tf-official-apps/redis.flist",
                                           "entrypoint": "/bin/redis-server"}],
        http=httpx.Client(transport=httpx.MockTransport(hub_handler)),
        reserved_ports=(7000,),
    )
    yield context
    context.http.close()
    store.close()


def workload(ctx, gwid, category, content, user=USER):
    return {"workload_id": gwid, "user": user, "type": category, "content": content,
            "created": 1000, "duration": 3600, "signature": "", "to_delete": False, "node_id": ctx.node_id}


def deploy(ctx, module, wl):
    """Provision and cache like the agent does, so later checks see the used capacity."""
    deployment = module.provision(ctx, wl)
    ctx.state.add_workload(wl["workload_id"], wl["type"], wl["user"], 4600,
                           {"result": deployment.data, "details": deployment.details}, deployment.usage)
    return deployment


def failure(module, ctx, wl):
    with pytest.raises(ProvisionError) as info:
        module.provision(ctx, wl)
    return info.value.message


# network ---------------------------------------------------------------------------------------
def wg_private_key():
    return base64.b64encode(bytes(nacl.public.PrivateKey.generate())).decode()


def network_content(ctx, name="net1", port=3000, node_id=None, key_cipher=None):
    node_id = node_id or ctx.node_id
    return {
        "name": name, "workload_id": 1, "iprange": "10.1.0.0/16", "stats_aggregator": [], "farmer_tid": 1,
        "network_resources": [{
            "node_id": node_id,
            "wireguard_private_key_encrypted": key_cipher or seal(ctx.node_id, wg_private_key().encode()),
            "wireguard_public_key": "x" * 43 + "=",
            "wireguard_listen_port": port,
            "iprange": "10.1.1.0/24",
            "peers": [],
        }],
    }


def deploy_network(ctx, rid, name="net1", port=3000, user=USER):
    return deploy(ctx, network, workload(ctx, "%s-1" % rid, 3, network_content(ctx, name, port), user))


def test_network_id_is_base58_md5_of_tid_then_name_cut_to_13():
    expected = b58encode(hashlib.md5(b"12net1").digest())[:13]
    assert network.network_id(12, "net1") == network.network_id("12", "net1") == expected
    assert len(expected) == 13
    assert network.network_id(13, "net1") != expected


def test_network_success_has_null_data_and_records_the_resource(ctx):
    deployment = deploy_network(ctx, 5)
    assert deployment.data is None
    stored = ctx.state.network(network.network_id(USER, "net1"))
    assert (stored["subnet"], stored["listen_port"], stored["owner_tid"], stored["gwid"]) == (
        "10.1.1.0/24", 3000, USER, "5-1")


def test_network_without_own_resource(ctx):
    other = node_id_of(nacl.signing.SigningKey.generate().verify_key)
    message = failure(network, ctx, workload(ctx, "5-1", 3, network_content(ctx, node_id=other)))
    assert message == "failed to create network resource for network %s: not network resource for this node: %s" % (
        network.network_id(USER, "net1"), ctx.node_id)


def test_network_listen_port_clash_with_other_network(ctx):
    deploy_network(ctx, 5, "net1", 3000)
    message = failure(network, ctx, workload(ctx, "6-1", 3, network_content(ctx, "net2", 3000)))
    assert message == ("failed to create network resource for network %s: "
                       "wireguard listen port already in use, pick another one" % network.network_id(USER, "net2"))
    message = failure(network, ctx, workload(ctx, "6-1", 3, network_content(ctx, "net2", 7000)))
    assert message.endswith("wireguard listen port already in use, pick another one")


def test_network_same_name_later_reservation_updates_it(ctx):
    deploy_network(ctx, 5, "net1", 3000)
    deploy_network(ctx, 9, "net1", 3000)  # same port is fine: same network
    net_id = network.network_id(USER, "net1")
    assert ctx.state.network(net_id)["gwid"] == "9-1"
    old = ctx.state.workload("5-1")
    network.decommission(ctx, old)
    assert ctx.state.network(net_id) is not None
    network.decommission(ctx, ctx.state.workload("9-1"))
    assert ctx.state.network(net_id) is None


def test_network_key_sealed_for_another_node(ctx):
    stranger = node_id_of(nacl.signing.SigningKey.generate().verify_key)
    content = network_content(ctx, key_cipher=seal(stranger, wg_private_key().encode()))
    message = failure(network, ctx, workload(ctx, "5-1", 3, content))
    assert message == ("failed to create network resource for network %s: "
                       "failed to decrypt wireguard private key: could not decrypt message" % network.network_id(USER, "net1"))


def test_network_validation(ctx):
    content = network_content(ctx)
    content["network_resources"][0]["wireguard_listen_port"] = 0
    message = failure(network, ctx, workload(ctx, "5-1", 3, content))
    assert message == ("validation of the network resource failed: network resource 0 is invalid: "
                       "network resource wireguard listen port cannot empty")
    assert failure(network, ctx, workload(ctx, "5-1", 3, dict(content, network_resources=[]))) == (
        "validation of the network resource failed: Network needs at least one network resource")


# volume ----------------------------------------------------------------------------------------
def test_volume_success_shape_and_owner(ctx):
    deployment = deploy(ctx, volume, workload(ctx, "7-2", 2, {"size": 10, "type": 1}))
    assert deployment.data == {"volume_id": "7-2"}
    assert deployment.usage == {"sru": 10}
    assert ctx.state.volume("7-2")["owner_tid"] == USER


def test_volume_capacity_counts_what_is_used(ctx):
    deploy(ctx, volume, workload(ctx, "7-2", 2, {"size": 60, "type": 1}))
    assert failure(volume, ctx, workload(ctx, "8-2", 2, {"size": 41, "type": 1})) == (
        "Not enough space left in pools of this type SSD")
    assert failure(volume, ctx, workload(ctx, "8-3", 2, {"size": 1001, "type": 0})) == (
        "Not enough space left in pools of this type HDD")
    assert volume.provision(ctx, workload(ctx, "8-4", 2, {"size": 40, "type": 1})).data == {"volume_id": "8-4"}


def test_volume_rejects_unknown_type(ctx):
    assert failure(volume, ctx, workload(ctx, "7-2", 2, {"size": 1, "type": 2})) == "unknown volume type: 2"


def test_volume_decommission_frees_it(ctx):
    deploy(ctx, volume, workload(ctx, "7-2", 2, {"size": 1, "type": 1}))
    volume.decommission(ctx, ctx.state.workload("7-2"))
    assert ctx.state.volume("7-2") is None


# container -------------------------------------------------------------------------------------
def container_content(**overrides):
    content = {
        "flist": CATALOGUE_FLIST, "hub_url": "", "environment": {"A": "1"}, "secret_environment": {},
        "entrypoint": "/sbin/my_init", "interactive": False, "volumes": [],
        "network_connection": [{"network_id": "net1", "ipaddress": "10.1.1.5", "public_ip6": False}],
        "stats_aggregator": [], "logs": [], "farmer_tid": 1,
        "capacity": {"cpu": 1, "memory": 1024, "disk_size": 2048, "disk_type": 1},
    }
    content.update(overrides)
    return content


def test_container_success_shape_with_ula(ctx):
    deploy_network(ctx, 5)
    deployment = container.provision(ctx, workload(ctx, "7-3", 1, container_content()))
    net_id = network.network_id(USER, "net1")
    prefix = net_id.encode()
    expected_ipv6 = "fd%x:%x%x:%x%x:1::5" % tuple(prefix[:5])
    assert deployment.data == {"id": "7-3", "ipv6": expected_ipv6, "ipv4": "10.1.1.5"}
    assert deployment.usage == {"cru": 1, "mru": 1.0, "sru": 2.0}


def test_container_ula_formats_like_go():
    # octet 3 == 0 collapses the zero groups, as Go's net.IP String does.
    assert container.ula_ipv6("ABCDEFGHJKLMN", "10.1.0.7") == "fd41:4243:4445::7"
    assert container.ula_ipv6("ABCDEFGHJKLMN", "10.1.10.255") == "fd41:4243:4445:a::ff"


def test_container_public_ipv6_from_node_prefix(ctx):
    deploy_network(ctx, 5)
    content = container_content(network_connection=[{"network_id": "net1", "ipaddress": "10.1.1.5", "public_ip6": True}])
    data = container.provision(ctx, workload(ctx, "7-3", 1, content)).data
    assert data["ipv6"].startswith("2001:db8:5e:0:")
    assert data["ipv6"] == container.provision(ctx, workload(ctx, "7-3", 1, content)).data["ipv6"]
    ctx.public_config = None
    assert failure(container, ctx, workload(ctx, "7-3", 1, content)) == (
        "error reading container ipv6: no public ipv6 address on this node")


def test_container_schema_errors(ctx):
    assert failure(container, ctx, workload(ctx, "7-3", 1, container_content(network_connection=[]))) == (
        "container provision schema not valid: network ID cannot be empty")
    assert failure(container, ctx, workload(ctx, "7-3", 1, container_content(flist=""))) == (
        "container provision schema not valid: missing flist url")


def test_container_flists(ctx):
    deploy_network(ctx, 5)
    ok = container.provision(ctx, workload(ctx, "7-3", 1, container_content(flist=HUB + "alice/good.flist")))
    assert ok.data["id"] == "7-3"
    assert failure(container, ctx, workload(ctx, "7-3", 1, container_content(flist=HUB + "alice/none.flist"))) == (
        "fail to download flist: 404 Not Found")
    assert failure(container, ctx, workload(ctx, "7-3", 1, container_content(flist=HUB + "alice/secret.flist"))) == (
        "fail to download flist: 403 Forbidden")
    assert failure(container, ctx, workload(
        ctx, "7-3", 1, container_content(flist="https://hub.grid.tf/nobody/none.flist"))) == (
        "fail to download flist: 404 Not Found")


def test_container_rootfs_capacity(ctx):
    deploy_network(ctx, 5)
    content = container_content(capacity={"cpu": 1, "memory": 512, "disk_size": 101 * 1024, "disk_type": 1})
    assert failure(container, ctx, workload(ctx, "7-3", 1, content)) == (
        "failed to create read-write subvolume for 0-fs: Not enough space left in pools of this type SSD")
    default = container.provision(ctx, workload(ctx, "7-3", 1, container_content(
        capacity={"cpu": 0, "memory": 0, "disk_size": 0, "disk_type": 0})))
    assert default.usage == {"cru": 1, "mru": 0.25, "sru": 0.25}


def test_container_cpu_and_memory_capacity(ctx):
    deploy_network(ctx, 5)
    content = container_content(capacity={"cpu": 5, "memory": 512, "disk_size": 0, "disk_type": 1})
    assert failure(container, ctx, workload(ctx, "7-3", 1, content)) == (
        "not enough free capacity on node: requested 5 vCPU, 4 available")
    content = container_content(capacity={"cpu": 1, "memory": 9 * 1024, "disk_size": 0, "disk_type": 1})
    assert failure(container, ctx, workload(ctx, "7-3", 1, content)) == (
        "not enough free capacity on node: requested 9216 MiB of memory, 8192 MiB available")


def test_container_secret_env_decrypted_on_node(ctx):
    deploy_network(ctx, 5)
    content = container_content(secret_environment={"TOKEN": seal(ctx.node_id, b"s3cr3t"), "EMPTY": ""})
    deploy(ctx, container, workload(ctx, "7-3", 1, content))
    assert ctx.state.secret_env_digests("7-3") == {
        "TOKEN": hashlib.sha256(b"s3cr3t").hexdigest(), "EMPTY": hashlib.sha256(b"").hexdigest()}


def test_container_secret_env_errors(ctx):
    deploy_network(ctx, 5)
    stranger = node_id_of(nacl.signing.SigningKey.generate().verify_key)
    content = container_content(secret_environment={"TOKEN": seal(stranger, b"s3cr3t")})
    assert failure(container, ctx, workload(ctx, "7-3", 1, content)) == (
        "failed to decrypt secret env var 'TOKEN': could not decrypt message")
    content = container_content(secret_environment={"TOKEN": "zz"})
    assert failure(container, ctx, workload(ctx, "7-3", 1, content)) == (
        "failed to decrypt secret env var 'TOKEN': encoding/hex: invalid byte: U+007A 'z'")
    assert ctx.state.secret_env_digests("7-3") == {}


def test_container_volumes(ctx):
    deploy_network(ctx, 5)
    deploy(ctx, volume, workload(ctx, "7-2", 2, {"size": 1, "type": 1}))
    deploy(ctx, volume, workload(ctx, "4-2", 2, {"size": 1, "type": 1}, user="99"))
    same_reservation = container_content(volumes=[{"volume_id": "-2", "mountpoint": "/data"}])
    assert container.provision(ctx, workload(ctx, "7-3", 1, same_reservation)).data["id"] == "7-3"
    other_reservation = container_content(volumes=[{"volume_id": "7-2", "mountpoint": "/data"}])
    assert container.provision(ctx, workload(ctx, "8-1", 1, other_reservation)).data["id"] == "8-1"
    missing = container_content(volumes=[{"volume_id": "-5", "mountpoint": "/data"}])
    assert failure(container, ctx, workload(ctx, "7-3", 1, missing)) == (
        "failed to retrieve the owner of volume 7-5: open /var/cache/modules/storage/volumes/7-5: "
        "no such file or directory")
    foreign = container_content(volumes=[{"volume_id": "4-2", "mountpoint": "/data"}])
    assert failure(container, ctx, workload(ctx, "7-3", 1, foreign)) == (
        "cannot use volume 4-2, user 12 is not the owner of it")


def test_container_network_must_exist_for_this_user(ctx):
    deploy_network(ctx, 5, user="99")
    net_id = network.network_id(USER, "net1")
    assert failure(container, ctx, workload(ctx, "7-3", 1, container_content())) == (
        "couldn't load network with id (%s): open /var/cache/modules/networkd/networks/%s: "
        "no such file or directory" % (net_id, net_id))


def test_container_entrypoint(ctx):
    deploy_network(ctx, 5)
    assert failure(container, ctx, workload(ctx, "7-3", 1, container_content(entrypoint=""))) == (
        "error starting container: invalid entrypoint definition ''")
    interactive = container_content(entrypoint="", interactive=True)
    assert container.provision(ctx, workload(ctx, "7-3", 1, interactive)).data["id"] == "7-3"
    startup = container_content(entrypoint="", flist="https://hub.grid.tf/tf-official-apps/redis.flist")
    assert container.provision(ctx, workload(ctx, "7-3", 1, startup)).data["id"] == "7-3"


# zdb -------------------------------------------------------------------------------------------
def zdb_content(**overrides):
    content = {"size": 10, "mode": 0, "password": "", "disk_type": 1, "public": False,
               "stats_aggregator": [], "farmer_tid": 1}
    content.update(overrides)
    return content


def test_zdb_success_shape(ctx):
    content = zdb_content(password=seal(ctx.node_id, b"pw"))
    deployment = zdb.provision(ctx, workload(ctx, "7-4", 0, content))
    assert list(deployment.data) == ["Namespace", "IP", "Port"]
    assert deployment.data["Namespace"] == "7-4" and deployment.data["Port"] == 9900
    assert deployment.data["IP"].startswith("2001:db8:5e:0:")
    assert deployment.usage == {"sru": 10}


def test_zdb_result_of_a_v035_node_lists_ips(ctx):
    ctx.zos_version = (0, 3, 5)
    deployment = zdb.provision(ctx, workload(ctx, "7-4", 0, zdb_content()))
    assert list(deployment.data) == ["Namespace", "IPs", "Port"]
    assert len(deployment.data["IPs"]) == 1 and deployment.data["IPs"][0].startswith("2001:db8:5e:0:")
    with pytest.raises(ProvisionError) as error:
        zdb.provision(ctx, workload(ctx, "7-4", 0, zdb_content(size=101)))
    assert error.value.data == {"Namespace": "", "IPs": None, "Port": 0}


def test_zdb_errors(ctx):
    stranger = node_id_of(nacl.signing.SigningKey.generate().verify_key)
    assert failure(zdb, ctx, workload(ctx, "7-4", 0, zdb_content(password=seal(stranger, b"pw")))) == (
        "failed to decrypt namespace password: could not decrypt message")
    assert failure(zdb, ctx, workload(ctx, "7-4", 0, zdb_content(size=101))) == (
        "failed to allocate storage: Not enough space left in pools of this type SSD")


# kubernetes ------------------------------------------------------------------------------------
def k8s_content(**overrides):
    content = {"size": 1, "network_id": "net1", "ipaddress": "10.1.1.8", "cluster_secret": "",
               "master_ips": [], "ssh_keys": [], "stats_aggregator": [], "farmer_tid": 1}
    content.update(overrides)
    return content


def test_kubernetes_success_and_errors(ctx):
    deploy_network(ctx, 5)
    ok = deploy(ctx, kubernetes, workload(ctx, "7-5", 4, k8s_content(cluster_secret=seal(ctx.node_id, b"k"))))
    assert ok.data == {"id": "7-5", "ip": "10.1.1.8"}
    assert ok.usage == {"cru": 1, "mru": 2.0, "sru": 50}
    with pytest.raises(ProvisionError) as info:
        kubernetes.provision(ctx, workload(ctx, "7-5", 4, k8s_content(ipaddress="10.1.2.8")))
    assert info.value.message == "could not generate network info: IP 10.1.2.8 is not part of local nr subnet 10.1.1.0/24"
    assert info.value.data == {"id": "7-5", "ip": "10.1.2.8"}
    assert failure(kubernetes, ctx, workload(ctx, "7-5", 4, k8s_content(size=3))) == (
        "could not interpret vm size: unsupported vm size 3, only size 1 and 2 are supported")
    assert failure(kubernetes, ctx, workload(ctx, "8-5", 4, k8s_content(size=2, ipaddress="10.1.1.9"))) == (
        "failed to reserve filesystem for vm: no space left on device")


def test_kubernetes_checks_in_the_order_of_0os(ctx):
    stranger = node_id_of(nacl.signing.SigningKey.generate().verify_key)
    # The secret is opened before the size is read, with the message 0-OS v0.3 copied from its zdb code.
    assert failure(kubernetes, ctx, workload(ctx, "7-5", 4, k8s_content(size=3, cluster_secret=seal(stranger, b"k")))) == (
        "failed to decrypt namespace password: could not decrypt message")
    # The disk comes before the network: no network and no space reports the space.
    ctx.total_resources["sru"] = 60
    assert failure(kubernetes, ctx, workload(ctx, "7-5", 4, k8s_content(size=2))) == (
        "failed to reserve filesystem for vm: no space left on device")
    net_id = network.network_id(USER, "net1")
    with pytest.raises(ProvisionError) as info:
        kubernetes.provision(ctx, workload(ctx, "7-5", 4, k8s_content()))
    assert info.value.message == (
        "could not set up tap device: couldn't load network with id (%s): open "
        "/var/cache/modules/networkd/networks/%s: no such file or directory" % (net_id, net_id))
    assert info.value.data == {"id": "7-5", "ip": "10.1.1.8"}


def test_kubernetes_address_as_go_prints_it(ctx):
    deploy_network(ctx, 5)
    with pytest.raises(ProvisionError) as info:
        kubernetes.provision(ctx, workload(ctx, "7-5", 4, k8s_content(ipaddress="")))
    assert info.value.message == "could not generate network info: IP <nil> is not part of local nr subnet 10.1.1.0/24"
    assert info.value.data == {"id": "7-5", "ip": "<nil>"}
    with pytest.raises(ProvisionError) as info:
        kubernetes.provision(ctx, workload(ctx, "7-5", 4, k8s_content(ipaddress="10.1.1")))
    assert info.value.message == "failed to decode reservation schema: invalid IP address: 10.1.1"
    assert info.value.data == {"id": "", "ip": ""}
