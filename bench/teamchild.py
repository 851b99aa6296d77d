"""Child process of ``bench.team``.

``python -m bench.teamchild relay URL TOKEN NATS DB``
    The relay: the Zendesk adapter over the fake, pass after pass until the export and the
    comment events are read to their end and everything is published to the stream.
``python -m bench.teamchild member NATS DB``
    A new member: an empty database, the stream read until caught up (timed).

Prints ``INFO {json}`` and ``DONE``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

from bench.common import NOW, read_status_mb
from bench.synchild import _RunningClock


def _config(nats: str, url: str | None = None) -> Any:
    from oncall_tui.settings.config import BackendConfig, Config
    from oncall_tui.settings.team import TeamConfig

    backends = {}
    if url is not None:
        backends["zendesk"] = BackendConfig(
            name="zendesk", url=url, options={"export_requests_per_minute": 1_000_000}
        )
    return Config(
        user="bench", sync_interval=None, backends=backends, team=TeamConfig(urls=(nats,))
    )


async def _relay(url: str, token: str, nats: str, db: str) -> dict[str, Any]:
    from oncall_tui.settings.secrets import Credential, MemorySecretStore, Secret
    from oncall_tui.store import open_store
    from oncall_tui.sync.factory import build_backends
    from oncall_tui.team.connect import Connection
    from oncall_tui.team.relay import Relay

    clock = _RunningClock(NOW)
    config = _config(nats, url)
    secrets = MemorySecretStore({"zendesk": Credential("token", Secret(token))})
    built = build_backends(config, secrets, clock)
    store = open_store(db, sla=config.sla, clock=clock)
    relay = Relay(config, store, built.backends, clock, Connection(config.team, None, name="b"))
    t0 = time.perf_counter()
    published = passes = 0
    try:
        await relay.setup()
        while True:
            report = await relay.run_pass()
            passes += 1
            if not report.ok:
                raise RuntimeError(report.line())
            published += report.published
            if not report.more and not report.queued:
                break
    finally:
        await relay.close()
        await built.aclose()
    elapsed = time.perf_counter() - t0
    tickets = store.tickets.ticket_count()
    store.close()
    return {"relay_s": elapsed, "published": published, "passes": passes, "tickets": tickets}


async def _member(nats: str, db: str) -> dict[str, Any]:
    from oncall_tui.compose.team import build_member_backends, close_member
    from oncall_tui.settings.secrets import MemorySecretStore
    from oncall_tui.store import open_store
    from oncall_tui.sync.engine import SyncEngine

    clock = _RunningClock(NOW)
    config = _config(nats)
    open_store(db, sla=config.sla, clock=clock).close()
    writer = open_store(db, sla=config.sla, clock=clock, migrate=False)
    t0 = time.perf_counter()
    backends, handle, _notes = build_member_backends(config, MemorySecretStore(), clock)
    engine = SyncEngine(writer, backends, clock)
    passes = read = 0
    try:
        while True:
            report = await engine.run_once()
            passes += 1
            if not report.ok:
                raise RuntimeError(report.summary())
            read += sum(o.pulled for o in report.outcomes.values())
            if not report.more:
                break
    finally:
        await close_member(handle)
    elapsed = time.perf_counter() - t0
    tickets = writer.tickets.ticket_count()
    comments = int(writer.db.execute("SELECT count(*) FROM comments").fetchone()[0])
    writer.close()
    return {
        "member_s": elapsed,
        "passes": passes,
        "tickets": tickets,
        "comments": comments,
        "memory": read_status_mb(),
    }


def main(argv: list[str]) -> int:
    if argv[0] == "relay":
        info = asyncio.run(_relay(*argv[1:5]))
    else:
        info = asyncio.run(_member(*argv[1:3]))
    print("INFO " + json.dumps(info), flush=True)
    print("DONE", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
