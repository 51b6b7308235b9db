# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""The money side of reservation views: the renewal price (zos_reservation_info) and the ledger
(zos_reservation_info ``ledger_account``, the resource modules' ``ledger`` option).

stellar-sdk is loaded only when a ledger is asked for; which account's ledger is _ledger_account.py's.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.threefold.grid.plugins.module_utils._errors import GridError, StellarError
from ansible_collections.threefold.grid.plugins.module_utils._lookup import explorer_call
from ansible_collections.threefold.grid.plugins.module_utils._payment_checks import grid_prices, node_farms
from ansible_collections.threefold.grid.plugins.module_utils._renewal import renewal_view
from ansible_collections.threefold.grid.plugins.module_utils._session import GridSession
from ansible_collections.threefold.grid.plugins.module_utils._views import Reservation


def identity_reservations(session: GridSession) -> List[Reservation]:
    """Every reservation of the session's identity (the ledger tells an unknown memo from a listed one)."""
    tid = session.tid
    return explorer_call("list the reservations of tid %d" % tid, session.client.list_reservations, customer_tid=tid)


def add_ledgers(session: GridSession, views: List[Dict[str, Any]], account: str, horizon_url: Optional[str]
                ) -> List[Dict[str, Any]]:
    """Sets the ``ledger`` of each of a resource module's returned ``views`` (None before registration), from one
    read for all of them; returns the identity's unmatched payments."""
    wanted = set(view["reservation_id"] for view in views if view.get("reservation_id") is not None)
    everything = sorted(identity_reservations(session), key=lambda r: r.get("id") or 0)
    found = [r for r in everything if int(r["id"]) in wanted]
    ledgers, unmatched = _ledger(session, found, everything, account, horizon_url, {})
    for view in views:
        view["ledger"] = ledgers.get(view.get("reservation_id"))
    return unmatched


def _ledger(session: GridSession, found: List[Reservation], everything: List[Reservation], account: str,
            horizon_url: Optional[str], farms: Dict[str, Any]
            ) -> Tuple[Dict[int, Dict[str, Any]], List[Dict[str, Any]]]:
    from ansible_collections.threefold.grid.plugins.module_utils._ledger import read_ledger
    from ansible_collections.threefold.grid.plugins.module_utils._payment import horizon_at, horizon_settings
    prices = {int(r["id"]): grid_prices(session, r, 0, farms=farms)[0] for r in found}
    try:
        horizon = horizon_at(session, horizon_settings(session, horizon_url)[0])
        return read_ledger(horizon, account, everything, prices, {int(r["id"]) for r in found})
    except StellarError as exc:
        raise GridError.during("Failed to read the ledger of %s" % account, exc) from None


def add(session: GridSession, found: List[Reservation], views: List[Dict[str, Any]], everything: List[Reservation],
        now: int, renewal: bool, ledger_account: Optional[str], horizon_url: Optional[str]) -> List[Dict[str, Any]]:
    """Adds `renewal` and `ledger` to each view (V(null) when not asked for); returns the unmatched payments."""
    farms: Dict[str, Any] = {}  # each node's farm, read once for the prices and the renewals
    ledgers, unmatched = {}, []
    if ledger_account:
        ledgers, unmatched = _ledger(session, found, everything, ledger_account, horizon_url, farms)
    for reservation, shown in zip(found, views):
        shown["renewal"] = renewal_view(reservation, node_farms(session, reservation, farms), now) if renewal else None
        shown["ledger"] = ledgers.get(int(reservation["id"]))
    return unmatched
