# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""A name -> reservation id index of one identity on one explorer, kept in a small JSON file.

It saves listing every live reservation to find one by name: ``Reservations`` (_lookup.py) reads the id
here, confirms it with one ``GET /reservations/<id>`` and lists only when that fails. The index is a hint,
never the truth: a wrong, stale or lost entry only costs a listing. So a file that can not be read or
written is treated as empty, and concurrent writers may overwrite each other's entries.

The file is a _cache_file.CacheFile (``reservation-names-<digest>.json`` in the cache directory, mode
0600, no secret). Deleting the directory clears every index.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from ansible_collections.threefold.grid.plugins.module_utils._cache_file import CacheFile


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _ids(entries: Dict[str, Any]) -> Dict[str, int]:
    return dict((key, rid) for key, rid in entries.items() if _is_id(rid))


def index_key(kind: str, name: str) -> str:
    return "%s/%s" % (kind, name)


class NameIndex:
    """``kind/name -> reservation id`` for ``tid`` (with ``public_key_hex``) on ``explorer_url``."""

    def __init__(self, explorer_url: str, tid: int, public_key_hex: str, directory: Optional[str] = None) -> None:
        self.file = CacheFile("reservation-names", "names", explorer_url, tid, public_key_hex, directory)
        self.owner = self.file.owner
        self.path = self.file.path

    def get(self, kind: str, name: str) -> Optional[int]:
        rid = self.file.get(index_key(kind, name))
        return rid if _is_id(rid) else None

    def forget(self, kind: str, name: str) -> None:
        def without(entries: Dict[str, Any]) -> Optional[Dict[str, int]]:
            names = _ids(entries)
            return names if names.pop(index_key(kind, name), None) is not None else None
        self.file.update(without)

    def replace(self, names: Dict[str, int]) -> None:
        """The whole index, from a full listing of the live reservations."""
        self.file.update(lambda entries: None if names == _ids(entries) else dict(names))
