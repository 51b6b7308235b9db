# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""Paying a reservation's escrow on Stellar, exactly once (shared by zos_payment and resource modules).

Entry points (the `payment` block's options are _base.payment_argument_spec()):

    pay_escrow(session, reservation_id, escrow_information, payment, from_task=False) -> dict
        session: a _session.GridSession (its network settings, explorer client and check mode are used);
        escrow_information: the dict POST /reservations returned ({"address","asset","details"});
        payment: the `payment` block (keys as above; missing keys take their defaults; zos_payment
        also passes wait_timeout, wait_sleep and wait_for);
        from_task: the escrow details come from a task, not from the explorer: they are checked against
        the reservation first (_payment_checks.check_escrow_terms).
        Returns {"changed", "transaction_hash", "amount", "total_amount", "asset", "destination", "memo",
                 "already_paid", "free", "next_action"}; amounts are 7-decimal strings: `amount` is what this
        call paid (or would pay in check mode), `already_paid` what the escrow held for the memo before.
        Raises PaymentError(msg, code, failure) on any failure; nothing in it holds the secret.

Stellar code (_stellar, _stellar_envelope) is imported only when a payment step runs, and a payment is built
and signed without stellar-sdk (see _stellar_envelope for why).

Exactly once: the paying wallet's payments carrying memo = reservation id since the reservation was
created are summed the way the explorer does (credits to the escrow minus its refunds) and only the
remainder is paid; the reservation is re-read just before signing; a lost confirmation is resolved by
transaction hash before the same signed envelope is ever resubmitted (see _stellar.Horizon.submit), and a
tx_bad_seq (another payment from the wallet took the sequence number) is signed again with a fresh one.
"""

from __future__ import annotations

import random
import time
from typing import Any, Callable, Dict, Iterable, Optional, Tuple

from ansible_collections.threefold.grid.plugins.module_utils._amounts import amount_to_stroops, stroops_to_amount
from ansible_collections.threefold.grid.plugins.module_utils._errors import (
    ExplorerError,
    ExplorerNotFound,
    PaymentError,
    StellarError,
)
from ansible_collections.threefold.grid.plugins.module_utils._explorer import GRID_NETWORKS
from ansible_collections.threefold.grid.plugins.module_utils._payment_checks import (
    check_escrow_terms,
    max_amount_stroops,
    warn_other_owner,
)
from ansible_collections.threefold.grid.plugins.module_utils._payment_channels import (
    channel_for,
    check_channel_fee,
    ensure_channels,
)
from ansible_collections.threefold.grid.plugins.module_utils._payment_history import (
    channel_state,
    forget_wallet,
    paid_from,
    wallet_state,
)
from ansible_collections.threefold.grid.plugins.module_utils._session import GridSession
from ansible_collections.threefold.grid.plugins.module_utils._shared_reads import shared_read
from ansible_collections.threefold.grid.plugins.module_utils._views import (
    ENDED_STATES,
    PAYABLE_STATES,
    Reservation,
    first_error,
    is_deployed,
    state_name,
)
from ansible_collections.threefold.grid.plugins.module_utils._waiter import WaitTimeout, wait_for
from ansible_collections.threefold.grid.plugins.module_utils._wallet_turn import wallet_turn

CLOCK_SKEW = 300  # seconds the ledger's clock may be behind the explorer's
# Parallel payments from one wallet share its sequence number (docs/CONCURRENCY.md, "parallel payments"): a
# payment whose sequence number another one took is signed again after a random pause whose bound is the time
# the refused attempt took (at least SEQUENCE_PAUSE), doubled per attempt: contenders spread out over as many
# attempt-lengths as there are of them, on a calm controller or a loaded one, instead of colliding again in step.
SEQUENCE_ATTEMPTS = 12
SEQUENCE_PAUSE = 0.1  # seconds
SEQUENCE_PAUSE_MAX = 10.0
# The reservation is re-read just before the wallet's turn, and once more inside it when the turn came later than
# this: at most these seconds (plus one submission) between the last read of its state and the payment (G2).
RE_READ_AGE = 5.0
PAYMENT_TYPES = ("payment", "path_payment_strict_receive", "path_payment_strict_send", "path_payment")


def _stellar():
    """The _stellar module, loaded only when a payment or wallet step runs (it signs with pynacl, not stellar-sdk)."""
    from ansible_collections.threefold.grid.plugins.module_utils import _stellar as stellar
    stellar.require_libraries()
    return stellar


def require_stellar() -> None:
    """Fail early (MissingLibraryError) when a library payments need is missing, before any payment step."""
    _stellar()


# ---- pure helpers ----------------------------------------------------------------------------

def paid_for_memo(records: Iterable[Dict[str, Any]], escrow: str, asset: str, memo: str,
                  transaction_of: Optional[Callable[[str], Dict[str, Any]]] = None) -> int:
    """Stroops the escrow holds for `memo` in `asset`: credits minus debits, as the explorer counts them.

    `records` are Horizon payment records of the escrow (joined with their transaction when Horizon
    supports join; otherwise `transaction_of(hash)` supplies the transaction record).
    """
    total = 0
    for record in records:
        if record.get("type") not in PAYMENT_TYPES or record.get("transaction_successful") is False:
            continue
        if _stellar().asset_of(record) != asset:
            continue
        transaction = record.get("transaction")
        if transaction is None and transaction_of is not None:
            transaction = transaction_of(record.get("transaction_hash"))
        if (transaction or {}).get("memo") != memo:
            continue
        amount = amount_to_stroops(record.get("amount") or "0")
        if record.get("to") == escrow:
            total += amount
        elif record.get("from") == escrow:
            total -= amount
    return max(total, 0)


def deployment_outcome(reservation: Reservation) -> str:
    """'deployed', 'pending' or raises PaymentError for a failed/cancelled reservation."""
    failed = first_error(reservation)
    if failed is not None:
        raise PaymentError("reservation %s failed on node %s: %s" % (
            reservation.get("id"), failed.get("node_id"), failed.get("message") or "no message"),
            "deploy_failed", {"workload_id": failed.get("workload_id"), "node_id": failed.get("node_id")})
    state = state_name(reservation)
    if state in ENDED_STATES:
        raise PaymentError("reservation %s was cancelled or expired (next_action %s)" % (reservation.get("id"), state),
                           "reservation_cancelled", {"next_action": state})
    return "deployed" if is_deployed(reservation) else "pending"


# ---- Horizon selection -----------------------------------------------------------------------

def horizon_at(session: GridSession, url: str) -> Any:
    """A _stellar.Horizon at `url` whose requests time out after the session's explorer_timeout."""
    return _stellar().Horizon(url, timeout=session.options.get("explorer_timeout"))


def horizon_settings(session: GridSession, horizon_url: Optional[str] = None) -> Tuple[str, str]:
    """(horizon URL, network passphrase) for this module's grid network and overrides.

    On `local`, an explorer_url override without a horizon_url means the same localgrid: its Horizon is
    `<base>/stellar`. A Horizon URL that is not the network's own reports its passphrase at `GET /`; on
    main, test and dev it must be that network's, on local it must not be a public one (either way two grids
    would be mixed).
    """
    settings = session.settings
    network = settings.get("network") or "local"
    known = GRID_NETWORKS[network]
    url = (horizon_url or settings.get("horizon_url") or known["horizon_url"]).rstrip("/")
    explorer_url = settings.get("explorer_url") or known["explorer_url"]
    if (network == "local" and not horizon_url and not session.options.get("horizon_url")
            and explorer_url != known["explorer_url"] and explorer_url.endswith("/explorer")):
        url = explorer_url[:-len("/explorer")] + "/stellar"
    passphrase = known["network_passphrase"]
    if url != known["horizon_url"].rstrip("/"):
        served = horizon_at(session, url).network_passphrase()
        public = any(name != "local" and other["network_passphrase"] == served for name, other in GRID_NETWORKS.items())
        if served != passphrase and (network != "local" or public):
            # The grid's assets would be looked up on a ledger that does not hold them (op_no_issuer at best).
            expected = repr(passphrase) if network != "local" else "a localgrid's own ledger"
            raise StellarError("horizon_url %s serves the Stellar network %r, but network=%s pays on %s: set network "
                               "to the grid this Horizon belongs to (local for a localgrid), or a horizon_url (or "
                               "TFGRID_HORIZON_URL) of the %s network" % (url, served, network, expected, network),
                               "network_mismatch", {"horizon_url": url, "network": network})
        passphrase = served
    return url, passphrase


# ---- the payment -----------------------------------------------------------------------------

def _escrow_terms(escrow: Dict[str, Any]) -> Tuple[int, str]:
    stellar = _stellar()
    try:
        total = stellar.escrow_total_stroops(escrow)
        asset = escrow.get("asset") or ""
        if escrow.get("address") and total > 0:
            stellar.parse_asset(asset)
    except ValueError as exc:
        raise PaymentError("invalid escrow information: %s" % exc, "invalid_escrow") from None
    return total, asset


def read_reservation(session: GridSession, reservation_id: int) -> Reservation:
    try:
        return session.client.get_reservation(reservation_id)
    except ExplorerNotFound as exc:
        raise PaymentError("reservation %d does not exist on the explorer %s" % (
            reservation_id, session.explorer_url), "reservation_not_found", exc.to_failure()) from None
    except ExplorerError as exc:
        raise PaymentError("Failed to read reservation %d: %s" % (reservation_id, exc.message), "explorer_error",
                           exc.to_failure()) from None


def status_without_escrow(session: GridSession, reservation_id: int) -> Dict[str, Any]:
    """The result for a reservation known only by id: fine once it is past payment, a clear failure before.

    The explorer returns escrow details only when a reservation is registered, and the escrow account is
    per customer, so neither the address nor the amount can be derived reliably from the id alone.
    """
    state = state_name(read_reservation(session, reservation_id))
    if state in PAYABLE_STATES:
        raise PaymentError(
            "reservation %d waits for payment, but its escrow details are unknown: the explorer returns them only "
            "when the reservation is registered. Pass what the resource module returned then (for example "
            "container.escrow) as the escrow option" % reservation_id, "escrow_required", {"next_action": state})
    return {"changed": False, "transaction_hash": None, "amount": stroops_to_amount(0), "total_amount": None,
            "asset": None, "destination": None, "memo": str(reservation_id), "already_paid": None, "free": False,
            "next_action": state}


def planned_payment(session: GridSession, escrow: Optional[Dict[str, Any]], payment: Dict[str, Any]) -> Dict[str, Any]:
    """What check mode reports for a reservation an earlier task only planned: it has no id nor escrow address yet,
    so nothing is read or paid; the estimated price is reported (and held against max_amount)."""
    total, code = _escrow_terms(dict(escrow or {}, address=None))
    limit = max_amount_stroops(payment)
    if limit is not None and total > limit:
        raise PaymentError("the planned reservation is estimated at %s %s, above max_amount %s" % (
            stroops_to_amount(total), code, stroops_to_amount(limit)), "above_max_amount",
            {"total_amount": stroops_to_amount(total), "max_amount": stroops_to_amount(limit)})
    session.warn("reservation_id is unset: in check mode the task that registers the reservation only planned it, "
                 "so its estimated price is reported and nothing is read from Stellar")
    return {"changed": total > 0, "transaction_hash": None, "amount": stroops_to_amount(total),
            "total_amount": stroops_to_amount(total), "asset": code or None, "destination": None, "memo": None,
            "already_paid": stroops_to_amount(0), "free": total == 0, "next_action": None}


def pay_escrow(session: GridSession, reservation_id: int, escrow_information: Optional[Dict[str, Any]],
               payment: Optional[Dict[str, Any]], from_task: bool = False,
               before_submit: Optional[Callable[[], Optional[Reservation]]] = None,
               listed: Optional[Reservation] = None) -> Dict[str, Any]:
    """Pay what the escrow lacks; `from_task` escrow details (not the explorer's answer) are checked first.

    ``before_submit`` is called before each attempt's re-read of the reservation (G2); it raises to stop the
    payment (the lifecycle's check that this run's reservation is still the one kept), and may return the
    reservation as a read begun after the call showed it (that check's listing), which is then that re-read.
    ``listed``: the reservation as a listing showed it, used instead of a first read (it tells the state to
    report and the creation time; the state is read again just before the wallet's turn all the same, G2).
    """
    payment = payment or {}
    reservation_id = int(reservation_id)
    escrow = escrow_information or {}
    total, asset = _escrow_terms(escrow)
    destination = escrow.get("address") or None
    result = {"changed": False, "transaction_hash": None, "amount": stroops_to_amount(0),
              "total_amount": stroops_to_amount(total), "asset": asset or None, "destination": destination,
              "memo": str(reservation_id), "already_paid": stroops_to_amount(0), "free": False, "next_action": None}
    if not destination or total == 0:
        # Free-to-use nodes or an explorer without escrow: nothing is owed.
        result["free"] = True
        return result
    limit = max_amount_stroops(payment)
    if limit is not None and total > limit:
        raise PaymentError("reservation %d costs %s %s, above max_amount %s; nothing was paid" % (
            reservation_id, stroops_to_amount(total), asset.split(":")[0], stroops_to_amount(limit)),
            "above_max_amount", {"total_amount": stroops_to_amount(total), "max_amount": stroops_to_amount(limit)})
    reservation = listed if listed is not None else read_reservation(session, reservation_id)
    if from_task:
        warn_other_owner(session, reservation)
        check_escrow_terms(session, reservation, escrow, total)
    result["next_action"] = state_name(reservation)
    if result["next_action"] in PAYABLE_STATES:
        _pay_missing(session, reservation, total, asset, destination, payment, result, before_submit)
    else:
        result["already_paid"] = None
    if payment.get("wait") and not session.check_mode and (result["next_action"] in PAYABLE_STATES or (
            result["next_action"] == "deploy" and payment.get("wait_for") == "deployed")):
        _wait(session, reservation_id, payment, result)
    return result


def _pay_missing(session, reservation, total, asset, destination, payment, result, before_submit=None):
    """Pay what the escrow still lacks for this memo; updates `result` in place.

    What the memo holds is read from the payer's own recent payments (newest first, back to a little before
    the reservation was created), not from the escrow's whole history: a payment for a reservation can not
    be older than the reservation. Payments from another wallet are not seen (see docs/CONCURRENCY.md).
    """
    reservation_id = int(reservation["id"])
    since = int(reservation.get("epoch") or 0) - CLOCK_SKEW
    memo = result["memo"]
    stellar = _stellar()
    try:
        keypair = stellar.keypair_from_secret(payment.get("stellar_secret"))
        # The channel the reservation's tag chose (every payer of this memo takes the same one), else the wallet.
        channel = channel_for(reservation, keypair)
        turn = channel.keypair.public_key if channel else keypair.public_key
        stellar.check_asset(asset)
        horizon_url, passphrase = horizon_settings(session, payment.get("horizon_url"))
        horizon = horizon_at(session, horizon_url)
        # Read before the sequence number: the less happens between reading it and submitting, the less often
        # a parallel payment from the same wallet takes it first.
        # The escrow's record is read once per process: the payments of one task go to one escrow account, and
        # what its check needs (it exists, it trusts the asset) stays true; only its trustline's room shrinks, and
        # a payment past the limit is refused by the ledger (op_line_full) with nothing paid.
        terms = None if session.check_mode else (
            shared_read(horizon.client, (horizon_url, "escrow", destination), lambda: horizon.account(destination)),
            horizon.fees())
        for attempt in range(SEQUENCE_ATTEMPTS):
            started = read_at = time.monotonic()
            state = None
            if not session.check_mode:
                # Before the wallet's turn, not inside it: this check lists the identity's reservations, and
                # the turn should hold only what must follow the sequence number (docs/CONCURRENCY.md, G4).
                current = before_submit() if before_submit is not None else None
                # Re-read before the wallet's turn, in parallel with the other payments' (G2): the check's listing,
                # begun after read_at, is that read when it holds the reservation. Again inside the turn only when
                # waiting for it took longer than RE_READ_AGE.
                if current is None:
                    read_at = time.monotonic()
                    current = read_reservation(session, reservation_id)
                state = state_name(current)
            with wallet_turn(turn):
                if not session.check_mode and time.monotonic() - read_at > RE_READ_AGE:
                    state = state_name(read_reservation(session, reservation_id))
                # The sequence number (the wallet's or the channel's) is read, or known from this process's last
                # payment, applied, before what the memo holds: a payment for this memo that the memo read misses
                # can only apply after it, so it makes this envelope's sequence number stale (tx_bad_seq) and the
                # memo is read again (docs/CONCURRENCY.md, G1).
                source = None
                if channel is None or session.check_mode:
                    payer, records = wallet_state(horizon, keypair.public_key, since,
                                                  with_record=not session.check_mode)
                else:
                    source, payer, records = _channel_state(horizon, passphrase, keypair, channel, terms, since)
                already = paid_for_memo(records, destination, asset, memo, horizon.transaction)
                if attempt == 0:
                    result["already_paid"] = stroops_to_amount(already)
                missing = total - already
                if missing <= 0:
                    # An earlier attempt's envelope was refused (tx_bad_seq): what it was to pay is not paid by us.
                    result.update(changed=False, amount=stroops_to_amount(0))
                    return
                result.update(changed=True, amount=stroops_to_amount(missing))
                if session.check_mode or not _still_payable(state, reservation_id, result):
                    return
                try:
                    result["transaction_hash"] = _submit_payment(horizon, passphrase, keypair, payer, terms,
                                                                 destination, asset, missing, memo,
                                                                 channel and (channel, source))
                    paid_from(horizon, keypair.public_key, payer, destination, asset, missing, terms[1][0], memo,
                              result["transaction_hash"], source)
                    return
                except StellarError as exc:
                    forget_wallet(horizon, keypair.public_key, channel and channel.keypair.public_key)
                    # Horizon.submit raises tx_bad_seq only once the hash is known not to be on the ledger: the
                    # envelope's sequence number is used up, so it can never apply. Another process's payment
                    # from the same wallet (or channel) took it; re-read what the memo holds, then sign again.
                    if _result_code(exc) != "tx_bad_seq" or attempt + 1 == SEQUENCE_ATTEMPTS:
                        raise
            window = max(SEQUENCE_PAUSE, time.monotonic() - started)
            horizon.sleep(min(SEQUENCE_PAUSE_MAX, window * 2 ** attempt) * random.uniform(0.0, 1.0))
    except StellarError as exc:
        failure = dict(exc.failure, reservation_id=reservation_id)
        raise PaymentError("Failed to pay reservation %d: %s" % (reservation_id, exc.msg), exc.code, failure) from None
    except ValueError as exc:
        raise PaymentError("Failed to pay reservation %d: %s" % (reservation_id, exc), "invalid_escrow") from None


def wallet_paid_memo(session: GridSession, reservation: Reservation, payment: Dict[str, Any]) -> bool:
    """Whether the payment block's wallet sent a successful payment with this reservation's memo since it was created."""
    stellar = _stellar()
    memo = str(reservation["id"])
    try:
        keypair = stellar.keypair_from_secret(payment.get("stellar_secret"))
        horizon = horizon_at(session, horizon_settings(session, payment.get("horizon_url"))[0])
        records = horizon.recent_payments(keypair.public_key, int(reservation.get("epoch") or 0) - CLOCK_SKEW)
    except StellarError as exc:
        raise PaymentError(exc.msg, exc.code, exc.failure) from None
    for record in records:
        if record.get("from") != keypair.public_key or record.get("transaction_successful") is False:
            continue
        transaction = record.get("transaction") or horizon.transaction(record.get("transaction_hash")) or {}
        if transaction.get("memo") == memo:
            return True
    return False


def _result_code(error: StellarError) -> Optional[str]:
    return ((error.failure or {}).get("result_codes") or {}).get("transaction")


def _still_payable(state: str, reservation_id: int, result: Dict[str, Any]) -> bool:
    """Whether the reservation's state re-read just before the wallet's turn lets it be paid (G2)."""
    if state in ENDED_STATES:
        raise PaymentError("reservation %d was cancelled or expired before it was paid (next_action %s); nothing was "
                           "paid" % (reservation_id, state), "reservation_cancelled", {"next_action": state})
    if state not in PAYABLE_STATES:
        result.update(changed=False, amount=stroops_to_amount(0), next_action=state)
        return False
    return True


def _wait(session, reservation_id, payment, result):
    try:
        reservation = wait_for_reservation(session, reservation_id, payment.get("wait_for") or "paid",
                                           payment.get("wait_timeout", 600), payment.get("wait_sleep", 5))
    except PaymentError as exc:
        if result["transaction_hash"]:
            # The money is on the ledger: say so, so nobody pays again by hand.
            exc.msg = "Paid reservation %d (transaction %s), then: %s" % (
                reservation_id, result["transaction_hash"], exc.msg)
        exc.failure.update(transaction_hash=result["transaction_hash"], amount=result["amount"])
        raise
    result["next_action"] = state_name(reservation)


def _channel_state(horizon: Any, passphrase: str, keypair: Any, channel: Any,
                   terms: Tuple[Optional[Dict[str, Any]], Tuple[int, int]], since: int) -> Tuple[Any, Any, Any]:
    """channel_state for a payment through ``channel``, created first (with the wallet's other channels) when it
    does not exist yet."""
    address = channel.keypair.public_key
    source, payer, records = channel_state(horizon, keypair.public_key, address, since)
    if source is None:
        ensure_channels(horizon, passphrase, keypair, channel, terms[1])
        source, payer, records = channel_state(horizon, keypair.public_key, address, since)
    return source, payer, records


def _submit_payment(horizon: Any, passphrase: str, keypair: Any, payer: Optional[Dict[str, Any]],
                    terms: Tuple[Optional[Dict[str, Any]], Tuple[int, int]], destination: str, asset: str, stroops: int,
                    memo: str, channel: Optional[Tuple[Any, Dict[str, Any]]] = None) -> str:
    """Sign and submit the payment from the wallet `payer` (its Horizon record); `terms` are the escrow's Horizon
    record and the ledger's (base fee, base reserve). The sequence number and the fee are the wallet's, or with
    `channel` (a _payment_channels.Channel and its Horizon record) that channel's."""
    stellar = _stellar()
    escrow_account, (base_fee, base_reserve) = terms
    if channel is None:
        stellar.check_payment_possible(payer, escrow_account, asset, stroops, base_fee, base_reserve)
        envelope = stellar.payment_envelope(payer, passphrase, base_fee, memo, destination, asset, stroops)
    else:
        chosen, source = channel
        stellar.check_payment_possible(payer, escrow_account, asset, stroops, 0, base_reserve)
        check_channel_fee(source, chosen.index, base_fee, base_reserve)
        envelope = stellar.payment_envelope(source, passphrase, base_fee, memo, destination, asset, stroops,
                                            operation_source=keypair.public_key)
        envelope.sign(chosen.keypair)
    envelope.sign(keypair)
    record = horizon.submit(envelope)
    return (record or {}).get("hash") or envelope.hash_hex()


def wait_for_reservation(session: GridSession, reservation_id: int, target: str, timeout: int,
                         sleep: int) -> Reservation:
    """Poll the explorer until the escrow has seen the payment (`paid`) or the workloads run (`deployed`)."""
    def done(reservation):
        state = state_name(reservation)
        if target == "deployed":
            return deployment_outcome(reservation) == "deployed"
        if state in ENDED_STATES:
            raise PaymentError("reservation %d was cancelled or expired while waiting for its payment to be seen "
                               "(next_action %s); the escrow refunds what was paid" % (reservation_id, state),
                               "reservation_cancelled", {"next_action": state})
        return state not in PAYABLE_STATES

    what = "reservation %d to be %s" % (reservation_id, "deployed" if target == "deployed" else "seen as paid")
    try:
        return wait_for(lambda: session.client.get_reservation(reservation_id), done, timeout, sleep, what=what)
    except WaitTimeout as exc:
        last = state_name(exc.last_state) if exc.last_state else "unknown"
        raise PaymentError("%s (last state: %s)" % (exc, last), "wait_timeout", {"next_action": last}) from None
    except ExplorerError as exc:
        raise PaymentError("Failed to read reservation %d: %s" % (reservation_id, exc.message), "explorer_error",
                           exc.to_failure()) from None
