"""SteadyStatic repaints only when its content changed (a terminal gets no bytes otherwise)."""

from __future__ import annotations

import pytest
from rich.text import Text
from textual.app import App, ComposeResult

from oncall_tui.ui.widgets.steady import SteadyStatic

pytestmark = pytest.mark.anyio


class _One(App[None]):
    def compose(self) -> ComposeResult:
        yield SteadyStatic(id="s")


async def test_identical_update_does_not_refresh() -> None:
    app = _One()
    async with app.run_test() as pilot:
        widget = app.query_one(SteadyStatic)
        refreshed: list[object] = []
        original = widget.refresh

        def spy(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
            refreshed.append(args)
            return original(*args, **kwargs)

        widget.refresh = spy  # type: ignore[method-assign]
        widget.update(Text("1 My queue (3)", style="bold"))
        await pilot.pause()
        assert len(refreshed) == 1
        widget.update(Text("1 My queue (3)", style="bold"))  # the same: nothing
        widget.update(Text("1 My queue (3)", style="bold"))
        assert len(refreshed) == 1
        widget.update(Text("1 My queue (4)", style="bold"))  # new text
        widget.update(Text("1 My queue (4)", style="italic"))  # new style
        assert len(refreshed) == 3
        assert str(widget.render()) == "1 My queue (4)"
