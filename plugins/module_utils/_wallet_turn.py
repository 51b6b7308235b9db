# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""The order in which one wallet's payments run within a process (zos_containers pays many from threads).

    turn = wallet_turn(address)
    with turn.line:      # at most IN_LINE payments of the wallet between their last check and their submission
        ...              # re-read the reservation (docs/CONCURRENCY.md, G2)
        with turn:       # one at a time, first come first served: sequence number, memo, submission (G1)
            ...

The turn removes collisions between the process's own payments (they never take each other's sequence
number). Being in line lets the next payments re-read their reservations while the current one is submitted,
so the explorer's answer time is not added to every payment of a fleet, and since the turn is served in
order, a payment that re-read its reservation waits for at most IN_LINE - 1 others before its own submission.
"""

from __future__ import annotations

import threading
from typing import Any, Dict

IN_LINE = 4


class WalletTurn:
    def __init__(self) -> None:
        self.line = threading.BoundedSemaphore(IN_LINE)
        self._changed = threading.Condition()
        self._next_ticket = 0
        self._serving = 0

    def __enter__(self) -> "WalletTurn":
        with self._changed:
            ticket = self._next_ticket
            self._next_ticket += 1
            while self._serving != ticket:
                self._changed.wait()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        with self._changed:
            self._serving += 1
            self._changed.notify_all()


_TURNS: Dict[str, WalletTurn] = {}
_TURNS_LOCK = threading.Lock()


def wallet_turn(address: str) -> WalletTurn:
    """The process's one WalletTurn for the wallet ``address``."""
    with _TURNS_LOCK:
        return _TURNS.setdefault(address, WalletTurn())
