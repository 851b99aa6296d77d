"""The queue arranged by its user: the column chooser, the sort picker and views edited in the
app (written back to the config file).

Loaded with the first of them (the queue's actions call in here), not with the first frame.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Protocol

from oncall_tui.settings.config import ViewSpec
from oncall_tui.store.queue import URGENCY, Sort
from oncall_tui.ui.screens.hosts import StoreHost

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel

    from oncall_tui.ui.widgets.ticket_table import TicketTable


class LayoutHost(StoreHost, Protocol):
    """What choosing columns, sort and views needs of its screen (the queue's)."""

    counts: list[int]
    sort: Sort
    clock: Callable[[], datetime]
    view_index: int
    filter_text: str

    @property
    def table(self) -> TicketTable: ...

    def set_sort(self, sort: Sort) -> None: ...

    def recount(self, now: datetime, *, wait: bool = False, timed_only: bool = False) -> None: ...

    def reload(
        self, *_: object, counts: bool = True, follow: bool = True, count_later: bool = False
    ) -> None: ...

    def _remember_layout(self) -> None: ...


def choose_columns(queue: LayoutHost) -> None:
    """The column chooser (the width still decides which chosen columns fit)."""
    from oncall_tui.ui.screens.columns_screen import ColumnsScreen

    def chosen(keys: tuple[str, ...] | None) -> None:
        if keys is not None and keys != (queue.table.column_keys or None):
            queue.table.column_keys = keys
            queue._remember_layout()

    queue.app.push_screen(ColumnsScreen(queue.table.column_keys), chosen)


def sort_by(queue: LayoutHost) -> None:
    """Sort by a column (the current one again: the other way round)."""
    from oncall_tui.ui.screens.choice_screen import ChoiceScreen
    from oncall_tui.ui.widgets.columns import DESCENDING_FIRST, SORT_TITLES

    key, descending = queue.sort
    options = []
    for name, title in SORT_TITLES.items():
        if name == key and name != "sla":
            title += f" ({'descending' if descending else 'ascending'}; again: reverse)"
        elif name == key:
            title += " (now)"
        options.append((name, title))

    def picked(name: str | None) -> None:
        if name is None:
            return
        if name == key:
            new: Sort = (name, not descending) if name != "sla" else URGENCY
        else:
            new = (name, name in DESCENDING_FIRST)
        queue.set_sort(new)

    queue.app.push_screen(ChoiceScreen("Sort the queue by", options, current=key), picked)


def edit_views(queue: LayoutHost) -> None:
    """Save the filter as a view, rename, move, delete (written to the config)."""
    from oncall_tui.ui.screens.views_screen import ViewsScreen

    ctx = getattr(queue.app, "ctx", None)
    if ctx is None or ctx.demo:
        where = "--demo: changes last for this session (no config file is written)."
    else:
        where = f"Written to {ctx.paths.config}, comments kept."
    queue.app.push_screen(
        ViewsScreen(
            queue.config.views,
            queue.view_index,
            queue.filter_text,
            where,
            partial(apply_views, queue),
        )
    )


def apply_views(queue: LayoutHost, views: tuple[ViewSpec, ...], what: str) -> bool:
    """Write ``views`` to the config (not in --demo) and show them; a file that cannot be
    written says so in one line and the views still change for this session."""
    from dataclasses import replace

    from oncall_tui.settings.config_write import ConfigWriteError, write_views

    ctx = getattr(queue.app, "ctx", None)
    severity: SeverityLevel
    message, severity = (
        f"{what[:1].upper()}{what[1:]} (this session only: --demo).",
        "information",
    )
    if ctx is not None and not ctx.demo:
        try:
            created = write_views(ctx.paths.config, views)
        except ConfigWriteError as exc:
            message, severity = f"{exc}", "error"
        else:
            done = "created" if created else "written"
            message = f"{what[:1].upper()}{what[1:]}; {ctx.paths.config} {done}."
    current = queue.config.views[queue.view_index]
    config = replace(queue.config, views=views)
    queue.config = config
    if ctx is not None:
        ctx.config = config
    queue.counts = [0] * len(views)
    index = views.index(current) if current in views else min(queue.view_index, len(views) - 1)
    queue.notify(message, severity=severity, timeout=6, markup=False)
    queue.recount(queue.clock(), wait=True)
    if index != queue.view_index:
        queue.view_index = index  # reloads
    else:
        queue.reload(counts=False)
    return True
