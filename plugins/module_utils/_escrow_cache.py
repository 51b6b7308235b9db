# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""The escrow details the explorer answered at registration, kept on the controller before paying.

The explorer returns a reservation's escrow address and amount only in the answer to POST /reservations.
A run killed between registering and paying loses them; a later run on the same controller reads them
here (_escrow_recovery.py), so the reservation is paid instead of replaced. A _cache_file.CacheFile
(``reservation-escrows-<digest>.json``): addresses and amounts only, no secret; the newest KEPT entries.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from ansible_collections.threefold.grid.plugins.module_utils._cache_file import CacheFile

KEPT = 256  # reservations remembered; older ones are long paid or expired


class EscrowCache:
    def __init__(self, explorer_url: str, tid: int, public_key_hex: str, directory: Optional[str] = None) -> None:
        self.file = CacheFile("reservation-escrows", "escrows", explorer_url, tid, public_key_hex, directory)

    def remember(self, reservation_id: int, escrow_information: Dict[str, Any]) -> None:
        """Keep what POST /reservations answered for ``reservation_id`` (nothing when it asks for nothing)."""
        if not escrow_information or not escrow_information.get("address"):
            return

        def with_it(entries: Dict[str, Any]) -> Dict[str, Any]:
            entries[str(int(reservation_id))] = {"address": escrow_information.get("address"),
                                                 "asset": escrow_information.get("asset"),
                                                 "details": list(escrow_information.get("details") or [])}
            if len(entries) <= KEPT:
                return entries
            newest = sorted(entries, key=lambda rid: int(rid) if rid.isdigit() else -1)[-KEPT:]
            return dict((rid, entries[rid]) for rid in newest)
        self.file.update(with_it)

    def recall(self, reservation_id: int) -> Optional[Dict[str, Any]]:
        entry = self.file.get(str(int(reservation_id)))
        if not isinstance(entry, dict) or not isinstance(entry.get("address"), str):
            return None
        return dict(entry)  # the parsed file is shared by the process's later reads
