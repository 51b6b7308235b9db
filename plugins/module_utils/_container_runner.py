# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""What zos_container does for one container: its options and its ResourceRunner.

Shared by zos_container (one container per task) and zos_containers (many per task, _container_batch.py),
so that both take the same options and go through the same lifecycle.
"""

from __future__ import annotations

from typing import Any, Dict

from ansible_collections.threefold.grid.plugins.module_utils._argspec import (
    container_argument_spec,
    labels_argument_spec,
    reservation_argument_spec,
)
from ansible_collections.threefold.grid.plugins.module_utils._crypto import encrypt_for_node
from ansible_collections.threefold.grid.plugins.module_utils._errors import SpecError
from ansible_collections.threefold.grid.plugins.module_utils._placement_argspec import placement_argument_spec
from ansible_collections.threefold.grid.plugins.module_utils._resource import WORKLOAD_ID, ResourceRunner
from ansible_collections.threefold.grid.plugins.module_utils._spec import normalise_container
from ansible_collections.threefold.grid.plugins.module_utils._workloads import container_from_spec


class ContainerRunner(ResourceRunner):
    kind = "container"
    workload_list = "containers"

    def present(self) -> Dict[str, Any]:
        if self.params["replace_on_failure"] and self.params["placement"] is None:
            raise SpecError("replace_on_failure: true needs placement, the constraints another node is chosen by")
        if self.params["placement"] is not None:
            # The placement code loads only for a container placed by constraints (most name their node).
            from ansible_collections.threefold.grid.plugins.module_utils._placement import deploy_placed
            return deploy_placed(self, self.params["placement"], self.params["replace_on_failure"])
        return self.deploy_on(self.params)

    def deploy_on(self, options: Dict[str, Any]) -> Dict[str, Any]:
        """Deploy the container the options describe (their node_id and network_connection)."""
        spec, warnings = normalise_container(options)
        life = self.lifetime()
        for warning in warnings:
            self.session.warn(warning)
        if self.params["adopt_id"] is not None:
            from ansible_collections.threefold.grid.plugins.module_utils._adopt import adopt  # loaded for adopt_id only
            # Secret values are sealed with a random nonce, so the comparison takes their names only.
            result = adopt(self, lambda: self.lifecycle.lookup.resolve_container(spec),
                           lambda workload_id: container_from_spec(spec, workload_id, lambda node, value: ""))
            if result is not None:
                return result
        if self.adopted is None:
            self.lifecycle.lookup.resolve_container(spec)

        def workloads():
            return {"containers": [container_from_spec(spec, WORKLOAD_ID, encrypt_for_node)]}

        return self.deploy(workloads, spec, life, self.params["currencies"], self.params["payment"])


def container_module_argument_spec() -> Dict[str, Any]:
    """zos_container's own options (ZosModule adds the explorer and identity ones)."""
    spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        currencies=dict(type="list", elements="str", choices=["TFT", "TFTA", "FreeTFT"], default=["TFT"]),
        adopt_id=dict(type="int"),
        adopt_mismatch=dict(type="str", choices=["fail", "replace"], default="fail"),
    )
    spec.update(container_argument_spec(required=False))
    spec.update(reservation_argument_spec())
    spec.update(labels_argument_spec())
    spec.update(placement_argument_spec())
    return spec


# zos_container's checks between options, as ZosModule (AnsibleModule) takes them.
CONTAINER_REQUIRED_IF = [("state", "present", ("flist", "network_connection")),
                         ("state", "present", ("node_id", "placement"), True)]
CONTAINER_MUTUALLY_EXCLUSIVE = [("duration", "expires_at"), ("node_id", "placement"), ("adopt_id", "placement")]
