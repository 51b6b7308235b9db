# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""Reads a task makes once and its threads share: records that do not change while a task runs.

    SharedReads().get(key, read) -> read()'s value, read once per key

zos_containers plans and applies 100 containers in threads that would each read the same few nodes, the ledger's
fees, Horizon's passphrase and the escrow account: hundreds of identical requests that slow the requests that
matter (the payments, which take turns). The first thread to ask for a key reads it and the others wait for its
answer instead of reading it too; when the read fails, each waiting thread reads for itself (and meets the error
itself). Only records whose change during a task would not matter are shared (each caller says why).
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Dict, Hashable


class SharedReads:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: Dict[Hashable, Any] = {}
        self._reading: Dict[Hashable, threading.Event] = {}

    def get(self, key: Hashable, read: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._values:
                return self._values[key]
            pending = self._reading.get(key)
            if pending is None:
                pending = self._reading[key] = threading.Event()
                reader = True
            else:
                reader = False
        if not reader:
            pending.wait()
            with self._lock:
                if key in self._values:
                    return self._values[key]
            return read()  # the first reader failed: meet the error (or an answer) first hand
        try:
            value = read()
            with self._lock:
                self._values[key] = value
            return value
        finally:
            with self._lock:
                del self._reading[key]
            pending.set()


def shared_read(owner: Any, key: Hashable, read: Callable[[], Any]) -> Any:
    """``read()`` through ``owner.shared_reads`` (a SharedReads) when ``owner`` has one, else read every time."""
    reads = getattr(owner, "shared_reads", None)
    return read() if reads is None else reads.get(key, read)
