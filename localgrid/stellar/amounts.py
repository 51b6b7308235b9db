"""Stellar amounts: integers in stroops inside localgrid, 7-decimal strings on the wire."""

import re

STROOPS_PER_UNIT = 10**7
MAX_INT64 = 2**63 - 1

_AMOUNT = re.compile(r"^(\d+)(?:\.(\d{1,7}))?$")


def format_amount(stroops):
    """Horizon's rendering: always 7 decimals (stellar-sdk's from_xdr_amount drops them)."""
    sign = "-" if stroops < 0 else ""
    stroops = abs(stroops)
    return "%s%d.%07d" % (sign, stroops // STROOPS_PER_UNIT, stroops % STROOPS_PER_UNIT)


def parse_amount(text):
    """A non-negative decimal string with at most 7 decimals, in stroops; ValueError otherwise."""
    match = _AMOUNT.match(str(text).strip())
    if not match:
        raise ValueError("amount must be a non-negative number with at most 7 decimals: %r" % text)
    units, fraction = match.group(1), (match.group(2) or "").ljust(7, "0")
    stroops = int(units) * STROOPS_PER_UNIT + int(fraction)
    if stroops > MAX_INT64:
        raise ValueError("amount too large: %r" % text)
    return stroops
