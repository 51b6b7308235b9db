# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""The threads of a zos_containers wave that are about to register, so that a listing can wait for them.

Each thread of a wave registers its container, then checks it against a listing begun after its registration
(docs/CONCURRENCY.md, G4), then pays. Without a wait, the first threads to register each start a listing while
the others are still registering: a fleet of 100 made a dozen listings of 100 reservations and its payments
competed with the registrations for both cores. With one, a listing asked for while some threads of the wave
have not registered yet starts once they all have (or have ended, or MAX_WAIT has passed), and serves every
thread's check at once. A listing still starts after the registration of whoever asked for it, so a check sees
what it saw before; only when it starts moves.

    writers.expect(count)        # before the wave's threads start
    with writers.writing():      # each thread, around its work
        ...                      # its first write (Reservations.invalidate) calls writers.wrote()
    if writers.pending():        # before a listing (False for a thread of the wave that has not written)
        writers.wait()
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Iterator

MAX_WAIT = 5.0  # seconds a listing waits for the wave: only a registration slowed by retries takes longer


class PendingWriters:
    def __init__(self) -> None:
        self._pending = 0
        self._changed = threading.Condition()
        self._local = threading.local()

    def expect(self, count: int) -> None:
        with self._changed:
            self._pending += count

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        self._local.pending = True
        try:
            yield
        finally:
            self.wrote()

    def wrote(self) -> None:
        """The calling thread's first write (or its end) counts it out of the wave; later calls do nothing."""
        if not getattr(self._local, "pending", False):
            return
        self._local.pending = False
        with self._changed:
            self._pending -= 1
            if self._pending <= 0:
                self._changed.notify_all()

    def pending(self) -> bool:
        """Whether a listing the calling thread asks for should wait: threads of the wave are left to write, and
        the caller is not one of them (its own check before registering, or a failed registration's, lists now)."""
        return self._pending > 0 and not getattr(self._local, "pending", False)

    def wait(self) -> None:
        """Until no thread of the wave is left to write, at most MAX_WAIT."""
        deadline = time.monotonic() + MAX_WAIT
        with self._changed:
            while self._pending > 0 and time.monotonic() < deadline:
                self._changed.wait(deadline - time.monotonic())
