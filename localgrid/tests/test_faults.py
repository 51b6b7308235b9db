"""`serve --faults`: the spec, the seeded plan, and faults injected before or after a request is applied."""

import httpx
import pytest

from localgrid.faults import FaultPlan, FaultSpec, FaultSpecError, parse_spec
from localgrid.tests.conftest import launch

# A dropped connection reads as a closed stream or, when the close races the request, as a reset.
DROPPED = (httpx.RemoteProtocolError, httpx.ReadError)


def test_spec_from_the_issue():
    spec = parse_spec("http5xx=0.1,drop=0.05,latency=200ms,after=0.5,seed=7")
    assert spec == FaultSpec(http5xx=0.1, drop=0.05, latency=0.2, after=0.5, seed=7)
    assert parse_spec(spec.describe()["spec"]) == spec
    assert parse_spec("latency=1.5s, seed=3") == FaultSpec(latency=1.5, seed=3)
    assert 0 <= parse_spec("drop=0.2").seed < 2**31  # a seed is drawn when none is given


@pytest.mark.parametrize(
    "text, message",
    [
        ("http5xx=1.5", "http5xx=1.5: expected a share between 0 and 1"),
        ("drop=-0.1", "drop=-0.1: expected a share between 0 and 1"),
        ("after=nan", "after=nan: expected a share between 0 and 1"),
        ("http5xx=0.6,drop=0.5", "http5xx + drop must be at most 1"),
        ("latency=200", "latency=200: expected a duration such as 200ms or 1.5s"),
        ("latency=fast", "latency=fast: expected a duration"),
        ("seed=-1", "seed=-1: expected a non-negative integer"),
        ("http5xx", "'http5xx': expected name=value"),
        ("drop=", "'drop=': expected name=value"),
        ("drop=0.1,drop=0.2", "drop is given twice"),
        ("timeout=0.1", "unknown fault 'timeout': use http5xx, drop, latency, after, seed"),
    ],
)
def test_bad_specs_say_what_is_wrong(text, message):
    with pytest.raises(FaultSpecError) as err:
        parse_spec(text)
    assert str(err.value).startswith(message)


def _sequence(spec, count=2000):
    plan = FaultPlan(spec)
    return [plan.next() for _ in range(count)], plan


def test_the_plan_is_deterministic_for_a_seed_and_follows_the_shares():
    spec = parse_spec("http5xx=0.1,drop=0.05,after=0.5,seed=7")
    first, plan = _sequence(spec)
    again, _ = _sequence(spec)
    other, _ = _sequence(parse_spec("http5xx=0.1,drop=0.05,after=0.5,seed=8"))
    assert first == again and first != other
    faults = [fault for fault in first if fault is not None]
    assert 150 <= plan.counts["http5xx"] <= 250 and 60 <= plan.counts["drop"] <= 140
    assert plan.counts["requests"] == 2000 and plan.counts["after"] == sum(fault.after for fault in faults)
    assert 0.35 <= plan.counts["after"] / len(faults) <= 0.65
    assert {fault.status for fault in faults if fault.kind == "http5xx"} == {500, 502, 503, 504}


@pytest.fixture
def faulty(tmp_path):
    """start(spec) -> a localgrid without node agents (so only the test's requests draw faults)."""
    servers = []

    def start(spec):
        directory = tmp_path / str(len(servers))
        directory.mkdir()
        lg = launch(directory, quiet=True, faults=parse_spec(spec))
        servers.append(lg)
        return lg

    yield start
    for lg in servers:
        lg.stop()


def _user(number):
    return {"name": "faulty%d.3bot" % number, "email": "faulty%d@example.com" % number, "pubkey": "ab" * 32}


def _outcome(client, method, path, **kwargs):
    try:
        return client.request(method, path, **kwargs).status_code
    except DROPPED:
        return "drop"


@pytest.mark.parametrize(
    "spec, answer, applied",
    [
        ("http5xx=1,after=0,seed=1", "5xx", False),
        ("http5xx=1,after=1,seed=1", "5xx", True),
        ("drop=1,after=0,seed=1", "drop", False),
        ("drop=1,after=1,seed=1", "drop", True),
    ],
)
def test_a_fault_before_loses_the_request_a_fault_after_loses_only_the_answer(faulty, spec, answer, applied):
    lg = faulty(spec)
    with httpx.Client(base_url=lg.base_url, timeout=10) as client:
        try:
            response = client.post("/explorer/users", json=_user(1))
        except DROPPED:
            response = None
        if answer == "drop":
            assert response is None
        else:
            assert response.status_code in (500, 502, 503, 504)
            assert response.headers["x-localgrid-fault"] == "http5xx " + ("after" if applied else "before")
        assert bool(lg.app_state.phonebook.find(name="faulty1.3bot")) is applied
        info = client.get("/localgrid/info").json()  # admin routes are never faulted
        assert info["faults"]["spec"] == parse_spec(spec).describe()["spec"]
        kind = "drop" if answer == "drop" else "http5xx"
        assert info["faults"]["injected"] == {
            "requests": 1, "http5xx": int(kind == "http5xx"), "drop": int(kind == "drop"), "after": int(applied)
        }
        assert _outcome(client, "GET", "/stellar/") != 200  # Horizon routes are faulted too


def test_the_same_seed_gives_the_same_faults_end_to_end(faulty):
    spec = "http5xx=0.3,drop=0.2,after=0.5,seed=11"
    runs = []
    for _ in range(2):
        lg = faulty(spec)
        with httpx.Client(base_url=lg.base_url, timeout=10) as client:
            outcomes = [_outcome(client, "GET", "/explorer/nodes") for _ in range(30)]
            outcomes += [_outcome(client, "POST", "/explorer/users", json=_user(number)) for number in range(10)]
        runs.append((outcomes, sorted(user["name"] for user in lg.app_state.phonebook.find())))
    assert runs[0] == runs[1]
    outcomes = runs[0][0]
    assert {"drop", 200} <= set(outcomes) and set(outcomes) & {500, 502, 503, 504}


def test_latency_delays_explorer_and_horizon_requests_only(faulty):
    lg = faulty("latency=200ms,seed=1")
    with httpx.Client(base_url=lg.base_url, timeout=10) as client:
        assert client.get("/explorer/nodes").elapsed.total_seconds() >= 0.2
        assert client.get("/stellar/fee_stats").elapsed.total_seconds() >= 0.2
        assert client.get("/localgrid/info").json()["faults"]["latency"] == 0.2
