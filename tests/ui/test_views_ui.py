"""Issue 20, item 3: views saved, renamed, moved and deleted from the queue (`V`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from oncall_tui.settings.config import DEFAULT_VIEWS, load_config
from oncall_tui.ui.screens.choice_screen import ChoiceScreen
from oncall_tui.ui.screens.prompt_screen import PromptScreen
from oncall_tui.ui.screens.views_screen import ViewsScreen

pytestmark = pytest.mark.anyio

CONFIG = """\
# the team's views
[[views]]
name = "Mine"  # first
query = "is:open assignee:me"

[[views]]
name = "All open"
query = "is:open"
"""


def _app(make_app: Any, path: Path, *, demo: bool = False) -> Any:
    from dataclasses import replace

    app = make_app(config=load_config(path) if path.exists() else None)
    app.ctx.demo = demo
    app.ctx.paths = replace(app.ctx.paths, config=path)
    return app


async def _answer(pilot: Any, text: str) -> None:
    await pilot.pause()
    assert isinstance(pilot.app.screen, PromptScreen)
    await pilot.press(*text, "enter")
    await pilot.pause()


async def test_save_rename_move_delete_written_with_comments(make_app: Any, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG)
    app = _app(make_app, path)
    async with app.run_test(size=(120, 40)) as pilot:
        queue = app.screen
        await pilot.press("slash", *"priority:P0", "enter")
        await pilot.press("V")
        await pilot.pause()
        assert isinstance(app.screen, ViewsScreen)
        await pilot.press("n")
        await _answer(pilot, "Emergencies")
        assert [v.name for v in load_config(path).views] == ["Mine", "All open", "Emergencies"]
        assert load_config(path).views[2].query == "priority:P0"
        assert [v.name for v in queue.config.views][-1] == "Emergencies"  # shown at once
        # Rename the highlighted (the new one), move it up, delete "Mine".
        await pilot.press("r")
        await _answer(pilot, "P0s")
        await pilot.press("K")
        await pilot.pause()
        assert [v.name for v in load_config(path).views] == ["Mine", "P0s", "All open"]
        await pilot.press("up", "d")  # "Mine"
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        app.screen.dismiss("delete")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is queue
        assert [v.name for v in queue.config.views] == ["P0s", "All open"]
        assert "P0s" in queue.query_one("#view-bar").render().plain
    text = path.read_text()
    assert "# the team's views" in text and "# first" in text
    assert [v.name for v in load_config(path).views] == ["P0s", "All open"]


async def test_no_config_file_creates_one(make_app: Any, tmp_path: Path) -> None:
    path = tmp_path / "oncall-tui" / "config.toml"
    app = _app(make_app, path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("slash", *"sla:breached", "enter", "V", "n")
        await _answer(pilot, "Late")
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.config.views[-1].name == "Late"
    views = load_config(path).views
    # the defaults, and the new one
    assert views[-1].name == "Late" and len(views) == len(DEFAULT_VIEWS) + 1


async def test_demo_changes_the_session_only(make_app: Any, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    app = _app(make_app, path, demo=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("slash", *"priority:P0", "enter", "V", "n")
        await _answer(pilot, "P0")
        assert app.screen.views[-1].name == "P0"
    assert not path.exists()


async def test_unwritable_config_says_so_in_one_line(make_app: Any) -> None:
    path = Path("/proc/oncall-tui-test/config.toml")
    app = _app(make_app, path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("slash", *"priority:P0", "enter", "V", "n")
        await _answer(pilot, "P0")
        notes = [n.message for n in app._notifications]
        assert any("cannot write" in n and "this session only" in n for n in notes), notes
        assert app.screen.views[-1].name == "P0"  # this session still has it
