"""Wakes idle background loops when there may be new work, so they can poll rarely when idle.

A loop reads ``generation`` before it looks for work, then ``wait``s: the wait ends at the timeout
or as soon as anything ``notify``s after that read, so a change made while it was busy is not missed.
"""

import threading


class Wakeup:
    def __init__(self):
        self._changed = threading.Condition()
        self._generation = 0

    @property
    def generation(self):
        with self._changed:
            return self._generation

    def notify(self):
        with self._changed:
            self._generation += 1
            self._changed.notify_all()

    def wait(self, seen, timeout):
        """Block until a notify after ``seen`` was read, or ``timeout`` seconds; True when notified."""
        with self._changed:
            return self._changed.wait_for(lambda: self._generation != seen, timeout)
