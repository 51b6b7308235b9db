"""`serve --faults`: seeded failures on the explorer and Horizon routes, so users test playbooks under faults.

A spec such as ``http5xx=0.1,drop=0.05,latency=200ms,after=0.5,seed=7`` answers 10 % of the
requests with a 5xx (500, 502, 503 or 504), drops the connection of 5 % without an answer, delays
every request by 200 ms, and injects half of those faults *after* the request was applied (its
answer is lost: the case that makes clients repeat a registration or a payment). The same seed and
the same sequence of requests give the same faults. Admin routes (/localgrid) and the hub are
never touched; the simulated nodes see the faults like any client (0-OS retries, so do they).
"""

import asyncio
import dataclasses
import random
import re
import secrets
import threading

FAULTED_PREFIXES = ("/explorer", "/stellar")
STATUSES = (500, 502, 503, 504)
_LATENCY = re.compile(r"^(\d+(?:\.\d+)?)(ms|s)$")
_PROBABILITIES = ("http5xx", "drop", "after")


class FaultSpecError(ValueError):
    """A --faults spec that cannot be used; the message says which part and what is expected."""


@dataclasses.dataclass(frozen=True)
class FaultSpec:
    http5xx: float = 0.0  # share of requests answered with a 5xx
    drop: float = 0.0  # share of requests whose connection is closed without an answer
    latency: float = 0.0  # seconds added to every request
    after: float = 0.0  # share of the faults injected after the request was applied
    seed: int = 0

    def describe(self):
        return {
            "spec": "http5xx=%g,drop=%g,latency=%gms,after=%g,seed=%d"
            % (self.http5xx, self.drop, self.latency * 1000, self.after, self.seed),
            **dataclasses.asdict(self),
        }


def parse_spec(text):
    """FaultSpec from ``name=value,...``; a missing seed is drawn at random (and shown by /localgrid/info)."""
    values = {}
    for part in (item.strip() for item in text.split(",")):
        if not part:
            continue
        name, sep, value = part.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not value:
            raise FaultSpecError("%r: expected name=value" % part)
        if name in values:
            raise FaultSpecError("%s is given twice" % name)
        values[name] = _value(name, value)
    if values.get("http5xx", 0) + values.get("drop", 0) > 1:
        raise FaultSpecError("http5xx + drop must be at most 1 (they are shares of the same requests)")
    values.setdefault("seed", secrets.randbelow(2**31))
    return FaultSpec(**values)


def _value(name, text):
    if name in _PROBABILITIES:
        try:
            value = float(text)
        except ValueError:
            value = -1.0
        if not 0 <= value <= 1:
            raise FaultSpecError("%s=%s: expected a share between 0 and 1, e.g. %s=0.1" % (name, text, name))
        return value
    if name == "latency":
        match = _LATENCY.match(text)
        if text == "0":
            return 0.0
        if not match:
            raise FaultSpecError("latency=%s: expected a duration such as 200ms or 1.5s" % text)
        return float(match.group(1)) / (1000 if match.group(2) == "ms" else 1)
    if name == "seed":
        if not text.isdigit():
            raise FaultSpecError("seed=%s: expected a non-negative integer" % text)
        return int(text)
    raise FaultSpecError("unknown fault %r: use http5xx, drop, latency, after, seed" % name)


@dataclasses.dataclass(frozen=True)
class Fault:
    kind: str  # "http5xx" or "drop"
    after: bool  # injected after the request was applied
    status: int = 0


class FaultPlan:
    """The seeded sequence of faults, drawn in request order, and counts of what was injected."""

    def __init__(self, spec):
        self.spec = spec
        self._random = random.Random(spec.seed)
        self._lock = threading.Lock()
        self.counts = {"requests": 0, "http5xx": 0, "drop": 0, "after": 0}

    def next(self):
        """The fault for the next request, or None. Every request draws the same numbers, faulted or not."""
        with self._lock:
            pick, when, status = self._random.random(), self._random.random(), self._random.choice(STATUSES)
            self.counts["requests"] += 1
            if pick < self.spec.http5xx:
                fault = Fault("http5xx", when < self.spec.after, status)
            elif pick < self.spec.http5xx + self.spec.drop:
                fault = Fault("drop", when < self.spec.after)
            else:
                return None
            self.counts[fault.kind] += 1
            self.counts["after"] += fault.after
            return fault

    def describe(self):
        return dict(self.spec.describe(), injected=dict(self.counts))


class FaultInjection:
    """ASGI middleware applying a FaultPlan. It needs the server's own ``send`` to drop a connection
    (see _drop): put it directly under the server, or under middleware that passes that on (AccessLog)."""

    def __init__(self, app, plan):
        self.app = app
        self.plan = plan

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith(FAULTED_PREFIXES):
            await self.app(scope, receive, send)
            return
        if self.plan.spec.latency:
            await asyncio.sleep(self.plan.spec.latency)
        fault = self.plan.next()
        if fault is None:
            await self.app(scope, receive, send)
            return
        if fault.after:
            try:
                await self.app(scope, receive, _discard)
            except Exception:  # Starlette re-raises after its 500; that answer is lost like any other
                pass
        if fault.kind == "drop":
            await _drop(send)
        else:
            await _answer_5xx(send, fault)


async def _discard(message):
    """The applied request's answer, lost."""


async def _answer_5xx(send, fault):
    body = b"localgrid --faults: injected %d\n" % fault.status
    await send({
        "type": "http.response.start",
        "status": fault.status,
        "headers": [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", b"%d" % len(body)),
            (b"x-localgrid-fault", b"%s %s" % (fault.kind.encode(), b"after" if fault.after else b"before")),
        ],
    })
    await send({"type": "http.response.body", "body": body})


async def _drop(send):
    """Close the connection without a byte of answer.

    ASGI has no message for that; uvicorn's ``send`` is a method of the request cycle that holds
    the connection's transport. Once the transport is closed uvicorn sees the client gone and
    writes nothing more.
    """
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        raise ConnectionAbortedError("localgrid --faults: connection dropped")
    transport.close()
    await asyncio.sleep(0)  # let the event loop deliver connection_lost before the app returns
