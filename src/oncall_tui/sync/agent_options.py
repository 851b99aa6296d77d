"""The Zendesk options of the agent path and the shared budget, read from the config."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from oncall_tui.domain.errors import ConfigValueError

AGENT_OPTIONS = (
    "access",
    "agent_statuses",
    "agent_groups",
    "agent_solved_days",
    "search_overlap_seconds",
    "scope_sweep_minutes",
    "budget_share",
)
ACCESS = ("auto", "admin", "agent")
STATUSES = ("new", "open", "pending", "hold", "solved")


def _whole(options: Mapping[str, Any], key: str, name: str, low: int, high: int) -> int | None:
    value = options.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigValueError(f"{key}.{name}", f"a whole number from {low} to {high}", value)
    return value


def agent_options(options: Mapping[str, Any], key: str) -> dict[str, Any]:
    """The ``ZendeskConfig`` keywords of these options (only those given)."""
    out: dict[str, Any] = {}
    access = options.get("access")
    if access is not None:
        if access not in ACCESS:
            raise ConfigValueError(f"{key}.access", " or ".join(ACCESS), access)
        out["access"] = access
    statuses = options.get("agent_statuses")
    if statuses is not None:
        if (
            not isinstance(statuses, list)
            or not statuses
            or not all(s in STATUSES for s in statuses)
        ):
            raise ConfigValueError(
                f"{key}.agent_statuses", f"a list of {', '.join(STATUSES)}", statuses
            )
        out["agent_statuses"] = tuple(statuses)
    groups = options.get("agent_groups")
    if groups is not None:
        if not isinstance(groups, list) or not all(
            isinstance(g, int) and not isinstance(g, bool) and g > 0 for g in groups
        ):
            raise ConfigValueError(f"{key}.agent_groups", "a list of Zendesk group ids", groups)
        out["agent_groups"] = tuple(str(g) for g in groups)
    for name, low, high in (
        ("agent_solved_days", 0, 365),
        ("search_overlap_seconds", 0, 3600),
        ("scope_sweep_minutes", 1, 1440),
    ):
        value = _whole(options, key, name, low, high)
        if value is not None:
            out[name] = value
    share = options.get("budget_share")
    if share is not None:
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share <= 1:
            raise ConfigValueError(f"{key}.budget_share", "a fraction above 0, at most 1", share)
        out["budget_share"] = float(share)
    return out


__all__ = ["ACCESS", "AGENT_OPTIONS", "agent_options"]
