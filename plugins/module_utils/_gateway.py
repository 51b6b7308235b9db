# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""TF gateways: the directory record, the domain rules tfgateway applies, and the runner the
zos_gateway_* resource modules share.

Facts: docs/contract/explorer.md §3.4 (the gateway record) and docs/contract/gateway.md (what a
gateway accepts). Every rule that can be checked here is checked before anything is signed.
"""

from __future__ import annotations

import ipaddress
import re
import time
from typing import Any, Callable, Dict, List, Optional

from ansible_collections.threefold.grid.plugins.module_utils._errors import (
    ExplorerError, ExplorerNotFound, LifecycleError, SpecError,
)
from ansible_collections.threefold.grid.plugins.module_utils._lookup import NODE_UP_SECONDS
from ansible_collections.threefold.grid.plugins.module_utils._resource import WORKLOAD_ID, ResourceRunner

_LABEL_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def gateway_record(session: Any, gateway_id: str, option: str = "gateway_id",
                   clock: Callable[[], float] = time.time) -> Dict[str, Any]:
    """The gateway's directory record; fails when unknown or not seen for 10 minutes."""
    try:
        gateway = session.client.get("/gateways/%s" % gateway_id)
    except ExplorerNotFound:
        raise LifecycleError("%s: %r is not a gateway known to the explorer" % (option, gateway_id)) from None
    except ExplorerError as error:
        raise LifecycleError.during("Failed to read gateway %s" % gateway_id, error) from None
    updated = int(gateway.get("updated") or 0)
    if updated < int(clock()) - NODE_UP_SECONDS:
        raise LifecycleError("%s: gateway %r is down (last seen at %d, more than 10 minutes ago)"
                             % (option, gateway_id, updated))
    return gateway


def normalise_domain(value: Any, option: str = "domain") -> str:
    """A lower-case DNS name of at least two labels (tfgateway refuses a name without a dot)."""
    domain = (value or "").strip().lower()
    labels = domain.split(".")
    if len(domain) > 253 or len(labels) < 2 or not all(_LABEL_RE.match(label) for label in labels):
        raise SpecError("%s: %r is not a valid domain name (labels of letters, digits and hyphens, at least one "
                        "dot)" % (option, value))
    return domain


def zone_of(domain: str) -> str:
    """The zone tfgateway files a name under: the name minus its first label when it has three or more."""
    labels = domain.split(".")
    return ".".join(labels[1:]) if len(labels) >= 3 else domain


def check_managed(domain: str, gateway: Dict[str, Any], delegated: List[str], option: str = "domain") -> None:
    """The name's zone must be one of the gateway's managed domains or a zone the identity delegated to it."""
    zone = zone_of(domain)
    managed = [d.lower() for d in gateway.get("managed_domains") or []]
    if zone not in managed and zone not in delegated:
        raise SpecError("%s: %r is not under a domain gateway %s manages (%s) nor under a domain this identity "
                        "delegated to it (zos_gateway_delegate)"
                        % (option, domain, gateway.get("node_id"), ", ".join(managed) or "none"))


def normalise_ip_list(values: Any, option: str) -> List[str]:
    """IPv4 or IPv6 addresses in their canonical text; at least one."""
    if not values:
        raise SpecError("%s: needs at least one address" % option)
    out = []
    for value in values:
        try:
            out.append(str(ipaddress.ip_address(str(value).strip())))
        except ValueError:
            raise SpecError("%s: %r is not an IP address" % (option, value)) from None
    return out


def check_port(value: Any, option: str, allow_zero: bool = False) -> int:
    low = 0 if allow_zero else 1
    if not isinstance(value, int) or not low <= value <= 65535:
        raise SpecError("%s: %r must be a port from %d to 65535" % (option, value, low))
    return value


def gateway_workload(gateway_id: str, workload_id: int, **fields: Any) -> Dict[str, Any]:
    """The wire form every gateway workload shares (docs/contract/explorer.md §4.3)."""
    workload = {"id": 0, "workload_id": int(workload_id), "node_id": gateway_id, "stats_aggregator": [],
                "farmer_tid": 0}
    workload.update(fields)
    return workload


class GatewayRunner(ResourceRunner):
    """One gateway workload in its own reservation. Subclasses build the spec and the workload fields.

    Gateway workloads are free (not priced); the reservation offers FreeTFT on a free-to-use gateway.
    """

    def gateway_fields(self, spec: Dict[str, Any]) -> Dict[str, Any]:
        raise NotImplementedError

    def spec(self, gateway: Dict[str, Any]) -> Dict[str, Any]:
        raise NotImplementedError

    def delegated_zones(self, gateway_id: str) -> List[str]:
        """Domains the identity's live reservations delegate to this gateway."""
        zones = []
        for reservation in self.lifecycle.reservations.live():
            for delegate in (reservation.get("data_reservation") or {}).get("domain_delegates") or []:
                if delegate.get("node_id") == gateway_id:
                    zones.append((delegate.get("domain") or "").lower())
        return zones

    def present(self) -> Dict[str, Any]:
        gateway_id = (self.params["gateway_id"] or "").strip()
        if not gateway_id:
            raise SpecError("gateway_id: %r must be a gateway id" % self.params["gateway_id"])
        life = self.lifetime()
        gateway = gateway_record(self.session, gateway_id)
        spec = dict(self.spec(gateway), gateway_id=gateway_id)
        currencies = self.params["currencies"] or (["FreeTFT"] if gateway.get("free_to_use") else ["TFT"])

        def workloads():
            return {self.workload_list: [gateway_workload(gateway_id, WORKLOAD_ID, **self.gateway_fields(spec))]}

        return self.deploy(workloads, spec, life, currencies, self.params["payment"])

    def describe(self, reservation: Dict[str, Any], replaced: Optional[list] = None,
                 payment: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        workload, gwid = self.single_workload(reservation)
        results = [r for r in reservation["results"] if r.get("workload_id") == gwid]
        shown = dict((k, v) for k, v in workload.items() if k not in ("workload_id", "node_id"))
        return self.resource_view(reservation, replaced, payment, workload_id=gwid,
                                  gateway_id=workload.get("node_id"), results=results, **shown)
