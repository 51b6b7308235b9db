"""The one place localgrid state lives: a SQLite file in WAL mode.

Every subsystem (phonebook, directory, reservations, escrow, ledger, nodes) registers its own
tables with ``migrate`` and touches them only inside ``transaction()``. A process-wide lock
serialises transactions, so parallel requests from many Ansible forks and the node threads
never interleave half-applied changes (ids stay unique, balances stay exact).
"""

import contextlib
import json
import sqlite3
import threading


class Store:
    def __init__(self, path):
        self.path = path
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._depth = 0
        self.migrate("store", "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")

    @contextlib.contextmanager
    def transaction(self):
        """Yield the connection inside one IMMEDIATE transaction; nested calls join the outer one."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._conn
                finally:
                    self._depth -= 1
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")
            finally:
                self._depth = 0

    def migrate(self, name, sql):
        """Create the tables of one subsystem if they do not exist yet (idempotent)."""
        with self._lock:
            self._conn.executescript(sql)

    def get_meta(self, key, default=None):
        with self.transaction() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row["value"]) if row else default

    def set_meta(self, key, value):
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, json.dumps(value)),
            )

    def next_id(self, counter):
        """Allocate the next value of a named counter starting at 1 (like the explorer's Mongo counters)."""
        with self.transaction():
            value = self.get_meta("counter:" + counter, 0) + 1
            self.set_meta("counter:" + counter, value)
            return value

    def close(self):
        with self._lock:
            self._conn.close()
