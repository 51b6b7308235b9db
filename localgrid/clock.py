"""Grid time. Every part of localgrid asks this clock, never ``time.time()``.

The offset can be advanced (``POST /localgrid/clock``) so expiry, renewal windows and
provisioning deadlines can be tested without waiting hours. It is kept in the store so a
restart keeps the same grid time.
"""

import time


class Clock:
    def __init__(self, store):
        self._store = store

    @property
    def offset(self):
        return self._store.get_meta("clock_offset", 0.0)

    def now(self):
        return time.time() + self.offset

    def advance(self, seconds):
        if seconds < 0:
            raise ValueError("the grid clock only moves forward")
        self._store.set_meta("clock_offset", self.offset + float(seconds))
        return self.now()
