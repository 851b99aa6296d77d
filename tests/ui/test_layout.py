"""Issue 20, item 1: the queue at every width, its columns, sideways scrolling, the view bar,
sorting by any column and the column chooser (remembered)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from oncall_tui.domain.query import parse_query
from oncall_tui.settings.state import load_state
from oncall_tui.store import Store
from oncall_tui.store.queue import SORT_SQL
from oncall_tui.ui.screens.choice_screen import ChoiceScreen
from oncall_tui.ui.screens.columns_screen import ColumnsScreen
from oncall_tui.ui.widgets.columns import COLUMNS, layout, max_offset, scroll
from oncall_tui.ui.widgets.ticket_table import TicketTable
from oncall_tui.ui.widgets.view_bar import view_bar

pytestmark = pytest.mark.anyio
ESSENTIAL = ("sla", "priority", "customer", "subject", "status")


# ---- which columns a width shows -----------------------------------------------------------


@pytest.mark.parametrize(
    ("width", "keys"),
    [
        (78, ESSENTIAL),  # 80 columns less the scrollbar
        (80, ESSENTIAL),
        (100, ("sla", "priority", "plan", "customer", "subject", "status", "assignee")),
        (118, tuple(c.key for c in COLUMNS)),
        (200, tuple(c.key for c in COLUMNS)),
    ],
)
def test_columns_by_rank(width: int, keys: tuple[str, ...]) -> None:
    shown = layout(width)
    assert shown.keys == keys
    # The subject takes the spare width: the row is exactly as wide as the table.
    assert sum(w for _c, w in shown.columns) + len(shown.columns) == width
    widths = dict((c.key, w) for c, w in shown.columns)
    assert widths["status"] >= len("pending")  # never "pendin"
    assert shown.right == len(COLUMNS) - len(keys)


def test_every_width_fits_exactly() -> None:
    for width in range(60, 260):
        shown = layout(width)
        assert sum(w for _c, w in shown.columns) + len(shown.columns) == width, width
        assert shown.keys[:2] == ("sla", "priority")


def test_sideways_scroll_shows_the_hidden_columns_and_comes_back() -> None:
    width = 78
    assert layout(width).right == 4
    offset = scroll(width, None, 0, 1)
    assert offset > 0
    moved = layout(width, None, offset)
    assert moved.right == 0 and moved.left == offset
    assert {"plan", "assignee", "source", "updated"} - set(moved.keys) == {"plan"}
    assert moved.keys[:2] == ("sla", "priority")  # pinned
    assert scroll(width, None, offset, 1) == offset  # nothing more to the right
    assert scroll(width, None, offset, -1) == 0
    assert max_offset(200) == 0 and scroll(200, None, 0, 1) == 0


def test_chosen_columns_only() -> None:
    keys = ("sla", "priority", "subject", "updated")
    assert layout(80, keys).keys == keys
    assert layout(80, ("subject",)).keys == ("sla", "priority", "subject")  # pinned stay
    assert layout(80, ("nonsense",)).keys == ESSENTIAL  # nothing valid: every column


# ---- the view bar ----------------------------------------------------------------------------

VIEWS = [
    ("My queue", 25),
    ("Unassigned", 61),
    ("Breaching soon", 37),
    ("Waiting on customer", 41),
    ("All open", 182),
    ("Bugs under investigation", 2),
    ("A view with a long name indeed", 12345),
]


@pytest.mark.parametrize("width", [30, 40, 80, 120, 200])
def test_view_bar_always_shows_the_current_view_with_whole_counts(width: int) -> None:
    for current, (_name, count) in enumerate(VIEWS):
        bar = view_bar(VIEWS, current, width).plain
        assert len(bar) <= width, (width, current, bar)
        assert f" {current + 1} " in bar and f"({count})" in bar, (width, current, bar)
        for number, shown_count in re.findall(r" (\d) [^(›‹\d]*\((\d+)\)", bar):
            assert shown_count == str(VIEWS[int(number) - 1][1])  # a count is never cut
    assert "› " not in view_bar(VIEWS, 0, 400).plain  # everything fits: no marks


# ---- sorting in the store --------------------------------------------------------------------


def _keyed(store: Store, key: str, descending: bool) -> list[int]:
    """Every ticket's id in the order the column sorts (computed in Python)."""
    everything = store.queue.open_queue(parse_query(""), limit=10_000)
    urgency = [r.id for r in everything]
    rank = {tid: i for i, tid in enumerate(urgency)}

    def value(r: Any) -> Any:
        return {
            "priority": str(r.priority),
            "subject": r.subject.lower(),
            "status": str(r.status),
            "assignee": (r.assignee or "").lower(),
            "source": str(r.source),
            "updated": r.updated_at,
        }[key]

    def folded(r: Any) -> Any:
        v = value(r)
        return v.lower() if isinstance(v, str) else v

    ordered = sorted(everything, key=lambda r: rank[r.id])  # ties: the urgency order
    ordered.sort(key=folded)
    ids = [r.id for r in ordered]
    return ids[::-1] if descending else ids  # descending: the exact reverse (one index)


@pytest.mark.parametrize("key", sorted(SORT_SQL))
@pytest.mark.parametrize("descending", [False, True])
def test_sort_by_each_column_and_locate(demo_store: Store, key: str, descending: bool) -> None:
    query = parse_query("")
    sort = (key, descending)
    expected = _keyed(demo_store, key, descending)
    got = [r.id for r in demo_store.queue.open_queue(query, limit=10_000, sort=sort)]
    assert got == expected
    # Windows agree with the whole, and every ticket is located where it is shown.
    window = [r.id for r in demo_store.queue.open_queue(query, offset=40, limit=30, sort=sort)]
    assert window == expected[40:70]
    for position in (0, 1, 17, 55, len(expected) - 1):
        ticket = expected[position]
        assert demo_store.queue.queue_position(query, ticket, sort=sort) == position


# ---- in the app ------------------------------------------------------------------------------


def _with_state(make_app: Any, folder: Path) -> Any:
    app = make_app()
    app.ctx.paths = replace(app.ctx.paths, state_dir=folder)
    return app


async def test_sort_key_keeps_the_cursor_and_is_remembered(make_app: Any, tmp_path: Path) -> None:
    folder = tmp_path / "state"
    app = _with_state(make_app, folder)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("5")
        await pilot.pause()
        table = app.screen.query_one(TicketTable)
        await pilot.press("j", "j", "j")
        before = table.current.id
        await pilot.press("O")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        app.screen.dismiss("subject")
        await pilot.pause()
        assert app.screen.sort == ("subject", False)
        assert table.current.id == before  # the key acts on the ticket you saw
        rows = [table.row_at(i) for i in range(20)]
        subjects = [r.subject.lower() for r in rows if r is not None]
        assert subjects == sorted(subjects)
        assert "Subject↑" in table.header_text().plain
        # Choosing the same column again reverses it.
        await pilot.press("O")
        await pilot.pause()
        app.screen.dismiss("subject")
        await pilot.pause()
        assert app.screen.sort == ("subject", True)
        assert table.current.id == before
    assert load_state(folder)["queue_sort"] == "subject:desc"
    app2 = _with_state(make_app, folder)
    async with app2.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app2.screen.sort == ("subject", True)


async def test_column_chooser_is_remembered(make_app: Any, tmp_path: Path) -> None:
    folder = tmp_path / "state"
    app = _with_state(make_app, folder)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("C")
        await pilot.pause()
        assert isinstance(app.screen, ColumnsScreen)
        from textual.widgets import SelectionList

        chooser = app.screen.query_one(SelectionList)
        chooser.deselect("plan")
        chooser.deselect("source")
        await pilot.press("escape")
        await pilot.pause()
        table = app.screen.query_one(TicketTable)
        keys = table.column_layout().keys
        assert "plan" not in keys and "source" not in keys and "updated" in keys
        assert "Plan" not in table.header_text().plain
    assert "plan" not in load_state(folder)["queue_columns"].split(",")
    app2 = _with_state(make_app, folder)
    async with app2.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert "plan" not in app2.screen.query_one(TicketTable).column_layout().keys


async def test_arrows_scroll_the_columns_at_80(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("5")
        await pilot.pause()
        table = app.screen.query_one(TicketTable)
        assert table.column_layout().keys == ESSENTIAL
        assert "4 more →" in table.header_text().plain
        await pilot.press("right")
        await pilot.pause()
        assert "updated" in table.column_layout().keys
        header = table.header_text().plain
        assert "Updated" in header and "more →" not in header
        await pilot.press("left")
        await pilot.pause()
        assert table.column_layout().keys == ESSENTIAL
        # The rows are as wide as the table less its scrollbar: the status is not cut.
        line = table.render_line(0).text
        assert len(line) == table.line_width < 80


async def test_dialogs_wrap_their_text(make_app: Any) -> None:
    """A long title and a long option wrap inside the dialog at 80 columns (the drafts'
    "Discard “…”?" and the label prompt were cut at the dialog's edge)."""
    from textual.widgets import Label, OptionList

    title = 'Discard "Production instance unreachable, MySQL connection errors after the upgrade"?'
    option = "Discard the draft and the reply typed in it, with everything it says " * 2
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(ChoiceScreen(title, [("keep", "Keep it"), ("discard", option)]))
        await pilot.pause()
        label = app.screen.query_one(".dialog--title", Label)
        dialog = app.screen.query_one(".dialog")
        assert label.size.height >= 2  # wrapped, not cut
        assert label.region.right <= dialog.region.right
        shown = "".join(
            strip.text for strip in label.render_lines(label.region.reset_offset)
        ).replace(" ", "")
        assert title.replace(" ", "") in shown
        choices = app.screen.query_one(OptionList)
        assert choices.virtual_size.height >= 3  # the long option takes two lines
        assert choices.virtual_size.width <= choices.size.width


def test_view_bar_keeps_the_filter_in_sight() -> None:
    bar = view_bar(VIEWS, 4, 120, "  filter: priority:P0 → 12").plain
    assert "filter: priority:P0 → 12" in bar and " 5 All open (182) " in bar
    assert len(bar) <= 120
    narrow = view_bar(VIEWS, 6, 40, "  filter: a very long filter indeed → 12").plain
    assert "(12345)" in narrow and len(narrow) <= 40  # the view first, the filter if it fits
