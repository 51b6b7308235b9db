"""Decode request bodies the way Go's encoding/json decodes into the explorer's structs.

A schema is built from the small classes below. ``decode`` returns a canonical value where every
struct field is present (zero value when absent), nil slices/maps/dates are ``None`` and empty
ones are ``[]``/``{}``/``0``; so two decoded values compare with ``==`` exactly like Go's
reflect.DeepEqual compares the decoded structs (the ``json`` vs ``data_reservation`` check).
``encode`` turns a canonical value back into what the explorer writes (a zero date is ``0``).
"""

import datetime
import ipaddress
import json
import re


class DecodeError(ValueError):
    pass


class Spec:
    go_type = "interface {}"

    def zero(self):
        return None

    def encode(self, value):
        return value


# Go integer kinds and the values they hold; a number outside is an UnmarshalTypeError, as in Go.
INT_RANGES = {
    "int64": (-(2**63), 2**63 - 1),
    "uint64": (0, 2**64 - 1),
    "uint": (0, 2**64 - 1),
    "uint32": (0, 2**32 - 1),
    "uint16": (0, 2**16 - 1),
    "uint8": (0, 2**8 - 1),
}


class Int(Spec):
    """A Go integer; ``kind`` is the underlying kind of a named type (``workloads.VolumeTypeEnum`` is uint8)."""

    def __init__(self, go_type="int64", kind=None):
        self.go_type = go_type
        self.low, self.high = INT_RANGES[kind or go_type]

    def zero(self):
        return 0

    def decode(self, value, ctx):
        if value is None:
            return 0
        if isinstance(value, bool) or not isinstance(value, int) or not self.low <= value <= self.high:
            raise ctx.type_error(value, self.go_type)
        return value


class Float(Spec):
    go_type = "float64"

    def zero(self):
        return 0.0

    def decode(self, value, ctx):
        if value is None:
            return 0.0
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ctx.type_error(value, self.go_type)
        return float(value)


class Str(Spec):
    go_type = "string"

    def zero(self):
        return ""

    def decode(self, value, ctx):
        if value is None:
            return ""
        if not isinstance(value, str):
            raise ctx.type_error(value, self.go_type)
        return value


class Bool(Spec):
    go_type = "bool"

    def zero(self):
        return False

    def decode(self, value, ctx):
        if value is None:
            return False
        if not isinstance(value, bool):
            raise ctx.type_error(value, self.go_type)
        return value


class Raw(Spec):
    """json.RawMessage: kept verbatim (as the parsed value) and embedded on output."""

    def decode(self, value, ctx):
        return value


class IP(Spec):
    """net.IP: "" is empty; output is the canonical text form, like Go's IP.String()."""

    go_type = "net.IP"

    def zero(self):
        return ""

    def decode(self, value, ctx):
        if value is None or value == "":
            return ""
        if not isinstance(value, str):
            raise ctx.type_error(value, self.go_type)
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            raise DecodeError("invalid IP address: %s" % value) from None


_DATE_STRING = re.compile(r"^(?P<date>\d+/\d+(?:/\d+)?)(?:\s+(?P<hour>\d{1,2})(?P<half>am|pm)?:(?P<minute>\d{2}))?$")


def _jumpscale_date(text):
    """JumpScale date strings: yy/mm/dd, dd/mm/yyyy or mm/dd (this year), optional ` hh:mm` / ` 9pm:10`."""
    match = _DATE_STRING.match(text.strip())
    if not match:
        return None
    parts = [int(part) for part in match["date"].split("/")]
    if len(parts) == 2:
        year, (month, day) = datetime.datetime.now(datetime.timezone.utc).year, parts
    elif len(match["date"].split("/")[2]) == 4:
        day, month, year = parts
    else:
        year, month, day = 2000 + parts[0], parts[1], parts[2]
    hour, minute = int(match["hour"] or 0), int(match["minute"] or 0)
    if match["half"] == "pm" and hour < 12:
        hour += 12
    try:
        moment = datetime.datetime(year, month, day, hour, minute, tzinfo=datetime.timezone.utc)
    except ValueError:
        return None
    return int(moment.timestamp())


def _unix_seconds(number):
    """Go's int64(float64): a number beyond int64 becomes math.MinInt64 on amd64, a date in the far past."""
    if not -(2**63) <= float(number) < 2**63:
        return -(2**63)
    return int(number)


class Date(Spec):
    """schema.Date: Unix seconds (fraction truncated), "" = zero date, or a JumpScale date string.

    Numbers go through float64 as in schema.Date.UnmarshalJSON (tfexplorer v0.3.2 schema/types.go).
    """

    go_type = "schema.Date"

    def encode(self, value):
        return 0 if value is None else value

    def decode(self, value, ctx):
        if value is None:
            raise DecodeError("unknown date format: <nil>(null)")
        if isinstance(value, bool):
            raise DecodeError("unknown date format: %s(bool)" % json.dumps(value))
        if isinstance(value, (int, float)):
            return _unix_seconds(value)
        if value == "":
            return None
        if isinstance(value, str):
            parsed = _jumpscale_date(value)
            if parsed is None:
                raise DecodeError("invalid date string '%s'" % value)
            return parsed
        raise DecodeError("unknown date format: %s" % json.dumps(value))


class List(Spec):
    def __init__(self, elem):
        self.elem = elem
        self.go_type = "[]" + elem.go_type

    def decode(self, value, ctx):
        if value is None:
            return None
        if not isinstance(value, list):
            raise ctx.type_error(value, self.go_type)
        return [self.elem.decode(item, ctx) for item in value]

    def encode(self, value):
        return None if value is None else [self.elem.encode(item) for item in value]


class Map(Spec):
    def __init__(self, elem):
        self.elem = elem
        self.go_type = "map[string]" + elem.go_type

    def decode(self, value, ctx):
        if value is None:
            return None
        if not isinstance(value, dict):
            raise ctx.type_error(value, self.go_type)
        return {key: self.elem.decode(item, ctx) for key, item in value.items()}

    def encode(self, value):
        return None if value is None else {key: self.elem.encode(item) for key, item in value.items()}


class Obj(Spec):
    """A Go struct: fields in declaration order (the order the explorer writes them)."""

    def __init__(self, name, fields):
        self.go_type = name
        self.fields = fields
        self._folded = {}
        for key in fields:
            self._folded.setdefault(key.casefold(), key)

    def zero(self):
        return {key: spec.zero() for key, spec in self.fields.items()}

    def decode(self, value, ctx):
        if value is None:
            return self.zero()
        if not isinstance(value, dict):
            raise ctx.type_error(value, self.go_type)
        out = self.zero()
        for key, item in value.items():
            field = key if key in self.fields else self._folded.get(key.casefold())
            if field is None:
                continue  # unknown fields are ignored, like Go
            ctx.path.append(field)
            try:
                out[field] = self.fields[field].decode(item, ctx)
            finally:
                ctx.path.pop()
        return out

    def encode(self, value):
        # The zero value only for a missing field: building it for every field cost a render about a third of its time.
        return {key: spec.encode(value[key] if key in value else spec.zero()) for key, spec in self.fields.items()}


class _Context:
    def __init__(self, root):
        self.root = root
        self.path = []

    def type_error(self, value, go_type):
        kind = _json_kind(value)
        if self.path:
            where = "Go struct field %s.%s" % (self.root, ".".join(self.path))
        else:
            where = "Go value"
        return DecodeError("json: cannot unmarshal %s into %s of type %s" % (kind, where, go_type))


def _json_kind(value):
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number " + json.dumps(value)
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def parse(raw):
    """Parse request bytes; syntax errors get Go-like messages."""
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, (bytes, bytearray)) else raw
    if not text.strip():
        raise DecodeError("EOF")
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise DecodeError("invalid character in JSON at offset %d: %s" % (err.pos, err.msg)) from None


def decode(spec, value):
    """Decode an already parsed JSON value against ``spec``."""
    return spec.decode(value, _Context(spec.go_type))


def decode_bytes(spec, raw):
    return decode(spec, parse(raw))
