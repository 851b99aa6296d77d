"""Help and feedback: `?` lists the app's own keys under a human title, views as defined; `q`
says what it does; a key that cannot act says why; errors are short on the status line and
whole in the sync log; every table has headers."""

from __future__ import annotations

from typing import Any

import pytest

from oncall_tui.settings.config import Config, ViewSpec
from oncall_tui.ui.app import status_error
from oncall_tui.ui.feedback import shorten, without_backend
from oncall_tui.ui.messages import SyncFinished
from oncall_tui.ui.screens.help_screen import HelpScreen
from tests.fakes import FakeBackend, remote_ticket

pytestmark = pytest.mark.anyio
ME = "alex@support.example"


def help_rows(app: Any) -> dict[str, str]:
    assert isinstance(app.screen, HelpScreen)
    return {description: keys for keys, description in app.screen.rows}


async def test_help_has_a_title_and_only_our_keys(make_app: Any) -> None:
    async with make_app().run_test(size=(120, 40)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert pilot.app.screen.title_text == "Queue"
        rows = help_rows(pilot.app)
        for ours in ("Filter", "Assign me", "Open", "Down", "Quit", "Sync log"):
            assert ours in rows, ours
        for theirs in ("Scroll Left", "Scroll Right", "Focus Next", "Copy selected text"):
            assert theirs not in rows, theirs
        assert rows["View: My queue"] == "1"
        assert rows["View: Bugs under investigation"] == "6"
        assert not any(d.startswith("View 7") or d == "View 7" for d in rows)


async def test_help_lists_the_views_defined(make_app: Any) -> None:
    config = Config(user=ME, sync_interval=None, views=(ViewSpec("P0s", "priority:P0"),))
    async with make_app(config=config).run_test(size=(120, 40)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        views = [d for d in help_rows(pilot.app) if d.startswith("View")]
        assert views == ["View: P0s"]
        await pilot.press("escape", "2")
        await pilot.pause()
        notes = [n.message for n in pilot.app._notifications]
        assert any(n.startswith("There is one view (keys 1-1)") for n in notes), notes


@pytest.mark.parametrize(
    ("keys", "title"),
    [(["D"], "Drafts"), (["L"], "Sync log"), (["R"], "Runbooks"), (["enter"], "Ticket")],
)
async def test_every_screen_has_a_human_title(make_app: Any, keys: list[str], title: str) -> None:
    async with make_app().run_test(size=(120, 40)) as pilot:
        await pilot.press(*keys)
        await pilot.pause(0.3)
        await pilot.press("question_mark")
        await pilot.pause()
        assert pilot.app.screen.title_text == title


async def test_palette_lists_views_by_name(make_app: Any) -> None:
    from oncall_tui.ui.commands import BindingCommands

    async with make_app().run_test(size=(120, 40)) as pilot:
        provider = BindingCommands(pilot.app.screen)
        names = [name for name, _key, _run in provider._commands()]
        assert "View: My queue" in names
        assert not any(name.startswith("View 7") for name in names)


async def test_q_on_drafts_goes_back_and_says_so(make_app: Any) -> None:
    from textual.widgets import Footer

    async with make_app().run_test(size=(120, 40)) as pilot:
        await pilot.press("D")
        await pilot.pause()
        bindings = pilot.app.screen.active_bindings
        assert bindings["q"].binding.description == "Back"
        assert pilot.app.screen.query(Footer)
        await pilot.press("q")
        await pilot.pause()
        assert type(pilot.app.screen).__name__ == "QueueScreen"
        assert pilot.app.is_running  # back, not quit


@pytest.mark.parametrize(
    ("keys", "said"),
    [
        (["D", "d"], "No draft to discard."),
        (["D", "enter"], "No draft to resume: b on a ticket starts one."),
        (["L", "d"], "Nothing to discard: no change is waiting."),
    ],
)
async def test_a_key_that_cannot_act_says_why(make_app: Any, keys: list[str], said: str) -> None:
    async with make_app().run_test(size=(120, 40)) as pilot:
        for key in keys:
            await pilot.press(key)
            await pilot.pause(0.2)
        notes = [n.message for n in pilot.app._notifications]
        assert any(n.startswith(said) for n in notes), notes


async def test_drafts_key_on_a_form_says_where_they_are(make_app: Any) -> None:
    async with make_app().run_test(size=(120, 40)) as pilot:
        await pilot.press("B")
        await pilot.pause(0.3)
        assert type(pilot.app.screen).__name__ == "BugReportScreen"
        pilot.app.action_drafts()  # D with the focus outside the form's fields
        pilot.app.action_new_bug_report()  # B likewise
        await pilot.pause()
        notes = [n.message for n in pilot.app._notifications]
        assert "The drafts list is behind this form: esc leaves it (the draft is kept)." in notes
        assert "This is a bug report already: esc leaves it (the draft is kept)." in notes


# ---- the status line ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "error", "shown"),
    [
        (
            "zendesk",
            "zendesk: GET /api/v2/x: timed out (ReadTimeout)",
            "zendesk: GET /api/v2/x: timed out (ReadTimeout)",
        ),
        (
            "zendesk",
            "sign-in needed: zendesk: not signed in or the token expired (401)",
            "zendesk: sign-in needed: not signed in or the token expired (401)",
        ),
        (
            "github",
            "github: GET /repos/acme/product/issues: server error (503): the upstream proxy "
            "answered with an HTML page instead of JSON",
            "github: GET /repos/acme/product/issues: server error (503): the… · L: details",
        ),
    ],
)
def test_status_error_names_the_backend_once_and_cuts_at_a_word(
    name: str, error: str, shown: str
) -> None:
    text = status_error(
        SyncFinished(frozenset(), f"{name}: error: {error}", False, ((name, error),))
    )
    assert text == shown
    assert not text.startswith(f"{name}: {name}:")


def test_shorten_and_without_backend() -> None:
    assert without_backend("fake", "fake: fake: 503") == "503"
    assert without_backend("fake", "Fake: down") == "down"
    assert without_backend("fake", "fakery: x") == "fakery: x"
    assert shorten("short") == "short"
    cut = shorten("word " * 30, 24)
    assert cut.endswith("…") and len(cut) <= 24 and "wor…" not in cut


async def test_failed_sync_status_is_short_and_the_log_is_whole(make_app: Any) -> None:
    long = "fake: 503 " + "the load balancer has no healthy upstream for this request " * 2
    backend = FakeBackend([remote_ticket(1)])
    backend.pull_faults = ["503"]
    app = make_app(backend=backend)

    async def failing(cursor: str | None) -> Any:
        from oncall_tui.sync.base import BackendUnavailable

        raise BackendUnavailable(long)

    backend.fetch_changes = failing  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        status = pilot.app.sync_status
        assert status.startswith("offline · fake: 503 the load balancer")
        assert "fake: fake:" not in status and status.endswith("· L: details")
        assert len(status) < 100
        logged = [m for _at, _b, _l, m in pilot.app.ctx.store.sync_state.log_entries()]
        assert any(long in m for m in logged), logged


async def test_sync_log_backend_table_has_headers(make_app: Any) -> None:
    from rich.console import Console

    backend = FakeBackend([remote_ticket(1)])
    app = make_app(backend=backend)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.app.workers.wait_for_complete()
        await pilot.press("L")
        await pilot.pause()
        table = pilot.app.screen.query_one("#sync-backends").content
        console = Console(width=120, record=True, color_system=None)
        with console.capture() as capture:
            console.print(table)
        lines = capture.get().splitlines()
        assert lines[0].split() == [
            "Backend",
            "Last",
            "success",
            "Last",
            "attempt",
            "Last",
            "error",
        ]
        assert lines[1].split()[0] == "fake" and "PST" in lines[1]
