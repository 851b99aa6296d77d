"""Signing in: OAuth authorization code + PKCE over a loopback redirect (Zendesk), the OAuth
device flow (GitHub), and refreshing rotating tokens safely.

Zendesk voids a refresh token as soon as it is used and returns a new one, so the new pair is
written to the keyring *before* the new access token is used: a crash between the two leaves
a working refresh token behind, never a dead one.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets as _secrets
import threading
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import httpx

from oncall_tui.domain.clock import Clock
from oncall_tui.settings.secrets import Credential, Secret, SecretStore

ZENDESK_SCOPE = "read write"
GITHUB_SCOPE = "repo"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
REFRESH_MARGIN = timedelta(minutes=5)


class AuthError(Exception):
    """Signing in failed; the message is ready to show (and holds no secret)."""


def pkce_pair() -> tuple[str, str]:
    """(verifier, S256 challenge) for PKCE (RFC 7636)."""
    verifier = _secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return verifier, challenge


@dataclass
class LoopbackReceiver:
    """Listens once on 127.0.0.1 for the browser's redirect with ``?code=…&state=…``."""

    server: HTTPServer
    thread: threading.Thread
    result: dict[str, str]
    done: threading.Event

    @property
    def redirect_uri(self) -> str:
        """Where the authorization server sends the browser back."""
        return f"http://127.0.0.1:{self.server.server_address[1]}/callback"

    @classmethod
    def start(cls) -> LoopbackReceiver:
        """Bind an ephemeral port on the loopback interface and serve one callback."""
        result: dict[str, str] = {}
        done = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                query = parse_qs(urlparse(self.path).query)
                if urlparse(self.path).path != "/callback":
                    self.send_error(404)
                    return
                result.update({k: v[0] for k, v in query.items() if v})
                ok = "code" in result
                self.send_response(200 if ok else 400)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.end_headers()
                message = (
                    "Signed in. You can close this tab and return to oncall-tui."
                    if ok
                    else "Sign-in failed; see oncall-tui for details."
                )
                self.wfile.write(message.encode())
                done.set()

            def log_message(self, format: str, *args: Any) -> None:  # the URL holds the code
                return

        server = HTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        return cls(server, thread, result, done)

    def wait(self, timeout: float) -> dict[str, str]:
        """Block until the callback arrived (or ``timeout`` seconds passed)."""
        self.done.wait(timeout)
        return dict(self.result)

    def stop(self) -> None:
        """Stop listening."""
        self.server.shutdown()
        self.server.server_close()


def _token_credential(body: Any, clock: Clock, kind: str = "oauth") -> Credential:
    if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
        error = (
            body.get("error_description") or body.get("error") if isinstance(body, dict) else None
        )
        raise AuthError(f"the server did not issue a token ({error or 'unexpected answer'})")
    expires_in = body.get("expires_in")
    expires = clock() + timedelta(seconds=int(expires_in)) if isinstance(expires_in, int) else None
    refresh = body.get("refresh_token")
    return Credential(
        kind,
        Secret(body["access_token"]),
        Secret(refresh) if isinstance(refresh, str) else None,
        expires,
    )


async def zendesk_login(
    base_url: str,
    client_id: str,
    secrets: SecretStore,
    clock: Clock,
    *,
    open_browser: Callable[[str], object],
    say: Callable[[str], None],
    transport: httpx.AsyncBaseTransport | None = None,
    timeout: float = 300.0,
) -> Credential:
    """Authorization code + PKCE through a one-shot loopback redirect; stores the tokens."""
    verifier, challenge = pkce_pair()
    state = _secrets.token_urlsafe(16)
    receiver = LoopbackReceiver.start()
    try:
        query = urlencode(
            {
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": receiver.redirect_uri,
                "scope": ZENDESK_SCOPE,
                "state": state,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        url = f"{base_url.rstrip('/')}/oauth/authorizations/new?{query}"
        say(f"Open this address to sign in to Zendesk (opening your browser):\n  {url}")
        open_browser(url)
        result = await asyncio.to_thread(receiver.wait, timeout)
    finally:
        receiver.stop()
    if "code" not in result:
        raise AuthError(
            result.get("error_description")
            or result.get("error")
            or "no answer from the browser in time"
        )
    if result.get("state") != state:
        raise AuthError("the answer did not match this sign-in (state mismatch); try again")
    async with httpx.AsyncClient(base_url=base_url, transport=transport, timeout=30) as client:
        response = await client.post(
            "/oauth/tokens",
            json={
                "grant_type": "authorization_code",
                "code": result["code"],
                "client_id": client_id,
                "redirect_uri": receiver.redirect_uri,
                "code_verifier": verifier,
                "scope": ZENDESK_SCOPE,
            },
        )
    credential = _token_credential(_json(response), clock)
    secrets.set("zendesk", credential)
    return credential


async def refresh_if_needed(
    name: str,
    base_url: str,
    client_id: str | None,
    credential: Credential,
    secrets: SecretStore,
    clock: Clock,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Credential:
    """Refresh an OAuth credential about to expire; the new pair is stored before it is used."""
    if credential.refresh is None or credential.expires_at is None:
        return credential
    if credential.expires_at - clock() > REFRESH_MARGIN:
        return credential
    if not client_id:
        raise AuthError(f"{name}: cannot refresh the token without backends.{name}.client_id")
    async with httpx.AsyncClient(base_url=base_url, transport=transport, timeout=30) as client:
        response = await client.post(
            "/oauth/tokens",
            json={
                "grant_type": "refresh_token",
                "refresh_token": credential.refresh.reveal(),
                "client_id": client_id,
            },
        )
    fresh = _token_credential(_json(response), clock)
    secrets.set(name, fresh)  # first: the old refresh token is already void
    return fresh


async def github_device_login(
    oauth_url: str,
    client_id: str,
    secrets: SecretStore,
    clock: Clock,
    *,
    say: Callable[[str], None],
    transport: httpx.AsyncBaseTransport | None = None,
    sleep: Callable[[float], Any] = asyncio.sleep,
) -> Credential:
    """GitHub's device flow: show a code, poll until the user approved it; stores the token."""
    headers = {"Accept": "application/json"}
    async with httpx.AsyncClient(
        base_url=oauth_url, transport=transport, timeout=30, headers=headers
    ) as client:
        response = await client.post(
            "/login/device/code", data={"client_id": client_id, "scope": GITHUB_SCOPE}
        )
        start = _json(response)
        if not isinstance(start, dict) or "device_code" not in start:
            raise AuthError("GitHub did not start the device flow (is the client id right?)")
        interval = float(start.get("interval", 5))
        deadline = clock() + timedelta(seconds=float(start.get("expires_in", 900)))
        say(f"Open {start.get('verification_uri')} and enter the code {start.get('user_code')}")
        while clock() < deadline:
            await sleep(interval)
            response = await client.post(
                "/login/oauth/access_token",
                data={
                    "client_id": client_id,
                    "device_code": start["device_code"],
                    "grant_type": DEVICE_GRANT,
                },
            )
            body = _json(response)
            error = body.get("error") if isinstance(body, dict) else "unexpected answer"
            if error == "authorization_pending":
                continue
            if error == "slow_down":
                interval = float(body.get("interval", interval + 5))
                continue
            if error:
                raise AuthError(
                    {
                        "expired_token": "the code expired; start again",
                        "access_denied": "access was denied in the browser",
                    }.get(str(error), f"GitHub refused: {error}")
                )
            credential = _token_credential(body, clock)
            secrets.set("github", credential)
            return credential
    raise AuthError("the code expired before it was approved; start again")


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise AuthError(
            f"unexpected answer from {response.request.url.host} (HTTP {response.status_code})"
        ) from None


def expires_text(credential: Credential, now: datetime) -> str:
    """ "expires in 52 min" / "expired 3 h ago" / "no expiry"."""
    if credential.expires_at is None:
        return "no expiry"
    left = credential.expires_at - now
    minutes = int(abs(left.total_seconds()) // 60)
    span = f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"
    when = f"{credential.expires_at:%Y-%m-%d %H:%M} UTC"
    return f"expires in {span} ({when})" if left.total_seconds() > 0 else f"expired {span} ago"


class RefreshingAuth(httpx.Auth):
    """httpx auth that refreshes an expiring OAuth token before a request goes out.

    Used for long-running sessions: the app may stay open for a whole on-call shift while
    Zendesk access tokens live an hour.
    """

    def __init__(
        self,
        name: str,
        oauth_url: str,
        client_id: str | None,
        credential: Credential,
        secrets: SecretStore,
        clock: Clock,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.name = name
        self.oauth_url = oauth_url
        self.client_id = client_id
        self.credential = credential
        self.secrets = secrets
        self.clock = clock
        self.transport = transport
        self._lock = asyncio.Lock()

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        async with self._lock:
            self.credential = await refresh_if_needed(
                self.name,
                self.oauth_url,
                self.client_id,
                self.credential,
                self.secrets,
                self.clock,
                transport=self.transport,
            )
        request.headers["Authorization"] = f"Bearer {self.credential.access.reveal()}"
        yield request

    def __repr__(self) -> str:
        return f"RefreshingAuth({self.name!r})"
