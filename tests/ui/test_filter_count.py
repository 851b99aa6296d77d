"""The `/` filter shows the filtered rows at once and counts them in the background."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from oncall_tui.domain.query import parse_query
from oncall_tui.store.queue import QueueCounter
from oncall_tui.ui.screens.queue_screen import QueueScreen
from oncall_tui.ui.widgets.ticket_table import TicketTable

pytestmark = pytest.mark.anyio
SIZE = (120, 40)
ME = "alex@support.example"


class Gate:
    """Holds back the background counts (all, or those of some words) until opened."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.open = threading.Event()
        self.words: set[tuple[str, ...]] | None = None  # None: every count waits
        self.fake: dict[tuple[str, ...], int] = {}  # words → a number to answer instead
        self.finished = threading.Event()
        real = QueueCounter.count

        def count(counter: QueueCounter, query: Any, **kw: Any) -> int | None:
            try:
                if self.words is None or query.words in self.words:
                    self.open.wait(10)
                if query.words in self.fake:
                    return self.fake[query.words]
                return real(counter, query, **kw)
            finally:
                self.finished.set()

        monkeypatch.setattr(QueueCounter, "count", count)


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gate]:
    g = Gate(monkeypatch)
    yield g
    g.open.set()  # never leave a worker thread waiting


def table(app: Any) -> TicketTable:
    return app.screen.query_one(TicketTable)


def bar(app: Any) -> str:
    return str(app.screen.query_one("#view-bar").render())


def in_order(app: Any, text: str) -> list[int]:
    query = parse_query(text)
    return [r.id for r in app.ctx.store.queue.open_queue(query, limit=10_000, me=ME)]


async def filter_all_open(pilot: Any, text: str) -> TicketTable:
    await pilot.press("5")  # All open: ~180 tickets, more than a window
    await pilot.pause()
    await pilot.press("slash", *text)
    await pilot.pause()
    return table(pilot.app)


async def counted(pilot: Any) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_rows_show_at_once_and_the_count_when_counted(make_app: Any, gate: Gate) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        t = await filter_all_open(pilot, "a")
        expected = in_order(app, "is:open a")
        assert len(expected) > 3 * t.size.height  # the window cannot see the end
        assert not t.exact
        assert 0 < t.total < len(expected)  # the rows fetched so far
        assert [t.row_at(i).id for i in range(t.total)] == expected[: t.total]
        assert "filter: a → counting…" in bar(app)  # never a number that is not the count
        field = app.screen.query_one("#filter")
        assert str(field.border_subtitle) == " counting… "  # seen at any width
        gate.open.set()
        await counted(pilot)
        assert t.exact
        assert t.total == len(expected)
        assert t.virtual_size.height == len(expected)
        assert f"filter: a → {len(expected)}" in bar(app)
        assert str(field.border_subtitle) == f" {len(expected)} tickets "
        await pilot.press("escape")
        assert field.border_subtitle is None


async def test_a_count_for_an_older_keystroke_is_ignored(make_app: Any, gate: Gate) -> None:
    gate.words = {("s",)}
    gate.fake = {("s",): 99_999}  # what the stale count will claim
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        t = await filter_all_open(pilot, "s")
        assert not t.exact
        await pilot.press("backspace", "a")  # a newer result; its count runs at once
        await pilot.pause()
        await counted(pilot)
        expected = in_order(app, "is:open a")
        assert t.exact and t.total == len(expected)
        gate.finished.clear()
        gate.open.set()  # the count for "s" finishes now, after the one for "a"
        assert gate.finished.wait(5)
        await pilot.pause(0.1)
        assert t.total == len(expected)
        assert "99999" not in bar(app)
        assert f"filter: a → {len(expected)}" in bar(app)
        # And a stale answer posted straight to the screen changes nothing either.
        screen: QueueScreen = app.screen
        screen.post_message(QueueScreen.Counted(screen._count_generation - 1, 12_345))
        await pilot.pause()
        assert t.total == len(expected)


async def test_scrolling_while_counting_grows_the_known_rows(make_app: Any, gate: Gate) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        t = await filter_all_open(pilot, "a")
        expected = in_order(app, "is:open a")
        await pilot.press("enter")  # back to the table, the filter stays
        await pilot.pause()
        known = t.total
        for _ in range(8):
            await pilot.press("pagedown")
        await pilot.pause()
        assert t.total > known or t.exact
        assert t.current.id == expected[t.cursor]
        # The last window came back short: the end is known before the count arrives.
        assert t.cursor == len(expected) - 1
        assert t.exact and t.total == len(expected)
        rendered = [t.render_line(y).text for y in range(t.size.height)]
        assert any(t.current.subject[:20] in line for line in rendered)
        gate.open.set()
        await counted(pilot)  # the count arrives after the end was found: the bar shows it
        assert t.total == len(expected)
        assert f"filter: a → {len(expected)}" in bar(app)


async def test_scrolling_the_view_while_counting_grows_it_too(make_app: Any, gate: Gate) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        t = await filter_all_open(pilot, "a")
        expected = in_order(app, "is:open a")
        known = t.total
        t.scroll_to(y=t.max_scroll_y, animate=False, immediate=True)  # wheel or scrollbar
        await pilot.pause()
        assert t.total > known
        for _ in range(5):  # each scroll to the bottom fetches on, until the end is found
            t.scroll_to(y=t.max_scroll_y, animate=False, immediate=True)
            await pilot.pause()
        assert t.exact and t.total == len(expected)
        top = int(t.scroll_y)
        assert top <= len(expected) - 1 < top + t.size.height  # the last row is in view
        assert t.row_at(len(expected) - 1).id == expected[-1]
        gate.open.set()


async def test_end_while_counting_lands_on_the_last_row_once_counted(
    make_app: Any, gate: Gate
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        t = await filter_all_open(pilot, "a")
        expected = in_order(app, "is:open a")
        await pilot.press("enter", "end")
        await pilot.pause()
        assert not t.exact
        assert t.cursor < len(expected) - 1  # the last row known when end was pressed
        assert t.current.id == expected[t.cursor]
        gate.open.set()
        await counted(pilot)
        assert t.exact and t.total == len(expected)
        assert t.cursor == len(expected) - 1
        assert t.current.id == expected[-1]
        top = int(t.scroll_y)
        assert top <= t.cursor < top + t.size.height  # scrolled to it


async def test_end_after_the_count_reaches_the_last_row(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        t = await filter_all_open(pilot, "a")
        await counted(pilot)
        expected = in_order(app, "is:open a")
        assert t.exact and t.total == len(expected)
        await pilot.press("enter", "end")
        await pilot.pause()
        assert t.cursor == len(expected) - 1
        assert t.current.id == expected[-1]
        await pilot.press("home")
        await pilot.pause()
        assert t.cursor == 0 and t.current.id == expected[0]


async def test_a_short_result_is_counted_by_its_window(make_app: Any, gate: Gate) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        t = await filter_all_open(pilot, "sch")
        expected = in_order(app, "is:open sch")
        assert 0 < len(expected) < t.size.height
        assert t.exact  # with every count held back: the window came back short
        assert t.total == len(expected)
        assert f"filter: sch → {len(expected)}" in bar(app)
        gate.open.set()  # (the counts of "s" and "sc" are still held back)


async def test_clearing_the_filter_counts_at_once(make_app: Any, gate: Gate) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        t = await filter_all_open(pilot, "a")
        assert not t.exact
        await pilot.press("escape")
        await pilot.pause()
        assert t.exact
        assert t.total == app.ctx.store.queue.queue_count(parse_query("is:open"), me=ME)
        assert "counting" not in bar(app)
        gate.open.set()


async def test_leaving_closes_the_counter(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await filter_all_open(pilot, "a")
        await counted(pilot)
        screen: QueueScreen = app.screen
        counter = screen._counter
        assert counter is not None
    assert counter.count(parse_query("a")) is None  # closed with the screen


async def test_a_new_view_shows_its_rows_before_its_count(make_app: Any, gate: Gate) -> None:
    """Switching views never waits for the view's count (issue 22: at a million tickets
    counting "All open" takes ~100 ms): the rows at once, the total once counted."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5")  # All open: more rows than a window
        await pilot.pause()
        t = table(app)
        expected = in_order(app, "is:open")
        assert not t.exact  # the count is held back
        assert [r.id for r in t.visible_rows()] == expected[: len(t.visible_rows())]
        gate.open.set()
        await counted(pilot)
        assert t.exact and t.total == len(expected)
        await pilot.press("end")
        await pilot.pause()
        assert t.current is not None and t.current.id == expected[-1]


async def test_a_view_switch_shows_its_count_as_pending_until_counted(
    make_app: Any, gate: Gate
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        assert "(…)" not in bar(app)  # the first view's count is made before the first paint
        await pilot.press("5")  # All open: more rows than a window, counted in the background
        await pilot.pause()
        t = table(app)
        assert not t.exact
        expected = in_order(app, "is:open")
        name = app.ctx.config.views[4].name
        assert f" 5 {name} (…) " in bar(app)  # never the number from before
        assert bar(app).count("(…)") == 1  # the other views keep their counts
        gate.open.set()
        await counted(pilot)
        assert t.exact and t.total == len(expected)
        assert f" 5 {name} ({len(expected)}) " in bar(app)
        assert "(…)" not in bar(app)


async def test_the_first_views_count_follows_the_first_paint(make_app: Any, gate: Gate) -> None:
    from dataclasses import replace

    from oncall_tui.demo.seed import DEMO_USER
    from oncall_tui.settings.config import Config, ViewSpec

    # A first view with more rows than a window: its count (~36 ms at 1,000,000 tickets)
    # does not hold back the first frame; it runs in the background, the bar says "(…)".
    views = (ViewSpec("Everything open", "is:open"), *Config().views[1:])
    config = replace(Config(user=DEMO_USER, sync_interval=None), views=views)
    app = make_app(config=config)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        t = table(app)
        expected = in_order(app, "is:open")
        assert len(expected) > 3 * t.size.height
        assert not t.exact  # the rows are shown, the count is held back by the gate
        assert t.row_at(0) is not None and t.row_at(0).id == expected[0]
        assert " 1 Everything open (…) " in bar(app)
        gate.open.set()
        await counted(pilot)
        assert t.exact and t.total == len(expected)
        assert f" 1 Everything open ({len(expected)}) " in bar(app)


async def test_a_keystroke_fetches_its_first_screenful_and_the_rest_on_the_way_down(
    make_app: Any, gate: Gate
) -> None:
    """A filter's rows are found by testing each ticket in turn: the first frame fetches
    the screen it shows (and one row more, so its scrollbar stays), not three screens."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        t = await filter_all_open(pilot, "a")
        expected = in_order(app, "is:open a")
        height = t.size.height
        assert not t.exact
        assert t.total == height + 1  # the screen, and a row that says the result goes on
        assert t.show_vertical_scrollbar
        assert [t.row_at(i).id for i in range(t.total)] == expected[: t.total]
        t.focus()
        await pilot.press("pagedown", "pagedown")  # the rest is fetched on the way
        await pilot.pause()
        assert t.cursor > height + 1  # past the rows the first frame fetched
        assert t.total > height + 1
        assert [t.row_at(i).id for i in range(t.total)] == expected[: t.total]
        assert t.current is not None and t.current.id == expected[t.cursor]


async def test_the_empty_filter_box_flags_no_scrollbar(make_app: Any) -> None:
    """The placeholder is wider than the box: a scrollbar flagged for it and dropped with the
    first letter laid the whole screen out again on that keystroke."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", "a", "escape", "slash")  # emptied: the placeholder's size
        await pilot.pause()
        field = app.screen.query_one("#filter")
        assert field.content_width > field.scrollable_content_region.width  # the placeholder
        assert not field.show_horizontal_scrollbar
        await pilot.press("a")
        await pilot.pause()
        assert not field.show_horizontal_scrollbar
