# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""The order in which one wallet's payments run within a process (zos_containers pays many from threads).

    with wallet_turn(address):  # one at a time, first come first served: sequence number, memo, submission (G1)
        ...

The turn removes collisions between the process's own payments (they never take each other's sequence
number). It is served in the order asked, so the time a payment waits for it is bounded by the payments that
asked before (the reservation re-read before the turn, docs/CONCURRENCY.md G2, is re-done inside it only when
that wait was long), and a release wakes only the next payment, not every waiting thread.
"""

from __future__ import annotations

import collections
import threading
from typing import Any, Deque, Dict


class WalletTurn:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held = False
        self._waiting: Deque[threading.Event] = collections.deque()

    def __enter__(self) -> "WalletTurn":
        with self._lock:
            if not self._held:
                self._held = True
                return self
            handed = threading.Event()
            self._waiting.append(handed)
        handed.wait()  # the payment ahead hands the turn over on its way out
        return self

    def __exit__(self, *exc_info: Any) -> None:
        with self._lock:
            if self._waiting:
                self._waiting.popleft().set()
            else:
                self._held = False


_TURNS: Dict[str, WalletTurn] = {}
_TURNS_LOCK = threading.Lock()


def wallet_turn(address: str) -> WalletTurn:
    """The process's one WalletTurn for the wallet ``address``."""
    with _TURNS_LOCK:
        return _TURNS.setdefault(address, WalletTurn())
