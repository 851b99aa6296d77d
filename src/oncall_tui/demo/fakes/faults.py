"""Fault injection for the fake backends: what bad wifi and busy servers do to a request.

A :class:`FaultPlan` decides, request by request, whether something goes wrong: first from a
scripted sequence (exact, for tests), then by probability from a seeded random generator (for
the demo and soak tests; the same seed gives the same faults in the same order).

>>> plan = FaultPlan(script=[Fault.RATE_LIMIT, None, Fault.DROP])
>>> plan = FaultPlan(probabilities={Fault.LATENCY: 0.3, Fault.SERVER_ERROR: 0.05}, seed=7)
"""

from __future__ import annotations

import random
import re
import threading
import zlib
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import httpx


class Fault(StrEnum):
    """One way a request can go wrong."""

    LATENCY = "latency"
    """Answer normally after ``FaultPlan.latency`` seconds."""
    RATE_LIMIT = "rate_limit"
    """Refuse with the backend's rate-limit answer (429 or 403) and ``Retry-After``."""
    SERVER_ERROR = "server_error"
    """Answer 500."""
    UNAVAILABLE = "unavailable"
    """Answer 503 with ``Retry-After``."""
    DROP = "drop"
    """Close the connection before doing anything (``httpx.RemoteProtocolError``)."""
    LOST_RESPONSE = "lost_response"
    """Apply the request, then lose the answer (``httpx.ReadError``): an unclear outcome."""
    MALFORMED = "malformed"
    """Answer 200 with a JSON body cut in the middle."""
    SLOW_BODY = "slow_body"
    """Send the body in small chunks, ``FaultPlan.slow_chunk_delay`` seconds apart."""
    REPEAT = "repeat"
    """A list page repeats its first item (the export's "ticket changed twice")."""
    ENDLESS_BODY = "endless_body"
    """Answer 200 with a chunked body that never ends (the answer's start, then padding)."""
    HUGE_BODY = "huge_body"
    """Answer 200 declaring ``FaultPlan.huge_length`` bytes of body, and keep sending."""
    GZIP_BOMB = "gzip_bomb"
    """Answer 200 with ``Content-Encoding: gzip`` that inflates without end (~1000:1)."""
    TRICKLE = "trickle"
    """Send the status line and headers, then one byte every ``FaultPlan.trickle_delay`` s."""
    REDIRECT = "redirect"
    """Answer ``FaultPlan.redirect_status`` with a ``Location`` at ``FaultPlan.redirect_to``
    (the same path and query; the fake's own origin if None), without applying the request."""


#: Faults whose answer is a byte stream: a real socket or ``async_handler`` only.
STREAMING = frozenset({Fault.ENDLESS_BODY, Fault.HUGE_BODY, Fault.GZIP_BOMB, Fault.TRICKLE})


@dataclass
class FaultPlan:
    """Which faults hit which requests.

    Attributes:
        probabilities: chance per request of each fault, tried in this order.
        script: faults for the next matching requests, one each (None = no fault), used
            before any probability.
        seed: seeds the random generator.
        latency: seconds of ``LATENCY``.
        retry_after: seconds the ``RATE_LIMIT`` and ``UNAVAILABLE`` answers ask to wait.
        slow_chunk_delay: seconds between chunks of a ``SLOW_BODY``.
        trickle_delay: seconds between the bytes of a ``TRICKLE``.
        huge_length: the ``Content-Length`` a ``HUGE_BODY`` declares.
        redirect_to: the origin (``http://127.0.0.1:8081``) a ``REDIRECT`` points at.
        redirect_status: the status of a ``REDIRECT`` (301, 302, 303, 307, 308).
        match: a regular expression; only requests whose path matches it can be hit.
        injected: every fault dealt so far, as (method, path, fault): for assertions.
        streamed: per streaming fault answered, (path, fault, body bytes sent before the
            client hung up): what a hostile server got a client to take.
    """

    probabilities: Mapping[Fault, float] = field(default_factory=dict)
    script: Iterable[Fault | None] = ()
    seed: int = 0
    latency: float = 0.5
    retry_after: float = 2.0
    slow_chunk_delay: float = 0.05
    trickle_delay: float = 5.0
    huge_length: int = 10**12
    redirect_to: str | None = None
    redirect_status: int = 302
    match: str | None = None
    injected: list[tuple[str, str, Fault]] = field(default_factory=list)
    streamed: list[tuple[str, Fault, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        for fault, chance in self.probabilities.items():
            if not 0.0 <= chance <= 1.0:
                raise ValueError(f"probability of {fault} must be within 0..1, got {chance}")
        self._queue: deque[Fault | None] = deque(self.script)
        self._random = random.Random(self.seed)
        self._pattern = re.compile(self.match) if self.match else None
        self._lock = threading.Lock()

    def record_stream(self, path: str, fault: Fault, sent: int) -> None:
        """Note how much of a streaming answer went out before it ended."""
        with self._lock:
            self.streamed.append((path, fault, sent))

    def add(self, *faults: Fault | None) -> None:
        """Script more faults for the next matching requests."""
        with self._lock:
            self._queue.extend(faults)

    def choose(self, request: httpx.Request) -> Fault | None:
        """The fault (or None) for this request; draws in request order."""
        path = request.url.path
        if self._pattern is not None and not self._pattern.search(path):
            return None
        with self._lock:
            if self._queue:
                fault = self._queue.popleft()
            else:
                fault = None
                for candidate, chance in self.probabilities.items():
                    if chance and self._random.random() < chance:
                        fault = candidate
                        break
            if fault is not None:
                self.injected.append((request.method, path, fault))
            return fault

    @classmethod
    def flaky(cls, seed: int = 0, rate: float = 0.1) -> FaultPlan:
        """A bad-hotel-wifi mix for the demo: mostly latency, sometimes worse."""
        return cls(
            probabilities={
                Fault.LATENCY: rate * 3,
                Fault.SLOW_BODY: rate,
                Fault.RATE_LIMIT: rate / 2,
                Fault.SERVER_ERROR: rate / 4,
                Fault.DROP: rate / 4,
                Fault.LOST_RESPONSE: rate / 4,
                Fault.REPEAT: rate / 2,
            },
            seed=seed,
            latency=0.3,
            retry_after=1.0,
        )


#: Bytes per write of an endless body.
PADDING = 64 * 1024


def hostile_headers(
    fault: Fault, response: httpx.Response, length: int, plan: FaultPlan
) -> dict[str, str]:
    """The headers of a streaming fault's answer (no length: sent chunked or until closed)."""
    skip = {"content-length", "transfer-encoding", "connection", "content-encoding"}
    headers = {k: v for k, v in response.headers.items() if k.lower() not in skip}
    if fault is Fault.HUGE_BODY:
        headers["Content-Length"] = str(plan.huge_length)
    elif fault is Fault.TRICKLE:
        headers["Content-Length"] = str(length)
    elif fault is Fault.GZIP_BOMB:
        headers["Content-Encoding"] = "gzip"
    return headers


def hostile_body(fault: Fault, body: bytes, plan: FaultPlan) -> Iterator[tuple[float, bytes]]:
    """(seconds to wait first, bytes) of a streaming fault's body; most never end."""
    if fault is Fault.TRICKLE:
        for i in range(len(body)):
            yield plan.trickle_delay, body[i : i + 1]
        return
    if fault is Fault.GZIP_BOMB:
        deflate = zlib.compressobj(1, zlib.DEFLATED, zlib.MAX_WBITS | 16)
        zeros = bytes(1024 * 1024)
        yield 0.0, deflate.compress(body) + deflate.flush(zlib.Z_SYNC_FLUSH)
        while True:  # ~1 kB on the wire per MB inflated
            yield 0.0, deflate.compress(zeros) + deflate.flush(zlib.Z_SYNC_FLUSH)
    yield 0.0, body  # an endless or huge body: the answer, then padding without end
    padding = b" " * PADDING
    while True:
        yield 0.0, padding


__all__ = ["PADDING", "STREAMING", "Fault", "FaultPlan", "hostile_body", "hostile_headers"]
