"""The relays' shared state in a JetStream key-value bucket: the leader lease and the rest.

Keys of the bucket (``[relay] bucket``, default ``oncall-relay``):

``leader``
    ``{"id": relay}``, written with a per-message TTL of ``lease_ttl`` seconds and renewed
    every third of it by compare-and-set on its revision. When the leader dies the server
    drops the key after the TTL and a standby's create succeeds: no clocks are compared.
``term``
    ``{"n": n, "id": relay}``: incremented by each relay that takes the lead, so a relay that
    comes back knows whether someone else led meanwhile.
``checkpoint``
    ``{"term": n, "id": relay, "cursors": {backend: cursor}}``: where the backends' pulls
    stand, written after everything pulled before it was published.
``since``
    When the out-of-hours reply started (older chat messages are not answered).
``chat.<key>``
    One out-of-hours chat message and how far its handling went (kept eight days).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

CHAT_TTL = 8 * 86400.0


class SharedState:
    """JSON values in the bucket, with compare-and-set and per-key TTLs."""

    def __init__(self, js: Any, bucket: str) -> None:
        self.js = js
        self.bucket = bucket
        self.kv: Any = None

    async def open(self, replicas: int = 1) -> None:
        """Open the bucket, creating it (with per-message TTLs allowed) if needed."""
        from nats.js import errors as jerr

        try:
            self.kv = await self.js.key_value(self.bucket)
        except jerr.BucketNotFoundError:
            self.kv = await self.js.create_key_value(
                bucket=self.bucket, history=1, replicas=replicas
            )

    async def get(self, key: str) -> tuple[dict[str, Any] | None, int]:
        """(value, revision); (None, 0) when absent (or expired)."""
        from nats.js import errors as jerr

        try:
            entry = await self.kv.get(key)
        except (jerr.KeyNotFoundError, jerr.KeyDeletedError) as exc:
            marker = getattr(exc, "entry", None)  # a delete marker: writable with its revision
            return None, int(getattr(marker, "revision", 0) or 0)
        try:
            value = json.loads(entry.value or b"null")
        except ValueError:
            value = None
        return (value if isinstance(value, dict) else None), int(entry.revision or 0)

    async def write(
        self, key: str, value: dict[str, Any], *, last: int | None, ttl: float | None = None
    ) -> int:
        """Write ``value``; with ``last``, only if the key's revision is still ``last`` (0: the
        key must not exist). Returns the new revision.

        Raises:
            nats.js.errors.KeyWrongLastSequenceError: someone else wrote it first.
        """
        from nats.js import api
        from nats.js import errors as jerr

        headers: dict[str, str] = {}
        if last is not None:
            headers[api.Header.EXPECTED_LAST_SUBJECT_SEQUENCE] = str(last)
        payload = json.dumps(value, separators=(",", ":"), sort_keys=True).encode()
        try:
            ack = await self.js.publish(
                f"$KV.{self.bucket}.{key}",
                payload,
                headers=headers or None,
                msg_ttl=max(1, round(ttl)) if ttl else None,
            )
        except jerr.APIError as err:
            if err.err_code in (10071, 10164):
                raise jerr.KeyWrongLastSequenceError(description=err.description) from None
            raise
        return int(ack.seq)

    async def keys(self, prefix: str) -> list[str]:
        """Keys starting with ``prefix`` (a whole token, e.g. ``chat.``)."""
        from nats.js import errors as jerr

        try:
            return [k for k in await self.kv.keys(filters=[prefix + ">"]) if k.startswith(prefix)]
        except jerr.NoKeysError:
            return []


def chat_key(message_key: str) -> str:
    """The bucket key of one chat message (``C0123:1700000000.000100`` becomes
    ``chat.C0123_1700000000_000100``: channel ids and timestamps are letters and digits)."""
    return "chat." + "".join(ch if ch.isalnum() else "_" for ch in message_key)


class Lease:
    """The leader lease (see the module docstring)."""

    KEY = "leader"

    def __init__(
        self,
        state: SharedState,
        relay_id: str,
        ttl: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.state = state
        self.relay_id = relay_id
        self.ttl = ttl
        self.monotonic = monotonic
        self.revision: int | None = None
        self.renewed = 0.0

    @property
    def held(self) -> bool:
        """Whether this relay leads now (renewed recently enough to be sure)."""
        return self.revision is not None and self.monotonic() - self.renewed < self.ttl * 2 / 3

    async def acquire(self) -> bool:
        """Take the lease if nobody holds it (or renew ours); True if we lead."""
        from nats.js import errors as jerr

        if self.revision is not None and await self.renew():
            return True
        try:
            return self._got(await self.state.write(self.KEY, self._value(), last=0, ttl=self.ttl))
        except jerr.KeyWrongLastSequenceError:
            pass
        value, revision = await self.state.get(self.KEY)
        if value is None and revision:  # released (a delete marker): free to take
            try:
                return self._got(
                    await self.state.write(self.KEY, self._value(), last=revision, ttl=self.ttl)
                )
            except jerr.KeyWrongLastSequenceError:
                return False
        if value is None or value.get("id") != self.relay_id:
            return False
        try:  # our own lease from before a restart: go on with it
            return self._got(
                await self.state.write(self.KEY, self._value(), last=revision, ttl=self.ttl)
            )
        except jerr.KeyWrongLastSequenceError:
            return False

    async def renew(self) -> bool:
        """Extend the lease; False (and no longer leading) if it was lost."""
        from nats.js import errors as jerr

        if self.revision is None:
            return False
        try:
            return self._got(
                await self.state.write(self.KEY, self._value(), last=self.revision, ttl=self.ttl)
            )
        except jerr.KeyWrongLastSequenceError:
            self.revision = None
            return False

    async def release(self) -> None:
        """Give the lease up (a clean shutdown: the standby need not wait for the TTL)."""
        if self.revision is None:
            return
        from nats.js import errors as jerr

        try:
            await self.state.kv.delete(self.KEY, last=self.revision)
        except jerr.KeyWrongLastSequenceError:
            pass
        self.revision = None

    def _got(self, revision: int) -> bool:
        self.revision = revision
        self.renewed = self.monotonic()
        return True

    def _value(self) -> dict[str, Any]:
        return {"id": self.relay_id}
