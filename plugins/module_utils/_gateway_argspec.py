# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""The options every zos_gateway_* resource module takes (documented by the gateway doc fragment)."""

from __future__ import annotations

from typing import Any, Dict

from ansible_collections.threefold.grid.plugins.module_utils._argspec import (
    labels_argument_spec,
    ledger_argument_spec,
    reservation_argument_spec,
)


def gateway_argument_spec(**options: Dict[str, Any]) -> Dict[str, Any]:
    """name, state, gateway_id, currencies, the module's own ``options``, the reservation options, labels and ledger."""
    spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        gateway_id=dict(type="str"),
        currencies=dict(type="list", elements="str", choices=["TFT", "TFTA", "FreeTFT"]),
    )
    spec.update(options)
    spec.update(reservation_argument_spec())
    spec.update(labels_argument_spec())
    spec.update(ledger_argument_spec())
    return spec


def gateway_module_kwargs(*required: str) -> Dict[str, Any]:
    """ZosModule keyword arguments: ``gateway_id`` and ``required`` options needed when present."""
    return dict(required_if=[("state", "present", ("gateway_id",) + required)],
                mutually_exclusive=[("duration", "expires_at")])
