# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""Token amounts: stroops (1e-7, Stellar's unit) and the 7-decimal strings every module returns.

Kept apart from _stellar so that reading or estimating an amount never imports stellar-sdk.
"""

from __future__ import annotations

import decimal
from typing import Union

STROOPS_PER_UNIT = 10 ** 7


def amount_to_stroops(value: Union[str, int, decimal.Decimal]) -> int:
    """Stroops (int) from a decimal amount given as str, int or Decimal; at most 7 decimals, not negative."""
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueError("amounts must be given as decimal strings, not %s" % type(value).__name__)
    if isinstance(value, int):
        number = decimal.Decimal(value)
    elif isinstance(value, decimal.Decimal):
        number = value
    elif isinstance(value, str):
        try:
            number = decimal.Decimal(value.strip())
        except decimal.InvalidOperation:
            raise ValueError("%r is not a decimal amount" % value) from None
    else:
        raise ValueError("amounts must be decimal strings, not %s" % type(value).__name__)
    if not number.is_finite():
        raise ValueError("%r is not a finite amount" % str(value))
    if number < 0:
        raise ValueError("amount %s is negative" % number)
    scaled = number * STROOPS_PER_UNIT
    if scaled != scaled.to_integral_value():
        raise ValueError("amount %s has more than 7 decimals (Stellar's precision)" % number)
    return int(scaled)


def stroops_to_amount(stroops: int) -> str:
    """The 7-decimal string Horizon uses for a stroop count, e.g. 34546420 -> '3.4546420'."""
    if isinstance(stroops, bool) or not isinstance(stroops, int):
        raise ValueError("stroops must be an integer, not %s" % type(stroops).__name__)
    sign = "-" if stroops < 0 else ""
    units, rest = divmod(abs(stroops), STROOPS_PER_UNIT)
    return "%s%d.%07d" % (sign, units, rest)
