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


class NodeWakeups:
    """One Wakeup per node id: new work wakes only the nodes it is for, a clock move wakes them all."""

    def __init__(self):
        self._lock = threading.Lock()
        self._members = {}

    def of(self, node_id):
        with self._lock:
            return self._members.setdefault(node_id, Wakeup())

    def notify(self, node_ids):
        with self._lock:
            members = [self._members[node_id] for node_id in set(node_ids) if node_id in self._members]
        for member in members:
            member.notify()

    def notify_all(self):
        with self._lock:
            members = list(self._members.values())
        for member in members:
            member.notify()
