"""QueueScreen: the triage queue our users live in.

Views (keys 1-9), the `/` filter, live SLA countdowns for the visible rows, the detail beside
the queue on wide terminals, and every ticket action as one local transaction.

Over 500 lines: what is left is the first frame's (layout, loading the window,
counting the views, the tick); the rarely used parts load on first use (``queue_layout``
for columns, sort and views, ``queue_empty`` for an empty result, ``ticket_actions``' own).
Split further, start-up would only read more modules (issue 22).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import messages, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input, Static

from oncall_tui.domain.query import Query, parse_query
from oncall_tui.domain.tickets import ticket_ref, ticket_title
from oncall_tui.settings.config import Config
from oncall_tui.store import Store
from oncall_tui.store.queue import URGENCY, QueueCounter, QueueRow, Sort
from oncall_tui.ui.screens.detail_loader import load_detail
from oncall_tui.ui.screens.escalation_bar import EscalationBar
from oncall_tui.ui.screens.ticket_actions import TICKET_BINDINGS, TicketActions
from oncall_tui.ui.widgets.empty_view import EmptyState
from oncall_tui.ui.widgets.key_bar import KeyBar
from oncall_tui.ui.widgets.status_bar import StatusBar
from oncall_tui.ui.widgets.steady import SteadyStatic
from oncall_tui.ui.widgets.ticket_detail import TicketDetail
from oncall_tui.ui.widgets.ticket_table import TicketTable

if TYPE_CHECKING:  # made with the first notification
    from oncall_tui.ui.desktop_notify import DesktopNotifier

#: Side-by-side detail from this many columns; narrower terminals open it full-screen.
WIDE = 150
#: Seconds the cursor rests before the side detail follows it.
DETAIL_DELAY = 0.12
#: Seconds the queue's notice line stays (where the selected ticket went).
NOTICE_SECONDS = 12.0


def _minute(when: datetime) -> datetime:
    """The minute an instant falls in (a jump of whole hours, e.g. after a suspend, is a new
    minute too)."""
    return when.replace(second=0, microsecond=0)


class QueueScreen(TicketActions, Screen[None]):
    """The queue, its views and filter, and the ticket actions."""

    BINDINGS = [
        Binding("slash", "filter", "Filter", id="filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="clear-filter"),
        Binding("C", "choose_columns", "Columns", show=False, id="choose-columns"),
        Binding("O", "sort_by", "Sort by", show=False, id="sort-by"),
        Binding("V", "edit_views", "Edit views", show=False, id="edit-views"),
        Binding("right_square_bracket", "next_ticket", "Next ticket", show=False, id="next-ticket"),
        Binding(
            "left_square_bracket",
            "previous_ticket",
            "Previous ticket",
            show=False,
            id="previous-ticket",
        ),
        *TICKET_BINDINGS,
        *[
            Binding(str(n), f"view({n - 1})", f"View {n}", show=False, id=f"view-{n}")
            for n in range(1, 10)
        ],
    ]

    class Counted(Message):
        """A background count of the queue finished (``total`` None: it failed)."""

        def __init__(self, generation: int, total: int | None) -> None:
            self.generation = generation
            self.total = total
            super().__init__()

    class ViewsCounted(Message):
        """A background count of every view finished (``counts`` None: it failed)."""

        def __init__(self, generation: int, counts: list[int] | None) -> None:
            self.generation = generation
            self.counts = counts
            super().__init__()

    class Explained(Message):
        """A background look for an empty filter's matches elsewhere finished."""

        def __init__(self, generation: int, anywhere: int, elsewhere: list[tuple[int, int]]):
            self.generation = generation
            self.anywhere = anywhere
            self.elsewhere = elsewhere  # (view index, count)
            super().__init__()

    view_index: reactive[int] = reactive(0, repaint=False)
    """Which configured view is shown."""
    filter_text: reactive[str] = reactive("", repaint=False)
    """What is typed in the `/` filter."""

    def __init__(self, store: Store, config: Config, clock, templates=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.store = store
        self.config = config
        self.clock = clock
        # A list, or a loader called on first use (the app's: the shipped file and the config's
        # templates load with the first reply, not before the first paint).
        self._template_source: list[Any] | Callable[[], list[Any]] = templates or []
        self.counts: list[int] = [0] * len(config.views)
        self._last_tick: datetime | None = None
        self._detail_id: int | None = None
        self._detail_timer: Timer | None = None
        self._counter: QueueCounter | None = None
        self._count_generation = 0
        self._view_counter: QueueCounter | None = None
        self._views_generation = 0
        self._count_query = Query()
        self._notice_timer: Timer | None = None
        self._explanation: tuple[int, int, list[tuple[int, int]]] | None = None
        """The last background look for an empty filter: (generation, anywhere, per view)."""
        self._explaining = -1
        self.sort: Sort = URGENCY
        self._desktop: DesktopNotifier | None = None
        """The order of the rows: urgency, or a column's (``O``; remembered)."""

    @property
    def templates(self) -> list[Any]:
        """The reply templates (loaded on first use when given as a loader)."""
        if callable(self._template_source):
            self._template_source = self._template_source()
        return self._template_source

    @templates.setter
    def templates(self, value: list[Any]) -> None:
        self._template_source = value

    # ---- layout --------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield StatusBar(self.config.sla)
        yield SteadyStatic(id="view-bar")
        yield Input(
            placeholder="filter: words, -word, #41165, rita@globex.io, priority:P0 "
            "assignee:alex source:desk status:pending is:unsent sla:breached",
            id="filter",
        )
        yield SteadyStatic(id="filter-hint")
        with Horizontal(id="queue-body"):
            with Vertical(id="queue-pane"):
                yield SteadyStatic(id="table-header")
                yield EmptyState(id="queue-empty")
                yield TicketTable(
                    critical_seconds=self.config.sla.critical_seconds,
                    needs_review=self.needs_review,
                    id="ticket-table",
                )
                yield Static(id="queue-notice")
            if self.app.size.width >= WIDE:  # narrower, it is mounted once the screen is wide
                yield TicketDetail(id="detail")
        yield EscalationBar(watch=True, id="escalation-bar")
        yield KeyBar()

    def needs_review(self, row: QueueRow, now: datetime) -> bool:
        """A ``~investigate`` bug still there on a second business day (flagged ⚑)."""
        if row.investigating_since is None:
            return False
        from oncall_tui.domain.labels import needs_second_day_review  # rarely needed: lazily

        sla = self.config.sla
        calendar = sla.calendar

        def business_days(a: datetime, b: datetime) -> float:
            return calendar.business_seconds_between(a, b) / sla.business_day_seconds

        return needs_second_day_review(
            json.loads(row.labels), row.investigating_since, now, business_days
        )

    @property
    def table(self) -> TicketTable:
        return self.query_one(TicketTable)

    def on_mount(self) -> None:
        self._restore_layout()
        self._counter = self.store.queue.queue_counter()
        self._view_counter = self.store.queue.queue_counter()
        self.query_one("#filter", Input).display = False
        self.watch(self.app, "store_revision", self.reload, init=False)
        if hasattr(self.app, "sync_status"):  # a first sync that failed or ended: say so
            self.watch(self.app, "sync_status", lambda _: self._show_empty(), init=False)
        self.set_interval(1.0, self.tick)
        # The first view's rows first; its count (~36 ms at 1,000,000 tickets) after the paint.
        self.reload(counts=False, count_later=True)
        self.table.focus()
        # After the first paint: the calendar (holidays) for the status line, and the counts.
        self.call_after_refresh(self._after_first_paint)

    def _after_first_paint(self) -> None:
        self.recount(self.clock(), wait=True)
        self._render_view_bar()
        self._show_empty()  # it lists the views that have tickets
        self.tick()

    def on_resize(self, event: Resize) -> None:
        self.set_class(event.size.width >= WIDE, "-wide")
        if event.size.width >= WIDE and not self.query(TicketDetail):
            self.query_one("#queue-body").mount(TicketDetail(id="detail"))
        self._show_header()
        if self.is_mounted:
            self._render_view_bar()

    @on(TicketTable.LayoutChanged)
    def _layout_changed(self) -> None:
        self._show_header()

    def _show_header(self) -> None:
        # One line high in any case (queue.tcss): a new text needs no layout of the screen.
        self.query_one("#table-header", Static).update(self.table.header_text(), layout=False)

    @property
    def wide(self) -> bool:
        return self.size.width >= WIDE

    # ---- data ----------------------------------------------------------------------------

    def query_now(self) -> Query:
        """The current view's query combined with the typed filter."""
        view = self.config.views[self.view_index]
        return parse_query(view.query) & parse_query(self.filter_text)

    def reload(
        self, *_: object, counts: bool = True, follow: bool = True, count_later: bool = False
    ) -> None:
        """Re-query the window (and the views' counts, unless only the view or filter moved).

        The cursor stays on the ticket it was on (``follow``; a new view or filter starts at
        the top); if that ticket left the view, the notice line says where it went. While a
        filter is typed, the filtered window shows at once and its total is counted in the
        background (:meth:`_count_in_background`), as is a new view's (``count_later``);
        data changes and clearing the filter count at once.
        """
        query = self.query_now()
        me = self.config.user
        now = self.clock()
        self._count_generation += 1  # any count still running is for an older result
        if self._counter is not None:
            self._counter.interrupt()
        # A filter or a new view (no data change): its rows first, the count in the
        # background (a view of 270,000 open tickets at a million takes ~100 ms to count).
        later = not counts and (bool(self.filter_text) or count_later) and self._counter is not None
        total: int | None = None
        if later:
            pass
        elif not self.filter_text and self._view_counter is not None:
            # A view's own: kept by the views' counter ("Breaching soon" shown, its rows
            # reloaded once a minute: only the tickets that crossed a boundary are counted).
            total = self._view_counter.count_now(query, me=me, now=now)
        else:
            total = self.store.queue.queue_count(query, me=me, now=now)
        store = self.store

        sort = self.sort

        def fetch(offset: int, limit: int) -> list[QueueRow]:
            return store.queue.open_queue(
                query, offset=offset, limit=limit, me=me, now=self.clock(), sort=sort
            )

        def locate(ticket_id: int) -> int | None:
            return store.queue.queue_position(query, ticket_id, me=me, now=now, sort=sort)

        self.table.waiting = self.store.outbox.waiting(now)
        moved = self.table.set_source(
            total, fetch, keep=None if follow else 0, locate=locate if follow else None
        )
        if moved.left and moved.ticket_id is not None:
            self._ticket_left(moved.ticket_id, moved.now_on, now)
        if not self.table.exact:  # the window did not reach the end of the result
            self._count_query = query
            # Once the window is painted: the count must not slow down the frame with the rows.
            self.call_after_refresh(self._start_count, self._count_generation, query, me, now)
        if counts:
            self.recount(now)
        self._render_view_bar()
        self._show_hints(query)
        self._show_empty()
        self._show_header()
        self._show_detail_soon(self.table.current.id if self.table.current else None)
        self._paint_together()

    def _paint_together(self) -> None:
        """Have what a reload changed painted in the screen's next frame, all of it.

        A widget tells the screen it needs a repaint from its own message loop, when that
        loop next runs: the screen's frame may come first, with the letter just typed in the
        filter box (which asked first) but the rows and the view bar from before, and the
        new rows a frame later (issue 22). Told here, before the screen's loop lets the frame
        be drawn, the screen paints them in that one frame; a widget with nothing to repaint
        adds nothing to it.
        """
        for widget in (
            self.table,
            *self.query("#view-bar, #filter, #filter-hint, #table-header, #queue-empty"),
        ):
            if widget.display:
                self.post_message(messages.Update(widget))

    def _ticket_left(self, ticket_id: int, now_on: int | None, now: datetime) -> None:
        """Say on the notice line that the selected ticket left the view, and where it is."""
        try:
            ticket = self.store.tickets.get_ticket(ticket_id)
        except LookupError:
            where = "it is gone from the cache"
            name = "The ticket"
        else:
            name = ticket_title(ticket.source, ticket.remote_id, ticket.subject)
            me = self.config.user
            views = [
                v.name
                for i, v in enumerate(self.config.views)
                if i != self.view_index
                and self.store.queue.in_queue(parse_query(v.query), ticket_id, me=me, now=now)
            ]
            where = f"now in {', '.join(views)}" if views else "now in none of your views"
        view = self.config.views[self.view_index].name
        text = f"{name} left {view} ({where})"
        if now_on is not None:
            other = self.store.tickets.get_ticket(now_on)
            text += f" · cursor on {ticket_ref(other.source, other.remote_id)}"
        self.show_notice(text)

    def show_notice(self, text: str) -> None:
        """One line above the keys, for a while (customer text: plain, never markup)."""
        notice = self.query_one("#queue-notice", Static)
        notice.update(Text(text, no_wrap=False))
        notice.add_class("-shown")
        if self._notice_timer is not None:
            self._notice_timer.stop()
        self._notice_timer = self.set_timer(NOTICE_SECONDS, self._clear_notice)

    def _clear_notice(self) -> None:
        self._notice_timer = None
        self.query_one("#queue-notice", Static).remove_class("-shown")

    def _start_count(
        self, generation: int, query: Query, me: str, now: datetime, *, painted: bool = False
    ) -> None:
        if generation != self._count_generation:  # a newer keystroke came first
            return
        if not painted:
            # The frame with the rows is painted; what its layout asked for (the scrollbar)
            # paints in the next one. Counting from now, the count's thread would take the
            # CPU that frame needs (a one-letter word counts for ~100 ms at 100,000 tickets).
            self.call_after_refresh(self._start_count, generation, query, me, now, painted=True)
            return
        self._count_in_background(generation, query, me, now)

    @work(
        thread=True,
        exclusive=True,
        group="queue-count",
        exit_on_error=False,
        description="Counting the filtered queue",
    )
    def _count_in_background(self, generation: int, query: Query, me: str, now: datetime) -> None:
        """Count ``query`` on the counter's own connection; a newer reload makes it stale.

        A view's own count (no filter typed) is the views' counter's: what it counted it
        keeps, so the view's count right after (the view bar's) or a switch back to the view
        with no write since is not counted again (the first view's, after the first paint:
        ~0.1 s at a million tickets); a filter's is on the counter a keystroke interrupts."""
        assert self._counter is not None
        counter = self._counter if self.filter_text else (self._view_counter or self._counter)
        total: int | None = None
        try:
            total = counter.count(
                query, me=me, now=now, wanted=lambda: generation == self._count_generation
            )
        finally:  # thread-safe and never blocks; a stale or interrupted count is ignored
            self.post_message(self.Counted(generation, total))

    @on(Counted)
    def _counted(self, event: Counted) -> None:
        if event.generation != self._count_generation:
            return
        if not self.table.exact:  # (else scrolling found the end first)
            total = event.total
            if total is None:  # the count failed, not stale: count here (an error surfaces)
                total = self.store.queue.queue_count(self._count_query, me=self.config.user)
            self.table.set_total(total)
            if not self.filter_text and self.view_index < len(self.counts):
                self.counts[self.view_index] = total  # the view's own count, just made
        self._render_view_bar()

    # ---- hints and the empty result ----------------------------------------------------------

    def _numbered(self, number: str) -> list[int]:
        return self.store.queue.numbered(number)

    def _show_hints(self, query: Query) -> None:
        """Under the filter box: what is not understood, and where enter jumps."""
        lines = list(query.problems)
        number = parse_query(self.filter_text).ticket_number
        if number is not None:
            found = self._numbered(number)
            if len(found) == 1:
                ticket = self.store.tickets.get_ticket(found[0])
                lines.append(f"enter opens #{number}: {ticket.subject}")
            elif found:
                lines.append(f"enter picks one of the {len(found)} tickets numbered {number}")
        hint = self.query_one("#filter-hint", Static)
        hint.update(Text("\n".join(lines)))
        hint.display = bool(lines)

    def _show_empty(self) -> None:
        """Say why the result is empty, if it is (and look for the filter in other views)."""
        empty = self.query_one(EmptyState)
        table = self.table
        if not table.exact or table.total:
            empty.display = False
            return
        from oncall_tui.ui.screens.queue_empty import empty_context  # with the first empty result
        from oncall_tui.ui.widgets.empty_state import explain_empty

        ctx = empty_context(self)
        empty.show(*explain_empty(ctx))
        empty.display = True
        generation = self._count_generation
        if (
            ctx.elsewhere is None
            and ctx.has_tickets
            and self.filter_text.strip()
            and self._counter is not None
            and self._explaining != generation
        ):
            self._explaining = generation
            self.call_after_refresh(self._start_explain, generation)

    def _start_explain(self, generation: int) -> None:
        if generation == self._count_generation:  # else a newer keystroke came first
            self._explain_in_background(generation, self.filter_text, self.view_index)

    @work(
        thread=True,
        exclusive=True,
        group="queue-why",
        exit_on_error=False,
        description="Looking for the filter in the other views",
    )
    def _explain_in_background(self, generation: int, text: str, view_index: int) -> None:
        """Count the filter alone and in each other view (a newer keystroke stops it)."""
        assert self._counter is not None
        me, now = self.config.user, self.clock()

        def wanted() -> bool:
            return generation == self._count_generation

        typed = parse_query(text)
        anywhere = self._counter.count(typed, me=me, now=now, wanted=wanted)
        if anywhere is None:
            return
        elsewhere: list[tuple[int, int]] = []
        for i, view in enumerate(self.config.views):
            if i == view_index:
                continue
            n: int | None = 0
            if anywhere:
                n = self._counter.count(
                    parse_query(view.query) & typed, me=me, now=now, wanted=wanted
                )
                if n is None:
                    return
            elsewhere.append((i, n or 0))
        self.post_message(self.Explained(generation, anywhere, elsewhere))

    @on(Explained)
    def _explained(self, event: Explained) -> None:
        if event.generation == self._count_generation:
            self._explanation = (event.generation, event.anywhere, event.elsewhere)
            self._show_empty()

    def on_unmount(self) -> None:
        for counter in (self._counter, self._view_counter):
            if counter is not None:
                counter.close()

    def recount(self, now: datetime, *, wait: bool = False, timed_only: bool = False) -> None:
        """Count each view (on data changes, and once a minute: ``timed_only``).

        Every count goes through the views' own counter (:class:`QueueCounter`), which keeps
        what it counted with the database's ``data_version``: a view counted before with no
        write since (by this process or another) is not counted again, and a time-based view
        (``sla:``) a minute later only for the tickets that crossed an SLA boundary. So the
        minute tick asks for every view: one another process changed is counted again, the
        rest cost a look at ``data_version``. After the first paint they are counted here
        (``wait``), later in a thread, and the view bar keeps the previous numbers until the
        new ones arrive.
        """
        del timed_only  # the minute tick's: every view is asked all the same (above)
        wanted = list(range(len(self.config.views)))
        self._views_generation += 1  # a count still running is for older data
        if wait or self._view_counter is None:
            me = self.config.user
            counts = list(self.counts)
            for i in wanted:
                query = parse_query(self.config.views[i].query)
                if self._view_counter is not None:  # (what it counts, it keeps)
                    counts[i] = self._view_counter.count_now(query, me=me, now=now)
                else:
                    counts[i] = self.store.queue.queue_count(query, me=me, now=now)
            self.counts = counts
            return
        self._count_views(self._views_generation, now, wanted)

    @work(
        thread=True,
        exclusive=True,
        group="view-counts",
        exit_on_error=False,
        description="Counting the views",
    )
    def _count_views(self, generation: int, now: datetime, wanted: list[int]) -> None:
        assert self._view_counter is not None

        def current() -> bool:
            return generation == self._views_generation

        counts: list[int] | None = list(self.counts)
        try:
            for i in wanted:
                n = self._view_counter.count(
                    parse_query(self.config.views[i].query),
                    me=self.config.user,
                    now=now,
                    wanted=current,
                )
                if n is None:  # stale (or the screen closed): a newer count follows, if any
                    return
                assert counts is not None
                counts[i] = n
        except Exception:
            counts = None  # counted again on the UI thread, where an error surfaces
        self.post_message(self.ViewsCounted(generation, counts))

    @on(ViewsCounted)
    def _views_counted(self, event: ViewsCounted) -> None:
        if event.generation != self._views_generation:
            return
        if event.counts is None:
            self.recount(self.clock(), wait=True)
        else:
            self.counts = event.counts
        self._render_view_bar()
        self._show_empty()

    def _render_view_bar(self) -> None:
        from oncall_tui.ui.widgets.view_bar import view_bar

        # The current view's own count still running (after a view switch): "(…)", never
        # the number from before, like the filter's "counting…".
        pending = not self.filter_text and not self.table.exact
        views: list[tuple[str, int | str]] = [
            (view.name, "…" if pending and i == self.view_index else count)
            for i, (view, count) in enumerate(zip(self.config.views, self.counts, strict=False))
        ]
        field = self.query_one("#filter", Input)
        extra = ""
        if self.filter_text:
            found = str(self.table.total) if self.table.exact else "counting…"
            extra = f"  filter: {self.filter_text} → {found}"
            # The view bar is full below ~190 columns: the filter box shows the count too.
            total = self.table.total
            matched = (
                found if not self.table.exact else f"{total} ticket{'' if total == 1 else 's'}"
            )
            field.border_subtitle = Text(f" {matched} ")
        else:
            field.border_subtitle = None
        bar = view_bar(views, self.view_index, self.size.width or 120, extra)
        # One line high (queue.tcss): a new count or filter text needs no layout.
        self.query_one("#view-bar", Static).update(bar, layout=False)

    def watch_view_index(self) -> None:
        if self.is_mounted:
            self.reload(counts=False, follow=False, count_later=True)

    def watch_filter_text(self) -> None:
        if self.is_mounted:
            self.reload(counts=False, follow=False)

    # ---- the per-second tick ----------------------------------------------------------------

    def tick(self) -> None:
        """Repaint countdowns of the visible rows; announce tickets going critical or breaching."""
        now = self.clock()
        self.table.now = now  # repaints the visible lines only
        self.query_one(StatusBar).now = now
        if self._last_tick is not None and _minute(now) != _minute(self._last_tick):
            if self.query_now().depends_on_time:
                # "Breaching soon" and friends gain rows with time: show them, the cursor
                # staying on its ticket (views whose rows do not depend on time cost nothing)
                self.reload()
            else:
                self.recount(now, timed_only=True)
            self._render_view_bar()
        if self._detail_id is not None and self.wide:
            self.query_one(TicketDetail).refresh_sla(now)
        if self._last_tick is not None and now > self._last_tick:
            crossings = self.store.queue.sla_crossings(self._last_tick, now)
            if crossings:
                from oncall_tui.ui.screens.queue_notices import announce

                announce(self, crossings)
        self._last_tick = now

    @property
    def desktop(self) -> DesktopNotifier:
        """The desktop notifier (``[notifications] desktop``), made on first use."""
        if self._desktop is None:
            driver = getattr(self.app, "_driver", None)
            write = driver.write if driver is not None else None
            from oncall_tui.ui.desktop_notify import DesktopNotifier

            self._desktop = DesktopNotifier(self.config.notifications.desktop, write)
        return self._desktop

    # ---- table messages ----------------------------------------------------------------------

    @on(TicketTable.Highlighted)
    def _highlighted(self, event: TicketTable.Highlighted) -> None:
        self._show_detail_soon(event.ticket_id)

    @on(TicketTable.Chosen)
    def _chosen(self, event: TicketTable.Chosen) -> None:
        self.open_ticket(event.ticket_id)

    def open_ticket(self, ticket_id: int) -> None:
        """The ticket's detail: beside the queue when wide, else full-screen."""
        if self.wide:
            if self._detail_timer is not None:  # the cursor's detail, due soon, would replace it
                self._detail_timer.stop()
            self._show_detail(ticket_id)
            self.query_one(TicketDetail).focus()
        else:
            from oncall_tui.ui.screens.detail_screen import DetailScreen

            self.app.push_screen(DetailScreen(self, ticket_id))

    def _show_detail_soon(self, ticket_id: int | None) -> None:
        """Show the detail once the cursor rests (holding j must not re-render every row)."""
        self._detail_id = ticket_id
        if not self.wide:
            return
        if self._detail_timer is not None:
            self._detail_timer.stop()
        self._detail_timer = self.set_timer(DETAIL_DELAY, lambda: self._show_detail(ticket_id))

    def _show_detail(self, ticket_id: int | None) -> None:
        self._detail_id = ticket_id
        if not self.wide:
            return
        detail = self.query_one(TicketDetail)
        from oncall_tui.ui.screens.runbook_cache import runbook_cache

        runbooks = runbook_cache(self.app.ctx).by_slug()
        data = load_detail(self.store, ticket_id, runbooks) if ticket_id is not None else None
        detail.show(data, self.clock(), self.config.sla)

    # ---- filter and views ------------------------------------------------------------------

    def action_view(self, index: int) -> None:
        views = len(self.config.views)
        if index < views:
            self.view_index = index
        else:
            self.notify(
                f"There {'is one view' if views == 1 else f'are {views} views'} (keys 1-{views}); "
                "[[views]] in the config defines up to 9.",
                timeout=4,
            )

    def describe_binding(self, binding: Binding) -> str | None:
        """The help's and the palette's words for a key: each view by its name, and only the
        views defined."""
        if binding.id is not None and binding.id.startswith("view-"):
            n = int(binding.id.removeprefix("view-"))
            views = self.config.views
            return f"View: {views[n - 1].name}" if n <= len(views) else None
        return binding.description

    def action_filter(self) -> None:
        field = self.query_one("#filter", Input)
        field.display = True
        # At once, not after the queued events (Widget.focus): "/p" typed fast is a filter
        # "p", not the priority dialog.
        self.set_focus(field)

    def action_clear_filter(self) -> None:
        field = self.query_one("#filter", Input)
        field.value = ""
        field.display = False
        self.filter_text = ""
        self.table.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        """Enter: back to the list; on a ticket number, open that ticket (in any view)."""
        number = parse_query(self.filter_text).ticket_number
        found = self._numbered(number) if number is not None else []
        if len(found) == 1:
            self.set_focus(self.table)  # where esc or q comes back to
            self.open_ticket(found[0])
            return
        if found:
            from oncall_tui.ui.screens.choice_screen import ChoiceScreen

            def picked(choice: str | None) -> None:
                if choice is not None:
                    self.open_ticket(int(choice))

            tickets = [self.store.tickets.get_ticket(i) for i in found]
            self.app.push_screen(
                ChoiceScreen(
                    f"{len(found)} tickets are numbered {number}",
                    [(str(t.id), f"{t.source} {t.remote_id}: {t.subject}") for t in tickets],
                ),
                picked,
            )
            return
        self.table.focus()

    # ---- columns and sorting (remembered in the state file) ---------------------------------

    def _state_dir(self) -> Path | None:
        ctx = getattr(self.app, "ctx", None)
        return ctx.paths.state_dir if ctx is not None else None

    def _restore_layout(self) -> None:
        """The columns and the sort picked last time (a damaged state file: the defaults;
        the app says so once, for the theme)."""
        from oncall_tui.settings.state import StateError, load_state
        from oncall_tui.ui.widgets.columns import parse_sort

        try:
            state = load_state(self._state_dir())
        except StateError:
            state = {}
        columns = state.get("queue_columns")
        if columns:
            self.table.column_keys = tuple(columns.split(","))
        self.sort = parse_sort(state.get("queue_sort"))
        self._show_sort()

    def _remember_layout(self) -> None:
        from oncall_tui.settings.state import StateError, save_state
        from oncall_tui.ui.widgets.columns import DEFAULT_KEYS, sort_text

        keys = self.table.column_keys or DEFAULT_KEYS
        try:
            save_state(
                self._state_dir(),
                {"queue_columns": ",".join(keys), "queue_sort": sort_text(*self.sort)},
            )
        except StateError as exc:
            self.notify(f"Not remembered: {exc}", severity="warning", markup=False)

    def _show_sort(self) -> None:
        key, descending = self.sort
        self.table.sort_marks = {} if key == "sla" else {key: "↓" if descending else "↑"}
        self._show_header()

    def action_choose_columns(self) -> None:
        """The column chooser (the width still decides which chosen columns fit)."""
        from oncall_tui.ui.screens.queue_layout import choose_columns

        choose_columns(self)

    def action_sort_by(self) -> None:
        """Sort by a column (the current one again: the other way round)."""
        from oncall_tui.ui.screens.queue_layout import sort_by

        sort_by(self)

    def set_sort(self, sort: Sort) -> None:
        """Sort the rows by ``sort``; the cursor stays on its ticket."""
        if sort == self.sort:
            return
        self.sort = sort
        self._show_sort()
        self._remember_layout()
        self.reload(counts=False)

    # ---- views edited in the app (written back to the config file) -----------------------

    def action_edit_views(self) -> None:
        """Save the filter as a view, rename, move, delete (written to the config)."""
        from oncall_tui.ui.screens.queue_layout import edit_views

        edit_views(self)

    # ---- the next and previous ticket from the detail ------------------------------------

    def neighbour(
        self, ticket_id: int, step: int, last_index: int | None = None
    ) -> tuple[int, int] | None:
        """The ticket ``step`` (±1) from ``ticket_id`` in the view, filter and order shown
        now, and its index (None: none that way). A ticket no longer in the result (it was
        closed or reassigned from the detail) is followed by the one now at ``last_index``.
        The queue's cursor goes to it, so that going back shows where you are."""
        query, me, now = self.query_now(), self.config.user, self.clock()
        position = self.store.queue.queue_position(query, ticket_id, me=me, now=now, sort=self.sort)
        if position is None:
            if last_index is None:
                last_index = self.table.cursor
            target = last_index if step > 0 else last_index - 1
        else:
            target = position + step
        if target < 0:
            return None
        rows = self.store.queue.open_queue(
            query, offset=target, limit=1, me=me, now=now, sort=self.sort
        )
        if not rows:
            return None
        if self.table.exact and target < self.table.total:
            self.table.cursor = target
        return rows[0].id, target

    def action_next_ticket(self) -> None:
        self._step_detail(1)

    def action_previous_ticket(self) -> None:
        self._step_detail(-1)

    def _step_detail(self, step: int) -> None:
        """Beside the queue: the next (previous) row's detail, focus staying in the detail."""
        current = self._detail_id if self._detail_id is not None else None
        found = self.neighbour(current, step) if current is not None else None
        if found is None:
            edge = "last" if step > 0 else "first"
            self.notify(f"This is the {edge} ticket of the view.", timeout=3)
            return
        self.open_ticket(found[0])

    # ---- which ticket actions apply to ----------------------------------------------------

    def current_id(self) -> int | None:
        """The ticket actions apply to: the one open in the detail, else the highlighted one."""
        if isinstance(self.focused, TicketDetail) and self._detail_id is not None:
            return self._detail_id
        row = self.table.current
        if row is None:
            self.notify("No ticket selected.", severity="warning")
            return None
        return row.id
