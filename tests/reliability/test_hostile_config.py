"""Hostile config files: any TOML document, any value under any key.

``load_config`` must give a ``Config`` or raise ``ConfigError`` (never another exception),
and the error must be one printable line naming the file: the CLI prints it to a terminal.
A config it accepts must not crash or spin the app later.
"""

from __future__ import annotations

import math
import string
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from oncall_tui.config import TOP_LEVEL_KEYS, Config, ConfigError, load_config
from tests.reliability.conftest import fuzz, has_control

NOW = datetime(2026, 11, 23, 18, 30, tzinfo=UTC)


def toml_str(text: str) -> str:
    """A TOML basic string for ``text`` (control characters escaped)."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def toml_value(value: Any) -> str:
    """An inline TOML value (tables become inline tables, so one line per top-level key)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)  # inf, nan and 1e+300 are TOML too
    if isinstance(value, str):
        return toml_str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{toml_str(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


def document(data: dict[str, Any]) -> str:
    return "".join(f"{toml_str(k)} = {toml_value(v)}\n" for k, v in data.items())


keys = st.sampled_from(sorted(TOP_LEVEL_KEYS)) | st.text(max_size=12)
nested_keys = st.sampled_from(
    [
        "url",
        "repos",
        "channels",
        "employees",
        "options",
        "client_id",
        "zendesk",
        "github",
        "slack",
        "name",
        "query",
        "timezone",
        "holidays",
        "hours",
        "targets",
        "closures",
        "critical_minutes",
        "warning_fraction",
        "business_day_hours",
        "sync-now",
        "quit",
        "channels",
        "schema",
        "labels",
        "sections",
    ]
) | st.text(max_size=10)
scalars = (
    st.none().map(lambda _: "")
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
    | st.sampled_from(
        [
            "~nosuchuser-oncall/runbooks",
            "~",
            "https://acme.zendesk.com",
            "acme/product",
            "America/Los_Angeles",
            "../../etc/passwd",
            "US",
            "Mon-Fri 09:00-17:00",
            "4h",
            "C0123ABCD",
            "is:open priority:P0",
            "ctrl+r",
            "P1",
            "\x1b[31m",
            "a" * 2000,
        ]
    )
    | st.datetimes(
        min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
    )
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(nested_keys, inner, max_size=4),
    max_leaves=15,
)


def check(path: Path) -> Config | None:
    try:
        config = load_config(path)
    except ConfigError as exc:
        message = str(exc)
        assert message.startswith(str(path)), message
        assert "\n" not in message and "\r" not in message, f"not one line: {message!r}"
        assert not has_control(message), f"control characters reach the terminal: {message!r}"
        return None
    assert isinstance(config, Config)
    return config


@pytest.mark.product_bug("B3: config errors are not always one printable line, or not ConfigError")
@fuzz(250)
@given(st.dictionaries(keys, values, max_size=5))
@example({"runbooks_dir": "~nosuchuser-oncall/runbooks"})  # RuntimeError from expanduser
@example({"a\nb": 1})  # the unknown key is printed raw: two lines
@example({"keys": {"quit\x1b]52;c;eA==\x07": 1}})  # ... or with a terminal escape
def test_any_values_give_config_or_one_line_error(tmp_path: Path, data: dict[str, Any]) -> None:
    path = tmp_path / "config.toml"
    path.write_text(document(data), encoding="utf-8")
    check(path)


@fuzz(200)
@given(
    st.text(
        alphabet=st.sampled_from(list(string.printable + "=[]{}\"'.,#\\\x00\x7f\u202eé🔥")),
        max_size=200,
    )
    | st.binary(max_size=100).map(lambda b: b.decode("latin-1"))
)
def test_any_text_gives_config_or_one_line_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    check(path)


def test_unreadable_and_odd_files(tmp_path: Path) -> None:
    undecodable = tmp_path / "latin1.toml"
    undecodable.write_bytes(b'user = "caf\xe9"\n')
    assert check(undecodable) is None
    assert check(tmp_path) is None  # a folder
    assert check(tmp_path / "missing.toml") == Config()


@pytest.mark.product_bug("B3: deeply nested TOML escapes load_config as RecursionError")
def test_deeply_nested_toml_is_a_config_error(tmp_path: Path) -> None:
    huge = tmp_path / "huge.toml"
    huge.write_text("x = [" + "[" * 5000 + "]" * 5000 + "]\n")
    assert check(huge) is None


@pytest.mark.product_bug("B4: sync_interval = nan/inf and huge history_days are accepted")
@pytest.mark.parametrize(
    "text",
    ["sync_interval = nan", "sync_interval = inf", "history_days = 999999999"],
)
def test_accepted_values_are_usable(tmp_path: Path, text: str) -> None:
    """nan makes ``asyncio.sleep(nan)`` return at once: a sync pass per loop tick against
    rate-limited backends. A history reaching past year 1 overflows the first pull."""
    path = tmp_path / "config.toml"
    path.write_text(text + "\n")
    config = check(path)
    if config is None:
        return  # refused with a clear line: fine
    if config.sync_interval is not None:
        assert math.isfinite(config.sync_interval), config.sync_interval
    NOW - timedelta(days=config.history_days)  # the adapters' first-sync horizon
