"""Escrow (docs/contract/explorer.md §7): free mode, or Stellar mode backed by localgrid's in-process ledger.

Stellar mode keeps one escrow account per customer, watches each reservation's memo balance,
moves paid reservations to deploy, refunds on cancel/expiry and pays farmers once deployed.
Every operation runs inside one store transaction, so the escrow loop and HTTP handlers never
interleave (and take locks in the same order: the store's first).
"""

import json
import logging
import threading
import time

from localgrid.explorer import pricing
from localgrid.explorer.errors import ApiError

log = logging.getLogger(__name__)

KNOWN_ASSETS = ("TFT", "TFTA", "FreeTFT")
# asset -> (farmer %, burned %, foundation %)
DISTRIBUTIONS = {"TFT": (90, 0, 10), "TFTA": (90, 0, 10), "FreeTFT": (0, 100, 0)}

_TABLES = """
CREATE TABLE IF NOT EXISTS escrow_accounts (customer_tid INTEGER PRIMARY KEY, address TEXT NOT NULL, secret TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS escrow_records (
    reservation_id INTEGER PRIMARY KEY,
    customer_tid INTEGER NOT NULL,
    address TEXT NOT NULL,
    asset_code TEXT NOT NULL,
    details TEXT NOT NULL,
    expiration INTEGER NOT NULL,
    paid INTEGER NOT NULL DEFAULT 0,
    released INTEGER NOT NULL DEFAULT 0,
    cancelled INTEGER NOT NULL DEFAULT 0
);
"""

EMPTY_INFORMATION = {"address": "", "asset": "", "details": None}


class FreeEscrow:
    """No -seed: nothing to pay; reservations go straight to deploy at create."""

    free = True

    def register(self, reservation, currencies):
        return dict(EMPTY_INFORMATION)

    def cancel(self, reservation_id):
        pass

    def deployed(self, reservation_id):
        pass

    def scan(self):
        pass

    def next_deadline(self):
        return None


class StellarEscrow:
    free = False

    def __init__(self, store, clock, ledger, wallets, directory, on_change=None):
        self.store = store
        self.on_change = on_change  # called after each registration: the escrow loop has a new escrow to watch
        self.clock = clock
        self.ledger = ledger
        self.wallets = wallets
        self.directory = directory
        self.reservations = None  # set by the assembly; mark_deploy is called back on payment
        # What the last scan pass saw (see _due): the ledger's transaction cursor, the open escrows and
        # those to weigh again; a new process starts from nothing, so its first pass weighs every escrow.
        self._scan_lock = threading.Lock()
        self._tx_cursor = 0
        self._open = set()
        self._recheck = set()
        store.migrate("explorer_escrow", _TABLES)

    # -- registration ----------------------------------------------------------------------
    def register(self, reservation, currencies):
        codes = [code for code in currencies if code in KNOWN_ASSETS]
        if not codes:
            raise ApiError(500, "none of the offered currencies are currently supported")
        code = codes[0]
        data = reservation["data_reservation"]
        with self.store.transaction() as conn:
            now = self.clock.now()
            details = pricing.escrow_details(data, self._farm_of_node, data["expiration_reservation"] - now)
            address = self._escrow_account(conn, reservation["customer_tid"])
            conn.execute(
                "INSERT INTO escrow_records (reservation_id, customer_tid, address, asset_code, details, expiration) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    reservation["id"],
                    reservation["customer_tid"],
                    address,
                    code,
                    json.dumps(details),
                    data["expiration_provisioning"] or 0,
                ),
            )
        if self.on_change is not None:
            self.on_change()
        return {"address": address, "asset": self.ledger.asset_string(code), "details": details}

    def _farm_of_node(self, node_id):
        # Only the reservation's nodes are read, not the whole directory (create has checked they exist).
        node = self.directory.node(node_id)
        if node is None:
            raise KeyError(node_id)
        return node["farm_id"]

    def _escrow_account(self, conn, customer_tid):
        row = conn.execute("SELECT address FROM escrow_accounts WHERE customer_tid = ?", (customer_tid,)).fetchone()
        if row:
            return row["address"]
        address, secret = self.wallets.new_account(trust=KNOWN_ASSETS)
        conn.execute(
            "INSERT INTO escrow_accounts (customer_tid, address, secret) VALUES (?, ?, ?)",
            (customer_tid, address, secret),
        )
        return address

    def escrow_address(self, customer_tid):
        with self.store.transaction() as conn:
            row = conn.execute(
                "SELECT address FROM escrow_accounts WHERE customer_tid = ?", (customer_tid,)
            ).fetchone()
        return row["address"] if row else None

    # -- events ----------------------------------------------------------------------------
    def _record(self, conn, reservation_id):
        return conn.execute("SELECT * FROM escrow_records WHERE reservation_id = ?", (reservation_id,)).fetchone()

    def cancel(self, reservation_id):
        with self.store.transaction() as conn:
            record = self._record(conn, reservation_id)
            if record is None or record["released"] or record["cancelled"]:
                return
            try:
                self._refund(record)
            except Exception:  # a failed refund must not fail the request that cancelled
                log.exception("refund of reservation %d failed", reservation_id)
                return
            conn.execute("UPDATE escrow_records SET cancelled = 1 WHERE reservation_id = ?", (reservation_id,))

    def deployed(self, reservation_id):
        """Pay the farms (90/10 or 100 % burn for FreeTFT), then refund any overpayment."""
        with self.store.transaction() as conn:
            record = self._record(conn, reservation_id)
            if record is None or record["released"] or record["cancelled"]:
                return
            try:
                self._payout(record)
            except Exception:  # the node's result is stored either way
                log.exception("payout of reservation %d failed", reservation_id)
                return
            conn.execute("UPDATE escrow_records SET released = 1 WHERE reservation_id = ?", (reservation_id,))

    def _payout(self, record):
        """One transaction, as tfexplorer v0.3.2 sends it (pkg/escrow/stellar.go payoutFarmers, pkg/stellar
        PayoutFarmers): an operation per farmer, then the burn and the foundation's share, each pooled over the
        details; memo = reservation id. The overpayment refund follows as a transaction of its own."""
        code = record["asset_code"]
        farmer_pct, burn_pct, foundation_pct = DISTRIBUTIONS[code]
        payments, burn, foundation = [], 0, 0
        for detail in json.loads(record["details"]):
            farmer, detail_burn, detail_foundation = pricing.split_payout(
                detail["total_amount"], farmer_pct, burn_pct, foundation_pct
            )
            if farmer > 0:
                payments.append((self._farm_wallet(detail["farmer_id"], code), farmer))
            burn += detail_burn
            foundation += detail_foundation
        payments += [(destination, amount) for destination, amount in (
            (self.ledger.issuer(code), burn), (self.wallets.foundation, foundation)) if amount > 0]
        if payments:
            self.ledger.pay_many(record["address"], payments, code, memo_text=str(record["reservation_id"]))
        self._refund(record)

    def _farm_wallet(self, farm_id, code):
        farm = self.directory.farm(farm_id)
        for wallet in farm["wallet_addresses"]:
            if wallet["asset"] == code:
                return wallet["address"]
        return self.wallets.foundation

    def _refund(self, record):
        """Send what is left for this memo back to its first funder."""
        memo = str(record["reservation_id"])
        code = record["asset_code"]
        remaining = self.ledger.memo_balance(record["address"], code, memo)
        if remaining <= 0:
            return
        funders = self.ledger.memo_funders(record["address"], code, memo)
        if funders:
            self.ledger.pay(record["address"], funders[0], code, remaining, memo_text=memo)

    # -- the periodic scan -----------------------------------------------------------------
    def scan(self):
        """One pass of the escrow loop: mark funded escrows paid, refund expired ones.

        Each escrow is handled in its own transaction and a failure skips only that escrow (it is
        retried on the next pass), as refundExpiredReservations does in tfexplorer v0.3.2.
        """
        with self._scan_lock:
            due = self._due()
            for reservation_id in due:
                try:
                    self._scan_one(reservation_id)
                except Exception:  # e.g. the first funder lost its trustline: keep the escrow open, scan the others
                    log.exception("escrow scan of reservation %d failed", reservation_id)
            # Funded but not deployable yet (still waiting for signatures), or failed: looked at again next pass.
            self._recheck = set(due)

    def _due(self):
        """Open escrows a pass has something to do for: expired ones, and funded ones not marked paid yet.

        Only escrows whose funding can have changed are weighed: new ones, those whose memo a
        transaction used since the last pass, and those due last pass. A burst of payments then
        costs a pass what was paid, not every open escrow's balance (each a ledger query).
        """
        due = []
        with self.store.transaction() as conn:
            now = self.clock.now()
            memos, self._tx_cursor = self.ledger.memos_since(self._tx_cursor)
            touched = {int(memo) for memo in memos if memo.isdigit() and str(int(memo)) == memo}
            rows = conn.execute(
                "SELECT reservation_id, expiration, paid FROM escrow_records "
                "WHERE released = 0 AND cancelled = 0 ORDER BY reservation_id"
            ).fetchall()
            for row in rows:
                reservation_id = row["reservation_id"]
                if row["expiration"] <= now:
                    due.append(reservation_id)
                elif not row["paid"] and (reservation_id not in self._open or reservation_id in touched
                                          or reservation_id in self._recheck):
                    try:
                        if self._funded(self._record(conn, reservation_id)):
                            due.append(reservation_id)
                    except Exception:  # _scan_one meets the same failure and logs it for this escrow only
                        due.append(reservation_id)
            self._open = {row["reservation_id"] for row in rows}
        return due

    def _funded(self, record):
        total = sum(detail["total_amount"] for detail in json.loads(record["details"]))
        balance = self.ledger.memo_balance(record["address"], record["asset_code"], str(record["reservation_id"]))
        return balance >= total

    def next_deadline(self):
        """The grid time at which the first open escrow misses its provisioning deadline, or None."""
        with self.store.transaction() as conn:
            row = conn.execute(
                "SELECT MIN(expiration) AS first FROM escrow_records WHERE released = 0 AND cancelled = 0"
            ).fetchone()
        return row["first"]

    def _scan_one(self, reservation_id):
        with self.store.transaction() as conn:
            record = self._record(conn, reservation_id)
            if record is None or record["released"] or record["cancelled"]:
                return
            if record["expiration"] <= self.clock.now():
                self._refund(record)
                conn.execute("UPDATE escrow_records SET cancelled = 1 WHERE reservation_id = ?", (reservation_id,))
                return
            if record["paid"]:
                return
            if self._funded(record) and self.reservations.mark_deploy(reservation_id):
                conn.execute("UPDATE escrow_records SET paid = 1 WHERE reservation_id = ?", (reservation_id,))


class EscrowLoop:
    """Background thread running ``escrow.scan()`` when there may be something to do.

    A scan runs when the ledger applied a transaction, an escrow was registered or the grid clock
    moved (each notifies ``wakeup``), when the first open escrow's provisioning deadline passes,
    and at least every ``profile.escrow_idle_interval`` (a refund that failed is retried then); two
    scans are at least ``profile.escrow_scan_interval`` apart, so a burst of payments costs one scan
    per interval, not one per payment. Idle, the loop sleeps instead of scanning nothing.
    """

    def __init__(self, escrow, clock, profile, wakeup):
        self.escrow = escrow
        self.clock = clock
        self.interval = profile.escrow_scan_interval
        self.idle_interval = profile.escrow_idle_interval
        self.wakeup = wakeup
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="localgrid-escrow", daemon=True)

    def start(self):
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            seen, started = self.wakeup.generation, time.monotonic()
            try:
                self.escrow.scan()
            except Exception:  # keep scanning: one bad record must not stop payments for the others
                log.exception("escrow scan failed")
            self.wakeup.wait(seen, self._until_deadline())
            self._stop.wait(max(0.0, started + self.interval - time.monotonic()))

    def _until_deadline(self):
        try:
            deadline = self.escrow.next_deadline()
        except Exception:
            log.exception("escrow deadline lookup failed")
            deadline = None
        if deadline is None:
            return self.idle_interval
        # A record expires once its deadline is <= now: wake just after it.
        return min(self.idle_interval, max(0.0, deadline - self.clock.now()) + 0.05)

    def stop(self):
        self._stop.set()
        self.wakeup.notify()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
