"""EmptyState: what the queue says instead of a blank table.

An empty result always says why, and what to try: the first run (an empty cache: configure a
backend, sign in, or try the demo), a sync that has not brought anything yet or failed, a view
with nothing in it (and the views that have something), a filter that matches nothing here
(and where it does match, counted in the background), a ticket number not in the cache.
:func:`explain_empty` builds the lines from plain data, so tests read them without a screen;
the widget itself is :mod:`oncall_tui.ui.widgets.empty_view` (so the queue's first frame does
not build these dataclasses: they load with the first empty result).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from oncall_tui.ui.feedback import without_backend
from oncall_tui.ui.widgets.empty_view import EmptyState

__all__ = ["BackendSync", "EmptyContext", "EmptyState", "ViewCount", "explain_empty"]


@dataclass(frozen=True)
class ViewCount:
    """A view as the view bar shows it: its key (1-9), name and how many tickets."""

    key: int
    name: str
    count: int


@dataclass(frozen=True)
class BackendSync:
    """What the sync log knows about one backend."""

    name: str
    synced: bool
    """It has synced at least once."""
    error: str | None = None
    """Its last attempt's error, if that failed."""


@dataclass(frozen=True)
class EmptyContext:
    """Everything :func:`explain_empty` needs."""

    has_tickets: bool
    """False: nothing in the cache at all."""
    view: ViewCount
    view_query: str
    filter_text: str = ""
    problems: tuple[str, ...] = ()
    views: tuple[ViewCount, ...] = ()
    """Every view with its count (without the filter)."""
    elsewhere: tuple[ViewCount, ...] | None = None
    """The other views with the filter applied; None while not counted yet."""
    anywhere: int | None = None
    """Tickets the filter matches in the whole cache, closed ones too (None: not counted)."""
    numbered: tuple[str, ...] = ()
    """The tickets with the filter's ticket number, as "ref subject (status)"."""
    number: str | None = None
    """The filter's ticket number, when the filter is one."""
    user: str = "me"
    config_path: Path | None = None
    demo: bool = False
    backends: tuple[BackendSync, ...] = ()
    """Configured backends (empty: local only)."""
    syncing: bool = False
    starting: bool = False
    """A backend is configured and the sync engine is being built (right after the first
    frame): its first pass follows."""
    history_days: int = 90


def _quoted(text: str) -> str:
    return f"“{' '.join(text.split())}”"


def explain_empty(ctx: EmptyContext) -> tuple[str, list[str]]:
    """(why, what to try) for an empty queue."""
    if not ctx.has_tickets:
        return _first_run(ctx)
    tips: list[str] = []
    view = f"{ctx.view.key} {ctx.view.name}"
    if ctx.filter_text.strip():
        why = f"No ticket in {view} matches {_quoted(ctx.filter_text)}."
        if ctx.problems:
            tips.append("Part of the filter is not understood (see above): fix it, or esc.")
        if ctx.number is not None:
            tips += _number_tips(ctx)
        if ctx.elsewhere is None:
            tips.append("Looking in the other views…")
        else:
            found = [v for v in ctx.elsewhere if v.count]
            if found:
                shown = " · ".join(f"{v.key} {v.name} ({v.count})" for v in found)
                tips.append(f"It matches in other views: {shown}; press the view's number.")
            elif ctx.anywhere:
                tips.append(
                    f"It matches {ctx.anywhere} ticket{'s' if ctx.anywhere != 1 else ''} in "
                    "no view (solved or closed ones): add is:closed to see them."
                )
            elif ctx.number is None:
                tips.append(
                    "It matches nothing in the cache: check the spelling, or use fewer or "
                    "shorter words (each word matches as the start of a word)."
                )
        tips.append("esc clears the filter.")
        return why, tips
    why = f"{view} is empty (its query: {ctx.view_query or 'everything'})."
    if "assignee:me" in ctx.view_query.split():
        if ctx.user == "me":
            where = f" to {ctx.config_path}" if ctx.config_path else ""
            tips.append(
                "assignee:me means the user in your config, and none is set: add "
                f'user = "you@example.com"{where} (your help-desk e-mail).'
            )
        else:
            tips.append(f"No ticket of this view is assigned to {ctx.user}.")
    others = [v for v in ctx.views if v.count and v.key != ctx.view.key]
    if others:
        tips.append("Other views: " + " · ".join(f"{v.key} {v.name} ({v.count})" for v in others))
    return why, tips


def _number_tips(ctx: EmptyContext) -> list[str]:
    if not ctx.numbered:
        return [f"No ticket numbered {ctx.number} is in the cache (not synced yet, or closed)."]
    if len(ctx.numbered) == 1:
        return [f"#{ctx.number} {ctx.numbered[0]} is not in this view: enter opens it."]
    return [f"{len(ctx.numbered)} tickets have the number {ctx.number}: enter picks one."]


def _first_run(ctx: EmptyContext) -> tuple[str, list[str]]:
    config = str(ctx.config_path) if ctx.config_path else "the config file"
    if ctx.demo:
        return "The demo has no tickets.", ["Start it again: oncall-tui --demo"]
    if ctx.starting:
        return (
            "No tickets yet: the first sync is under way.",
            ["The status line shows its progress; L opens the sync log."],
        )
    if not ctx.backends:
        return (
            "No tickets yet: no backend is configured, so there is nothing to sync from.",
            [
                f"· Add a backend to {config}: [backends.zendesk], [backends.github] or "
                "[backends.slack] (the README shows each).",
                "· Sign in: oncall-tui auth login zendesk (or github; auth set slack), then "
                "check with oncall-tui doctor.",
                "· Or try the demo first: oncall-tui --demo",
            ],
        )
    failed = [b for b in ctx.backends if b.error]
    if failed:
        tips = [f"{b.name}: {without_backend(b.name, b.error or '')}" for b in failed]
        names = " / ".join(b.name for b in failed)
        tips.append(
            f"Sign in with oncall-tui auth login {failed[0].name} if it asks for that; "
            "oncall-tui doctor checks each backend; L opens the sync log."
        )
        return f"No tickets yet: the last sync of {names} failed.", tips
    if ctx.syncing or not all(b.synced for b in ctx.backends):
        return (
            "No tickets yet: the first sync is under way.",
            ["The status line shows its progress; L opens the sync log."],
        )
    return (
        "No tickets: every backend synced, with nothing for you in the last "
        f"{ctx.history_days} days.",
        [f"history_days in {config} reaches further back; L opens the sync log."],
    )
