"""Helpers for the command-line tests: the CLI as a real subprocess, on real database files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from oncall_tui.domain.clock import FrozenClock
from oncall_tui.domain.tickets import Comment, Customer, Source, Status, Ticket
from oncall_tui.store import open_store

#: The frozen "now" of these tests (a Monday in business hours, Los Angeles).
NOW = "2026-11-30T18:00:00Z"
NOW_DT = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)
#: What a customer might put in a subject to drive a terminal (title change, colour, bell).
HOSTILE = "Printer \x1b]0;pwned\x07 on fire \x1b[31mred\x9b2J"


def run(
    *args: str,
    env: dict[str, str] | None = None,
    stdin: str | None = None,
    cwd: Path | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """``oncall-tui ARGS`` in a fresh process."""
    return subprocess.run(
        [sys.executable, "-m", "oncall_tui", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "100", **(env or {})},
        input=stdin,
        cwd=cwd,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="session")
def demo_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo database, seeded once by the CLI itself at the frozen now."""
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    done = run("--demo", "--db", str(db), "--now", NOW, "tickets", "--limit", "1")
    assert done.returncode == 0, done.stderr
    return db


@pytest.fixture
def demo_db(demo_master: Path, tmp_path: Path) -> Path:
    """A private copy of the demo database (tests may write to it)."""
    db = tmp_path / "demo.db"
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{demo_master}{suffix}")
        if source.exists():
            shutil.copy(source, f"{db}{suffix}")
    return db


@pytest.fixture
def demo(demo_db: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """``oncall-tui --demo --db COPY --now NOW ARGS``; the global options after the command."""

    def call(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return run(*args, "--demo", "--db", str(demo_db), "--now", NOW, **kwargs)

    return call


def make_small_db(path: Path) -> dict[str, int]:
    """A small generated database: three customers, a help-desk ticket (with a thread), a
    tracker issue and a chat thread; one subject full of terminal escapes. Returns the ids."""
    clock = FrozenClock(NOW_DT)
    store = open_store(path, clock=clock)
    try:
        acme = store.tickets.upsert_customer(
            Customer(0, "Acme Logistics", "premium", codename="ceres", domains=("acme.com",))
        )
        store.tickets.upsert_customer(Customer(0, "Globex Health", "standard", codename="vesta"))
        opened = NOW_DT - timedelta(hours=3)
        tickets = [
            Ticket(
                1,
                Source.HELPDESK,
                "Login fails after upgrade",
                opened,
                opened,
                status=Status.OPEN,
                remote_id="501",
                customer_id=acme,
                requester="rita@acme.com",
                body="It fails.\nEvery time.",
            ),
            Ticket(
                2,
                Source.TRACKER,
                "Live query stalls",
                opened,
                opened,
                status=Status.OPEN,
                remote_id="acme/product#77",
                customer_id=acme,
            ),
            Ticket(
                3,
                Source.CHAT,
                "anyone around?",
                opened,
                opened,
                status=Status.OPEN,
                remote_id="C0123:1700000000.000100",
                customer_id=acme,
            ),
            Ticket(
                4,
                Source.HELPDESK,
                "placeholder",
                opened - timedelta(days=2),
                opened - timedelta(days=2),
                status=Status.SOLVED,
                remote_id="502",
            ),
        ]
        comments = [Comment(0, 0, "rita@acme.com", "Any news?", opened + timedelta(hours=1))]
        ids = store.tickets.insert_tickets(tickets, comments)
        # A row as an older version or a hostile backend could have left it: raw escapes.
        store.db.execute("UPDATE tickets SET subject = ? WHERE id = ?", [HOSTILE, ids[3]])
        return {"desk": ids[0], "tracker": ids[1], "chat": ids[2], "hostile": ids[3]}
    finally:
        store.close()


@pytest.fixture
def small(tmp_path: Path) -> tuple[Path, Callable[..., subprocess.CompletedProcess[str]]]:
    """(database, call): ``oncall-tui ARGS --db SMALL --config EMPTY --now NOW``."""
    db = tmp_path / "small.db"
    make_small_db(db)
    config = tmp_path / "config.toml"
    config.write_text('user = "alex@support.example"\nundo_seconds = 10\n')

    def call(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return run(*args, "--db", str(db), "--config", str(config), "--now", NOW, **kwargs)

    return db, call
