"""Snapshot tests: fixed terminal sizes, frozen clock (Monday 2026-11-23 10:30 PST), demo seed 1.

Review each SVG diff like code (`pytest --snapshot-update` only after reading the report).
"""

from __future__ import annotations

from typing import Any

from tests.conftest import settle_factory

settle = settle_factory()


def test_demo_first_screen(snap_compare: Any, make_app: Any) -> None:
    """The queue on start: My queue view, breached rows first, countdowns, footer keys."""
    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=settle)


def test_all_open_wide_with_detail(snap_compare: Any, make_app: Any) -> None:
    """A wide terminal (160 cols): the All open view beside the first ticket's detail."""
    assert snap_compare(make_app(), press=["5"], terminal_size=(160, 40), run_before=settle)


def test_detail_full_screen_when_narrow(snap_compare: Any, make_app: Any) -> None:
    """A narrow terminal (100 cols): enter opens the first ticket's detail full-screen."""
    assert snap_compare(make_app(), press=["enter"], terminal_size=(100, 40), run_before=settle)


def test_help_screen(snap_compare: Any, make_app: Any) -> None:
    """`?` lists every key of the queue screen."""
    assert snap_compare(
        make_app(), press=["question_mark"], terminal_size=(120, 40), run_before=settle
    )


def test_waiting_on_customer_view(snap_compare: Any, make_app: Any) -> None:
    """View 4: paused rows (pending / on hold / "+" labels) show "paused"."""
    assert snap_compare(make_app(), press=["4"], terminal_size=(120, 40), run_before=settle)


def test_first_run_says_what_to_do(snap_compare: Any, make_app: Any) -> None:
    """80×24, an empty cache and no backend: the table says how to configure one, sign in,
    or try the demo (not a blank table)."""

    def first_run() -> Any:
        from dataclasses import replace
        from pathlib import Path

        app = make_app(seed=None)
        app.ctx.demo = False
        # A fixed path in the picture (the test's own folder differs at every run).
        config = Path("/home/alex/.config/oncall-tui/config.toml")
        app.ctx.paths = replace(app.ctx.paths, config=config)
        return app

    assert snap_compare(first_run(), terminal_size=(80, 24), run_before=settle)


def test_filter_problem_and_empty_result(snap_compare: Any, make_app: Any) -> None:
    """A misspelt field under the filter box, and the empty result naming the views where
    the rest of the filter matches."""
    assert snap_compare(
        make_app(),
        press=["slash", *"priorty:P0 zzyzx"],
        terminal_size=(120, 40),
        run_before=settle,
    )


def test_light_theme_queue(snap_compare: Any, make_app: Any) -> None:
    """The queue in textual-light: the readable colours (cursor row, SLA states, priorities,
    the muted columns)."""

    async def light(pilot: Any) -> None:
        pilot.app.theme = "textual-light"
        await settle(pilot)

    assert snap_compare(make_app(), press=["4"], terminal_size=(120, 40), run_before=light)


def test_queue_at_80x24_all_open_view(snap_compare: Any, make_app: Any) -> None:
    """80×24: SLA, priority, customer, subject and status (not cut), "4 more →" in the
    header, and the view bar scrolled so that the current view (5, All open) shows."""
    assert snap_compare(make_app(), press=["5"], terminal_size=(80, 24), run_before=settle)


def test_queue_at_80x24_scrolled_right(snap_compare: Any, make_app: Any) -> None:
    """80×24 after →: the hidden columns (assignee, source, updated) beside SLA and
    priority, "←2" where the customer went."""
    assert snap_compare(make_app(), press=["5", "right"], terminal_size=(80, 24), run_before=settle)


def test_queue_at_120x40_last_view(snap_compare: Any, make_app: Any) -> None:
    """120×40: every column, the subject taking the spare width to the right edge, and the
    view bar scrolled to view 6 with its whole count."""
    assert snap_compare(make_app(), press=["6"], terminal_size=(120, 40), run_before=settle)


def test_queue_at_200x50_with_detail(snap_compare: Any, make_app: Any) -> None:
    """200×50: the detail beside the queue; the queue shows what its width allows, the
    view bar every view."""
    assert snap_compare(make_app(), press=["5"], terminal_size=(200, 50), run_before=settle)
