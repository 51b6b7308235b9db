# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""zos_container's placement options, apart from the placement code (_placement.py), which a task loads only
when it places a container."""

from __future__ import annotations

from typing import Any, Dict

from ansible_collections.threefold.grid.plugins.module_utils._lookup import NODE_UP_SECONDS
from ansible_collections.threefold.grid.plugins.module_utils._nodes import CAPACITY_KEYS


def placement_argument_spec() -> Dict[str, Any]:
    """zos_container's placement options (doc fragment threefold.grid.placement)."""
    options: Dict[str, Any] = dict(
        farm_id=dict(type="int"), country=dict(type="str"), city=dict(type="str"), free_to_use=dict(type="bool"),
        exclude_nodes=dict(type="list", elements="str", default=[]),
        distinct_from=dict(type="list", elements="str", default=[]),
        up_within=dict(type="int", default=NODE_UP_SECONDS), attempts=dict(type="int", default=3),
    )
    options.update(("min_" + key, dict(type="int" if key == "cru" else "float")) for key in CAPACITY_KEYS)
    return dict(placement=dict(type="dict", options=options), replace_on_failure=dict(type="bool", default=False))
