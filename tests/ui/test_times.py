"""One time zone for every time on screen: config `timezone`, else the SLA calendar's, never
the machine's zone or unannounced UTC."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from oncall_tui.domain.errors import ConfigValueError
from oncall_tui.domain.query import parse_query
from oncall_tui.settings.config import Config, ConfigError, config_from_dict, load_config
from oncall_tui.ui.screens.detail_screen import DetailScreen
from oncall_tui.ui.widgets.status_bar import StatusBar
from oncall_tui.ui.widgets.ticket_detail import TicketDetail, thread_markdown
from tests.fakes import FakeBackend, remote_ticket

pytestmark = pytest.mark.anyio
ME = "alex@support.example"


@pytest.fixture
def machine_in_tokyo(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The machine's own zone is neither the calendar's nor the configured one."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_timezone_key() -> None:
    config = config_from_dict({"timezone": "Europe/Berlin"})
    assert str(config.tz) == "Europe/Berlin"
    assert str(config_from_dict({}).tz) == "America/Los_Angeles"  # the SLA calendar's
    assert str(config_from_dict({"sla": {"timezone": "Asia/Kolkata"}}).tz) == "Asia/Kolkata"
    with pytest.raises(ConfigValueError, match="timezone: expected a known IANA time zone"):
        config_from_dict({"timezone": "Mars/Olympus"})


def test_bad_timezone_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('timezone = "PST8PDTX"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}: timezone: expected a known IANA time zone")


def plain(widget: Any) -> str:
    """A Static's content as plain text (tables included)."""
    from rich.console import Console

    console = Console(width=200, color_system=None, record=True, file=open(os.devnull, "w"))
    console.print(widget.content)
    return console.export_text()


def status_line(app: Any) -> str:
    return str(app.screen.query_one(StatusBar).render())


async def test_default_is_the_calendar_zone_not_the_machine(
    make_app: Any, machine_in_tokyo: None
) -> None:
    backend = FakeBackend([remote_ticket(1)])
    app = make_app(backend=backend)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        line = status_line(pilot.app)
        # Monday 10:30 in Los Angeles (18:30 UTC, 03:30 in Tokyo)
        assert "closes 16:00 PST" in line
        assert "synced 10:30" in line, line
        assert os.environ["TZ"] == "Asia/Tokyo"


async def test_configured_zone_everywhere(make_app: Any, machine_in_tokyo: None) -> None:
    config = Config(user=ME, sync_interval=None, timezone="Europe/Berlin")
    backend = FakeBackend([remote_ticket(1)])
    app = make_app(config=config, backend=backend)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.app.workers.wait_for_complete()
        await pilot.press("5", "down", "up")
        await pilot.pause(0.4)
        line = status_line(pilot.app)
        assert "closes 01:00 CET" in line, line  # 16:00 in Los Angeles
        assert "synced 19:30" in line, line
        detail = pilot.app.screen.query_one(TicketDetail)
        shown = plain(detail.query_one("#detail-sla"))
        assert detail.data is not None
        assert " CET" in shown or "no response target" in shown, shown
        assert "UTC" not in shown and "PST" not in shown, shown
        thread = str(detail.query_one("#detail-thread").source)  # type: ignore[attr-defined]
        assert thread == thread_markdown(detail.data.ticket, detail.data.comments, config.tz)
        assert " CET" in thread and " PST" not in thread


async def test_first_response_is_in_the_shown_zone(make_app: Any) -> None:
    app = make_app()
    store = app.ctx.store
    rows = store.queue.open_queue(parse_query(""), limit=500)
    answered = next(
        t for t in map(store.tickets.get_ticket, (r.id for r in rows)) if t.first_response_at
    )
    async with app.run_test(size=(100, 40)) as pilot:
        pilot.app.push_screen(DetailScreen(pilot.app.screen, answered.id))
        await pilot.pause()
        shown = plain(pilot.app.screen.query_one("#detail-sla"))
        assert "answered" in shown
        local = answered.first_response_at.astimezone(pilot.app.ctx.config.tz)
        assert f"{local:%Y-%m-%d %H:%M} PST" in shown, shown
