# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""The explorer writes of a reservation: build and sign it, register it, pay its escrow, cancel it.

Registrar(session, reservations) is used by ReservationLifecycle (_lifecycle.py); every failure is a
LifecycleError. Stellar code is imported only when a payment is made (_payment is loaded then).
"""

from __future__ import annotations

import json
from typing import Any, Callable, Dict, Iterable, Mapping, Optional, Set, Tuple

from ansible_collections.threefold.grid.plugins.module_utils import _workloads
from ansible_collections.threefold.grid.plugins.module_utils._errors import ExplorerError, LifecycleError, PaymentError
from ansible_collections.threefold.grid.plugins.module_utils._escrow_cache import EscrowCache
from ansible_collections.threefold.grid.plugins.module_utils._explorer import NEXT_ACTION
from ansible_collections.threefold.grid.plugins.module_utils._lookup import Reservations, explorer_call
from ansible_collections.threefold.grid.plugins.module_utils._session import GridSession
from ansible_collections.threefold.grid.plugins.module_utils._views import Reservation, view

Workloads = Mapping[str, Iterable[Dict[str, Any]]]
REGISTER_ATTEMPTS = 3
# Registration failures worth another attempt: no answer, a proxy's or an overloaded explorer's, and a 500, which
# upstream answers for a failed database write as well as for an escrow error that will not go away (then each
# attempt leaves one more cancelled, never paid, reservation behind, and the task fails after the last one).
RETRIED_FAILURES = frozenset([None, 429, 500, 502, 503, 504])


class Registrar:
    def __init__(self, session: GridSession, reservations: Reservations) -> None:
        self.session = session
        self.reservations = reservations
        self._escrows: Optional[EscrowCache] = None

    @property
    def escrows(self) -> EscrowCache:
        """The escrow details answered at registration, kept so that a later run can pay (_escrow_recovery.py)."""
        if self._escrows is None:
            self._escrows = EscrowCache(self.session.explorer_url, self.session.tid,
                                        self.session.identity.public_key_hex)
        return self._escrows

    def build_data_reservation(self, workloads: Workloads, expiration: int, currencies: Iterable[str],
                               provisioning_deadline: int) -> Dict[str, Any]:
        """The data_reservation dict, laid out as the SDK's reservation_register made it."""
        data: Dict[str, Any] = {
            "description": "",
            "signing_request_provision": {"signers": [], "quorum_min": 0},
            "signing_request_delete": {"signers": [self.session.tid], "quorum_min": 1},
        }
        lists = _workloads.empty_workload_lists()
        for key, items in workloads.items():
            if key not in lists:
                raise ValueError("unknown workload list %r" % key)
            lists[key] = list(items)
        data.update(lists)
        data["expiration_provisioning"] = int(provisioning_deadline)
        data["expiration_reservation"] = int(expiration)
        data["currencies"] = list(currencies)
        return data

    def signed_body(self, data_reservation: Dict[str, Any], metadata: str) -> Dict[str, Any]:
        """POST /reservations body: `json` is the exact text signed, `data_reservation` the same object."""
        text = json.dumps(data_reservation)
        return {
            "json": text,
            "data_reservation": data_reservation,
            "customer_tid": self.session.tid,
            "customer_signature": self.session.identity.sign_reservation(text),
            "next_action": NEXT_ACTION["create"],
            "metadata": metadata,
        }

    def register(self, data_reservation: Dict[str, Any], metadata: str) -> Tuple[int, Dict[str, Any]]:
        """(reservation id, escrow information) of the newly registered reservation.

        A lost answer or a server error (no answer, 429, 500, 502, 503, 504) is tried again, up to
        REGISTER_ATTEMPTS times, once what that attempt may have stored is cancelled: a reservation nobody paid costs nothing to
        cancel, and a run that converges inside the task is not left to a re-run. When the check for such a
        reservation cannot be made, nothing is tried again (a second registration could be a duplicate).
        """
        body = self.signed_body(data_reservation, metadata)
        for attempt in range(REGISTER_ATTEMPTS):
            # Only a reservation with this very signed text can be an orphan of this attempt (_cancel_orphans), and
            # another run's reservation can carry the same text only when registered within the same second with
            # the same spec: the latest listing (the decision's, or another thread's since) tells them apart.
            known = set(r["id"] for r in self.reservations.latest())
            try:
                answer = self.session.client.create_reservation(body)
                break
            except ExplorerError as error:
                retried = error.status in RETRIED_FAILURES
                checked = self._cancel_orphans(body["json"], known) if retried or error.status >= 500 else False
                if not (retried and checked) or attempt + 1 == REGISTER_ATTEMPTS:
                    raise LifecycleError.during("Failed to register the reservation", error) from None
                self.session.client.back_off(attempt)
        self.reservations.invalidate()
        rid, escrow_information = int(answer["reservation_id"]), answer.get("escrow_information") or {}
        self.escrows.remember(rid, escrow_information)  # before paying: a run killed now leaves them behind
        return rid, escrow_information

    def _cancel_orphans(self, signed_json: str, known: Set[int]) -> bool:
        """A lost answer or an escrow error (500) can leave the new reservation stored: cancel it, best effort.

        Only a reservation holding exactly the text this attempt signed is this attempt's (and so never paid):
        another run's reservation with the same tag may be paid, and cancelling it would lose that payment.
        ``known`` are the ids live before the attempt. False when the check could not be made.
        """
        try:
            for reservation in self.reservations.live(refresh=True):
                if reservation.get("json") == signed_json and reservation["id"] not in known:
                    self.cancel(reservation)
        except (ExplorerError, LifecycleError):
            self.session.warn("could not check whether the failed registration left a reservation behind")
            return False
        return True

    def cancel(self, reservation: Reservation) -> None:
        rid = int(reservation["id"])
        signature = self.session.identity.sign_reservation_action(rid, reservation["json"])
        explorer_call("cancel reservation %d" % rid, self.session.client.sign_delete, rid, self.session.tid, signature)
        self.reservations.invalidate()

    def precheck(self, payment: Dict[str, Any], estimate: Dict[str, Any]) -> None:
        """Before registering: the payment block can pay the estimate (else nothing is registered)."""
        from ansible_collections.threefold.grid.plugins.module_utils._payment_checks import precheck_payment
        try:
            precheck_payment(self.session, payment, estimate)
        except PaymentError as error:
            raise LifecycleError(error.msg, failure=error.to_failure()) from None

    def memo_paid(self, reservation: Reservation, payment: Dict[str, Any]) -> bool:
        """Whether the payment block's wallet sent anything with this reservation's memo since it was created."""
        if not payment.get("stellar_secret"):
            return False  # no wallet, nothing it could have paid (free networks pass a payment block without one)
        from ansible_collections.threefold.grid.plugins.module_utils._payment import wallet_paid_memo
        try:
            return wallet_paid_memo(self.session, reservation, payment)
        except PaymentError as error:
            raise LifecycleError("cannot tell whether reservation %s was paid, so it is not replaced: %s" % (
                reservation.get("id"), error.msg), failure=error.to_failure()) from None

    def recover_escrow(self, reservation: Reservation, payment: Dict[str, Any]) -> Tuple[Optional[Dict[str, Any]], str]:
        """The escrow details of an unpaid reservation registered earlier (or None), and where they come from."""
        from ansible_collections.threefold.grid.plugins.module_utils._escrow_recovery import recover_escrow
        return recover_escrow(self.session, reservation, payment, self.escrows)

    def pay(self, rid: int, escrow_information: Dict[str, Any], payment: Optional[Dict[str, Any]],
            before_submit: Optional[Callable[[], Optional[Reservation]]] = None) -> Optional[Dict[str, Any]]:
        """Pay the escrow when a payment block is given and something is owed; the payment result or None.

        ``before_submit`` is called just before a payment is signed (see _payment.pay_escrow). The newest listing
        (the lifecycle lists before paying, G4), when it holds the reservation, stands in for the payment's first
        read of it: one request less per payment, and the state is read again just before the wallet's turn (G2).
        """
        if not payment or not escrow_information or not escrow_information.get("address"):
            return None
        # Only here is Stellar code loaded: a run that pays nothing never imports stellar-sdk.
        from ansible_collections.threefold.grid.plugins.module_utils._payment import pay_escrow
        try:
            return pay_escrow(self.session, rid, escrow_information, payment, before_submit=before_submit,
                              listed=self.reservations.listed(rid))
        except PaymentError as error:
            raise LifecycleError(error.msg, reservation=view(self.reservations.get(rid), escrow_information),
                                 failure=error.to_failure()) from None
