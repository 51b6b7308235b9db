# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""What ReservationLifecycle (_lifecycle.py) decides, plans and returns: Decision, Plan, Outcome; and Superseded,
which a payment guard of _concurrency.py raises (here, so that catching it does not load the registration code)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ansible_collections.threefold.grid.plugins.module_utils._kept_reservation import Verdict
from ansible_collections.threefold.grid.plugins.module_utils._views import Reservation


class Outcome:
    """What a lifecycle call did: the module result is built from it."""

    def __init__(self, changed: bool = False, action: str = "none", reservation: Optional[Dict[str, Any]] = None,
                 diff: Optional[Dict[str, Any]] = None, replaced: Optional[List[int]] = None,
                 estimate: Optional[Dict[str, Any]] = None, payment: Optional[Dict[str, Any]] = None,
                 cancelled: Optional[List[int]] = None, reservations: Optional[List[Dict[str, Any]]] = None) -> None:
        self.changed = changed
        self.action = action
        self.reservation = reservation
        self.diff = diff if diff is not None else {"before": {}, "after": {}}
        self.replaced = replaced if replaced is not None else []
        self.estimate = estimate
        self.payment = payment
        self.cancelled = cancelled if cancelled is not None else []
        self.reservations = reservations if reservations is not None else []


class Decision:
    """decide(): the live reservation of that name (or None), the new tag, and what to do."""

    def __init__(self, old: Optional[Reservation], fp: str, metadata: str, action: str, unpayable: bool) -> None:
        self.old = old
        self.fp = fp
        self.metadata = metadata
        self.action = action
        self.unpayable = unpayable
        self.escrow: Optional[Dict[str, Any]] = None  # "pay_existing": the recovered escrow details of ``old``
        self.extras: List[Reservation] = []  # other live reservations of the name (another run's, or left behind)


class Plan:
    """plan(): the data_reservation to register, its diff and its escrow estimate."""

    def __init__(self, data: Dict[str, Any], diff: Dict[str, Any], estimate: Dict[str, Any]) -> None:
        self.data = data
        self.diff = diff
        self.estimate = estimate


class Superseded(Exception):
    """Raised just before a payment is signed when this run's reservation is no longer the one kept."""

    def __init__(self, verdict: Verdict) -> None:
        super(Superseded, self).__init__(verdict.action)
        self.verdict = verdict
