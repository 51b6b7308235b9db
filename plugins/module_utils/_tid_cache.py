# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""identity name -> tid, as the phonebook answered a previous task for one public key on one explorer.

An idempotent check needs the tid only to find its name index (_name_index.py, which is kept per tid);
this file lets it skip the phonebook lookup. A hint, never the truth: ``Reservations.cached`` trusts a
tid from here only together with a reservation read from the explorer that carries this tid and this
identity's customer signature, and anything that registers, pays or cancels reads the phonebook.
The file is a _cache_file.CacheFile (``identity-tids-<digest>.json``, 0600, no secret).
"""

from __future__ import annotations

from typing import Optional

from ansible_collections.threefold.grid.plugins.module_utils._cache_file import CacheFile

# The file maps names to tids, so it belongs to no tid: its owner's tid is 0 (no 3Bot has it).
NO_TID = 0


class TidCache:
    def __init__(self, explorer_url: str, public_key_hex: str, directory: Optional[str] = None) -> None:
        self.file = CacheFile("identity-tids", "tids", explorer_url, NO_TID, public_key_hex, directory)

    def get(self, name: str) -> Optional[int]:
        tid = self.file.get(name)
        return tid if isinstance(tid, int) and not isinstance(tid, bool) and tid > 0 else None

    def put(self, name: str, tid: int) -> None:
        self.file.update(lambda tids: None if tids.get(name) == tid else dict(tids, **{name: tid}))
