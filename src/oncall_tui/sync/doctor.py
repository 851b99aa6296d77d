"""Health checks for `oncall-tui doctor`: one cheap authenticated request per backend."""

from __future__ import annotations

import httpx

from oncall_tui.domain.errors import ConfigValueError
from oncall_tui.settings.config import BackendConfig
from oncall_tui.sync.base import BackendUnavailable, SyncError
from oncall_tui.sync.budget import SharedBudget
from oncall_tui.sync.http import send
from oncall_tui.sync.zendesk_agent import ADMIN_WHY, AGENT_WHY
from oncall_tui.sync.zendesk_config import ZendeskConfig


async def probe(name: str, spec: BackendConfig, client: httpx.AsyncClient) -> tuple[bool, str]:
    """Reach the backend and prove the token's access. Returns (ok, one-line message).

    Never raises for network or HTTP trouble, and never puts the token in the message. The
    requests go through :func:`send`, so a hostile server is bounded here too.
    """

    async def get(path: str, **params: object) -> httpx.Response:
        return await send(client, "GET", path, backend=name, params=params or None)

    try:
        if name == "zendesk":
            response = await get("/api/v2/users/me.json")
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
    if name == "zendesk":
        return _zendesk(spec, response)
    remaining = response.headers.get("x-ratelimit-remaining")
    extra = f", {remaining} requests left this hour" if remaining else ""
    return True, f"reachable, token accepted{extra}"


def _zendesk(spec: BackendConfig, response: httpx.Response) -> tuple[bool, str]:
    """Which pull the token allows, and the account's budget (``users/me`` and its headers)."""
    try:
        body = response.json()
    except ValueError:
        return False, f"{spec.url} answered something that is not JSON"
    user = body.get("user") if isinstance(body, dict) else None
    role = user.get("role") if isinstance(user, dict) else None
    if not isinstance(user, dict) or user.get("id") is None or role not in ("admin", "agent"):
        return False, (
            f"{spec.url} does not know the token as an agent (role {str(role)[:20]!r}); "
            "sign in again with an agent's or admin's account"
        )
    try:
        config = ZendeskConfig.from_options(spec.options)
    except ConfigValueError:
        config = ZendeskConfig()
    if config.access != "auto":
        path = f"configured: access = {config.access}"
    else:
        path = ADMIN_WHY if role == "admin" else AGENT_WHY
    budget = SharedBudget(config.budget_share, lambda: 0.0)
    budget.observe(response.headers)
    account = f"the account's {budget.limit}" if budget.limit_known else "an account's"
    return True, (
        f"reachable, token accepted; {path}; oncall-tui uses {budget.per_minute} requests a "
        f"minute ({config.budget_share:.0%} of {account})"
    )
