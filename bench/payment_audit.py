"""Every reservation paid exactly once: count a wallet's payments per memo on localgrid's Horizon.

The escrow matches a payment to a reservation by its text memo (the reservation id), so two payments
with one memo are a double payment whatever the explorer makes of them.
"""

import collections

import httpx
from stellar_sdk import Keypair

from harness import Customer, ExplorerClient, _workloads

PAGE = 200


def payments_per_memo(horizon_url, secret):
    """{memo: number of successful payments} the wallet of ``secret`` made, read through every page."""
    payer = Keypair.from_secret(secret).public_key
    counts = collections.Counter()
    cursor = ""
    with httpx.Client(timeout=60) as http:
        while True:
            page = http.get("%s/accounts/%s/payments" % (horizon_url, payer),
                            params={"limit": PAGE, "join": "transactions", "order": "asc", "cursor": cursor})
            page.raise_for_status()
            records = page.json()["_embedded"]["records"]
            for record in records:
                if record.get("type") == "payment" and record.get("from") == payer and record.get(
                        "transaction_successful", True):
                    counts[(record.get("transaction") or {}).get("memo")] += 1
            if len(records) < PAGE:
                return counts
            cursor = records[-1]["paging_token"]


def deployed_containers(lg, identity):
    """Ids of the live container reservations of ``identity`` whose node reported them running."""
    customer = Customer(lg, identity.name, identity.seed_file)
    ok = _workloads.RESULT_STATES["ok"]
    with ExplorerClient(lg.explorer_url) as client:
        reservations = client.get_all("/reservations", {"customer_tid": customer.tid}, page_size=1000)
    return [reservation["id"] for reservation in reservations
            if reservation["data_reservation"]["containers"]
            and [result["state"] for result in reservation["results"] or []] == [ok]]


def audit(lg, wallet_secret, identities, expected):
    """Two verdicts, each (ok, detail): every identity has ``expected[name]`` deployed containers, and
    each deployed container was paid exactly once from the wallet."""
    counts = payments_per_memo(lg.horizon_url, wallet_secret)
    missing, wrong, total = [], [], 0
    for identity in identities:
        ids = deployed_containers(lg, identity)
        total += len(ids)
        if len(ids) != expected[identity.name]:
            missing.append("%s: %d of %d" % (identity.name, len(ids), expected[identity.name]))
        wrong += ["reservation %d paid %d times" % (rid, counts[str(rid)]) for rid in ids if counts[str(rid)] != 1]
    return ((not missing, "deployed: " + ", ".join(missing) if missing else "%d containers" % total),
            (not wrong, "; ".join(wrong[:10]) or "%d containers, one payment each" % total))
