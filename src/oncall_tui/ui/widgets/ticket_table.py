"""TicketTable: a virtual list of the queue that only ever holds the visible window.

It renders line by line (Textual's Line API) from a small cache of rows fetched through a
callback the screen provides, so 100,000 tickets cost what 50 do. The per-second countdown
only repaints the visible lines; nothing is rebuilt.

Over 500 lines: one widget, all of it on the first frame (rows, window cache, line
rendering, cursor and selection); split, start-up would only read more modules (issue 22).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.events import Click
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from oncall_tui.domain import sla as sla_rules
from oncall_tui.store.queue import QueueRow
from oncall_tui.ui.widgets.columns import Column, Layout, layout, scroll

Fetch = Callable[[int, int], Sequence[QueueRow]]
Locate = Callable[[int], int | None]


@dataclass(frozen=True)
class Reselected:
    """What a new result did to the selection (:meth:`TicketTable.set_source`)."""

    ticket_id: int | None
    """The ticket the cursor was on before (None: none, or a new view or filter)."""
    now_on: int | None
    """The ticket the cursor is on now."""
    left: bool
    """The ticket is no longer in the result: the cursor went to a neighbour."""


@dataclass(frozen=True, slots=True)
class _Frame:
    """What every line of one frame shares, read once (:meth:`TicketTable.render_lines`)."""

    width: int
    columns: tuple[tuple[Column, int], ...]
    top: int
    cursor: int
    now: datetime | None
    base: Style
    cursor_base: Style
    key: tuple[object, ...]
    """The part of a line's cache key that is the same for every line of the frame."""
    styles: dict[tuple[str, bool], Style]
    """Final styles (base + component), per component and cursor."""


#: Rendered lines kept (a screenful or two per width and cursor position).
LINE_CACHE_SIZE = 512

SOURCE_NAMES = {"helpdesk": "desk", "chat": "chat", "tracker": "tracker"}


def visible_columns(width: int) -> list[tuple[Column, int]]:
    """The columns that fit ``width`` cells with every column chosen, each with its width."""
    return list(layout(width).columns)


def _fit(text: str, width: int) -> str:
    """``text`` in exactly ``width`` cells: padded, or cut with "…" (as ``Text.truncate``)."""
    length = cell_len(text)
    if length > width:
        return set_cell_size(text, width - 1) + "…"
    return text + " " * (width - length) if length < width else text


def age_text(then: datetime, now: datetime) -> str:
    """Compact "time ago": 42s, 5m, 3h, 2d."""
    seconds = int((now - then).total_seconds())
    if seconds < 60:
        return f"{max(seconds, 0)}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def age_changes_at(then: datetime, now: datetime) -> datetime:
    """The first instant after ``now`` at which :func:`age_text` reads differently (it reads
    the same at every instant before it): the next whole second, minute, hour or day of age."""
    seconds = int((now - then).total_seconds())
    if seconds < 60:
        after = max(seconds, 0) + 1
    else:
        step = 60 if seconds < 3600 else 3600 if seconds < 86400 else 86400
        after = (seconds // step + 1) * step
    return then + timedelta(seconds=after)


#: "Never" for :meth:`TicketTable.changes_at` (a row whose text time does not change).
NEVER = datetime.max.replace(tzinfo=UTC)


class TicketTable(ScrollView, can_focus=True):
    """The queue's rows. The screen hands it a row count and a fetch callback."""

    COMPONENT_CLASSES = {
        "ticket-table--cursor",
        "ticket-table--ok",
        "ticket-table--warning",
        "ticket-table--critical",
        "ticket-table--breached",
        "ticket-table--paused",
        "ticket-table--none",
        "ticket-table--pending",
        "ticket-table--conflict",
        "ticket-table--p0",
        "ticket-table--p1",
        "ticket-table--dim",
    }

    # Rows are laid out to the width (cells end in "…"); ←/→ scroll by whole columns
    # (:attr:`column_offset`), not Textual's cells: without overflow-x hidden a vertical
    # scrollbar would make Textual add a horizontal one that hides the last row.
    DEFAULT_CSS = """
    TicketTable { height: 1fr; overflow-x: hidden; }
    """

    BINDINGS = [
        Binding("j,down", "cursor_down", "Down", show=False, id="cursor-down"),
        Binding("k,up", "cursor_up", "Up", show=False, id="cursor-up"),
        Binding("g,home", "top", "Top", show=False, id="cursor-top"),
        Binding("G,end", "bottom", "Bottom", show=False, id="cursor-bottom"),
        Binding("pagedown", "page_down", "Page down", show=False, id="page-down"),
        Binding("pageup", "page_up", "Page up", show=False, id="page-up"),
        Binding("enter", "choose", "Open", id="open-ticket"),
        Binding("left", "columns_left", "Columns left", show=False, id="columns-left"),
        Binding("right", "columns_right", "Columns right", show=False, id="columns-right"),
    ]

    cursor: reactive[int] = reactive(0, always_update=True, repaint=False)
    """Index of the highlighted row in the whole (filtered) queue."""
    now: reactive[datetime | None] = reactive(None, layout=False, repaint=False)
    """The instant countdowns are shown for; set once a second by the screen."""
    column_keys: reactive[tuple[str, ...] | None] = reactive(None)
    """The columns chosen (None: all); the width decides which of them are shown."""
    column_offset: reactive[int] = reactive(0)
    """Columns after SLA and priority scrolled out of sight to the left (←/→)."""

    class LayoutChanged(Message):
        """The columns shown changed (a resize, a choice, ←/→): the header follows."""

    class Highlighted(Message):
        """The cursor moved onto a ticket."""

        def __init__(self, ticket_id: int | None) -> None:
            self.ticket_id = ticket_id
            super().__init__()

    class Chosen(Message):
        """The user pressed enter on (or double-clicked) a ticket."""

        def __init__(self, ticket_id: int) -> None:
            self.ticket_id = ticket_id
            super().__init__()

    def __init__(
        self,
        *,
        critical_seconds: int = 900,
        needs_review: Callable[[QueueRow, datetime], bool] | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self._highlighted: QueueRow | None = None
        """The row last highlighted (the ticket the user sees), whatever the cache holds."""
        self.critical_seconds = critical_seconds
        self.needs_review = needs_review
        self._total = 0
        self._exact = True
        self._to_bottom = False
        self._fetch: Fetch = lambda offset, limit: []
        self._cache_start = 0
        self._cache: list[QueueRow] = []
        self._lines: dict[tuple[object, ...], Strip] = {}
        self.waiting: Mapping[int, datetime] = {}
        """Tickets with a change in its undo window, and when the window ends (↶)."""
        self._style_cache: dict[tuple[str, str, bool], Style] = {}
        self._due: list[tuple[datetime, int]] = []
        """The visible rows whose text time will change: (when, row index), earliest first."""
        self._horizon: tuple[tuple[tuple[int, ...], tuple[object, ...]], datetime] | None = None
        """(window, since): the rows of :attr:`_due` read the same from ``since`` on, until
        their instants, while the window (rows, scroll, size, undo windows) is the same."""
        self._laid_out_width = 0
        self._frame: _Frame | None = None
        self._prefetch_due = False
        """The screen moved (cursor or scroll): fetch around it after the frame."""
        self.sort_marks: dict[str, str] = {}
        """A mark after a column's title (the sort: "↑" / "↓")."""

    # ---- data ----------------------------------------------------------------------------

    @property
    def total(self) -> int:
        """How many rows the queue has (while :attr:`exact` is False: how many are known)."""
        return self._total

    @property
    def exact(self) -> bool:
        """False while the total is not counted yet (see :meth:`set_source`)."""
        return self._exact

    def set_source(
        self,
        total: int | None,
        fetch: Fetch,
        *,
        keep: int | None = None,
        locate: Locate | None = None,
    ) -> Reselected:
        """Point the table at a (new) result: ``total`` rows fetched through ``fetch``.

        The cursor stays on the ticket it was on (the key acts on the ticket you see): found
        in the new window at no extra cost when it moved a little, through ``locate`` when
        it moved further. If it is no longer in the result, the cursor goes to its nearest
        former neighbour that still is (the one below first).

        Args:
            total: how many rows there are, or None when not counted yet: the table then
                fetches the window around the cursor at once and knows the rows it fetched
                (a window that comes back short is the end, and the total is exact); the
                size grows as fetches find more rows, until :meth:`set_total` gives the count.
            keep: a row index to put the cursor on instead (a new view or filter: the top).
            locate: where a ticket stands in the new result (None: not in it); asked only
                when the selected ticket is not in the freshly fetched window.

        Returns:
            What happened to the selection.
        """
        # The ticket last highlighted, not the cache's row at the cursor's index: the cache
        # may since hold another window (a scroll, the detail's next/previous, a look-up).
        before = self._highlighted or self._cached(self.cursor)
        neighbours = self._neighbours(self.cursor)
        self._fetch = fetch
        self._cache_start = 0
        self._cache = []
        self._to_bottom = False
        cursor = max(self.cursor if keep is None else keep, 0)
        # A new result shown from its top (a keystroke in the filter, a view switch): the
        # first frame needs its first screenful, not three (a filter's rows are found by
        # testing each ticket in turn: fetching a third of them is a third of the work).
        # The rest is fetched when the cursor or a scroll gets there.
        first = cursor == 0 and keep == 0
        if total is None:
            self._exact = False
            self._total = cursor + 1  # lets row_at() fetch the cursor's window
            self._fill(cursor, first_screen=first)
            if not self._cache and cursor:  # the result ends above the cursor
                cursor = 0
                self._fill(0)
            cursor = min(cursor, max(self._total - 1, 0))
        else:
            self._exact = True
            self._total = total
            cursor = min(cursor, max(total - 1, 0))
            self._fill(cursor, first_screen=first)
        result = Reselected(None, None, False)
        if keep is None and before is not None:
            found = self._find(before.id)
            if found is None and locate is not None:
                found = locate(before.id)
            left = found is None
            if found is None:
                found = next((i for i in map(self._find, neighbours) if i is not None), None)
            if found is not None:
                if not self._exact and found >= self._total:
                    self._set_size(found + 1)
                cursor = min(found, max(self._total - 1, 0))
            result = Reselected(before.id, None, left)
        if not self._cache_start <= cursor < self._cache_start + len(self._cache):
            self._fill(cursor)
        self._set_virtual_height(self._total)
        self.cursor = cursor
        self.refresh()
        row = self._cached(cursor)
        self._highlighted = row
        return Reselected(result.ticket_id, row.id if row else None, result.left)

    def _cached(self, index: int) -> QueueRow | None:
        """The row at ``index`` if it is in the cache (never fetches)."""
        offset = index - self._cache_start
        return self._cache[offset] if 0 <= offset < len(self._cache) else None

    def _find(self, ticket_id: int) -> int | None:
        """The index of ``ticket_id`` in the cached window, if it is there."""
        for offset, row in enumerate(self._cache):
            if row.id == ticket_id:
                return self._cache_start + offset
        return None

    def _neighbours(self, index: int, reach: int = 10) -> list[int]:
        """Ids of the cached rows around ``index``, nearest first, the one below first."""
        ids = []
        for step in range(1, reach + 1):
            for row in (self._cached(index + step), self._cached(index - step)):
                if row is not None:
                    ids.append(row.id)
        return ids

    def set_total(self, total: int) -> None:
        """The count of the current result arrived: size the table to it.

        The rows shown are the same: only the lines between the old and the new end are
        repainted (none when the window already reached past the screen), and the scrollbar.
        """
        before = self._total
        self._exact = True
        self._total = total
        self._set_virtual_height(total)
        if self._to_bottom:  # ``end`` was pressed before the count was known
            self._to_bottom = False
            self.cursor = max(total - 1, 0)
        elif self.cursor >= total:
            self.cursor = max(total - 1, 0)
        top = int(self.scroll_y)
        first = max(min(before, total), top)
        last = min(max(before, total), top + self.size.height)
        if last > first:
            self.refresh_lines(first, last - first)

    def _set_size(self, total: int) -> None:
        self._total = total
        self._set_virtual_height(total)

    def _set_virtual_height(self, rows: int) -> None:
        """Size the scrollable area to ``rows`` lines without a layout of the screen.

        Not through the reactive: ``virtual_size`` asks for a layout (and so a repaint of
        every line), though the table's own size is the stylesheet's (``1fr``) and what is on
        screen is repainted by whoever changed it. Only the scrollbar follows (a scrollbar
        that comes or goes still lays the table out, through its own reactive).
        """
        size = Size(self.size.width, rows)
        if size != self.virtual_size:
            self.set_reactive(TicketTable.virtual_size, size)
            self._scroll_update(size)

    def invalidate(self) -> None:
        """Drop the cached rows (the data changed) and repaint."""
        self._cache = []
        self.refresh()

    def _fill(self, index: int, *, first_screen: bool = False) -> None:
        """Fetch the window around ``index`` (a screenful above, two below); ``first_screen``:
        only the screenful from ``index`` down, and one row more (a result not counted yet is
        then known to go on past the screen: its scrollbar does not come and go)."""
        height = max(self.size.height, 10)
        if first_screen:
            start, limit = index, height + 1
        else:
            start, limit = max(0, index - height), height * 3
        self._fill_window(start, limit)

    def _fill_window(self, start: int, limit: int) -> None:
        """Fetch ``limit`` rows from ``start`` into the cache (a short window: the end)."""
        self._cache_start = start
        self._cache = list(self._fetch(start, limit))
        if not self._exact:
            end = start + len(self._cache)
            if len(self._cache) < limit and (self._cache or start == 0):
                self._exact = True  # the window came back short: the result ends here
                self._set_size(end)
            elif end > self._total:
                self._set_size(end)  # more rows than known: the scrollbar grows

    def _look_ahead(self, index: int) -> None:
        """Not counted yet: fetch on when ``index`` nears the last known row, so the cursor
        and the scrollbar can go further (the size grows, or the end is found)."""
        if not self._exact and index + max(self.size.height, 10) >= self._total:
            self._fill(index)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._look_ahead(int(new_value) + self.size.height - 1)  # the bottom line
        self._prefetch_due = True

    def _prefetch(self) -> None:
        """After a frame that moved: fetch the rows a page up and a page down from the screen
        if the cache lacks them, so that the next page key (or a held arrow key) finds its rows
        cached instead of querying inside its frame (issue 22: at 1,400 rows down a fetch
        cost 15-30 ms of a 16 ms frame). Scheduled from the frame (:meth:`render_lines`): it
        runs once the moved screen is shown, while the user reads it.

        The rows come from the database as it is now: a line on screen whose row changed since
        it was fetched is repainted. If the rows moved (another process re-sorted them), the
        cursor stays on the selected ticket when the new window holds it, as a reload does;
        else the detail follows the ticket now on the cursor's line (:class:`Highlighted`):
        what is shown is what the keys act on.
        """
        height = max(self.size.height, 10)
        top = int(self.scroll_y)
        start = max(0, top - height)
        want_end = min(top + 2 * height, self._total)
        cache_end = self._cache_start + len(self._cache)
        if not self._cache or (self._cache_start <= start and want_end <= cache_end):
            return
        stop = min(top + self.size.height, self._total)
        shown = {i: self._cached(i) for i in range(top, stop)}
        self._fill_window(start, height * 4)
        for index, before in shown.items():
            if self._cached(index) != before:
                self.refresh_line(index)
        selected = self._highlighted
        found = None if selected is None else self._find(selected.id)
        if found is not None and found != self.cursor:
            self.cursor = found  # scrolls to it and announces it (watch_cursor)
            return
        row = self._cached(self.cursor)
        if row is not None and (self._highlighted is None or row.id != self._highlighted.id):
            self._highlighted = row
            self.post_message(self.Highlighted(row.id))

    def row_at(self, index: int) -> QueueRow | None:
        """The row at ``index``, fetched with its neighbours if not cached."""
        if not 0 <= index < self._total:
            return None
        offset = index - self._cache_start
        if not 0 <= offset < len(self._cache):
            self._fill(index)
            offset = index - self._cache_start
            if not 0 <= offset < len(self._cache):
                return None
        return self._cache[offset]

    @property
    def current(self) -> QueueRow | None:
        """The highlighted row."""
        return self.row_at(self.cursor)

    def visible_rows(self) -> list[QueueRow]:
        """Rows on screen now."""
        top = int(self.scroll_y)
        rows = (self.row_at(i) for i in range(top, min(top + self.size.height, self._total)))
        return [r for r in rows if r is not None]

    # ---- cursor --------------------------------------------------------------------------

    def watch_cursor(self, old: int, new: int) -> None:
        top = int(self.scroll_y)
        self._scroll_to_cursor()
        if int(self.scroll_y) == top:
            # Only the two rows the cursor left and reached change: repaint just those, so a
            # terminal (over SSH, every byte counts) gets two lines, not the whole table.
            self.refresh_line(old)
            self.refresh_line(new)
        else:
            self.refresh()
        self._look_ahead(new)
        row = self.row_at(new)
        self._highlighted = row
        self.post_message(self.Highlighted(row.id if row else None))

    def _scroll_to_cursor(self) -> None:
        height = self.size.height or 1
        top = int(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)

    def _move(self, delta: int) -> None:
        self._to_bottom = False
        if self._total:
            self.cursor = min(max(self.cursor + delta, 0), self._total - 1)

    def action_cursor_down(self) -> None:
        self._move(1)

    def action_cursor_up(self) -> None:
        self._move(-1)

    def action_top(self) -> None:
        self._move(-self._total)

    def action_bottom(self) -> None:
        self._move(self._total)
        # Not counted yet: the last row known so far, and the true last one when counted.
        self._to_bottom = not self._exact

    def action_page_down(self) -> None:
        self._move(max(self.size.height - 1, 1))

    def action_page_up(self) -> None:
        self._move(-max(self.size.height - 1, 1))

    def action_choose(self) -> None:
        row = self.current
        if row is not None:
            self.post_message(self.Chosen(row.id))

    def on_click(self, event: Click) -> None:
        index = int(self.scroll_y) + event.y
        if 0 <= index < self._total:
            self._to_bottom = False
            if index == self.cursor and event.chain >= 2:
                self.action_choose()
            self.cursor = index

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, self._total)
        self._scroll_to_cursor()
        self.post_message(self.LayoutChanged())

    # ---- columns -------------------------------------------------------------------------

    @property
    def line_width(self) -> int:
        """The cells a row has: the table's width less its scrollbar."""
        return self.scrollable_content_region.width or self.size.width

    def column_layout(self) -> Layout:
        """The columns shown now (the width, the chosen columns and the sideways scroll)."""
        return layout(self.line_width or 120, self.column_keys, self.column_offset)

    def watch_column_keys(self) -> None:
        self.column_offset = 0
        self.refresh()
        self.post_message(self.LayoutChanged())

    def watch_column_offset(self) -> None:
        self.refresh()
        self.post_message(self.LayoutChanged())

    def action_columns_left(self) -> None:
        self._scroll_columns(-1)

    def action_columns_right(self) -> None:
        self._scroll_columns(1)

    def _scroll_columns(self, step: int) -> None:
        width = self.line_width or 120
        new = scroll(width, self.column_keys, self.column_offset, step)
        if new != self.column_offset:
            self.column_offset = new
        elif step > 0:
            self.notify("Every chosen column is shown (C chooses the columns).", timeout=3)

    # ---- rendering -----------------------------------------------------------------------

    def state_of(self, row: QueueRow, now: datetime) -> str:
        """The SLA state name of a row at ``now`` (no calendar walking)."""
        if not row.is_open or row.sla_target is None:
            return "none"
        if row.sla_due is None:
            return "paused"  # a paused clock has no due while it waits
        return str(
            sla_rules.state_at(
                due=row.sla_due,
                warn_at=row.sla_warn_at,
                paused=False,  # a breached clock stays breached while it waits
                now=now,
                critical_seconds=self.critical_seconds,
            )
        )

    def cells(self, row: QueueRow, now: datetime) -> dict[str, str]:
        """The text of each column for ``row``: the SLA cell is the running clock's time
        left, ``paused``, or for a breached one how long ago (``-2h 10m``; ``⏸-2h 10m``
        while it also waits on the customer: the breach stays shown, with its minus like
        every breach, so it never reads as time left)."""
        state = self.state_of(row, now)
        if state == "none":
            countdown = "—"
        elif state == "paused":
            countdown = "paused"
        else:
            countdown = sla_rules.countdown_text(due=row.sla_due, paused=False, now=now)
            if state == "breached" and row.paused:
                countdown = "⏸" + countdown  # breached, and waiting
        customer = " ".join(x for x in (row.codename, row.customer_name) if x) or "—"
        waiting = self.waiting.get(row.id)
        if waiting is not None and waiting > now:
            marker = "↶"  # waiting out its undo window: u takes it back
        elif row.pending_ops:
            marker = "↻"  # a local change not yet confirmed by the backend
        elif row.conflict:
            marker = "⚠"
        elif self.needs_review is not None and self.needs_review(row, now):
            marker = "⚑"  # still under investigation on a second business day
        else:
            marker = " "
        return {
            "sla": countdown,
            "priority": str(row.priority),
            "plan": row.plan or "—",
            "customer": customer,
            "subject": f"{marker}{row.subject}",
            "status": str(row.status),
            "assignee": (row.assignee or "—").split("@")[0],  # the full identity is in the detail
            "source": SOURCE_NAMES.get(str(row.source), str(row.source)),
            "updated": age_text(row.updated_at, now),
        }

    def _shown_at(self, row: QueueRow, now: datetime) -> tuple[str, dict[str, str]]:
        """What of a line's key the time changes: its state and its cells."""
        return self.state_of(row, now), self.cells(row, now)

    def changes_at(self, row: QueueRow, now: datetime) -> datetime:
        """The first instant after ``now`` at which anything of the row's line that time
        changes may read differently (its state, countdown, marker or age); before it, the
        line is the same as at ``now``. :data:`NEVER` when time changes nothing of it.

        Exact, but for the investigation flag (⚑, business days): a row that may gain it is
        looked at again every tick.
        """
        until = age_changes_at(row.updated_at, now)
        if row.is_open and row.sla_target is not None and row.sla_due is not None:
            until = min(until, sla_rules.countdown_changes_at(row.sla_due, now))
            state = sla_rules.state_changes_at(
                row.sla_due, row.sla_warn_at, now, self.critical_seconds
            )
            if state is not None:
                until = min(until, state)
        waiting = self.waiting.get(row.id)
        if waiting is not None and waiting > now:
            return min(until, waiting)  # "↶" until then: nothing below it shows before
        if (
            not row.pending_ops
            and not row.conflict
            and self.needs_review is not None
            and row.investigating_since is not None
        ):
            return min(until, now + timedelta(microseconds=1))
        return until

    def _window(self, top: int, stop: int) -> tuple[tuple[int, ...], tuple[object, ...]]:
        """What the rows on screen are made of besides the time: positions (compared by
        value), and the rows and undo windows (by identity: replaced, never changed in
        place)."""
        return (top, stop, self._cache_start, self.critical_seconds), (self._cache, self.waiting)

    def watch_now(self, old: datetime | None, new: datetime | None) -> None:
        """A tick repaints only the lines whose text or state changed: most seconds none do
        ("3h 12m" a second later is still "3h 12m"), and a terminal gets no bytes at all.

        Each visible row knows until when its text stays the same (:meth:`changes_at`); the
        table keeps them earliest first. A tick forward on the same rows looks only at the
        rows whose instant came (none, most seconds: O(1)); any other tick at every row.
        """
        if old is None or new is None:
            self._horizon = None
            self.refresh()
            return
        top = int(self.scroll_y)
        stop = min(top + self.size.height, self._total)
        window = self._window(top, stop)
        horizon = self._horizon
        if (
            horizon is not None
            and horizon[1] <= old <= new
            and horizon[0][0] == window[0]
            and all(a is b for a, b in zip(horizon[0][1], window[1], strict=True))
        ):
            due = self._due
            if due and due[0][0] <= new:  # some rows' instants came: only those are looked at
                while due and due[0][0] <= new:
                    _until, index = heapq.heappop(due)
                    self._check_row(index, old, new)
                self._horizon = (window, new)
            return
        self._due = []
        for index in range(top, stop):
            self._check_row(index, old, new)
        self._horizon = (window, new)

    def _check_row(self, index: int, old: datetime, new: datetime) -> None:
        """Repaint row ``index`` if it reads differently at ``new`` than at ``old``, and note
        when it will next (:attr:`_due`)."""
        row = self._cached(index)
        if row is None:
            return
        if self._shown_at(row, old) != self._shown_at(row, new):  # the rest of the key
            self.refresh_line(index)  # (width, columns, cursor, focus, theme) is the same
        until = self.changes_at(row, new)
        if until is not NEVER:
            heapq.heappush(self._due, (until, index))

    def render_lines(self, crop: Region) -> list[Strip]:
        """The lines in ``crop``; what every line of the frame shares (width, columns, base
        styles, cursor, theme) is read once for the frame, not once a line (issue 22)."""
        self._frame = self._frame_context()
        try:
            return super().render_lines(crop)
        finally:
            self._frame = None
            if self._prefetch_due:
                self._prefetch_due = False
                # From the frame, not the key: a callback asked for before the frame would run
                # before it (the screen's idle handler sees no dirty widget yet).
                self.call_after_refresh(self._prefetch)

    def _frame_context(self) -> _Frame:
        width = self.line_width
        if width != self._laid_out_width:  # a scrollbar came or went: the header follows
            self._laid_out_width = width
            self.call_after_refresh(self.post_message, self.LayoutChanged())
        base: Style = self.rich_style
        focus = self.has_focus
        theme = self.app.theme
        return _Frame(
            width=width,
            columns=self.column_layout().columns,
            top=int(self.scroll_y),
            cursor=self.cursor,
            now=self.now,
            base=base,
            cursor_base=base + self._component_style("ticket-table--cursor"),
            key=(width, self.column_keys, self.column_offset, focus, theme),
            styles={},
        )

    def render_line(self, y: int) -> Strip:
        frame = self._frame or self._frame_context()
        index = frame.top + y
        row = self.row_at(index)
        if row is None:
            return Strip.blank(frame.width, frame.base)
        now = frame.now or row.updated_at
        state = self.state_of(row, now)
        cells = self.cells(row, now)
        # A line is rebuilt only when what it shows changed: most seconds, a countdown reads
        # the same as a second ago ("3h 12m"), so the per-second tick costs a dict look-up.
        key = (row.id, frame.key, index == frame.cursor, state, *cells.values())
        cached = self._lines.get(key)
        if cached is not None:
            return cached
        strip = self._build_line(row, index, state, cells, frame.width, frame)
        if len(self._lines) >= LINE_CACHE_SIZE:
            self._lines.clear()
        self._lines[key] = strip
        return strip

    def _build_line(
        self,
        row: QueueRow,
        index: int,
        state: str,
        cells: dict[str, str],
        width: int,
        frame: _Frame | None = None,
    ) -> Strip:
        """One row as segments: each cell fitted to its column (``…`` when cut), one space
        between cells, styled like a ``Text`` of the cells would be, without building one.

        Each segment gets its final style at once (the line's base, the cursor's, then the
        cell's: what ``Strip.apply_style`` would give), and neighbours of one style are one
        segment: a line is ~10 segments, built without a second pass.
        """
        frame = frame or self._frame_context()
        columns = frame.columns
        used = sum(w for _c, w in columns) + len(columns)
        if used > width:
            return self._build_line_text(row, index, state, cells, width)
        on_cursor = index == frame.cursor
        base = frame.cursor_base if on_cursor else frame.base
        styles = frame.styles

        def styled(name: str) -> Style:
            style = styles.get((name, on_cursor))
            if style is None:
                style = styles[(name, on_cursor)] = base + self._component_style(name)
            return style

        segments: list[Segment] = []
        texts: list[str] = []
        current = base

        def add(text: str, style: Style) -> None:
            nonlocal current
            if style != current and texts:
                segments.append(Segment("".join(texts), current))
                texts.clear()
            current = style
            texts.append(text)

        for column, col_width in columns:
            key = column.key
            value = _fit(cells[key], col_width)
            if key == "sla":
                add(value, styled(f"ticket-table--{state}"))
            elif key == "priority" and row.priority in ("P0", "P1"):
                add(value, styled(f"ticket-table--{row.priority.lower()}"))
            elif key == "subject" and value[:1] in "↻⚑↶":
                add(value[:1], styled("ticket-table--pending"))
                add(value[1:], base)
            elif key in ("plan", "updated", "source"):
                add(value, styled("ticket-table--dim"))
            else:
                add(value, base)
            add(" ", base)
        if used < width:
            add(" " * (width - used), base)
        if texts:
            segments.append(Segment("".join(texts), current))
        return Strip(segments, width)

    def _component_style(self, name: str) -> Style:
        """A component class's style (cached per theme and focus: the tick asks for them on
        every rebuilt line)."""
        key = (name, self.app.theme, self.has_focus)
        style = self._style_cache.get(key)
        if style is None:
            style = self._style_cache[key] = self.get_component_rich_style(name, partial=True)
        return style

    def _build_line_text(
        self, row: QueueRow, index: int, state: str, cells: dict[str, str], width: int
    ) -> Strip:
        """The same line through a ``Text`` (for a width the columns do not fit)."""
        base = self.rich_style
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        state_style = self.get_component_rich_style(f"ticket-table--{state}", partial=True)
        for column, col_width in self.column_layout().columns:
            value = Text(cells[column.key], no_wrap=True, overflow="ellipsis", end="")
            value.truncate(col_width, overflow="ellipsis", pad=True)
            if column.key == "sla":
                value.stylize(state_style)
            elif column.key == "priority" and row.priority in ("P0", "P1"):
                value.stylize(
                    self.get_component_rich_style(
                        f"ticket-table--{row.priority.lower()}", partial=True
                    )
                )
            elif column.key == "subject" and cells["subject"][:1] in "↻⚑↶":
                value.stylize(
                    self.get_component_rich_style("ticket-table--pending", partial=True), 0, 1
                )
            elif column.key in ("plan", "updated", "source"):
                value.stylize(self.get_component_rich_style("ticket-table--dim", partial=True))
            line.append_text(value)
            line.append(" ")
        line.truncate(width, pad=True)
        style: Style = base
        if index == self.cursor:
            style = base + self.get_component_rich_style("ticket-table--cursor", partial=True)
        strip = Strip(list(line.render(self.app.console)), width)
        return strip.apply_style(style) if style else strip

    def header_text(self) -> Text:
        """The column titles, aligned with the rows (rendered by the screen above the table)."""
        shown = self.column_layout()
        line = Text(no_wrap=True, end="")
        keys = shown.keys
        first_movable = next((c.key for c, _w in shown.columns if not c.pinned), None)
        # Where the columns out of sight to the right are counted: the subject's title has
        # room to spare (else the last title).
        counted = "subject" if "subject" in keys else (keys[-1] if keys else None)
        for column, col_width in shown.columns:
            title = column.title + self.sort_marks.get(column.key, "")
            if column.key == first_movable and shown.left:
                title = f"←{shown.left} {title}"  # columns scrolled out to the left (←)
            if column.key == counted and shown.right:
                more = f" {shown.right} more →"
                room = col_width - cell_len(more)
                title = (title[:room] if room > 0 else "") + " " * max(room - len(title), 0)
                title += more
            cell = Text(title, no_wrap=True, end="")
            cell.truncate(col_width, pad=True)
            line.append_text(cell)
            line.append(" ")
        return line
