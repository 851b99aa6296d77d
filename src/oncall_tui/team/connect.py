"""Connecting to the team's NATS servers: TLS, user/password, token or nkey, and errors.

The secret is the ``nats`` credential of the :class:`~oncall_tui.settings.secrets.SecretStore`
(``oncall-tui auth set nats``; ``ONCALL_TUI_NATS_SECRET`` on headless machines): the password
when ``[team] user`` is set, an nkey seed when it starts with ``SU``, else a token. It goes to
nats-py's options and nowhere else.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Callable
from typing import Any

from oncall_tui.domain.team import token
from oncall_tui.settings.secrets import SecretStore, SecretStoreUnavailable
from oncall_tui.settings.team import TeamConfig
from oncall_tui.sync.base import AuthFailed, BackendUnavailable, SyncError

SECRET_NAME = "nats"


class TeamUnavailable(BackendUnavailable):
    """The NATS servers cannot be reached (or the stream is not there yet)."""


def team_secret(secrets: SecretStore) -> str | None:
    """The NATS secret, if one is stored."""
    try:
        credential = secrets.get(SECRET_NAME)
    except SecretStoreUnavailable:
        return None
    return credential.access.reveal() if credential else None


def connect_options(team: TeamConfig, secret: str | None) -> dict[str, Any]:
    """nats-py ``connect`` options for this config and secret (TLS context, credentials)."""
    options: dict[str, Any] = {"servers": list(team.urls)}
    if team.tls_ca or team.tls_cert or any(u.startswith("tls://") for u in team.urls):
        context = ssl.create_default_context(cafile=str(team.tls_ca) if team.tls_ca else None)
        if team.tls_cert and team.tls_key:
            context.load_cert_chain(str(team.tls_cert), str(team.tls_key))
        options["tls"] = context
    if team.user:
        options["user"] = team.user
        options["password"] = secret or ""
        # Replies (the stream's deliveries) come to inboxes only this user may read.
        options["inbox_prefix"] = f"_INBOX_{token(team.user)}"
    elif secret and secret.startswith("SU"):
        options["nkeys_seed_str"] = secret
    elif secret:
        options["token"] = secret
    return options


class Connection:
    """One NATS connection and its JetStream context, opened on first use.

    Permission errors arrive from the server asynchronously (the request itself only times
    out); they are kept so the next failure can say which subject was refused.
    """

    def __init__(
        self,
        team: TeamConfig,
        secret: str | None,
        *,
        name: str,
        connect: Callable[..., Any] | None = None,
    ) -> None:
        self.team = team
        self._secret = secret
        self.name = name
        self._connect = connect
        self.nc: Any = None
        self.js: Any = None
        self.refused: str | None = None
        self._refusal = asyncio.Event()
        self._lock = asyncio.Lock()

    async def open(self) -> Any:
        """The JetStream context (connecting first if needed)."""
        async with self._lock:
            if self.nc is not None and not self.nc.is_closed:
                return self.js
            import nats
            from nats.errors import NoServersError

            async def on_error(exc: Exception) -> None:
                text = str(exc)
                if "permissions violation" in text.lower() or "authorization" in text.lower():
                    self.refused = text.removeprefix("nats: ")
                    self._refusal.set()

            options = connect_options(self.team, self._secret)
            options.update(
                name=self.name,
                connect_timeout=5,
                reconnect_time_wait=1,
                max_reconnect_attempts=-1,
                error_cb=on_error,
                allow_reconnect=True,
            )
            connect = self._connect or nats.connect
            where = ", ".join(self.team.urls)
            try:
                self.nc = await connect(**options)
            except NoServersError:
                raise TeamUnavailable(f"team: cannot reach {where}") from None
            except (TimeoutError, OSError, ssl.SSLError) as exc:
                raise TeamUnavailable(
                    f"team: cannot reach {where} ({type(exc).__name__})"
                ) from None
            except Exception as exc:
                raise map_error(exc, "connect") from None
            self.js = self.nc.jetstream(timeout=10)
            return self.js

    async def request(self, call: Any, what: str) -> Any:
        """Await one JetStream API call, or fail at once if the server refuses it (a refused
        request would otherwise only time out)."""
        self._refusal.clear()
        task = asyncio.ensure_future(call)
        refused = asyncio.ensure_future(self._refusal.wait())
        try:
            await asyncio.wait({task, refused}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            refused.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            raise self.error(RuntimeError("refused"), what)
        return task.result()

    async def close(self) -> None:
        """Close the connection (pending publications are flushed first)."""
        if self.nc is not None and not self.nc.is_closed:
            try:
                await self.nc.drain()
            except Exception:  # closing a broken link must not hide the error before it
                await self.nc.close()
        self.nc = None

    def error(self, exc: BaseException, what: str) -> SyncError:
        """The sync error an exception from the client means."""
        if self.refused is not None:
            refused, self.refused = self.refused, None
            return AuthFailed(f"team: {what}: {refused}")
        return map_error(exc, what)


def map_error(exc: BaseException, what: str) -> SyncError:
    """nats-py's exceptions as the sync layer's errors (never a secret in the text)."""
    from nats import errors as nerr
    from nats.js import errors as jerr

    name = type(exc).__name__
    if isinstance(exc, nerr.AuthorizationError) or "authorization" in str(exc).lower():
        return AuthFailed(f"team: {what}: the NATS server refused our credentials")
    if isinstance(exc, jerr.NotFoundError):
        return TeamUnavailable(f"team: {what}: not found (is the relay running?)")
    if isinstance(exc, jerr.APIError):
        return TeamUnavailable(f"team: {what}: {exc.description or name}")
    if isinstance(exc, nerr.TimeoutError | asyncio.TimeoutError):
        return TeamUnavailable(f"team: {what}: no answer in time")
    if isinstance(exc, nerr.Error | OSError):
        return TeamUnavailable(f"team: {what}: {name}")
    return TeamUnavailable(f"team: {what}: {name}")
