"""Grid time. Every part of localgrid asks this clock, never ``time.time()``.

The offset can be advanced (``POST /localgrid/clock``) so expiry, renewal windows and
provisioning deadlines can be tested without waiting hours. It is kept in the store so a
restart keeps the same grid time.
"""

import time

# Grid times are Unix seconds the explorer stores as int64: keep them far below that.
MAX_ADVANCE = 100 * 365 * 86400


class Clock:
    def __init__(self, store, on_advance=()):
        self._store = store
        # Read on every now(): kept in memory (this process is the only writer), persisted on advance.
        self._offset = store.get_meta("clock_offset", 0.0)
        # Called after each advance: background loops sleeping until a grid time wake up and look again.
        self._on_advance = tuple(on_advance)

    @property
    def offset(self):
        return self._offset

    def now(self):
        return time.time() + self.offset

    def advance(self, seconds):
        if not 0 <= seconds <= MAX_ADVANCE:  # also refuses nan
            raise ValueError("the grid clock moves forward by at most %d seconds at a time" % MAX_ADVANCE)
        offset = self._offset + float(seconds)
        self._store.set_meta("clock_offset", offset)
        self._offset = offset
        for listener in self._on_advance:
            listener()
        return self.now()
