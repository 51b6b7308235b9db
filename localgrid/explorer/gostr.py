"""Go standard-library texts the explorer's error messages embed (hex, strconv, durations)."""


def hex_decode(text):
    """bytes.fromhex with Go encoding/hex error messages (raised as ValueError)."""
    for char in text:
        if char not in "0123456789abcdefABCDEF":
            raise ValueError("encoding/hex: invalid byte: U+%04X %r" % (ord(char), char))
    if len(text) % 2:
        raise ValueError("encoding/hex: odd length hex string")
    return bytes.fromhex(text)


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def parse_int(text):
    """strconv.ParseInt(text, 10, 64) with Go's error texts (raised as ValueError)."""
    try:
        if text.strip() != text or not text or "_" in text or not text.isascii():
            raise ValueError
        value = int(text, 10)
    except ValueError:
        raise ValueError('strconv.ParseInt: parsing "%s": invalid syntax' % text) from None
    if not INT64_MIN <= value <= INT64_MAX:
        raise ValueError('strconv.ParseInt: parsing "%s": value out of range' % text)
    return value


def parse_int_ignoring_error(text):
    """What `v, _ := strconv.ParseInt(text, 10, 64)` leaves in v: 0 on bad syntax, +-max when out of range."""
    try:
        return parse_int(text)
    except ValueError as err:
        if not str(err).endswith("value out of range"):
            return 0
        return INT64_MIN if text.startswith("-") else INT64_MAX


def duration(seconds):
    """Go time.Duration.String() of a float number of seconds (nanosecond precision)."""
    nanos = int(round(seconds * 1e9))
    if nanos == 0:
        return "0s"
    sign = "-" if nanos < 0 else ""
    nanos = abs(nanos)
    if nanos < 1000:
        return "%s%dns" % (sign, nanos)
    if nanos < 1000_000:
        return sign + _fraction(nanos, 1000) + "µs"
    if nanos < 1000_000_000:
        return sign + _fraction(nanos, 1000_000) + "ms"
    hours, rest = divmod(nanos, 3600 * 10**9)
    minutes, rest = divmod(rest, 60 * 10**9)
    text = _fraction(rest, 10**9) + "s"
    if hours:
        return "%s%dh%dm%s" % (sign, hours, minutes, text)
    if minutes:
        return "%s%dm%s" % (sign, minutes, text)
    return sign + text


def _fraction(value, unit):
    whole, frac = divmod(value, unit)
    if not frac:
        return str(whole)
    digits = len(str(unit)) - 1
    return ("%d.%0*d" % (whole, digits, frac)).rstrip("0")
