# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""Finding things on the grid before anything is signed.

Reservations(session): the identity's live reservations (cached per run), found by name tag; cached(name,
kind) finds one through the name index (_name_index.py) with one GET instead of a listing.
GridLookup(session, reservations): what a container refers to: node(node_id) (exists and is up),
network_subnet(name, node_id) (its /24 from a live reservation), volume_id(reference, node_id),
resolve_container(spec) (all of them; volume references become ids).
"""

from __future__ import annotations

import re
import threading
import time
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from ansible_collections.threefold.grid.plugins.module_utils import _spec, _workloads
from ansible_collections.threefold.grid.plugins.module_utils._errors import (
    ExplorerError,
    ExplorerNotFound,
    LifecycleError,
)
from ansible_collections.threefold.grid.plugins.module_utils._explorer import MAX_PAGE_SIZE, NEXT_ACTION
from ansible_collections.threefold.grid.plugins.module_utils._kept_reservation import kept_of
from ansible_collections.threefold.grid.plugins.module_utils._name_index import NameIndex, index_key
from ansible_collections.threefold.grid.plugins.module_utils._pending_writers import PendingWriters
from ansible_collections.threefold.grid.plugins.module_utils._session import GridSession
from ansible_collections.threefold.grid.plugins.module_utils._shared_reads import shared_read
from ansible_collections.threefold.grid.plugins.module_utils._views import (
    LIVE_STATES,
    Reservation,
    data_of,
    state_name,
    tag_of,
)

NODE_UP_SECONDS = 600  # the SDK's filter_is_up: the node reported within the last 10 minutes
GLOBAL_ID_RE = re.compile(r"^(\d+)-(\d+)$")
# The list filter takes one stored next_action (docs/contract/explorer.md §3.5), so live ones take one listing
# per stored state that can compute to a live one. Create (0) is never stored: create stores the pipeline's
# answer, sign (1) or pay (2) (explorer.md §6.1, §6.2 step 4). Unfiltered, a listing would page through
# every deleted reservation of the identity's history.
LISTED_STORED_STATES = (NEXT_ACTION["sign"], NEXT_ACTION["pay"], NEXT_ACTION["deploy"])


def live_reservations(client: Any, tid: int) -> List[Reservation]:
    """Every live reservation of ``tid`` (computed state), sorted by id; raises the explorer's errors."""
    found = {}
    for stored in LISTED_STORED_STATES:
        for reservation in client.list_reservations(customer_tid=tid, next_action=stored, page_size=MAX_PAGE_SIZE):
            if state_name(reservation) in LIVE_STATES:
                found[reservation["id"]] = reservation
    return [found[rid] for rid in sorted(found)]


def explorer_call(what: str, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``func(*args)``; an explorer error becomes a LifecycleError "Failed to <what>: <cause>"."""
    try:
        return func(*args, **kwargs)
    except ExplorerError as error:
        raise LifecycleError.during("Failed to %s" % what, error) from None


class Reservations:
    """The identity's reservations as the explorer has them; the live listing is cached until invalidated.

    Every full listing also rewrites the name index, so that later tasks find a name with one GET.
    """

    def __init__(self, session: GridSession) -> None:
        self.session = session
        self._live: Optional[List[Reservation]] = None
        self._tags: List[Optional[Dict[str, Any]]] = []  # the tag of each reservation of _live, parsed once
        self._index: Optional[NameIndex] = None
        # Listings are numbered as they start. Threads sharing this object (zos_containers) that need a listing
        # begun after some moment wait for one instead of each listing the identity's reservations themselves.
        self._listings = threading.Condition()
        self._started = 0  # listings started
        self._done = 0  # the number of the listing _live holds
        self._listing = False
        self._valid_from = 1  # _live answers a live() without refresh when it is at least this listing
        self.writers = PendingWriters()

    def _index_of(self, tid: int) -> NameIndex:
        if self._index is None or self._index.owner["tid"] != tid:
            self._index = NameIndex(self.session.explorer_url, tid, self.session.identity.public_key_hex)
        return self._index

    @property
    def index(self) -> NameIndex:
        return self._index_of(self.session.tid)

    def live(self, refresh: bool = False) -> List[Reservation]:
        """Every live reservation of the identity (computed state), sorted by id.

        With ``refresh``, from a listing that started after this call; without, the last listing unless it was
        invalidated since. Concurrent callers share one listing that satisfies them all.
        """
        with self._listings:
            wanted = max(self._valid_from, self._started + 1) if refresh else self._valid_from
            waited = False
            while self._live is None or self._done < wanted:
                if self._listing:
                    self._listings.wait()
                    continue
                if refresh and not waited and self.writers.pending():
                    waited = True
                    self._listings.release()
                    try:
                        self.writers.wait()
                    finally:
                        self._listings.acquire()
                    continue  # another thread may have started the listing meanwhile
                self._started += 1
                number, self._listing = self._started, True
                try:
                    self._listings.release()
                    try:
                        found, tags = self._list()
                    finally:
                        self._listings.acquire()
                finally:
                    self._listing = False
                    self._listings.notify_all()
                self._live, self._tags, self._done = found, tags, number
            return self._live

    def tagged(self) -> List[Tuple[Reservation, Optional[Dict[str, Any]]]]:
        """live() with each reservation's tag. The tags are parsed once per listing: the threads of zos_containers
        look up each of their names in the same listing."""
        live = self.live()
        with self._listings:
            if self._live is live:
                return list(zip(live, self._tags))
        return [(reservation, tag_of(reservation)) for reservation in live]

    def latest(self) -> List[Reservation]:
        """The newest listing there is, even if a write (this task's threads') came after it; a listing if none."""
        with self._listings:
            if self._live is not None:
                return self._live
        return self.live()

    def listed(self, rid: int) -> Optional[Reservation]:
        """Reservation ``rid`` as the newest listing showed it, or None when that listing does not hold it."""
        return next((reservation for reservation in self.latest() if reservation["id"] == rid), None)

    def _list(self) -> Tuple[List[Reservation], List[Optional[Dict[str, Any]]]]:
        tid = self.session.tid
        live = explorer_call("list the reservations of tid %d" % tid, live_reservations, self.session.client, tid)
        tags = [tag_of(reservation) for reservation in live]
        self._index_names(live, tags)
        return live, tags

    def _index_names(self, live: List[Reservation], tags: List[Optional[Dict[str, Any]]]) -> None:
        """Index the names that one live reservation carries (a duplicated name stays out: it needs the listing)."""
        names: Dict[str, int] = {}
        duplicated = set()
        for reservation, tag in zip(live, tags):
            if tag:
                key = index_key(tag["kind"], tag["name"])
                if key in names:
                    duplicated.add(key)
                names[key] = reservation["id"]
        self.index.replace(dict((key, rid) for key, rid in names.items() if key not in duplicated))

    def invalidate(self) -> None:
        """After a write: the next live() lists again (a listing that starts from now on)."""
        with self._listings:
            self._valid_from = self._started + 1
        self.writers.wrote()

    def cached(self, name: str, kind: str) -> Optional[Reservation]:
        """The reservation the name index points to, read with one GET, when it is live, of this identity and
        still tagged {name, kind}; else None (the caller lists). It does not prove that no other live
        reservation carries the name: a decision to register must go through a listing (find_one).

        The index is found by a tid a previous task read (session.tid_hint) without asking the phonebook; the
        reservation confirms it when it carries that tid and this identity's signature, else the phonebook does.
        """
        tid, confirmed = self.session.tid_hint()
        index = self._index_of(tid)
        rid = index.get(kind, name)
        if rid is None:
            return None
        try:
            reservation = self.session.client.get_reservation(rid)
        except ExplorerError:
            reservation = None
        tag = tag_of(reservation) if reservation else None
        if (not tag or tag["name"] != name or tag["kind"] != kind or state_name(reservation) not in LIVE_STATES
                or int(reservation.get("customer_tid") or 0) != tid):
            index.forget(kind, name)
            return None
        if not confirmed and not self.session.identity.signed_reservation(reservation) and self.session.tid != tid:
            return None
        return reservation

    def find_live(self, name: str, kind: str) -> Optional[Reservation]:
        """cached(), else find_one() through a listing: for reads that are no decision to register."""
        return self.cached(name, kind) or self.find_one(name, kind)

    def find(self, name: str, kind: str) -> List[Reservation]:
        return [reservation for reservation, tag in self.tagged() if tag and tag["name"] == name and tag["kind"] == kind]

    def find_one(self, name: str, kind: str) -> Optional[Reservation]:
        """The live reservation of that name; of several (runs registering it at once), the one every run keeps."""
        return kept_of(self.find(name, kind))

    def get(self, rid: int) -> Reservation:
        return explorer_call("read reservation %d" % rid, self.session.client.get_reservation, rid)


def _network_resources(reservation: Reservation, network_name: str) -> List[Dict[str, Any]]:
    """The network resources of the networks named ``network_name`` in ``reservation``."""
    return [resource for network in data_of(reservation).get("networks") or [] if network.get("name") == network_name
            for resource in network.get("network_resources") or []]


class GridLookup:
    """What a container refers to, checked against the explorer before anything is signed."""

    def __init__(self, session: GridSession, reservations: Reservations, clock: Callable[[], float] = time.time) -> None:
        self.session = session
        self.reservations = reservations
        self._clock = clock

    def node(self, node_id: str, option: str = "node_id") -> Dict[str, Any]:
        """The node record (read once per task, GridSession.node); fails when unknown or not seen for 10 minutes."""
        try:
            node = self.session.node(node_id)
        except ExplorerNotFound:
            raise LifecycleError("%s: %r is not a node known to the explorer" % (option, node_id)) from None
        except ExplorerError as error:
            raise LifecycleError.during("Failed to read node %s" % node_id, error) from None
        updated = int(node.get("updated") or 0)
        if updated < int(self._clock()) - NODE_UP_SECONDS:
            raise LifecycleError("%s: node %r is down (last seen at %d, more than 10 minutes ago)"
                                 % (option, node_id, updated))
        return node

    def network(self, network_name: str) -> Optional[Reservation]:
        """The zos_network reservation of that name through the name index (or None), read once per task: the
        containers of a zos_containers task join one network, which does not change while the task runs."""
        return shared_read(self.session, ("network", network_name),
                           lambda: self.reservations.cached(network_name, "network"))

    def network_subnet(self, network_name: str, node_id: str, option: str = "network_connection.name") -> str:
        """The /24 of ``network_name`` on ``node_id``: from the zos_network reservation of that name when it has
        one there (one GET through the name index), else from the newest live reservation that has it."""
        network = self.network(network_name)
        for resource in _network_resources(network, network_name) if network else []:
            if resource.get("node_id") == node_id:
                return resource.get("iprange")
        seen_elsewhere = []
        for reservation in reversed(self.reservations.live()):
            for resource in _network_resources(reservation, network_name):
                if resource.get("node_id") == node_id:
                    return resource.get("iprange")
                seen_elsewhere.append(resource.get("node_id"))
        if seen_elsewhere:
            raise LifecycleError("%s: network %r has no resource on node %s (it spans %s); add the node to the "
                                 "network first" % (option, network_name, node_id, ", ".join(sorted(set(seen_elsewhere)))))
        raise LifecycleError("%s: no live network named %r belongs to this identity; create it first "
                             "(threefold.grid.zos_network)" % (option, network_name))

    def network_subnets(self, network_name: str, option: str = "network_connection.name") -> Dict[str, str]:
        """{node id: /24} of every node the identity's live network ``network_name`` spans."""
        subnets: Dict[str, str] = {}
        network = self.network(network_name)
        for reservation in [network] if network else self.reservations.live():
            for resource in _network_resources(reservation, network_name):
                subnets.setdefault(resource.get("node_id"), resource.get("iprange"))
        if not subnets:
            raise LifecycleError("%s: no live network named %r belongs to this identity; create it first "
                                 "(threefold.grid.zos_network)" % (option, network_name))
        return subnets

    def _volumes_by_id(self, reference: str, option: str) -> Tuple[int, List[Dict[str, Any]]]:
        match = GLOBAL_ID_RE.match(reference)
        rid, wid = int(match.group(1)), int(match.group(2))
        candidates = [r for r in [self._own_live(rid)] if r is not None]
        volumes = [v for r in candidates for v in data_of(r).get("volumes") or [] if v.get("workload_id") == wid]
        if not volumes:
            raise LifecycleError("%s: %r is not a volume of a live reservation of this identity" % (option, reference))
        return rid, volumes

    def _own_live(self, rid: int) -> Optional[Reservation]:
        """Reservation ``rid`` (one GET) when it is live and this identity's, else None."""
        try:
            reservation = self.session.client.get_reservation(rid)
        except ExplorerNotFound:
            return None
        except ExplorerError as error:
            raise LifecycleError.during("Failed to read reservation %d" % rid, error) from None
        if state_name(reservation) not in LIVE_STATES or int(reservation.get("customer_tid") or 0) != self.session.tid:
            return None
        return reservation

    def _volumes_by_name(self, reference: str, option: str) -> Tuple[int, List[Dict[str, Any]]]:
        found = self.reservations.find_live(reference, "volume")
        volumes = data_of(found).get("volumes") or [] if found else []
        if not volumes:
            raise LifecycleError("%s: no live volume named %r belongs to this identity (create it with "
                                 "threefold.grid.zos_volume)" % (option, reference))
        return found["id"], volumes

    def volume_id(self, reference: str, node_id: str, option: str) -> str:
        """``<rid>-<wid>`` of a live volume on ``node_id`` given by id or by zos_volume name."""
        if GLOBAL_ID_RE.match(reference):
            rid, volumes = self._volumes_by_id(reference, option)
        else:
            rid, volumes = self._volumes_by_name(reference, option)
        on_node = [v for v in volumes if v.get("node_id") == node_id]
        if not on_node:
            raise LifecycleError("%s: volume %r is on node %s, not on node %s"
                                 % (option, reference, volumes[0].get("node_id"), node_id))
        return _workloads.global_workload_id(rid, on_node[0]["workload_id"])

    def resolve_container(self, spec: Dict[str, Any], prefix: str = "",
                          local_networks: Optional[Mapping[str, Dict[str, str]]] = None,
                          local_volumes: Optional[Mapping[str, Tuple[int, str]]] = None) -> Dict[str, Any]:
        """Check a normalised container spec against the grid; volume references become ids in place.

        ``local_networks`` maps a network name of the same reservation to ``{node_id: /24}``;
        ``local_volumes`` maps a volume name of the same reservation to ``(workload_id, node_id)``
        (mounted as ``-<workload_id>``, which the node completes with the reservation id).
        """
        node_id = spec["node_id"]
        self.node(node_id, prefix + "node_id")
        network = spec["network_connection"]
        if local_networks and network["name"] in local_networks:
            subnet = local_networks[network["name"]].get(node_id)
            if subnet is None:
                raise LifecycleError("%snetwork_connection.name: network %r of this reservation has no resource on node %s"
                                     % (prefix, network["name"], node_id))
        else:
            subnet = self.network_subnet(network["name"], node_id, prefix + "network_connection.name")
        try:
            _spec.ip_in_node_subnet(network["ip_address"], subnet, prefix + "network_connection.ip_address")
        except _spec.SpecError as error:
            raise LifecycleError(error.msg) from None
        for index, volume in enumerate(spec["volumes"]):
            volume["volume"] = self._mount(volume["volume"], node_id, "%svolumes[%d].volume" % (prefix, index),
                                           local_volumes)
        return spec

    def _mount(self, reference: str, node_id: str, option: str,
               local_volumes: Optional[Mapping[str, Tuple[int, str]]]) -> str:
        if local_volumes and reference in local_volumes:
            workload_id, volume_node = local_volumes[reference]
            if volume_node != node_id:
                raise LifecycleError("%s: volume %r is on node %s, not on node %s"
                                     % (option, reference, volume_node, node_id))
            return "-%d" % workload_id
        return self.volume_id(reference, node_id, option)
