"""Health checks for `oncall-tui doctor`: one cheap authenticated request per backend."""

from __future__ import annotations

import httpx

from oncall_tui.config import BackendConfig


async def probe(name: str, spec: BackendConfig, client: httpx.AsyncClient) -> tuple[bool, str]:
    """Reach the backend and prove the token's access. Returns (ok, one-line message).

    Never raises for network or HTTP trouble, and never puts the token in the message.
    """
    try:
        if name == "zendesk":
            response = await client.get("/api/v2/users.json", params={"per_page": 1})
        elif name == "github":
            response = await client.get("/rate_limit")
            if response.status_code == 200 and spec.repos:
                response = await client.get(
                    f"/repos/{spec.repos[0]}/issues", params={"per_page": 1}
                )
        else:
            response = await client.get(
                "/conversations.history", params={"channel": spec.channels[0], "limit": 1}
            )
    except httpx.TimeoutException:
        return False, f"{spec.url} did not answer in time"
    except httpx.TransportError as exc:
        return False, f"cannot reach {spec.url} ({type(exc).__name__})"
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
