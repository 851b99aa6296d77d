"""Cold start: what the queue's first frame does not need stays unimported until it is needed.

Guards the start-up work (bench measure 1): sqlite-utils (and numpy behind it) wait for the
first write, the Markdown widget for the first ticket shown, PyYAML for the runbooks, the
bug-report domain for the form, the subcommands' parsers for a subcommand.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from oncall_tui.demo.seed import make_demo_data, seed_store
from oncall_tui.store import open_store

NOT_BEFORE_FIRST_FRAME = (
    "sqlite_utils",
    "numpy",
    "markdown_it",
    "yaml",
    "textual.widgets._markdown",
    "textual.widgets._text_area",
    "oncall_tui.domain.bug_report",
    "oncall_tui.domain.bug_form",
    "oncall_tui.domain.bug_similar",
    "oncall_tui.domain.runbooks",
    "oncall_tui.domain.runbook_parse",
    "oncall_tui.domain.runbook_search",
    "oncall_tui.cli.sync",
    "oncall_tui.cli.sla",
    # issue 22: the store's rarely used halves load their domain on first use
    "oncall_tui.domain.handoff",  # the week's summary
    "oncall_tui.domain.remote",  # the sync records (the engine starts after the first paint)
    "oncall_tui.domain.team",  # the team wire format (and hashlib behind it)
    "oncall_tui.domain.guard",  # the public-text guard: the first label, reply or post
    "oncall_tui.settings.team",  # the [team]/[relay] parsers: only a config that has them
    "oncall_tui.data.resources",  # the shipped reply templates: the first reply
    "oncall_tui.domain.templates",
    "oncall_tui.domain.sla_clocks",  # the reply clocks: the first ticket read or written
    "oncall_tui.domain.sla_history",
    "oncall_tui.domain.sla_explain",
    "oncall_tui.ui.screens.choice_screen",  # the pickers: the first one opened
    "oncall_tui.ui.screens.prompt_screen",
    # issue 23: the queue's and the ticket actions' rarely used parts load on first use
    "oncall_tui.ui.screens.label_actions",
    "oncall_tui.ui.screens.reply_actions",
    "oncall_tui.ui.screens.queue_layout",
    "oncall_tui.ui.screens.queue_notices",
    "oncall_tui.ui.desktop_notify",  # the first SLA crossing or watched-ticket change
    # the escalation bar's first look, and the integrity check's due test, follow the frame
    "oncall_tui.store.escalation",
    "oncall_tui.store.drafts",
)
#: Not even imported by the modules the app starts from (the first frame of an empty cache
#: does need them: these tests' cache is empty).
NOT_AT_IMPORT = (
    *NOT_BEFORE_FIRST_FRAME,
    "oncall_tui.ui.widgets.empty_state",  # why a result is empty: the first empty result
    "oncall_tui.ui.screens.queue_empty",
)


#: With a backend configured (every real user): the sync engine is built after the first frame.
SYNC_STACK = ("oncall_tui.sync.engine", "oncall_tui.sync.factory", "httpx")
BACKEND = '\n[backends.zendesk]\nurl = "http://127.0.0.1:9"\n'


@pytest.mark.parametrize(
    ("seeded", "backend"),
    [(False, False), (True, False), (True, True)],
    ids=["empty-cache", "demo-tickets", "demo-tickets-with-a-backend"],
)
def test_queue_first_frame_imports_only_what_it_needs(
    tmp_path: Path, seeded: bool, backend: bool
) -> None:
    db = tmp_path / "cache.db"
    store = open_store(db)  # created and migrated here: the child opens an up-to-date one
    late: tuple[str, ...] = NOT_BEFORE_FIRST_FRAME
    if seeded:  # a queue with tickets does not explain an empty result either
        seed_store(store, make_demo_data(datetime(2026, 11, 23, 18, 30, tzinfo=UTC), seed=1))
        late = NOT_AT_IMPORT
    store.close()
    config = tmp_path / "config.toml"
    config.write_text('user = "alex"\nsync_interval = 0\n' + (BACKEND if backend else ""))
    if backend:
        late = (*late, *SYNC_STACK)
    code = textwrap.dedent(
        f"""
        import asyncio, sys
        import oncall_tui.cli.main as cli

        args = cli.build_parser().parse_args(
            ["--db", {str(db)!r}, "--config", {str(config)!r}, "--now", "2026-11-23T18:30:00Z"]
        )
        ctx = cli.open_app_context(args)
        from oncall_tui.ui.app import OncallApp

        app = OncallApp(ctx)
        loaded = []

        async def first_frame():
            async with app.run_test(size=(120, 40)):
                loaded.extend(m for m in {late!r} if m in sys.modules)

        asyncio.run(first_frame())
        ctx.store.close()
        assert not loaded, loaded
        """
    )
    env = dict(os.environ, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    env.pop("ONCALL_TUI_ZENDESK_TOKEN", None)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env
    )
    assert result.returncode == 0, result.stderr[-2000:]


def test_importing_the_app_loads_none_of_the_late_modules() -> None:
    code = (
        "import sys\n"
        "import oncall_tui.cli.main, oncall_tui.compose, oncall_tui.store, oncall_tui.ui.app\n"
        f"loaded = [m for m in {NOT_AT_IMPORT!r} if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]


def test_store_team_prefix_is_the_wire_prefix() -> None:
    """The store spells the subjects' first token itself (so the wire format loads late)."""
    from oncall_tui.domain.team import PREFIX
    from oncall_tui.store.team import Team

    assert Team.prefix == PREFIX
