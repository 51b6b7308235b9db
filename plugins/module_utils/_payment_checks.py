# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""Checks that make bad payment input cost nothing (used by the lifecycle and by zos_payment).

    precheck_payment(session, payment, estimate)
        Before a reservation is registered: the `payment` block can pay the estimated price (valid secret,
        existing account, trustline, balance, XLM for the fee, max_amount). The estimate is an upper bound
        of what the explorer asks, since it prices the hours left when it receives the reservation.
    check_escrow_terms(session, reservation, escrow)
        Before zos_payment pays: the escrow details a task passes agree with the reservation on the grid
        (price at most what its workloads and lifetime cost, an asset it offers, a valid address).

Both raise PaymentError with a secret-free message; Stellar code is loaded only when they run.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ansible_collections.threefold.grid.plugins.module_utils import _pricing
from ansible_collections.threefold.grid.plugins.module_utils._amounts import amount_to_stroops, stroops_to_amount
from ansible_collections.threefold.grid.plugins.module_utils._errors import ExplorerError, PaymentError, StellarError
from ansible_collections.threefold.grid.plugins.module_utils._payment_channels import channel_count, check_channels_possible
from ansible_collections.threefold.grid.plugins.module_utils._session import GridSession
from ansible_collections.threefold.grid.plugins.module_utils._shared_reads import shared_read
from ansible_collections.threefold.grid.plugins.module_utils._views import Reservation, data_of
from ansible_collections.threefold.grid.plugins.module_utils._workloads import workload_nodes

# The explorer prices a reservation when it stores it, a moment after its `epoch`; a task's price may be
# this much younger before it counts as short of the reservation's price.
PRICING_SLACK = 60


def _stellar():
    """The _stellar module, loaded only when a check runs."""
    from ansible_collections.threefold.grid.plugins.module_utils import _stellar as stellar
    stellar.require_libraries()
    return stellar


def max_amount_stroops(payment: Dict[str, Any]) -> Optional[int]:
    """The payment block's max_amount in stroops, None when unset."""
    limit = payment.get("max_amount")
    if limit in (None, ""):
        return None
    try:
        return amount_to_stroops(limit)
    except ValueError as exc:
        raise PaymentError("max_amount: %s" % exc, "invalid_max_amount") from None


def precheck_payment(session: GridSession, payment: Dict[str, Any], estimate: Dict[str, Any]) -> None:
    total = int(estimate.get("total_amount") or 0)
    code = estimate.get("currency")
    limit = max_amount_stroops(payment)
    if total <= 0 or not code or code == "FreeTFT":
        return  # nothing to pay from this wallet
    if limit is not None and total > limit:
        raise PaymentError("the estimated price %s %s is above max_amount %s; nothing was registered or paid" % (
            stroops_to_amount(total), code, stroops_to_amount(limit)), "above_max_amount",
            {"total_amount": stroops_to_amount(total), "max_amount": stroops_to_amount(limit)})
    from ansible_collections.threefold.grid.plugins.module_utils._payment import horizon_at, horizon_settings
    stellar = _stellar()
    try:
        keypair = stellar.keypair_from_secret(payment.get("stellar_secret"))
        horizon_url, passphrase = horizon_settings(session, payment.get("horizon_url"))
        horizon = horizon_at(session, horizon_url)
        asset = stellar.resolve_asset(code, stellar.network_issuers(session.settings.get("network") or "local",
                                                                    passphrase))
        base_fee, base_reserve = horizon.fees()
        # Read once per process: the threads of zos_containers check each container against the balance the task
        # started with (its plan checked their total), and every payment checks the wallet's record again.
        payer = shared_read(horizon.client, (horizon_url, "precheck", keypair.public_key),
                            lambda: horizon.account(keypair.public_key))
        stellar.check_payer(payer, asset, total, base_fee, base_reserve)
        # Once per process too: channels that exist stay, and creating them checks the wallet again.
        count = channel_count(payment)
        shared_read(horizon.client, (horizon_url, "channels", keypair.public_key, count),
                    lambda: check_channels_possible(horizon, payer, keypair, count, (base_fee, base_reserve)))
    except StellarError as exc:
        raise PaymentError("the payment block cannot pay the estimated %s %s: %s; nothing was registered or paid"
                           % (stroops_to_amount(total), code, exc.msg), exc.code, exc.failure) from None
    except ValueError as exc:
        raise PaymentError("the payment block cannot pay: %s; nothing was registered or paid" % exc,
                           "invalid_payment") from None


def node_farms(session: GridSession, reservation: Reservation, known: Optional[Dict[str, Any]] = None
               ) -> Dict[str, Any]:
    """{node id: farm id} of the nodes the reservation's workloads use (`known` spares repeated reads)."""
    farms = known if known is not None else {}
    for node_id in workload_nodes(data_of(reservation)):
        if node_id in farms:
            continue
        try:
            farms[node_id] = session.client.get_node(node_id).get("farm_id")
        except ExplorerError as exc:
            raise PaymentError("cannot price reservation %s: reading node %s failed: %s" % (
                reservation.get("id"), node_id, exc.message), "explorer_error", exc.to_failure()) from None
    return farms


def grid_prices(session: GridSession, reservation: Reservation, *delays: int,
                farms: Optional[Dict[str, Any]] = None) -> List[int]:
    """Stroops the explorer asks for `reservation` when it prices it each of `delays` seconds after its epoch
    (`farms`: node_farms' cache, shared when many reservations are priced)."""
    data = data_of(reservation)
    farms = node_farms(session, reservation, farms)
    created = int(reservation.get("epoch") or 0)
    return [int(_pricing.estimate(data, farms, created + delay)["total_amount"]) for delay in delays]


def check_escrow_terms(session: GridSession, reservation: Reservation, escrow: Dict[str, Any],
                       total: int) -> None:
    """Refuse escrow details (asking `total` stroops) that the reservation itself contradicts."""
    stellar = _stellar()
    rid = reservation.get("id")
    address = escrow.get("address") or ""
    if not stellar.is_account_address(address):
        raise PaymentError("escrow.address %r is not a Stellar account address (G..., 56 characters); nothing was "
                           "paid" % address, "invalid_escrow")
    code = (escrow.get("asset") or "").split(":")[0]
    offered = data_of(reservation).get("currencies") or []
    if code not in offered:
        raise PaymentError("escrow.asset %s is not a currency reservation %s offers (%s); nothing was paid" % (
            code, rid, ", ".join(offered) or "none"), "escrow_mismatch")
    highest, lowest = grid_prices(session, reservation, 0, PRICING_SLACK)
    if total > highest:
        raise PaymentError("the escrow option asks %s %s but reservation %s costs at most %s by its workloads and "
                           "lifetime; nothing was paid" % (stroops_to_amount(total), code, rid,
                                                           stroops_to_amount(highest)), "escrow_mismatch",
                           {"total_amount": stroops_to_amount(total), "grid_amount": stroops_to_amount(highest)})
    if total < lowest:
        session.warn("the escrow option asks %s %s, less than the %s reservation %s costs: it keeps waiting for "
                     "payment until the rest is paid" % (stroops_to_amount(total), code, stroops_to_amount(lowest),
                                                         rid))


def warn_other_owner(session: GridSession, reservation: Reservation) -> None:
    """Warn when the identity options name an identity that is not the reservation's customer."""
    if not session.options.get("identity_name") or not session.has_identity:
        return
    owner = int(reservation.get("customer_tid") or 0)
    if owner != session.tid:
        session.warn("reservation %s belongs to tid %d, not to identity %s (tid %d): check that this is the "
                     "reservation you mean to pay" % (reservation.get("id"), owner,
                                                      session.options["identity_name"], session.tid))
