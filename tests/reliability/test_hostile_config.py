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

from oncall_tui.settings.config import TOP_LEVEL_KEYS, Config, ConfigError, load_config
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


# -- issue 15/20: numbers in range, files that are files, keys and views that mean something ------


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("sync_interval = 0.000001", "sync_interval"),  # 414 requests a second
        ("sync_interval = 4.9", "sync_interval"),
        ("sync_interval = 1e300", "sync_interval"),
        ("[sla]\ncritical_minutes = 1e300\n", "sla.critical_minutes"),
        ("[sla]\ncritical_minutes = 10081\n", "sla.critical_minutes"),
        ('[sla.targets.premium]\nP0 = "99999999999h"\n', "sla.targets.premium.P0"),
        ('[sla.targets.premium]\nP1 = "367d"\n', "sla.targets.premium.P1"),
        ('[sla.targets.ultimate]\nP0 = {in_hours = "1h", out_of_hours = "9e9bd"}\n', "P0"),
        ('[sla.channels]\nchat = "99999999bm"\n', "sla.channels.chat"),
        ('[backends.github]\nurl = "http://[::1"\nrepos = ["a/b"]\n', "backends.github.url"),
        ('[backends.github]\nurl = "http://h:99999"\nrepos = ["a/b"]\n', "backends.github.url"),
        ('[backends.github]\nurl = "http://h:0"\nrepos = ["a/b"]\n', "backends.github.url"),
        ('[backends.github]\nurl = "https://"\nrepos = ["a/b"]\n', "backends.github.url"),
        ('[backends.github]\nurl = "https://a b.com"\nrepos = ["a/b"]\n', "backends.github.url"),
        ('[backends.zendesk]\nurl = "https://me:pw@acme.zendesk.com"\n', "backends.zendesk.url"),
        ('[backends.zendesk]\nurl = "https://acme.zendesk.com/?t=1"\n', "backends.zendesk.url"),
        ('[backends.zendesk]\nurl = "ftp://acme.zendesk.com"\n', "backends.zendesk.url"),
        (
            '[backends.github]\nrepos = ["a/b"]\noauth_url = "http://[::1"\n',
            "backends.github.oauth_url",
        ),
        ('[[views]]\nname = "P0"\nquery = "priorty:P0"\n', "did you mean priority?"),
        ('[[views]]\nname = "P0"\nquery = "priority:P9"\n', "views[0].query"),
        ('[[views]]\nname = "x"\nquery = "is:nonsense"\n', "views[0].query"),
        ('[[views]]\nname = "x"\nquery = "-assigne:me"\n', "did you mean assignee?"),
    ],
)
def test_harmful_values_are_refused_in_one_line(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert fragment in message, message
    assert check(path) is None
    assert "pw" not in message.replace("password", ""), "the URL's password is echoed"


@pytest.mark.parametrize(
    "text",
    [
        "sync_interval = 0",
        "sync_interval = 5",
        "sync_interval = 86400",
        "[sla]\ncritical_minutes = 10080\n",
        '[sla.targets.premium]\nP0 = "366d"\nP1 = "8784bh"\nP2 = "366bd"\n',
        '[backends.github]\nurl = "http://[::1]:8080/api/v3"\nrepos = ["a/b"]\n',
        '[backends.zendesk]\nurl = "https://acme.zendesk.com/"\n',
        '[[views]]\nname = "x"\nquery = "printer is:open -label:bug https://x.example/a"\n',
    ],
)
def test_the_limits_themselves_are_accepted_and_usable(tmp_path: Path, text: str) -> None:
    """Whatever is accepted works: due instants compute, clients build, queries parse."""
    import asyncio

    from oncall_tui.sync.http import build_client

    path = tmp_path / "config.toml"
    path.write_text(text)
    config = load_config(path)
    assert config.sync_interval is None or 5 <= config.sync_interval <= 86400
    for spec in config.backends.values():
        asyncio.run(build_client(spec.url, "t").aclose())
    usable_sla(config)


def usable_sla(config: Config) -> None:
    """Every plan and priority gives a due instant (or none) for tickets opened in and out
    of business hours, and the queue's critical window can be added to now."""
    from oncall_tui.domain.sla import compute_due
    from oncall_tui.domain.tickets import Priority, Source, Ticket

    for opened in (NOW, NOW + timedelta(hours=12)):
        for plan in config.sla.plans:
            for priority in Priority:
                ticket = Ticket(
                    id=1,
                    source=Source.HELPDESK,
                    subject="x",
                    opened_at=opened,
                    updated_at=opened,
                    priority=priority,
                )
                info = compute_due(ticket, config.sla, plan.name)
                assert info is None or info.due > opened
    NOW + timedelta(seconds=config.sla.critical_seconds)


@fuzz(150)
@given(
    st.sampled_from(["http", "https", "HTTP", "ftp", ""])
    .flatmap(
        lambda scheme: st.tuples(
            st.just(scheme),
            st.lists(
                st.sampled_from(list("abc-.:[]@%/?#1é ") + ["::1", "xn--", "ü"]), max_size=12
            ).map("".join),
        )
    )
    .map(lambda t: f"{t[0]}://{t[1]}")
)
@example("http://[::1")
@example("http://[::1]]")
@example("http://[::1]a")
@example("http://[::1]:99999")
@example("https://xn--.com")
def test_a_url_the_config_accepts_builds_a_client(tmp_path: Path, url: str) -> None:
    """No URL gets past the config that then fails while the client is built (that failure
    happened on mount, with the token in a frame of the crash report)."""
    import asyncio

    from oncall_tui.sync.http import build_client

    path = tmp_path / "config.toml"
    path.write_text(f"[backends.zendesk]\nurl = {toml_str(url)}\n")
    config = check(path)
    if config is None:
        return
    asyncio.run(build_client(config.backends["zendesk"].url, "token").aclose())


def test_only_regular_files_are_read(tmp_path: Path) -> None:
    """A device is refused without reading (``/dev/zero`` took 3.5 GB), a FIFO without
    waiting for a writer (it hung), a huge file without reading it."""
    import os
    import threading
    import time

    fifo = tmp_path / "config.fifo"
    os.mkfifo(fifo)
    big = tmp_path / "big.toml"
    big.write_bytes(b"# " + b"x" * (2 * 1024 * 1024) + b"\n")
    link = tmp_path / "link.toml"
    real = tmp_path / "real.toml"
    real.write_text('user = "alex"\n')
    link.symlink_to(real)
    results: dict[str, str] = {}

    def load(name: str, path: Path) -> None:
        try:
            load_config(path)
            results[name] = "accepted"
        except ConfigError as exc:
            results[name] = str(exc)

    started = time.monotonic()
    for name, path in [
        ("zero", Path("/dev/zero")),
        ("fifo", fifo),
        ("big", big),
        ("folder", tmp_path),
    ]:
        worker = threading.Thread(target=load, args=(name, path), daemon=True)
        worker.start()
        worker.join(timeout=5)
        assert not worker.is_alive(), f"{name}: load_config hangs"
    assert time.monotonic() - started < 5
    assert "not a regular file" in results["zero"] and "not a regular file" in results["fifo"]
    assert "KiB" in results["big"] and "folder" in results["folder"]
    assert load_config(link).user == "alex"


def test_a_named_config_must_exist_the_default_may_not(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    assert load_config(missing) == Config()
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(missing, required=True)


# -- [keys]: known ids, real key names, no silent takeover --------------------------------------


@pytest.mark.parametrize(
    ("keys", "fragment"),
    [
        ({"assign-me": "q"}, "q is already 'Quit' (quit)"),
        ({"sync-now": "question_mark"}, "'Help' (help)"),
        ({"sync-now": "?"}, "'Help' (help)"),
        ({"asign-me": "A"}, "did you mean assign-me?"),
        ({"nothing-like-this": "A"}, "no binding has this id"),
        ({"assign-me": "ctrl+nope"}, "is not a key name"),
        ({"assign-me": "hyper+"}, "is not a key name"),
        ({"assign-me": "a,,b"}, "is not a key name"),
        ({"assign-me": "p"}, "'Priority' (set-priority)"),
        ({"filter": "j"}, "'Down' (cursor-down)"),
        ({"sync-now": "ctrl+q"}, "cannot be remapped"),
        ({"quit": "x", "assign-me": "q"}, "is already"),  # x ticks a runbook step; q is back
        ({"quit": "Q", "assign-me": "q"}, "'Back' (back) on the Detail screen"),
        ({"set-status": "a", "assign-me": "a"}, "a is already"),
    ],
)
def test_keys_that_cannot_work_are_refused(keys: dict[str, str], fragment: str) -> None:
    from oncall_tui.ui.keymap import KeymapError, check_keymap

    with pytest.raises(KeymapError) as caught:
        check_keymap(keys)
    message = str(caught.value)
    assert fragment in message, message
    assert "\n" not in message


@pytest.mark.parametrize(
    "keys",
    [
        {"assign-me": "A"},
        {"help": "?"},  # its own key: no takeover
        {"set-status": "Z", "sync-log": "s"},  # s moves away first
        {"quit": "Q", "back": "escape", "assign-me": "q"},  # q given up everywhere else
        {"cursor-down": "n,down", "sync-now": "f6"},
    ],
)
def test_keys_that_work_are_accepted(keys: dict[str, str]) -> None:
    from oncall_tui.ui.keymap import check_keymap

    assert set(check_keymap(keys)) == set(keys)


def test_every_binding_id_of_the_app_is_known() -> None:
    """The keymap reads the bindings from the classes: every id in the README's keys is
    there, and so is every binding of every screen."""
    from oncall_tui.ui.keymap import known_ids

    ids = known_ids()
    for ident in ("assign-me", "sync-now", "quit", "help", "filter", "view-1", "back"):
        assert ident in ids


@pytest.mark.anyio
async def test_a_valid_remap_takes_effect_and_the_old_key_is_free(
    make_app: Any, anyio_backend: str
) -> None:
    from dataclasses import replace as dc_replace

    from oncall_tui.demo.seed import DEMO_USER
    from oncall_tui.ui.keymap import check_keymap
    from oncall_tui.ui.screens.choice_screen import ChoiceScreen

    keys = check_keymap({"set-status": "Z", "sync-log": "s"})
    config = dc_replace(Config(user=DEMO_USER, sync_interval=None), keys=keys)
    app = make_app(config=config)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("Z")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        assert type(app.screen).__name__ == "SyncLogScreen"


def test_the_readme_lists_every_binding_id() -> None:
    """The README's list of ids is what the keymap check accepts, no more, no less."""
    import re

    from oncall_tui.ui.keymap import known_ids

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("Binding ids:") : readme.index("Tokens never reach")]
    listed = set(re.findall(r"`([a-z0-9-]+)`", section)) | {f"view-{n}" for n in range(1, 10)}
    assert listed == known_ids(), (sorted(known_ids() - listed), sorted(listed - known_ids()))
