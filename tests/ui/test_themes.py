"""The theme: a config key, and the one picked in the app remembered across restarts (in the
state folder, not the config file)."""

from __future__ import annotations

import json
import stat
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from oncall_tui.settings.config import Config, ConfigError
from oncall_tui.settings.state import STATE_FILE, StateError, load_state, save_state

pytestmark = pytest.mark.anyio
ME = "alex@support.example"


def with_state(make_app: Any, folder: Path, config: Config | None = None) -> Any:
    app = make_app(config=config)
    app.ctx.paths = replace(app.ctx.paths, state_dir=folder)
    app.theme = app._starting_theme()
    return app


async def test_theme_picked_in_the_app_is_remembered(make_app: Any, tmp_path: Path) -> None:
    folder = tmp_path / "state"
    first = with_state(make_app, folder)
    async with first.run_test(size=(80, 24)) as pilot:
        assert pilot.app.theme == "textual-dark"  # the default
        pilot.app.theme = "textual-light"  # as the palette's "Change theme" does
        await pilot.pause()
    assert json.loads((folder / STATE_FILE).read_text()) == {
        "config_theme": "",
        "theme": "textual-light",
    }
    assert stat.S_IMODE((folder / STATE_FILE).stat().st_mode) == 0o600
    second = with_state(make_app, folder)
    async with second.run_test(size=(80, 24)) as pilot:
        assert pilot.app.theme == "textual-light"


async def test_config_theme_and_its_later_change_win(make_app: Any, tmp_path: Path) -> None:
    folder = tmp_path / "state"
    nord = Config(user=ME, sync_interval=None, theme="nord")
    async with with_state(make_app, folder, nord).run_test(size=(80, 24)) as pilot:
        assert pilot.app.theme == "nord"
        pilot.app.theme = "textual-light"
        await pilot.pause()
    async with with_state(make_app, folder, nord).run_test(size=(80, 24)) as pilot:
        assert pilot.app.theme == "textual-light"  # picked since the config said nord
    gruvbox = replace(nord, theme="gruvbox")  # the config was edited after the pick
    async with with_state(make_app, folder, gruvbox).run_test(size=(80, 24)) as pilot:
        assert pilot.app.theme == "gruvbox"


async def test_a_damaged_state_file_is_said_and_replaced(make_app: Any, tmp_path: Path) -> None:
    folder = tmp_path / "state"
    folder.mkdir()
    (folder / STATE_FILE).write_text("{not json")
    app = with_state(make_app, folder)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert pilot.app.theme == "textual-dark"
        notes = [n.message for n in pilot.app._notifications]
        assert any("not oncall-tui's state" in n and "ignored" in n for n in notes), notes
        pilot.app.theme = "textual-light"
        await pilot.pause()
    assert load_state(folder) == {"theme": "textual-light", "config_theme": ""}


async def test_an_unwritable_state_folder_is_said(make_app: Any, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    folder = tmp_path / "a-file" / "state"  # cannot be created, even by root
    app = with_state(make_app, folder)
    async with app.run_test(size=(80, 24)) as pilot:
        pilot.app.theme = "textual-light"
        await pilot.pause()
        notes = [n.message for n in pilot.app._notifications]
        assert any(n.startswith("The theme is not remembered:") for n in notes), notes


def test_state_file_round_trip_and_refusals(tmp_path: Path) -> None:
    assert load_state(None) == {} and load_state(tmp_path / "none") == {}
    save_state(tmp_path / "s", {"theme": "nord"})
    save_state(tmp_path / "s", {"config_theme": ""})
    assert load_state(tmp_path / "s") == {"theme": "nord", "config_theme": ""}
    save_state(None, {"theme": "x"})  # nowhere to keep it: nothing is written
    (tmp_path / "s" / STATE_FILE).write_text("[1, 2]")
    with pytest.raises(StateError, match="not oncall-tui's state"):
        load_state(tmp_path / "s")
    (tmp_path / "s" / STATE_FILE).write_bytes(b"\xff\xfe")
    with pytest.raises(StateError):
        load_state(tmp_path / "s")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (
            'theme = "textual-lihgt"\n',
            "theme: no theme is called 'textual-lihgt' (did you mean textual-light?)",
        ),
        ("theme = 3\n", "theme: expected a non-empty string"),
    ],
)
def test_bad_theme_stops_with_one_line(tmp_path: Path, text: str, fragment: str) -> None:
    from oncall_tui.compose import load_app_config as _load_config
    from oncall_tui.settings.paths import Paths

    path = tmp_path / "config.toml"
    path.write_text(text)
    paths = Paths(config=path, db=tmp_path / "db", data_dir=tmp_path, config_given=True)
    with pytest.raises(ConfigError) as caught:
        _load_config(paths, keys=True)
    assert str(caught.value) == f"{path}: {fragment}" or fragment in str(caught.value)
    assert "\n" not in str(caught.value)


def test_good_theme_passes(tmp_path: Path) -> None:
    from oncall_tui.compose import load_app_config as _load_config
    from oncall_tui.settings.paths import Paths

    path = tmp_path / "config.toml"
    path.write_text('theme = "textual-light"\n')
    paths = Paths(config=path, db=tmp_path / "db", data_dir=tmp_path, config_given=True)
    assert _load_config(paths, keys=True).theme == "textual-light"
