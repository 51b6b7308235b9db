"""Go encoding/json semantics of the request decoder and the Go texts embedded in errors."""

import datetime
import json

import pytest

from localgrid.explorer import gojson, gostr
from localgrid.explorer.schema import DATA_RESERVATION, RESERVATION, USER
from localgrid.tests.conftest import load_vector

SCHEMA_VECTORS = load_vector("schema_types_v030.json")


def test_unknown_fields_ignored_and_keys_case_insensitive():
    user = gojson.decode(USER, {"NAME": "a", "Email": "b", "whatever": [1]})
    assert user["name"] == "a" and user["email"] == "b" and "whatever" not in user
    assert gojson.decode(USER, {"name": "exact", "NAME": "folded"})["name"] == "folded"  # last key wins


@pytest.mark.parametrize("value", [1.5, 1.0, "1", True, -1])
def test_unsigned_int_fields_reject_non_integers(value):
    with pytest.raises(gojson.DecodeError, match="json: cannot unmarshal"):
        gojson.decode(gojson.Obj("T", {"n": gojson.Int("uint64")}), {"n": value})


def test_nil_and_empty_differ_like_reflect_deepequal():
    absent = gojson.decode(DATA_RESERVATION, {})
    null = gojson.decode(DATA_RESERVATION, {"zdbs": None, "expiration_reservation": ""})
    empty = gojson.decode(DATA_RESERVATION, {"zdbs": []})
    zero_date = gojson.decode(DATA_RESERVATION, {"expiration_reservation": 0})
    assert absent == null
    assert absent != empty and absent != zero_date


def test_dates():
    date = gojson.Date()
    ctx = gojson._Context("T")
    assert date.decode(1589000000.9, ctx) == 1589000000
    assert date.decode("", ctx) is None and date.encode(None) == 0
    assert date.decode("20/05/12", ctx) == 1589241600


def test_ips_are_canonical_and_checked():
    ip = gojson.IP()
    ctx = gojson._Context("T")
    assert ip.decode("2001:DB8:0::1", ctx) == "2001:db8::1" and ip.decode("", ctx) == ""
    with pytest.raises(gojson.DecodeError, match="invalid IP address: 10.1"):
        ip.decode("10.1", ctx)


def test_reservation_encode_writes_zero_dates_and_null_lists():
    decoded = gojson.decode(RESERVATION, {"data_reservation": {"expiration_reservation": ""}})
    out = RESERVATION.encode(decoded)
    assert out["epoch"] == 0 and out["data_reservation"]["expiration_reservation"] == 0
    assert out["results"] is None and out["data_reservation"]["containers"] is None


def test_syntax_errors_and_empty_body():
    with pytest.raises(gojson.DecodeError, match="EOF"):
        gojson.parse(b"")
    with pytest.raises(gojson.DecodeError):
        gojson.parse(b"{")


def test_go_texts():
    assert gostr.duration(3599.99) == "59m59.99s"
    assert gostr.duration(0.25) == "250ms" and gostr.duration(7200) == "2h0m0s"
    with pytest.raises(ValueError, match="encoding/hex: odd length hex string"):
        gostr.hex_decode("abc")
    with pytest.raises(ValueError, match='strconv.ParseInt: parsing "1x": invalid syntax'):
        gostr.parse_int("1x")


@pytest.mark.parametrize("case", SCHEMA_VECTORS["date_unmarshal"], ids=lambda c: c["json"])
def test_date_vectors(case):
    date, ctx = gojson.Date(), gojson._Context("T")
    value = json.loads(case["json"])
    if "error" in case:
        with pytest.raises(gojson.DecodeError) as err:
            date.decode(value, ctx)
        assert str(err.value) == case["error"]
        return
    decoded = date.decode(value, ctx)
    expected = case["utc"]
    if expected.startswith("zero time"):
        assert decoded is None
    elif expected.startswith("unix "):
        assert decoded == int(expected.split()[1])
    else:
        year = datetime.datetime.now(datetime.timezone.utc).year
        moment = datetime.datetime.fromisoformat(expected.replace("<current year>", str(year)).replace("Z", "+00:00"))
        assert decoded == int(moment.timestamp())
