"""What the reliability suite checks once localgrid is stopped: its state file, read directly.

Reservations (explorer), escrow records and the ledger's effects are read from SQLite, not through
the routes, so the audit sees no injected fault and no rule of the explorer's view stands between
the suite and what was stored. Amounts are in stroops (1e-7 TFT) as on the ledger.
"""

import collections
import dataclasses
import json
import sqlite3

LIVE = (0, 1, 2, 3)  # next_action create, sign, pay, deploy; delete, invalid and deleted are not live
STROOPS = 10**7


@dataclasses.dataclass
class Reservation:
    rid: int
    name: str
    kind: str
    live: bool
    state: int
    paid: int = 0  # TFT the wallet sent with this memo
    refunded: int = 0  # TFT sent back to the wallet with this memo
    payments: int = 0
    through_channels: int = 0  # payments whose transaction is another account's (a payment channel)
    due: int = 0  # what the escrow asked for at registration


@dataclasses.dataclass
class Findings:
    reservations: list
    duplicates: list  # (name, [live ids])
    double_payments: list  # Reservation paid more than once or more than due
    lost: list  # (Reservation, stroops) paid, not live, not refunded
    unpaid_live: list  # live reservations still waiting for payment

    @property
    def lost_stroops(self):
        return sum(amount for _reservation, amount in self.lost)


def audit_state(state_path, customer_tid, wallet_address):
    """Findings for the reservations of ``customer_tid`` paid from ``wallet_address``."""
    conn = sqlite3.connect("file:%s?mode=ro" % state_path, uri=True)
    conn.row_factory = sqlite3.Row
    try:
        reservations = _reservations(conn, customer_tid)
        _add_payments(conn, reservations, wallet_address)
    finally:
        conn.close()
    live_by_name = collections.defaultdict(list)
    for reservation in reservations.values():
        if reservation.live and reservation.name:
            live_by_name[(reservation.kind, reservation.name)].append(reservation.rid)
    values = sorted(reservations.values(), key=lambda item: item.rid)
    return Findings(
        reservations=values,
        duplicates=sorted((name, ids) for (_kind, name), ids in live_by_name.items() if len(ids) > 1),
        double_payments=[item for item in values if item.payments > 1 or (item.due and item.paid > item.due)],
        lost=[(item, item.paid - item.refunded) for item in values if not item.live and item.paid > item.refunded],
        unpaid_live=[item for item in values if item.state == 2],
    )


def _reservations(conn, customer_tid):
    found = {}
    for row in conn.execute("SELECT id, next_action, doc FROM reservations WHERE customer_tid = ?", (customer_tid,)):
        doc = json.loads(row["doc"])
        try:
            tag = json.loads(doc.get("metadata") or "{}").get("ansible") or {}
        except ValueError:
            tag = {}
        found[row["id"]] = Reservation(row["id"], tag.get("name", ""), tag.get("kind", ""),
                                       row["next_action"] in LIVE, row["next_action"])
    for row in conn.execute("SELECT reservation_id, details FROM escrow_records WHERE customer_tid = ?", (customer_tid,)):
        if row["reservation_id"] in found:
            found[row["reservation_id"]].due = sum(item["total_amount"] for item in json.loads(row["details"]) or [])
    return found


def _add_payments(conn, reservations, wallet):
    """Every TFT debit and credit of the wallet in a successful transaction whose text memo is a reservation id."""
    rows = conn.execute(
        "SELECT e.type, e.amount, t.memo, t.source_account FROM stellar_effects e "
        "JOIN stellar_transactions t ON t.id = e.tx_id "
        "WHERE e.account = ? AND e.asset_code = 'TFT' AND e.type IN ('account_debited', 'account_credited') "
        "AND t.successful = 1 AND t.memo_type = 'text'", (wallet,))
    for row in rows:
        reservation = reservations.get(int(row["memo"])) if (row["memo"] or "").isdigit() else None
        if reservation is None:
            continue
        if row["type"] == "account_debited":
            reservation.paid += row["amount"]
            reservation.payments += 1
            reservation.through_channels += row["source_account"] != wallet
        else:
            reservation.refunded += row["amount"]


def customer_tid(state_path, name):
    """The 3Bot id of ``name``, or None when it was never registered (its set-up failed)."""
    conn = sqlite3.connect("file:%s?mode=ro" % state_path, uri=True)
    try:
        row = conn.execute("SELECT id FROM phonebook_users WHERE name = ?", (name,)).fetchone()
    finally:
        conn.close()
    return row[0] if row else None


def secrets_in(paths, secrets):
    """[(file name, which secret)] for every captured output that contains one of ``secrets`` ({label: value})."""
    found = []
    for path in paths:
        text = path.read_text(encoding="utf-8", errors="replace")
        found += [(path.name, label) for label, value in secrets.items() if value and value in text]
    return found
