"""Issue 20, item 8: desktop notifications (OSC 9 / 777) for a clock about to breach and a
breach, configurable, never repeated for the same clock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from oncall_tui.demo.seed import DEMO_USER
from oncall_tui.domain.query import parse_query
from oncall_tui.settings.config import Config, ConfigError, NotificationsConfig, load_config
from oncall_tui.ui.desktop_notify import DesktopNotifier, clean, osc_sequence


def test_sequences() -> None:
    assert osc_sequence("osc9", "Ticket breached", "zendesk #1 Down") == (
        "\x1b]9;Ticket breached: zendesk #1 Down\x07"
    )
    assert osc_sequence("osc777", "A;B", "x;y") == "\x1b]777;notify;A,B;x;y\x07"
    assert osc_sequence("off", "a", "b") is None
    wrapped = osc_sequence("osc9", "t", "b", tmux=True)
    assert wrapped == "\x1bPtmux;\x1b\x1b]9;t: b\x07\x1b\\"


def test_customer_text_cannot_escape_the_sequence() -> None:
    hostile = "Down\x07\x1b]52;c;ZXZpbA==\x07\x1b[2J\u202e\nnext"
    sequence = osc_sequence("osc9", "Ticket breached", hostile)
    assert sequence is not None
    inner = sequence[len("\x1b]9;") : -1]
    assert not any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in inner)
    assert "\u202e" not in inner
    assert clean("a\tb\n c", 10) == "a b c"
    assert len(clean("x" * 500, 200)) == 200


def test_once_per_key() -> None:
    out: list[str] = []
    notifier = DesktopNotifier("osc9", out.append)
    notifier.tmux = False
    assert notifier.send(("t", 1), "T", "b")
    assert not notifier.send(("t", 1), "T", "b")
    assert notifier.send(("t", 2), "T", "b")
    assert len(out) == 2
    assert not DesktopNotifier("off", out.append).send(1, "T", "b")


def test_config(tmp_path: Any) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[notifications]\ndesktop = "osc777"\nabout_to_breach = false\n')
    assert load_config(path).notifications == NotificationsConfig("osc777", False, True)
    path.write_text('[notifications]\ndesktop = "osc8"\n')
    with pytest.raises(ConfigError, match='notifications.desktop: expected "off" or "osc9"'):
        load_config(path)
    path.write_text("[notifications]\nbreech = true\n")
    with pytest.raises(ConfigError, match="notifications"):
        load_config(path)


@pytest.mark.anyio
@pytest.mark.parametrize("about", [True, False])
async def test_crossings_reach_the_desktop_once(make_app: Any, clock: Any, about: bool) -> None:
    config = Config(
        user=DEMO_USER,
        sync_interval=None,
        notifications=NotificationsConfig("osc9", about_to_breach=about, breach=True),
    )
    app = make_app(config=config)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        out: list[str] = []
        screen = app.screen
        screen.desktop.write = out.append
        screen.desktop.tmux = False
        row = app.ctx.store.queue.open_queue(parse_query("sla:ok,warning"), limit=1)[0]
        critical = timedelta(seconds=config.sla.critical_seconds)
        clock.set(row.sla_due - critical - timedelta(seconds=1))
        screen.tick()
        clock.advance(2)  # about to breach
        screen.tick()
        clock.set(row.sla_due - timedelta(seconds=1))
        screen.tick()
        clock.advance(2)  # breached
        screen.tick()
        await pilot.pause()
        mine = [s for s in out if row.subject[:20] in s]
        expected = ["is due within minutes"] * about + ["breached its SLA"]
        assert [next(w for w in expected if w in s) for s in mine] == expected
        # The same crossing seen again (the clock set back, as after a sleep): not repeated.
        clock.set(row.sla_due - timedelta(seconds=1))
        screen.tick()
        clock.advance(2)
        screen.tick()
        assert len([s for s in out if row.subject[:20] in s]) == len(expected)
