"""Health checks for `oncall-tui doctor`: one cheap authenticated request per backend."""

from __future__ import annotations

import httpx

from oncall_tui.config import BackendConfig
from oncall_tui.sync.base import BackendUnavailable, SyncError
from oncall_tui.sync.http import send


async def probe(name: str, spec: BackendConfig, client: httpx.AsyncClient) -> tuple[bool, str]:
    """Reach the backend and prove the token's access. Returns (ok, one-line message).

    Never raises for network or HTTP trouble, and never puts the token in the message. The
    requests go through :func:`send`, so a hostile server is bounded here too.
    """

    async def get(path: str, **params: object) -> httpx.Response:
        return await send(client, "GET", path, backend=name, params=params or None)

    try:
        if name == "zendesk":
            response = await get("/api/v2/users.json", per_page=1)
        elif name == "github":
            response = await get("/rate_limit")
            if response.status_code == 200 and spec.repos:
                response = await get(f"/repos/{spec.repos[0]}/issues", per_page=1)
        else:
            response = await get("/conversations.history", channel=spec.channels[0], limit=1)
    except BackendUnavailable as exc:
        return False, f"cannot reach {spec.url}: {exc}"
    except SyncError as exc:
        return False, f"{spec.url} answered something we cannot use: {exc}"
    if response.status_code in (401, 403):
        return False, f"{spec.url} refused the token (HTTP {response.status_code}); sign in again"
    if response.status_code >= 400:
        return False, f"{spec.url} answered HTTP {response.status_code}"
    if name == "slack":
        try:
            body = response.json()
        except ValueError:
            return False, f"{spec.url} answered something that is not JSON"
        if not isinstance(body, dict) or not body.get("ok"):
            error = body.get("error") if isinstance(body, dict) else "unknown"
            return False, f"Slack refused: {error}"
    remaining = response.headers.get("x-ratelimit-remaining")
    extra = f", {remaining} requests left this hour" if remaining else ""
    return True, f"reachable, token accepted{extra}"
