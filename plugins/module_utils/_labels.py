# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""Labels of a named reservation: checked, kept in its metadata tag (plain or sealed), read back.

The tag is ``{"ansible": {"name", "kind", "fp", "labels": {...}}}`` or, sealed, ``..., "sealed_labels": "<b85>"``
(a NaCl box between the identity's own keys: only its seed opens it). Name, kind and fingerprint stay readable
either way: they are how a later run, the inventory and the info modules find the reservation.

Labels are not part of the fingerprint: a reservation can not be changed in place, and registering it again
would pay for it again, so a label change alone keeps the reservation and its old labels (with a warning)
until it is registered again for another reason (spec change, renewal).
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict, Mapping, Optional

from ansible_collections.threefold.grid.plugins.module_utils._errors import SpecError
from ansible_collections.threefold.grid.plugins.module_utils._spec import METADATA_MAX_BYTES, metadata_text

Labels = Dict[str, str]

LABEL_KEY_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$")
LABEL_VALUE_MAX = 255
FINGERPRINT_PLACEHOLDER = "0" * 64  # a sha256 hex: every fingerprint has this length


def _type_name(value: Any) -> str:
    """The YAML word for a value's type (Ansible passes its own subclasses of dict and list)."""
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "dict"
    if isinstance(value, (list, tuple, set)):
        return "list"
    return type(value).__name__


def _label_value(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if not isinstance(value, str):
        raise SpecError("labels: the value of %s is a %s; a label value is a string, a number or a boolean"
                        % (key, _type_name(value)))
    if len(value) > LABEL_VALUE_MAX or any(ord(char) < 32 for char in value):
        raise SpecError("labels: the value of %s is longer than %d characters or holds control characters"
                        % (key, LABEL_VALUE_MAX))
    return value


def normalise_labels(labels: Optional[Mapping[Any, Any]]) -> Optional[Labels]:
    """``{key: text}`` with numbers and booleans as text; None when the option is not set."""
    if labels is None:
        return None
    normalised = {}
    for key, value in labels.items():
        if not isinstance(key, str) or not LABEL_KEY_RE.match(key):
            raise SpecError("labels: key %r is not a label key (letters, digits, '_', '.', '-', starting and ending "
                            "with a letter or digit, at most 63 characters)" % (key,))
        normalised[key] = _label_value(key, value)
    return normalised


def tag_fields(labels: Optional[Labels], seal: bool, identity: Any) -> Dict[str, Any]:
    """What the metadata tag carries besides name, kind and fingerprint."""
    if not labels:
        return {}
    if seal:
        return {"sealed_labels": identity.seal_for_self(json.dumps(labels, sort_keys=True, separators=(",", ":")))}
    return {"labels": dict(labels)}


def check_metadata_size(name: str, kind: str, fields: Dict[str, Any]) -> None:
    """Fail before anything is signed when the tag would exceed the explorer's metadata limit."""
    size = len(metadata_text(name, kind, FINGERPRINT_PLACEHOLDER, fields).encode("utf-8"))
    if size <= METADATA_MAX_BYTES:
        return
    without = len(metadata_text(name, kind, FINGERPRINT_PLACEHOLDER, {}).encode("utf-8"))
    raise SpecError("labels: the reservation metadata would be %d bytes (%d of them labels%s), over the explorer's "
                    "limit of %d bytes; use fewer or shorter labels or a shorter name"
                    % (size, size - without, ", sealed" if "sealed_labels" in fields else "", METADATA_MAX_BYTES))


def stored_labels(tag: Optional[Mapping[str, Any]], identity: Any = None) -> Optional[Labels]:
    """The labels a parsed tag (_spec.parse_metadata) carries; sealed ones need the identity that sealed them.

    {} for a tag without labels, None when they are sealed and can not be opened (no or another identity).
    """
    if not tag:
        return {}
    if tag.get("sealed_labels") is not None:
        text = identity.open_sealed(tag["sealed_labels"]) if identity is not None else None
        try:
            labels = json.loads(text) if text is not None else None
        except ValueError:
            labels = None
        return dict(labels) if isinstance(labels, dict) else None
    return dict(tag.get("labels") or {})


def matches(labels: Optional[Mapping[str, str]], wanted: Optional[Mapping[str, str]]) -> bool:
    """Whether every wanted key has the wanted value (unreadable labels match no filter)."""
    if not wanted:
        return True
    return labels is not None and all(labels.get(key) == value for key, value in wanted.items())
