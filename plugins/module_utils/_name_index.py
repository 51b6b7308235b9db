# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""A name -> reservation id index of one identity on one explorer, kept in a small JSON file.

It saves listing every live reservation to find one by name: ``Reservations`` (_lookup.py) reads the id
here, confirms it with one ``GET /reservations/<id>`` and lists only when that fails. The index is a hint,
never the truth: a wrong, stale or lost entry only costs a listing. So a file that can not be read or
written is treated as empty, and concurrent writers may overwrite each other's entries.

The file lives in ``$TFGRID_CACHE_DIR`` (default ``$XDG_CACHE_HOME/threefold.grid``, else
``~/.cache/threefold.grid``), is named after the explorer URL and the identity (tid and public key, no
secret) and is created with mode 0600. Deleting the directory clears every index.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from typing import Dict, Mapping, Optional

CACHE_DIR_VARIABLE = "TFGRID_CACHE_DIR"


def cache_directory(environ: Optional[Mapping[str, str]] = None) -> str:
    environ = os.environ if environ is None else environ
    if environ.get(CACHE_DIR_VARIABLE):
        return environ[CACHE_DIR_VARIABLE]
    base = environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "threefold.grid")


def index_key(kind: str, name: str) -> str:
    return "%s/%s" % (kind, name)


class NameIndex:
    """``kind/name -> reservation id`` for ``tid`` (with ``public_key_hex``) on ``explorer_url``."""

    def __init__(self, explorer_url: str, tid: int, public_key_hex: str, directory: Optional[str] = None) -> None:
        self.owner = {"explorer_url": explorer_url, "tid": int(tid), "public_key": public_key_hex}
        digest = hashlib.sha256(json.dumps(self.owner, sort_keys=True).encode()).hexdigest()[:24]
        self.path = os.path.join(directory or cache_directory(), "reservation-names-%s.json" % digest)

    def _read(self) -> Dict[str, int]:
        try:
            with open(self.path) as handle:
                stored = json.load(handle)
        except (OSError, ValueError):
            return {}
        names = stored.get("names") if isinstance(stored, dict) and stored.get("owner") == self.owner else None
        if not isinstance(names, dict):
            return {}
        return dict((key, rid) for key, rid in names.items() if isinstance(rid, int) and not isinstance(rid, bool))

    def _write(self, names: Dict[str, int]) -> None:
        """Replace the file atomically (readers never see half a file); failures are ignored (a hint only)."""
        folder = os.path.dirname(self.path)
        try:
            os.makedirs(folder, mode=0o700, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=".names-", dir=folder)  # created 0600
            try:
                with os.fdopen(handle, "w") as stream:
                    json.dump({"owner": self.owner, "names": names}, stream, sort_keys=True)
                os.replace(temporary, self.path)
            except BaseException:
                os.unlink(temporary)
                raise
        except OSError:
            pass

    def get(self, kind: str, name: str) -> Optional[int]:
        return self._read().get(index_key(kind, name))

    def forget(self, kind: str, name: str) -> None:
        names = self._read()
        if names.pop(index_key(kind, name), None) is not None:
            self._write(names)

    def replace(self, names: Dict[str, int]) -> None:
        """The whole index, from a full listing of the live reservations."""
        if names != self._read():
            self._write(dict(names))
