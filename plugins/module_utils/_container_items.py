# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""zos_containers' options, and each of its containers as zos_container's options (the Ansible side).

The items of ``containers`` and ``defaults`` take zos_container's container options. Their argument spec has
no defaults and no required options, so that Ansible checks their types (and masks ``secret_env``) without
filling in values that would hide a default; ``container_items`` then merges ``defaults`` under each item (a
dict option key by key, anything else whole) and checks the result against zos_container's own spec, which
adds zos_container's defaults. Every item's problem is reported at once, before anything runs.
"""

from __future__ import annotations

import copy
from typing import Any, Dict, List, Tuple

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.threefold.grid.plugins.module_utils._argspec import (
    ledger_argument_spec,
    option_value_problem,
    payment_argument_spec,
)
from ansible_collections.threefold.grid.plugins.module_utils._container_runner import container_module_argument_spec

# Options of the task as a whole: one wallet pays, and the batch waits once (see _container_batch.py).
TASK_OPTIONS = ("payment", "wait", "wait_timeout", "wait_sleep")
# zos_container options a batch does not take: placement chooses one container's node from the grid's free
# capacity, which containers placed at the same time would all read as the same.
NOT_IN_ITEMS = ("placement", "replace_on_failure")
# Options of the batch alone: the ledger is read once for every container (_container_batch.py), not per item.
BATCH_ONLY = ("containers", "defaults", "parallel", "ledger", "ledger_account")
ITEM_REQUIRED_IF = [("state", "present", ("flist", "network_connection", "node_id"))]
ITEM_MUTUALLY_EXCLUSIVE = [("duration", "expires_at")]


def item_spec() -> Dict[str, Any]:
    """zos_container's options that one item of ``containers`` takes, with zos_container's defaults."""
    spec = container_module_argument_spec()
    for option in TASK_OPTIONS + NOT_IN_ITEMS:
        spec.pop(option)
    return spec


def _loose(spec: Dict[str, Any]) -> Dict[str, Any]:
    """The spec without defaults nor required options, at every level."""
    loose = {}
    for name, option in spec.items():
        option = dict((key, value) for key, value in option.items() if key not in ("default", "required"))
        if "options" in option:
            option["options"] = _loose(option["options"])
        loose[name] = option
    return loose


def batch_argument_spec() -> Dict[str, Any]:
    """zos_containers' own options (ZosModule adds the explorer and identity ones)."""
    loose = _loose(item_spec())
    shared = dict(loose)
    shared.pop("name")
    spec = container_module_argument_spec()
    task = dict((option, spec[option]) for option in TASK_OPTIONS)
    task["payment"] = dict(type="dict", options=payment_argument_spec())
    task.update(
        containers=dict(type="list", elements="dict", required=True, options=loose),
        defaults=dict(type="dict", default={}, options=shared),
        parallel=dict(type="int", default=20),
        **ledger_argument_spec()
    )
    return task


def _given(value: Any) -> Any:
    """What was given: Ansible's validation fills every unset suboption with None, which would hide a default."""
    if isinstance(value, dict):
        return dict((key, _given(inner)) for key, inner in value.items() if inner is not None)
    if isinstance(value, list):
        return [_given(inner) for inner in value]
    return copy.deepcopy(value)


def merged(defaults: Dict[str, Any], item: Dict[str, Any]) -> Dict[str, Any]:
    """``item`` over ``defaults``, both as given; a dict given in both is merged key by key (the item's win)."""
    result = _given(defaults)
    for key, value in _given(item).items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = dict(result[key], **value)
        else:
            result[key] = value
    return result


def container_items(params: Dict[str, Any]) -> Tuple[List[Dict[str, Any]], List[str]]:
    """Each container's options as zos_container takes them (the task's own options included), and the problems
    found, one per item, each naming the item."""
    spec = item_spec()
    validator = ArgumentSpecValidator(spec, mutually_exclusive=ITEM_MUTUALLY_EXCLUSIVE, required_if=ITEM_REQUIRED_IF)
    task = dict((key, value) for key, value in params.items() if key not in BATCH_ONLY)
    task.update(placement=None, replace_on_failure=False)
    items, problems = [], []
    if params["parallel"] < 1:
        problems.append("parallel must be 1 or more, got %d" % params["parallel"])
    for index, item in enumerate(params["containers"]):
        given = merged(params.get("defaults") or {}, item)
        checked = validator.validate(given)
        where = "containers[%d]%s" % (index, " (%s)" % given["name"] if isinstance(given.get("name"), str) else "")
        messages = [error.msg for error in checked.errors] if checked.errors else []
        problem = None if messages else option_value_problem(checked.validated_parameters)
        if messages or problem:
            problems.append("%s: %s" % (where, "; ".join(messages) if messages else problem))
            continue
        items.append(dict(task, **checked.validated_parameters))
    return items, problems


def batch_params(module: Any) -> Dict[str, Any]:
    """The task's options with ``containers`` as zos_container's options of each; fails the task (a ZosModule's)
    naming every wrong item, before anything runs."""
    items, problems = container_items(module.params)
    if problems:
        module.module.fail_json(msg="%d problem%s in containers, nothing was signed, registered or paid: %s" % (
            len(problems), "" if len(problems) == 1 else "s", "; ".join(problems)))
    return dict(module.params, containers=items)
