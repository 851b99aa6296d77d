"""A member's ``sync --once`` SIGKILLed while it replays the stream: the next pass goes on
from the last batch it stored, and the cache ends with every record of the stream exactly
once (real nats-server, real processes)."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from oncall_tui.domain import team as wire
from oncall_tui.domain.tickets import Source
from oncall_tui.team.member import BATCH
from tests.fakes import remote_ticket
from tests.team.conftest import NatsNode
from tests.team.helpers import cli, env

pytestmark = pytest.mark.slow

COUNT = 12_000


async def fill_stream(url: str) -> None:
    """The relay's stream, holding COUNT help-desk tickets (as a relay publishes them)."""
    import nats
    from nats.js import api

    nc = await nats.connect(url)
    js = nc.jetstream()
    await js.add_stream(
        api.StreamConfig(name="ONCALL", subjects=["oncall.>"], max_msgs_per_subject=1)
    )
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    for n in range(1, COUNT + 1):
        ticket = remote_ticket(n, remote_id=str(10_000 + n), opened_at=now, updated_at=now)
        subject = wire.ticket_subject(Source.HELPDESK, None, ticket.remote_id)
        await nc.publish(subject, wire.encode(ticket, None))
    await nc.flush()
    for _ in range(100):
        if (await js.stream_info("ONCALL")).state.messages == COUNT:
            break
        await asyncio.sleep(0.1)
    await nc.close()


def member(tmp_path: Path, config: Path, db: Path) -> subprocess.Popen[str]:
    environ = {k: v for k, v in env(tmp_path).items() if not k.startswith("ONCALL_TUI_")}
    return subprocess.Popen(
        cli("--config", str(config), "--db", str(db), "sync", "--once"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=environ,
        cwd=tmp_path,
    )


def tickets_in(db: Path) -> tuple[int, int]:
    """(rows, distinct remote ids) of the member's cache, read as another process would."""
    if not db.exists():
        return 0, 0
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            row = conn.execute("SELECT count(*), count(DISTINCT remote_id) FROM tickets").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return 0, 0
    return int(row[0]), int(row[1])


def test_a_member_killed_mid_replay_resumes_with_every_record_once(
    tmp_path: Path, nats_server: NatsNode
) -> None:
    asyncio.run(fill_stream(nats_server.url))
    config = tmp_path / "team.toml"
    config.write_text(f'[team]\nurl = "{nats_server.url}"\n')
    db = tmp_path / "member.db"
    victim = member(tmp_path, config, db)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and victim.poll() is None:
        stored, _ = tickets_in(db)
        if 0 < stored <= COUNT - 2 * BATCH:  # a batch or more stored, two or more to come
            break
        time.sleep(0.02)
    assert victim.poll() is None, "the member finished before it could be killed"
    victim.send_signal(signal.SIGKILL)
    victim.wait(10)
    killed_at = tickets_in(db)[0]
    assert 0 < killed_at < COUNT
    for _ in range(5):  # each pass goes on from the last batch it stored
        again = member(tmp_path, config, db)
        out, _ = again.communicate(timeout=120)
        assert again.returncode == 0, out
        if tickets_in(db)[0] == COUNT:
            break
    assert tickets_in(db) == (COUNT, COUNT)  # every record, none twice
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    finally:
        conn.close()
