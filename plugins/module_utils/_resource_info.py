# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""The _info module of a resource kind: the identity's reservations of that kind, filtered, in the shape the
resource module returns (_resource_views.py). Options: doc fragment threefold.grid.resource_info.

    class VolumeInfoRunner(ResourceInfoRunner):
        kind = "volume"            # metadata kind; the result key is kind + "s"

    ZosModule(resource_info_argument_spec()).run(VolumeInfoRunner)
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Set

from ansible_collections.threefold.grid.plugins.module_utils import _labels, _resource_views
from ansible_collections.threefold.grid.plugins.module_utils._explorer import NEXT_ACTION
from ansible_collections.threefold.grid.plugins.module_utils._lookup import Reservations, explorer_call
from ansible_collections.threefold.grid.plugins.module_utils._session import Runner
from ansible_collections.threefold.grid.plugins.module_utils._views import LIVE_STATES, Reservation, state_name, tag_of, view


def resource_info_argument_spec() -> Dict[str, Any]:
    return dict(
        name=dict(type="str"),
        labels=dict(type="dict"),
        states=dict(type="list", elements="str", aliases=["state"], default=["live"],
                    choices=sorted(NEXT_ACTION) + ["live"]),
        node_id=dict(type="str"),
    )


class ResourceInfoRunner(Runner):
    kind: Optional[str] = None

    def wanted_states(self) -> Set[str]:
        states = set(self.params["states"] or ["live"])
        if "live" in states:
            states.discard("live")
            states.update(LIVE_STATES)
        return states

    def reservations(self, states: Set[str]) -> List[Reservation]:
        """Live ones take the listings by stored state (_lookup.Reservations); ended ones the whole history."""
        if states <= set(LIVE_STATES):
            return Reservations(self.session).live()
        tid = self.session.tid
        return explorer_call("list the reservations of tid %d" % tid, self.session.client.list_reservations,
                             customer_tid=tid)

    def run(self) -> Dict[str, Any]:
        wanted_labels = _labels.normalise_labels(self.params["labels"])
        states = self.wanted_states()
        identity = self.session.identity
        fields = _resource_views.KIND_FIELDS[self.kind][1]
        found = []
        for reservation in sorted(self.reservations(states), key=lambda r: r.get("id") or 0):
            tag = tag_of(reservation)
            if not tag or tag["kind"] != self.kind or state_name(reservation) not in states:
                continue
            if self.params["name"] is not None and tag["name"] != self.params["name"]:
                continue
            shown = view(reservation)
            if self.params["node_id"] and self.params["node_id"] not in _resource_views.workload_nodes(shown):
                continue
            labels = _labels.stored_labels(shown, identity)
            if not _labels.matches(labels, wanted_labels):
                continue
            found.append(_resource_views.resource_view(tag["name"], shown, labels=labels, **fields(shown)))
        return {"changed": False, self.kind + "s": found}
