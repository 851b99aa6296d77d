"""Issue 20, item 3: views written back to the config file, comments kept."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from oncall_tui.settings.config import ViewSpec, load_config
from oncall_tui.settings.config_write import ConfigWriteError, write_views

CONFIG = """\
# my config
user = "alex@support.example"  # me

# views below
[[views]]
name = "Mine"   # the first
query = "is:open assignee:me"

[[views]]
# the second
name = "All"
query = "is:open"

[sla]
critical_minutes = 15   # fifteen
"""


def test_rewrite_keeps_comments_and_other_keys(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG)
    path.chmod(0o640)
    views = [ViewSpec("All", "is:open"), ViewSpec("Mine", "is:open assignee:me")]
    views.append(ViewSpec('P0 "urgent"', "priority:P0 -acme"))
    assert write_views(path, views) is False
    text = path.read_text()
    for comment in (
        "# my config",
        "# me",
        "# views below",
        "# the first",
        "# the second",
        "# fifteen",
    ):
        assert comment in text
    config = load_config(path)
    assert config.views == tuple(views)
    assert config.user == "alex@support.example"
    assert config.sla.critical_seconds == 15 * 60
    assert oct(path.stat().st_mode & 0o777) == oct(0o640)  # its permissions kept
    write_views(path, views[:1])
    assert load_config(path).views == (views[0],)
    assert "[sla]" in path.read_text() and "# fifteen" in path.read_text()


def test_a_missing_file_is_created(tmp_path: Path) -> None:
    path = tmp_path / "oncall-tui" / "config.toml"
    assert write_views(path, [ViewSpec("X", "is:open")]) is True
    assert load_config(path).views == (ViewSpec("X", "is:open"),)
    assert path.stat().st_mode & 0o077 == 0  # private, as the state file


def test_a_view_that_would_not_load_is_not_written(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG)
    with pytest.raises(ConfigWriteError, match="not changed"):
        write_views(path, [ViewSpec("Bad", "priorty:P0")])
    assert path.read_text() == CONFIG


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_an_unwritable_folder_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "config.toml"
    path.write_text(CONFIG)
    folder.chmod(0o500)
    try:
        with pytest.raises(ConfigWriteError) as caught:
            write_views(path, [ViewSpec("X", "is:open")])
        assert "\n" not in str(caught.value) and "this session only" in str(caught.value)
    finally:
        folder.chmod(0o700)
    assert path.read_text() == CONFIG


def test_invalid_toml_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("user = \n")
    with pytest.raises(ConfigWriteError, match="invalid TOML"):
        write_views(path, [ViewSpec("X", "is:open")])
    assert path.read_text() == "user = \n"


def test_a_folder_that_cannot_be_created_is_one_line() -> None:
    """(As root too: nobody creates folders in /proc.)"""
    path = Path("/proc/oncall-tui-test/config.toml")
    with pytest.raises(ConfigWriteError) as caught:
        write_views(path, [ViewSpec("X", "is:open")])
    message = str(caught.value)
    assert "\n" not in message and "cannot write" in message and "this session only" in message
