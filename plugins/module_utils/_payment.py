# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""Paying a reservation's escrow on Stellar, exactly once (shared by zos_payment and resource modules).

Entry points (stable; engineer E/F integrate them):

    payment_argument_spec() -> dict
        suboptions of a resource module's `payment` block: stellar_secret (no_log,
        TFGRID_STELLAR_SECRET), horizon_url (TFGRID_HORIZON_URL), max_amount (decimal string), wait (bool).

    pay_escrow(zmodule, reservation_id, escrow_information, payment, check_mode) -> dict
        zmodule: a _base.ZosModule (its network settings and explorer client are used);
        escrow_information: the dict POST /reservations returned ({"address","asset","details"});
        payment: the `payment` block (keys as above; missing keys take their defaults).
        Returns {"changed", "transaction_hash", "amount", "asset", "destination", "memo",
                 "already_paid", "free"} (amounts are 7-decimal strings).
        Raises PaymentError(msg, code, failure) on any failure; `failure` never holds the secret.
"""

from __future__ import annotations


class PaymentError(Exception):
    """A payment that could not be made. `code` is a short machine-readable reason."""

    def __init__(self, msg, code="payment_failed", failure=None):
        super(PaymentError, self).__init__(msg)
        self.msg = msg
        self.code = code
        self.failure = failure or {}

    def to_failure(self):
        failure = {"code": self.code}
        failure.update(self.failure)
        return failure


def payment_argument_spec():
    raise NotImplementedError("in progress (engineer G)")


def pay_escrow(zmodule, reservation_id, escrow_information, payment, check_mode):
    raise NotImplementedError("in progress (engineer G)")
