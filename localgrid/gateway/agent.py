"""One simulated tfgateway: the node agent's poll loop with tfgateway's primitives, order and
telemetry paths (docs/contract/gateway.md §1)."""

import base64
import dataclasses

import nacl.public

from localgrid.gateway import provision
from localgrid.node import result
from localgrid.node.agent import NodeAgent

# tfgateway provisions a batch in this order, so a delegation is in place before its subdomains.
GATEWAY_ORDER = [result.DELEGATE, result.SUBDOMAIN, result.PROXY, result.REVERSE_PROXY, result.GATEWAY4TO6]
GATEWAY_PROVISIONERS = {
    result.DELEGATE: provision.Provisioner(provision.delegate),
    result.SUBDOMAIN: provision.Provisioner(provision.subdomain),
    result.PROXY: provision.Provisioner(provision.proxy),
    result.REVERSE_PROXY: provision.Provisioner(provision.reverse_proxy),
    result.GATEWAY4TO6: provision.Provisioner(provision.gateway4to6),
}
GATEWAY_COUNTER_NAMES = {
    result.DELEGATE: "delegate_domain", result.SUBDOMAIN: "subdomain", result.PROXY: "proxy",
    result.REVERSE_PROXY: "reverse_proxy",
    # 4to6 tunnels have no counter in the explorer's workload amounts; they count as proxies.
    result.GATEWAY4TO6: "proxy",
}


@dataclasses.dataclass
class GatewayContext:
    node_id: str
    box: object  # SealedBox for reverse-proxy secrets sealed to this gateway
    state: object  # NodeState: the gateway's cache
    managed_domains: tuple
    wireguard_endpoint: str  # "" when the gateway does not offer 4to6
    wireguard_public_key: str
    ipv6_prefix: str
    pool_seed: bytes  # the gateway's identity seed, which tfgateway's address pool hashes


class GatewayAgent(NodeAgent):
    provisioners = GATEWAY_PROVISIONERS
    order = GATEWAY_ORDER
    counter_names = GATEWAY_COUNTER_NAMES
    directory_kind = "gateways"

    def __init__(self, gateway, explorer_url, store, clock, profile, transport=None, wakeup=None):
        super().__init__(gateway, explorer_url, "", store, clock, profile, [], transport=transport, wakeup=wakeup)
        # tfgateway's WireGuard private key is the identity seed itself (wgtypes.NewKey(seed[:32])).
        seed = bytes(self.signing_key)
        wg_key = nacl.public.PrivateKey(seed).public_key
        self.ctx = GatewayContext(
            node_id=self.node_id,
            box=self.ctx.box,
            state=self.state,
            managed_domains=tuple(gateway.get("managed_domains") or ()),
            wireguard_endpoint=gateway.get("wireguard_endpoint") or "",
            wireguard_public_key=base64.b64encode(bytes(wg_key)).decode(),
            ipv6_prefix=gateway.get("ipv6_prefix") or "2001:db8::/64",
            pool_seed=seed,
        )
