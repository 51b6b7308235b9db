# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This plugin_utils file is private to the threefold.grid collection and may change at any time.

"""Payments found in a threefold.grid task result (for the threefold.grid.spend callback).

A payment is a dict with `transaction_hash`, `amount`, `asset` and `memo`, as zos_payment returns at the
top level, zos_reservation under `payment` and every other resource module under `<kind>.payment`. Loop results (`results`) are left
out: the callback sees each item on its own.
"""

from __future__ import annotations

from typing import Any, Dict, Iterator

PAYMENT_KEYS = frozenset(("transaction_hash", "amount", "asset", "memo"))


def _is_payment(value: Any) -> bool:
    return isinstance(value, dict) and PAYMENT_KEYS <= set(value)


def payments_in(result: Dict[str, Any]) -> Iterator[Dict[str, Any]]:
    """Each payment a task result reports: the result itself, a top-level `payment`, or one of any view."""
    if _is_payment(result):
        yield result
    for key, value in result.items():
        if key == "results" or not isinstance(value, dict):
            continue
        if _is_payment(value):
            yield value
        elif _is_payment(value.get("payment")):
            yield value["payment"]
