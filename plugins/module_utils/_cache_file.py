# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""A small JSON file on the controller that belongs to one identity on one explorer (a hint, never the truth).

Used by the name index (_name_index.py) and the escrow cache (_escrow_cache.py). The file lives in
``$TFGRID_CACHE_DIR`` (default ``$XDG_CACHE_HOME/threefold.grid``, else ``~/.cache/threefold.grid``), is
named after its purpose, the explorer URL and the identity (tid and public key, no secret) and is created
with mode 0600. A file that can not be read or written is treated as empty; it is replaced atomically, so
a reader never sees half a file. Within one process (zos_containers works on many reservations in threads)
``update`` serialises read-modify-write; writers in different processes may still overwrite each other's
entries.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

CACHE_DIR_VARIABLE = "TFGRID_CACHE_DIR"
_UPDATES = threading.Lock()  # one read-modify-write at a time in this process
_PARSED: Dict[str, Tuple[Tuple[int, int, int], Dict[str, Any]]] = {}  # path (named after the owner): (version, entries)


def _version(stat: os.stat_result) -> Tuple[int, int, int]:
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


def cache_directory(environ: Optional[Mapping[str, str]] = None) -> str:
    environ = os.environ if environ is None else environ
    if environ.get(CACHE_DIR_VARIABLE):
        return environ[CACHE_DIR_VARIABLE]
    base = environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "threefold.grid")


class CacheFile:
    """``<prefix>-<digest>.json`` holding ``{"owner": ..., key: {...}}`` for one identity on one explorer."""

    def __init__(self, prefix: str, key: str, explorer_url: str, tid: int, public_key_hex: str,
                 directory: Optional[str] = None) -> None:
        self.key = key
        self.owner = {"explorer_url": explorer_url, "tid": int(tid), "public_key": public_key_hex}
        digest = hashlib.sha256(json.dumps(self.owner, sort_keys=True).encode()).hexdigest()[:24]
        self.path = os.path.join(directory or cache_directory(), "%s-%s.json" % (prefix, digest))

    def read(self) -> Dict[str, Any]:
        """The entries, {} when the file is missing, broken or another owner's."""
        return dict(self._entries())

    def get(self, name: str) -> Any:
        """One entry (None when absent), without copying the others."""
        return self._entries().get(name)

    def _entries(self) -> Dict[str, Any]:
        """The parsed entries, parsed again only when the file changed since this process last read or wrote
        it: zos_containers looks up each of its containers, and a file of hundreds of entries parsed once per
        container made a fleet's lookups grow with the square of its size. Files are only ever replaced
        (write), so a new inode, size or mtime tells another writer's change."""
        try:
            version = _version(os.stat(self.path))
        except OSError:
            return {}
        known = _PARSED.get(self.path)
        if known is not None and known[0] == version:
            return known[1]
        try:
            with open(self.path) as handle:
                version = _version(os.fstat(handle.fileno()))
                stored = json.load(handle)
        except (OSError, ValueError):
            return {}
        entries = stored.get(self.key) if isinstance(stored, dict) and stored.get("owner") == self.owner else None
        entries = entries if isinstance(entries, dict) else {}
        _PARSED[self.path] = (version, entries)
        return entries

    def write(self, entries: Dict[str, Any]) -> None:
        """Replace the file atomically; failures are ignored (a hint only)."""
        folder = os.path.dirname(self.path)
        try:
            os.makedirs(folder, mode=0o700, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=".%s-" % self.key, dir=folder)  # created 0600
            try:
                with os.fdopen(handle, "w") as stream:
                    # dumps, not dump: only a one-shot encoding takes json's C encoder, and zos_containers rewrites
                    # a file of up to hundreds of entries once per registration.
                    stream.write(json.dumps({"owner": self.owner, self.key: entries}, sort_keys=True))
                os.replace(temporary, self.path)
                _PARSED[self.path] = (_version(os.stat(self.path)), dict(entries))
            except BaseException:
                os.unlink(temporary)
                raise
        except OSError:
            pass

    def update(self, change: Callable[[Dict[str, Any]], Optional[Dict[str, Any]]]) -> None:
        """Read the entries, let ``change`` return the new ones (None: nothing to write) and write them, with
        no other update of this process in between (threads of one task would otherwise lose entries)."""
        with _UPDATES:
            entries = change(self.read())
            if entries is not None:
                self.write(entries)
