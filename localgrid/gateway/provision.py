"""tfgateway's five primitives (docs/contract/gateway.md §3): the checks it makes and the
messages it reports. Nothing is routed for real: the cache records what the gateway would serve."""

import base64
import binascii
import collections
import hashlib
import ipaddress

from localgrid.gateway.ownership import GATEWAY, Ownership, split_domain, validate_domain
from localgrid.node.provision.base import Deployment, ProvisionError
from localgrid.node.secrets import DecryptError, open_hex

Provisioner = collections.namedtuple("Provisioner", "provision")

UNAUTHORIZED = "unauthorized error"


def delegate(ctx, workload):
    domain = workload["content"].get("domain") or ""
    validate_domain(domain)
    owner = Ownership(ctx).zone_owner(domain)
    if owner is not None and owner != workload["user"]:
        raise ProvisionError("%s cannot delegate domain %s" % (UNAUTHORIZED, domain))
    return Deployment(data=None, details={"domain": domain})


def subdomain(ctx, workload):
    content = workload["content"]
    domain = content.get("domain") or ""
    validate_domain(domain)
    name, zone = split_domain(domain)
    ownership = Ownership(ctx)
    owner = ownership.zone_owner(zone)
    if owner is None:
        raise ProvisionError("%s is not managed by the gateway. Delegate the domain first" % zone)
    if owner is GATEWAY:
        taken_by = ownership.subdomain_owner(domain)
        refused = taken_by is not None and taken_by != workload["user"]
    else:
        refused = owner != workload["user"]
    if refused:
        raise ProvisionError("%s cannot add subdomain %s to zone %s" % (UNAUTHORIZED, name, zone))
    return Deployment(data=None, details={"domain": domain, "ips": list(content.get("ips") or [])})


def _check_proxy_domain(ctx, workload, domain, what):
    owner = Ownership(ctx).proxy_owner(domain)
    if owner is not None and owner != workload["user"]:
        raise ProvisionError("cannot add %s from %s: %s" % (what, domain, UNAUTHORIZED))


def proxy(ctx, workload):
    content = workload["content"]
    domain = content.get("domain") or ""
    # tfgateway v0.3 checks neither the address nor the ports: tcprouter only fails on connect.
    _check_proxy_domain(ctx, workload, domain, "proxy")
    details = {"domain": domain, "addr": content.get("addr"), "port": content.get("port"),
               "port_tls": content.get("port_tls")}
    return Deployment(data=None, details=details)


def reverse_proxy(ctx, workload):
    content = workload["content"]
    domain = content.get("domain") or ""
    try:
        secret = open_hex(ctx.box, content.get("secret") or "").decode("utf-8", "replace")
    except DecryptError as error:
        raise ProvisionError("failed to decrypt secret: %s" % error) from None
    if not domain:
        raise ProvisionError("domain cannot be empty")
    if not secret:
        raise ProvisionError("secret cannot be empty")
    if not secret.startswith("%s:" % workload["user"]):
        raise ProvisionError("secret must follow the format 'threebotID:random'")
    _check_proxy_domain(ctx, workload, domain, "reverse proxy")
    return Deployment(data=None, details={"domain": domain})


def _wireguard_key(text):
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ProvisionError("wgtypes: failed to parse base64-encoded key: illegal base64 data") from None
    if len(raw) != 32:
        raise ProvisionError("wgtypes: incorrect key size: %d" % len(raw))
    return text


def gateway4to6(ctx, workload):
    if not ctx.wireguard_endpoint:
        # Without --endpoint tfgateway has no 4to6 provisioner; see docs/contract/gateway.md §3.5.
        raise ProvisionError("type of reservation not supported: gateway4to6")
    public_key = _wireguard_key(workload["content"].get("public_key") or "")
    ip = user_ipv6(ctx.ipv6_prefix, ctx.pool_seed, workload["user"])
    data = {
        "ips": [ip],
        "peers": [{"public_key": ctx.wireguard_public_key, "endpoint": ctx.wireguard_endpoint,
                   "allowed_ips": ["::/0"]}],
    }
    return Deployment(data=data, details={"public_key": public_key, "ip": ip})


def user_ipv6(prefix, pool_seed, user):
    """tfgateway's pool (wg/ip-pool.go): the prefix's first 8 bytes, then md5(gateway seed + user id)[:8],
    so one user gets the same address on every tunnel."""
    network = ipaddress.ip_network(prefix)
    host = hashlib.md5(pool_seed + user.encode()).digest()[:8]
    return str(ipaddress.IPv6Address(network.network_address.packed[:8] + host))
