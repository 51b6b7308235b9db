"""Who owns which domain on one gateway (tfgateway's coredns zones and tcprouter keys,
docs/contract/gateway.md §2), read from the gateway's cache of deployed workloads so a restart
keeps it."""

from localgrid.node import result
from localgrid.node.provision.base import ProvisionError

GATEWAY = object()  # owner of the managed domains: the gateway's own identity


def validate_domain(domain):
    """tfgateway's check: non-empty, at least one dot, no trailing dot, no empty label."""
    if not domain or "." not in domain or domain.endswith(".") or ".." in domain:
        raise ProvisionError("incorrect format for domain %s" % domain)


def split_domain(domain):
    """(first label, zone); a name of fewer than three labels is a zone itself."""
    labels = domain.split(".")
    if len(labels) < 3:
        return "", domain
    return labels[0], ".".join(labels[1:])


class Ownership:
    def __init__(self, ctx):
        self.ctx = ctx

    def _owners(self, category, domain):
        return [
            cached["user_tid"] for cached in self.ctx.state.deployed([category])
            if cached["data"]["details"].get("domain") == domain
        ]

    def zone_owner(self, zone):
        """GATEWAY for a managed domain, the user who delegated it, or None."""
        if zone in self.ctx.managed_domains:
            return GATEWAY
        owners = self._owners(result.DELEGATE, zone)
        return owners[0] if owners else None

    def subdomain_owner(self, domain):
        owners = self._owners(result.SUBDOMAIN, domain)
        return owners[0] if owners else None

    def proxy_owner(self, domain):
        """Proxies and reverse proxies share one tcprouter key per domain."""
        owners = self._owners(result.PROXY, domain) + self._owners(result.REVERSE_PROXY, domain)
        return owners[0] if owners else None
