# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Audit localgrid directly after concurrent runs: what the explorer and the ledger hold, not what the runs said.

    audit.py EXPLORER_URL HORIZON_URL IDENTITY_NAME WALLET_SECRET_FILE NAME [NAME ...]

Prints one line per figure and exits 1 when any of them is wrong:
  live reservations per name (exactly 1 each), reservations paid more than once by the wallet (0), TFT paid
  on reservations that are not live and were not refunded (0).
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal

import httpx
from stellar_sdk import Keypair

LIVE = (0, 1, 2, 3)  # create, sign, pay, deploy


def reservations(client, explorer, tid):
    found, page = [], 1
    while True:
        answer = client.get(explorer + "/reservations", params={"customer_tid": tid, "page": page, "size": 100})
        answer.raise_for_status()
        found.extend(answer.json())
        if page >= int(answer.headers.get("Pages") or 1):
            return found
        page += 1


def payments(client, horizon, address):
    records, cursor = [], None
    while True:
        params = {"limit": 200, "order": "asc", "join": "transactions"}
        if cursor:
            params["cursor"] = cursor
        answer = client.get("%s/accounts/%s/payments" % (horizon, address), params=params)
        answer.raise_for_status()
        batch = answer.json()["_embedded"]["records"]
        records.extend(batch)
        if len(batch) < 200:
            return records
        cursor = batch[-1]["paging_token"]


def tag_name(reservation):
    try:
        return json.loads(reservation.get("metadata") or "{}")["ansible"]["name"]
    except (ValueError, KeyError, TypeError):
        return None


def main(explorer, horizon, identity, secret_file, *names):
    with open(secret_file) as handle:
        payer = Keypair.from_secret(handle.read().strip()).public_key
    with httpx.Client(timeout=60) as client:
        users = client.get(explorer + "/users", params={"name": identity}).json()
        tid = users[0]["id"]
        mine = reservations(client, explorer, tid)
        ledger = [p for p in payments(client, horizon, payer)
                  if p.get("type") == "payment" and p.get("transaction_successful") is not False]
    wrong = []
    for name in names:
        live = [r["id"] for r in mine if tag_name(r) == name and r["next_action"] in LIVE]
        ever = [r["id"] for r in mine if tag_name(r) == name]
        print("live reservations named %s: %d %s" % (name, len(live), live))
        print("reservations registered named %s: %d %s" % (name, len(ever), ever))
        if len(live) != 1:
            wrong.append(name)
    paid_twice, lost = [], Decimal(0)
    for reservation in mine:
        memo = str(reservation["id"])
        sent = [Decimal(p["amount"]) for p in ledger if p["from"] == payer and (p.get("transaction") or {}).get("memo") == memo]
        back = [Decimal(p["amount"]) for p in ledger if p["to"] == payer and (p.get("transaction") or {}).get("memo") == memo]
        if len(sent) > 1:
            paid_twice.append(reservation["id"])
        if reservation["next_action"] not in LIVE:
            lost += max(Decimal(0), sum(sent) - sum(back))
    print("reservations of %s: %d, payments from the wallet: %d" % (identity, len(mine), sum(
        1 for p in ledger if p["from"] == payer)))
    print("reservations paid more than once: %d %s" % (len(paid_twice), paid_twice))
    print("TFT paid on reservations not live and not refunded: %s" % lost)
    return 1 if wrong or paid_twice or lost else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
