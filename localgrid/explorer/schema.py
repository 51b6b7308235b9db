"""The explorer's request/response structs (tfexplorer v0.3.2 wire format) as gojson specs."""

from localgrid.explorer.gojson import IP, Bool, Date, Float, Int, List, Map, Obj, Raw, Str

# Workload type enum (result category, workload `type`).
ZDB, CONTAINER, VOLUME, NETWORK, KUBERNETES, PROXY, REVERSE_PROXY, SUBDOMAIN, DELEGATE, GATEWAY4TO6 = range(10)

# next_action enum.
CREATE, SIGN, PAY, DEPLOY, DELETE, INVALID, DELETED = range(7)
NEXT_ACTION_NAMES = ("create", "sign", "pay", "deploy", "delete", "invalid", "deleted")

# Result state enum.
RESULT_ERROR, RESULT_OK, RESULT_DELETED = 0, 1, 2

USER = Obj(
    "User",
    {
        "id": Int(),
        "name": Str(),
        "email": Str(),
        "pubkey": Str(),
        "host": Str(),
        "description": Str(),
        "signature": Str(),
    },
)

USER_UPDATE = Obj("UserUpdate", dict(USER.fields, sender_signature_hex=Str()))

VALIDATE_BODY = Obj("ValidateBody", {"payload": Str(), "signature": Str()})

_STATS = List(Obj("StatsAggregator", {"type": Str(), "data": Obj("RedisData", {"endpoint": Str()})}))

CONTAINER_SPEC = Obj(
    "Container",
    {
        "workload_id": Int(),
        "node_id": Str(),
        "flist": Str(),
        "hub_url": Str(),
        "environment": Map(Str()),
        "secret_environment": Map(Str()),
        "entrypoint": Str(),
        "interactive": Bool(),
        "volumes": List(Obj("ContainerMount", {"volume_id": Str(), "mountpoint": Str()})),
        "network_connection": List(
            Obj("NetworkConnection", {"network_id": Str(), "ipaddress": IP(), "public_ip6": Bool()})
        ),
        "stats_aggregator": _STATS,
        "logs": List(Obj("Logs", {"type": Str(), "data": Obj("LogsRedis", {"stdout": Str(), "stderr": Str()})})),
        "farmer_tid": Int(),
        "capacity": Obj(
            "ContainerCapacity",
            {
                "cpu": Int(),
                "memory": Int(),
                "disk_size": Int("uint64"),
                "disk_type": Int("workloads.DiskTypeEnum", "uint8"),
            },
        ),
    },
)

VOLUME_SPEC = Obj(
    "Volume",
    {
        "workload_id": Int(),
        "node_id": Str(),
        "size": Int(),
        "type": Int("workloads.VolumeTypeEnum", "uint8"),
        "stats_aggregator": _STATS,
        "farmer_tid": Int(),
    },
)

ZDB_SPEC = Obj(
    "ZDB",
    {
        "workload_id": Int(),
        "node_id": Str(),
        "size": Int(),
        "mode": Int("workloads.ZDBModeEnum", "uint8"),
        "password": Str(),
        "disk_type": Int("workloads.DiskTypeEnum", "uint8"),
        "public": Bool(),
        "stats_aggregator": _STATS,
        "farmer_tid": Int(),
    },
)

NETWORK_SPEC = Obj(
    "Network",
    {
        "name": Str(),
        "workload_id": Int(),
        "iprange": Str(),
        "stats_aggregator": _STATS,
        "network_resources": List(
            Obj(
                "NetworkNetResource",
                {
                    "node_id": Str(),
                    "wireguard_private_key_encrypted": Str(),
                    "wireguard_public_key": Str(),
                    "wireguard_listen_port": Int(),
                    "iprange": Str(),
                    "peers": List(
                        Obj(
                            "WireguardPeer",
                            {
                                "public_key": Str(),
                                "allowed_iprange": List(Str()),
                                "endpoint": Str(),
                                "iprange": Str(),
                            },
                        )
                    ),
                },
            )
        ),
        "farmer_tid": Int(),
    },
)

KUBERNETES_SPEC = Obj(
    "K8S",
    {
        "workload_id": Int(),
        "node_id": Str(),
        "size": Int(),
        "network_id": Str(),
        "ipaddress": IP(),
        "cluster_secret": Str(),
        "master_ips": List(IP()),
        "ssh_keys": List(Str()),
        "stats_aggregator": _STATS,
        "farmer_tid": Int(),
    },
)


def _gateway(name, extra):
    return Obj(name, dict({"id": Int(), "workload_id": Int(), "node_id": Str()}, **extra))


PROXY_SPEC = _gateway("GatewayProxy", {"domain": Str(), "addr": Str(), "port": Int("uint32"), "port_tls": Int("uint32")})
REVERSE_PROXY_SPEC = _gateway("GatewayReverseProxy", {"domain": Str(), "secret": Str()})
SUBDOMAIN_SPEC = _gateway("GatewaySubdomain", {"domain": Str(), "ips": List(Str())})
DELEGATE_SPEC = _gateway("GatewayDelegate", {"domain": Str()})
GATEWAY4TO6_SPEC = _gateway("Gateway4To6", {"public_key": Str()})

_SIGNING_REQUEST = Obj("SigningRequest", {"signers": List(Int()), "quorum_min": Int()})

# (data_reservation key, workload type, spec) in the order nodes receive them (docs/contract/explorer.md §4.5).
WORKLOAD_KINDS = (
    ("containers", CONTAINER, CONTAINER_SPEC),
    ("volumes", VOLUME, VOLUME_SPEC),
    ("zdbs", ZDB, ZDB_SPEC),
    ("kubernetes", KUBERNETES, KUBERNETES_SPEC),
    ("proxies", PROXY, PROXY_SPEC),
    ("reverse_proxies", REVERSE_PROXY, REVERSE_PROXY_SPEC),
    ("subdomains", SUBDOMAIN, SUBDOMAIN_SPEC),
    ("domain_delegates", DELEGATE, DELEGATE_SPEC),
    ("gateway4to6", GATEWAY4TO6, GATEWAY4TO6_SPEC),
    ("networks", NETWORK, NETWORK_SPEC),
)
SPEC_BY_TYPE = {kind: spec for _key, kind, spec in WORKLOAD_KINDS}
GATEWAY_KEYS = ("proxies", "reverse_proxies", "subdomains", "domain_delegates", "gateway4to6")

DATA_RESERVATION = Obj(
    "ReservationData",
    {
        "description": Str(),
        "currencies": List(Str()),
        "signing_request_provision": _SIGNING_REQUEST,
        "signing_request_delete": _SIGNING_REQUEST,
        "containers": List(CONTAINER_SPEC),
        "volumes": List(VOLUME_SPEC),
        "zdbs": List(ZDB_SPEC),
        "networks": List(NETWORK_SPEC),
        "kubernetes": List(KUBERNETES_SPEC),
        "proxies": List(PROXY_SPEC),
        "reverse_proxies": List(REVERSE_PROXY_SPEC),
        "subdomains": List(SUBDOMAIN_SPEC),
        "domain_delegates": List(DELEGATE_SPEC),
        "gateway4to6": List(GATEWAY4TO6_SPEC),
        "expiration_provisioning": Date(),
        "expiration_reservation": Date(),
    },
)

SIGNATURE = Obj("SigningSignature", {"tid": Int(), "signature": Str(), "epoch": Date()})

RESULT = Obj(
    "Result",
    {
        "category": Int("workloads.WorkloadTypeEnum", "uint8"),
        "workload_id": Str(),
        "data_json": Raw(),
        "signature": Str(),
        "state": Int("workloads.ResultStateEnum", "uint8"),
        "message": Str(),
        "epoch": Date(),
        "node_id": Str(),
    },
)

RESERVATION = Obj(
    "Reservation",
    {
        "id": Int(),
        "json": Str(),
        "data_reservation": DATA_RESERVATION,
        "customer_tid": Int(),
        "customer_signature": Str(),
        "next_action": Int("workloads.NextActionEnum", "uint8"),
        "signatures_provision": List(SIGNATURE),
        "signatures_farmer": List(SIGNATURE),
        "signatures_delete": List(SIGNATURE),
        "epoch": Date(),
        "metadata": Str(),
        "results": List(RESULT),
    },
)

SIGN_BODY = Obj("SigningSignature", {"tid": Int(), "signature": Str(), "epoch": Raw()})

UPTIME_BODY = Obj("UptimeBody", {"uptime": Int("uint64")})
PORTS_BODY = Obj("PortsBody", {"ports": List(Int("uint"))})
USED_RESOURCES_BODY = Obj(
    "ResourceAmountAndWorkloads",
    {
        "cru": Int("uint64"),
        "mru": Float(),
        "hru": Float(),
        "sru": Float(),
        "network": Int("uint16"),
        "volume": Int("uint16"),
        "zdb_namespace": Int("uint16"),
        "container": Int("uint16"),
        "k8s_vm": Int("uint16"),
        "proxy": Int("uint16"),
        "reverse_proxy": Int("uint16"),
        "subdomain": Int("uint16"),
        "delegate_domain": Int("uint16"),
    },
)
WORKLOAD_COUNTER_KEYS = tuple(key for key in USED_RESOURCES_BODY.fields if key not in ("cru", "mru", "hru", "sru"))
