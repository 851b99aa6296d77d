"""Config keys of issue 14: undo_seconds, and [templates.*] checked when the file loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from oncall_tui.settings.config import Config, ConfigError, load_config


def load(tmp_path: Path, text: str) -> Config:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def test_undo_seconds(tmp_path: Path) -> None:
    assert Config().undo_seconds == 10
    assert load(tmp_path, "undo_seconds = 0").undo_seconds == 0
    assert load(tmp_path, "undo_seconds = 2.5").undo_seconds == 2.5


@pytest.mark.parametrize("value", ["-1", "3601", '"soon"', "true", "nan"])
def test_bad_undo_seconds_is_one_line(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError, match="undo_seconds: expected a number of seconds, 0 to 3600"):
        load(tmp_path, f"undo_seconds = {value}")


def test_a_bad_team_template_stops_at_start_with_its_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"templates\.ack\.body.*\{custmer\}"):
        load(tmp_path, '[templates.ack]\ntitle = "Ack"\nbody = "Hi {custmer}"\n')
    good = load(tmp_path, '[templates.ack]\ntitle = "Ack"\nbody = "Hi {requester}"\n')
    assert good.templates["ack"]["title"] == "Ack"
