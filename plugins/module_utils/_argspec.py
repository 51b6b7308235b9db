# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""The option specs the modules share, each with the TFGRID_* environment fallbacks of its doc fragment."""

from __future__ import annotations

import os
from typing import Any, Dict, Mapping, Optional

from ansible.module_utils.errors import AnsibleFallbackNotFound

from ansible_collections.threefold.grid.plugins.module_utils._explorer import GRID_NETWORKS


def env_fallback(*names: str) -> str:
    """Like Ansible's env_fallback, but an empty variable counts as unset.

    AWX injects every field of a credential, empty ones as "", and an empty TFGRID_IDENTITY_MNEMONIC
    must not conflict with a TFGRID_IDENTITY_SEED nor fail the choices of `network`.
    """
    for name in names:
        if os.environ.get(name):
            return os.environ[name]
    raise AnsibleFallbackNotFound


def explorer_argument_spec() -> Dict[str, Dict[str, Any]]:
    return dict(
        network=dict(type="str", default="local", choices=sorted(GRID_NETWORKS),
                     fallback=(env_fallback, ["TFGRID_NETWORK"])),
        explorer_url=dict(type="str", fallback=(env_fallback, ["TFGRID_EXPLORER_URL"])),
        validate_certs=dict(type="bool", default=True),
        explorer_timeout=dict(type="float", default=30.0),
        explorer_retries=dict(type="int", default=5),
    )


def identity_argument_spec() -> Dict[str, Dict[str, Any]]:
    return dict(
        identity_name=dict(type="str", fallback=(env_fallback, ["TFGRID_IDENTITY_NAME"])),
        identity_seed=dict(type="str", no_log=True, fallback=(env_fallback, ["TFGRID_IDENTITY_SEED"])),
        identity_mnemonic=dict(type="str", no_log=True, fallback=(env_fallback, ["TFGRID_IDENTITY_MNEMONIC"])),
        identity_seed_file=dict(type="path", fallback=(env_fallback, ["TFGRID_IDENTITY_SEED_FILE"])),
    )


def stellar_argument_spec() -> Dict[str, Dict[str, Any]]:
    return dict(
        stellar_secret=dict(type="str", no_log=True, fallback=(env_fallback, ["TFGRID_STELLAR_SECRET"])),
        horizon_url=dict(type="str", fallback=(env_fallback, ["TFGRID_HORIZON_URL"])),
    )


def payment_argument_spec() -> Dict[str, Dict[str, Any]]:
    """The suboptions of a resource module's `payment` block (doc fragment threefold.grid.payment)."""
    spec = stellar_argument_spec()
    spec.update(max_amount=dict(type="str"), wait=dict(type="bool", default=False), channels=dict(type="int", default=0))
    return spec


def wait_argument_spec() -> Dict[str, Dict[str, Any]]:
    """The options of the threefold.grid.wait doc fragment, with the same defaults."""
    return dict(
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=600),
        wait_sleep=dict(type="int", default=5),
    )


def reservation_argument_spec() -> Dict[str, Any]:
    """duration, expires_at, renew_before, payment and the wait options (doc fragments threefold.grid.lifetime,
    threefold.grid.payment and threefold.grid.wait)."""
    spec = dict(
        duration=dict(type="str"),
        expires_at=dict(type="str"),
        renew_before=dict(type="str", no_log=False),
        payment=dict(type="dict", options=payment_argument_spec()),
    )
    spec.update(wait_argument_spec())
    return spec


def ledger_argument_spec() -> Dict[str, Any]:
    """ledger and ledger_account of the resource modules (doc fragment threefold.grid.ledger, _money_views.py)."""
    return dict(ledger=dict(type="bool", default=False), ledger_account=dict(type="str"))


def labels_argument_spec() -> Dict[str, Any]:
    """labels and seal_labels of every resource module (doc fragment threefold.grid.labels, _labels.py)."""
    return dict(labels=dict(type="dict"), seal_labels=dict(type="bool", default=False))


def container_argument_spec(required: bool) -> Dict[str, Any]:
    """The options of one container: zos_container's, and those of each of zos_reservation's containers.

    ``required`` marks node_id, flist and network_connection required (zos_container needs them only for
    state=present).
    """
    return dict(
        node_id=dict(type="str", required=required),
        flist=dict(type="str", required=required),
        hub_url=dict(type="str", default=""),
        env=dict(type="dict", default={}),
        secret_env=dict(type="dict", default={}, no_log=True),
        entrypoint=dict(type="str", default=""),
        interactive=dict(type="bool", default=False),
        volumes=dict(type="list", elements="dict", default=[], options=dict(
            volume=dict(type="str", required=True),
            mountpoint=dict(type="str", required=True),
        )),
        capacity=dict(type="dict", default={}, options=dict(
            cpu=dict(type="int", default=1),
            memory=dict(type="int", default=1024),
            disk_size=dict(type="int", default=256),
            disk_type=dict(type="str", choices=["SSD", "HDD"], default="SSD"),
        )),
        network_connection=dict(type="dict", required=required, options=dict(
            name=dict(type="str", required=True),
            ip_address=dict(type="str"),
            public_ipv6=dict(type="bool", default=False),
        )),
        logs=dict(type="list", elements="dict", default=[], options=dict(
            stdout=dict(type="str", required=True),
            stderr=dict(type="str", required=True),
        )),
    )


# Options whose value must be at least this much (a type check alone accepts 0 and negative numbers).
OPTION_MINIMUMS = (("explorer_timeout", 0.001, "a positive number of seconds"),
                   ("explorer_retries", 0, "0 or more"),
                   ("wait_timeout", 0, "0 or more seconds"),
                   ("wait_sleep", 0, "0 or more seconds"))


def option_value_problem(params: Mapping[str, Any]) -> Optional[str]:
    """A message for a shared option whose value is out of range or empty, else None (checked before anything runs)."""
    for option, low, wording in OPTION_MINIMUMS:
        value = params.get(option)
        if value is not None and value < low:
            return "%s must be %s, got %s" % (option, wording, value)
    name = params.get("name")
    if isinstance(name, str) and not name.strip():
        return "name must not be empty: it is the key that finds this resource again on the next run"
    if isinstance(name, str) and (name != name.strip() or any(ord(char) < 32 for char in name)):
        # The name is only stored in the reservation metadata, but a stray space or newline would make
        # "web" and "web " two resources.
        return "name %r has leading or trailing spaces or control characters" % name
    return None


def dict_shape_problem(spec: Mapping[str, Any], params: Mapping[str, Any], prefix: str = "") -> Optional[str]:
    """A message naming the option when a dict (or an item of a list of dicts) was given as something else.

    ansible-core reports that case as "dictionary requested, could not parse JSON or key=value" without
    saying which option it means. The value is not repeated: it may be a secret given in the wrong place.
    """
    for name, option in spec.items():
        value = params.get(name)
        suboptions = option.get("options") or {}
        if value is None or not suboptions:
            continue
        names = sorted(suboptions)
        keys = ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]
        if option.get("type") == "dict":
            shape, items = "a dict", [(prefix + name, value)]
        elif option.get("type") == "list" and option.get("elements") == "dict":
            shape = "a list of dicts"
            items = [("%s%s[%d]" % (prefix, name, index), item)
                     for index, item in enumerate(value if isinstance(value, list) else [value])]
        else:
            continue
        for where, item in items:
            if not isinstance(item, dict):
                return ("%s is a %s, but %s is %s with the keys %s: write %s as a YAML mapping (one key per line), "
                        "not as a %s" % (where, type(item).__name__, prefix + name, shape, keys,
                                         "each item" if shape != "a dict" else "it", type(item).__name__))
            problem = dict_shape_problem(suboptions, item, where + ".")
            if problem:
                return problem
    return None


NO_LOG_MASK = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def _holds_no_log(spec: Mapping[str, Any]) -> bool:
    return any(option.get("no_log") or _holds_no_log(option.get("options") or {}) for option in spec.values())


def without_secrets(spec: Mapping[str, Any], params: Mapping[str, Any]) -> Dict[str, Any]:
    """``params`` with the value of every no_log option masked, whatever shape the options were given in.

    When one dict option is given as a string, ansible-core's no_log scan stops and masks nothing, so the
    invocation returned with the failure would show every secret. A value that should hold no_log
    suboptions but is not a dict is masked whole: it may be a secret given in the wrong place.
    """
    shown: Dict[str, Any] = {}
    for name, value in params.items():
        option = spec.get(name) or {}
        suboptions = option.get("options") or {}
        if option.get("no_log"):
            shown[name] = NO_LOG_MASK
        elif value is None or not _holds_no_log(suboptions):
            shown[name] = value
        elif isinstance(value, dict):
            shown[name] = without_secrets(suboptions, value)
        elif isinstance(value, list):
            shown[name] = [without_secrets(suboptions, item) if isinstance(item, dict) else NO_LOG_MASK for item in value]
        else:
            shown[name] = NO_LOG_MASK
    return shown
