"""A request budget shared with the user's browser and colleagues.

Zendesk limits requests per minute for the whole account (every agent's browser, every app),
and tells each answer's limit and what is left: ``X-Rate-Limit`` / ``X-Rate-Limit-Remaining``
(and the newer ``ratelimit-limit`` / ``ratelimit-remaining`` / ``ratelimit-reset``). oncall-tui
takes only ``share`` of the account's limit (default 20 %): :class:`SharedBudget` counts our
own requests of the last minute and says how long to wait before the next one, and waits too
when the account as a whole has nothing left (the others spent it), until the window resets.
A 429 is still possible (the others' use is only known from the headers): its ``Retry-After``
stops the backend's pass (:class:`~oncall_tui.sync.base.RateLimited`).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Mapping

#: The smallest account limit Zendesk has (Team plan): the assumption until a header says.
DEFAULT_ACCOUNT_LIMIT = 200
WINDOW = 60.0


def _header_int(headers: Mapping[str, str], *names: str) -> int | None:
    for name in names:
        value = headers.get(name)
        if value is None:
            continue
        text = value.split(",")[0].split(";")[0].strip()
        if text.isdigit():
            return int(text)
    return None


class SharedBudget:
    """Our share of an account-wide per-minute limit.

    Args:
        share: the fraction of the account's limit we may use (0 < share <= 1).
        now: seconds on the wall clock (injected).
        default_limit: the account's limit until an answer's headers say it.
    """

    def __init__(
        self, share: float, now: Callable[[], float], default_limit: int = DEFAULT_ACCOUNT_LIMIT
    ) -> None:
        self.share = share
        self.now = now
        self.limit = default_limit
        self.limit_known = False
        self.remaining: int | None = None
        self.reset: float | None = None
        self._sent: deque[float] = deque()

    @property
    def per_minute(self) -> int:
        """How many requests a minute we may send."""
        return max(1, math.floor(self.limit * self.share))

    def _recent(self) -> int:
        cutoff = self.now() - WINDOW
        while self._sent and self._sent[0] <= cutoff:
            self._sent.popleft()
        return len(self._sent)

    def note(self) -> None:
        """A request is being sent now."""
        self._recent()
        self._sent.append(self.now())

    def observe(self, headers: Mapping[str, str]) -> None:
        """Read an answer's rate-limit headers (lower-case names, as httpx gives them)."""
        limit = _header_int(headers, "x-rate-limit", "ratelimit-limit")
        if limit:
            self.limit, self.limit_known = limit, True
        remaining = _header_int(headers, "x-rate-limit-remaining", "ratelimit-remaining")
        if remaining is not None:
            self.remaining = remaining
            reset = _header_int(headers, "ratelimit-reset")
            self.reset = self.now() + (reset if reset is not None else WINDOW)

    def available(self) -> int:
        """Requests we may send now without waiting."""
        if self.remaining is not None and self.remaining <= 0 and self._account_wait() > 0:
            return 0
        return max(0, self.per_minute - self._recent())

    def _account_wait(self) -> float:
        if self.remaining is None or self.remaining > 0 or self.reset is None:
            return 0.0
        return max(0.0, self.reset - self.now())

    def wait(self) -> float:
        """Seconds before the next request keeps within our share (0: now)."""
        ours = 0.0
        if self._recent() >= self.per_minute:
            ours = self._sent[-self.per_minute] + WINDOW - self.now()
        return max(0.0, ours, self._account_wait())

    def describe(self) -> str:
        """One line for the sync log."""
        limit = f"{self.limit}" if self.limit_known else f"{self.limit} (assumed)"
        left = f"; {self.remaining} left for the account" if self.remaining is not None else ""
        return (
            f"request budget: {self._recent()} of {self.per_minute} a minute used "
            f"({self.share:.0%} of the account's {limit}){left}"
        )


__all__ = ["DEFAULT_ACCOUNT_LIMIT", "SharedBudget"]
