# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""The escrow details of a reservation found unpaid on a later run, so that it is paid instead of replaced.

The explorer returns escrow details only in the answer to POST /reservations. A reservation registered by
a run that was killed before paying can still be paid when its details are recovered:

    recover_escrow(session, reservation, payment, cache) -> (escrow_information or None, how)
        1. the controller-side cache written at registration, before paying (_escrow_cache.py): the
           explorer's own answer;
        2. else the escrow address from the paying wallet's latest payments on Horizon (the explorer keeps
           one escrow account per customer: a payment from this wallet whose memo is a reservation of this
           identity that was deployed went to that account), the asset from the reservation's currencies (the
           explorer takes the first one it knows; FreeTFT only on free nodes), and the amount from the
           reservation's workloads and lifetime (_pricing, as check mode estimates it; the higher of the
           prices at its creation and PRICING_SLACK later, since overpaying is accepted and underpaying is not).
        ``how`` says where the details came from or, with None, why they could not be recovered.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.threefold.grid.plugins.module_utils import _pricing
from ansible_collections.threefold.grid.plugins.module_utils._errors import ExplorerError, StellarError
from ansible_collections.threefold.grid.plugins.module_utils._escrow_cache import EscrowCache
from ansible_collections.threefold.grid.plugins.module_utils._payment_checks import PRICING_SLACK
from ansible_collections.threefold.grid.plugins.module_utils._session import GridSession
from ansible_collections.threefold.grid.plugins.module_utils._views import Reservation, data_of
from ansible_collections.threefold.grid.plugins.module_utils._workloads import workload_nodes

ESCROW_ASSETS = ("TFT", "TFTA", "FreeTFT")  # the codes the explorer's wallet knows (explorer.md §7.2)
MEMOS_CHECKED = 5  # reservations read to confirm an escrow address found in the wallet's history


def recover_escrow(session: GridSession, reservation: Reservation, payment: Dict[str, Any],
                   cache: EscrowCache) -> Tuple[Optional[Dict[str, Any]], str]:
    cached = cache.recall(int(reservation["id"]))
    if cached is not None:
        return cached, "the escrow details kept on this controller when the reservation was registered"
    if not payment.get("stellar_secret"):
        return None, "it was registered on another controller (or its cache was cleared) and no wallet is given"
    try:
        price, code = _price(session, reservation)
        if price <= 0:
            return None, "its workloads cost nothing by the explorer's pricing"
        address, asset = _escrow_from_history(session, payment, code, int(reservation["id"]))
    except (ExplorerError, StellarError) as error:
        return None, "reading the grid failed (%s)" % error.msg
    except ValueError as error:
        return None, str(error)
    if address is None:
        return None, ("it was registered on another controller (or its cache was cleared) and the wallet's latest "
                      "payments show no earlier payment to this identity's escrow account")
    return ({"address": address, "asset": asset, "details": [{"farmer_id": None, "total_amount": price}]},
            "the escrow account this wallet paid before and the price of the reservation's workloads")


def _price(session: GridSession, reservation: Reservation) -> Tuple[int, str]:
    """(stroops, asset code) the explorer asks for the reservation, as it prices it at registration."""
    data = data_of(reservation)
    farms = {}
    free = True
    for node_id in workload_nodes(data):
        node = session.client.get_node(node_id)
        farms[node_id] = node.get("farm_id")
        free = free and bool(node.get("free_to_use"))
    offered = [code for code in data.get("currencies") or [] if code in ESCROW_ASSETS]
    offered = [code for code in offered if (code == "FreeTFT") == free]
    if not offered:
        raise ValueError("none of its currencies (%s) can pay it" % ", ".join(data.get("currencies") or []))
    created = int(reservation.get("epoch") or 0)
    prices = [int(_pricing.estimate(data, farms, created + delay)["total_amount"]) for delay in (0, PRICING_SLACK)]
    return max(prices), offered[0]


def _escrow_from_history(session: GridSession, payment: Dict[str, Any], code: str,
                         reservation_id: int) -> Tuple[Optional[str], str]:
    """(escrow address or None, CODE:ISSUER) from the paying wallet's latest payments."""
    from ansible_collections.threefold.grid.plugins.module_utils._payment import _stellar, horizon_at, horizon_settings
    stellar = _stellar()
    keypair = stellar.keypair_from_secret(payment.get("stellar_secret"))
    url, passphrase = horizon_settings(session, payment.get("horizon_url"))
    asset = stellar.resolve_asset(code, stellar.network_issuers(session.settings.get("network") or "local", passphrase))
    horizon = horizon_at(session, url)
    for address, memo in _candidates(horizon.latest_payments(keypair.public_key), keypair.public_key, reservation_id):
        try:
            paid_for = session.client.get_reservation(int(memo))
        except ExplorerError:
            continue
        # Deployed once means the escrow saw a payment for it, and this wallet's went to `address`.
        if int(paid_for.get("customer_tid") or 0) == session.tid and paid_for.get("results"):
            return address, asset
    return None, asset


def _candidates(records: List[Dict[str, Any]], payer: str, reservation_id: int) -> List[Tuple[str, str]]:
    """(destination, memo) of the wallet's successful payments whose memo is another reservation id, newest first."""
    found: Dict[str, str] = {}  # memo -> destination, in the order seen (newest first)
    for record in records:
        memo = str((record.get("transaction") or {}).get("memo") or "")
        if (record.get("type") != "payment" or record.get("from") != payer or record.get("to") == payer
                or record.get("transaction_successful") is False or not memo.isdigit()
                or memo == str(reservation_id) or memo in found):
            continue
        found[memo] = record.get("to")
        if len(found) == MEMOS_CHECKED:
            break
    return [(destination, memo) for memo, destination in found.items()]
