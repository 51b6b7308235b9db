# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""Which of several live reservations carrying one name is kept: the rule every run applies (docs/CONCURRENCY.md).

- the newest intent wins: the fingerprint of the highest id among them;
- among the reservations with that fingerprint, the lowest id (the first registered) is the one kept.

Pure functions of reservation records; nothing here calls the explorer.
"""

from __future__ import annotations

from typing import Dict, Iterable, List, Optional

from ansible_collections.threefold.grid.plugins.module_utils._views import Reservation, tag_of


class Verdict:
    """judge(): "proceed", "adopt" (``other`` is the reservation kept) or "yield" (``other`` is the newest)."""

    def __init__(self, action: str, other: Optional[Reservation] = None, older: Optional[List[Reservation]] = None) -> None:
        self.action = action
        self.other = other
        self.older = older if older is not None else []  # older intents this run replaces once its own deployed


def _kept(prints: Dict[int, Optional[str]]) -> int:
    """The id kept among {id: fingerprint}: the lowest id with the fingerprint of the highest one."""
    winning = prints[max(prints)]
    return min(rid for rid, print_ in prints.items() if print_ == winning)


def kept_of(named: List[Reservation]) -> Optional[Reservation]:
    """The reservation every run keeps among live ones carrying one name (None when there is none)."""
    if not named:
        return None
    by_id = dict((r["id"], r) for r in named)
    return by_id[_kept(dict((rid, (tag_of(r) or {}).get("fp")) for rid, r in by_id.items()))]


def judge(named: Iterable[Reservation], mine: int, fp: str, ignored: Iterable[int] = ()) -> Verdict:
    """The verdict for reservation ``mine`` (fingerprint ``fp``) among the live ``named`` ones; ``ignored``
    are the ids this run replaces anyway (the old reservation it decided on before registering)."""
    skipped = set(ignored) | {mine}
    rivals = dict((r["id"], r) for r in named if r["id"] not in skipped)
    prints = dict((rid, (tag_of(r) or {}).get("fp")) for rid, r in rivals.items())
    prints[mine] = fp
    winning = prints[max(prints)]
    kept = _kept(prints)
    if kept == mine:
        return Verdict("proceed", older=[rivals[rid] for rid in sorted(rivals) if rid < mine and prints[rid] != fp])
    if winning == fp:
        return Verdict("adopt", rivals[kept])
    return Verdict("yield", rivals[max(prints)])
