"""Child processes of the first-sync benchmark (each in its own process, for its peak RSS).

``python -m bench.synchild floor URL TOKEN DB [--tickets-only]``
    The floor: fetch every ticket export page, then every comment event page (the pages the
    product reads; not with ``--tickets-only``) with httpx (async, one connection) and
    ``json.loads`` them (timed: fetch + parse), turn their tickets and comments into row
    tuples (untimed), then ``executemany`` of every ticket row (upsert) and comment row into
    an empty database with the product's schema in one transaction, with plain ``sqlite3``
    (timed: upsert).

``python -m bench.synchild product URL TOKEN DB [--profile PATH]``
    The product: an empty database, the Zendesk adapter built by
    ``oncall_tui.sync.factory.build_backends`` from a config naming the fake's URL, and
    ``SyncEngine.run_once()`` called pass after pass, back to back, until a pass ends with
    both exports read to their end (the tickets, then the comments' ticket events). The
    export budget is set
    out of the way (``export_requests_per_minute``), so we measure our code, not Zendesk's
    limit; the app itself would wait ``sync_interval`` between passes.

Both print ``INFO {...}`` with their timings, counts and ``VmHWM``, then ``DONE``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.common import NOW, read_status_mb

_PRIORITY = {"urgent": "P0", "high": "P1", "normal": "P2", "low": "P3"}


def _row(t: dict[str, Any]) -> tuple[Any, ...]:
    return (
        "helpdesk",
        str(t["id"]),
        (t.get("via") or {}).get("channel") or "email",
        t.get("subject") or "",
        t.get("description") or "",
        t["status"],
        _PRIORITY.get(t.get("priority") or "low", "P3"),
        json.dumps(t.get("tags") or []),
        str(t["assignee_id"]) if t.get("assignee_id") else None,
        str(t.get("requester_id")),
        t.get("url"),
        t["created_at"],
        t["updated_at"],
        t["updated_at"],
    )


UPSERT = (
    "INSERT INTO tickets (source, remote_id, channel, subject, body, status, priority, labels, "
    "assignee, requester, url, opened_at, updated_at, version) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (source, remote_id) DO UPDATE SET channel = excluded.channel, "
    "subject = excluded.subject, body = excluded.body, status = excluded.status, "
    "priority = excluded.priority, labels = excluded.labels, assignee = excluded.assignee, "
    "requester = excluded.requester, url = excluded.url, opened_at = excluded.opened_at, "
    "updated_at = excluded.updated_at, version = excluded.version"
)


COMMENT_INSERT = (
    "INSERT OR IGNORE INTO comments (ticket_id, remote_id, author, body, public, created_at) "
    "VALUES ((SELECT id FROM tickets WHERE source = 'helpdesk' AND remote_id = ?), "
    "?, ?, ?, ?, ?)"
)


def _comment_rows(event: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The comments of one ticket event (none for the update that created the ticket: its
    comment is the description, which the ticket row holds), as the product leaves them."""
    children = event.get("child_events") or []
    if any(c.get("event_type") == "Create" for c in children):
        return []
    return [
        (
            str(event["ticket_id"]),
            str(c["id"]),
            str(c.get("author_id")),
            c.get("plain_body") or c.get("body") or "",
            int(bool(c.get("public", True))),
            c.get("created_at") or event.get("created_at"),
        )
        for c in children
        if c.get("event_type") == "Comment"
    ]


async def _fetch_all(
    url: str, token: str, events: bool
) -> tuple[float, list[tuple[Any, ...]], list[tuple[Any, ...]], int, int]:
    """Every ticket page, then (``events``) every comment event page, as the product reads
    them: (fetch + parse seconds, ticket rows, comment rows, pages, bytes)."""
    import httpx

    rows: list[tuple[Any, ...]] = []
    comments: list[tuple[Any, ...]] = []
    busy = 0.0
    pages = 0
    size = 0
    start_time = int((NOW - timedelta(days=90)).timestamp())
    params: dict[str, Any] = {"start_time": start_time, "include": "users,organizations"}
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as client:
        while True:
            t0 = time.perf_counter()
            response = await client.get("/api/v2/incremental/tickets/cursor.json", params=params)
            response.raise_for_status()
            page = json.loads(response.content)
            busy += time.perf_counter() - t0
            pages += 1
            size += len(response.content)
            rows.extend(_row(t) for t in page["tickets"])
            if page.get("end_of_stream") or not page.get("after_cursor"):
                break
            params = {"cursor": page["after_cursor"], "include": "users,organizations"}
        params = {"start_time": start_time, "include": "comment_events"}
        while events:
            t0 = time.perf_counter()
            response = await client.get("/api/v2/incremental/ticket_events.json", params=params)
            response.raise_for_status()
            page = json.loads(response.content)
            busy += time.perf_counter() - t0
            pages += 1
            size += len(response.content)
            for event in page["ticket_events"]:
                comments.extend(_comment_rows(event))
            if page.get("end_of_stream"):
                break
            end, last = int(page["end_time"]), int(params["start_time"])
            params = {"start_time": end if end > last else last + 1, "include": "comment_events"}
    return busy, rows, comments, pages, size


def floor(url: str, token: str, db: str, events: bool = True) -> dict[str, Any]:
    import sqlite3

    from oncall_tui.store import open_store

    fetch_parse, rows, comments, pages, size = asyncio.run(_fetch_all(url, token, events))
    open_store(db).close()  # the product's schema, empty
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    t0 = time.perf_counter()
    with conn:
        conn.executemany(UPSERT, rows)
        conn.executemany(COMMENT_INSERT, comments)
    upsert = time.perf_counter() - t0
    conn.close()
    return {
        "fetch_parse_s": fetch_parse,
        "upsert_s": upsert,
        "tickets": len(rows),
        "comments": len({c[:2] for c in comments}),  # pages repeat their boundary second
        "pages": pages,
        "bytes": size,
        "memory": read_status_mb(),
    }


class _RunningClock:
    def __init__(self, start: Any) -> None:
        self.start = start
        self.t0 = time.monotonic()

    def __call__(self) -> Any:
        return self.start + timedelta(seconds=time.monotonic() - self.t0)


async def _product(url: str, token: str, db: str, synchronous_store: bool) -> dict[str, Any]:
    from oncall_tui.settings.config import BackendConfig, Config
    from oncall_tui.settings.secrets import Credential, MemorySecretStore, Secret
    from oncall_tui.store import open_store
    from oncall_tui.sync.engine import SyncEngine
    from oncall_tui.sync.factory import build_backends

    clock = _RunningClock(NOW)
    config = Config(
        user="alex",
        sync_interval=None,
        backends={
            "zendesk": BackendConfig(
                name="zendesk", url=url, options={"export_requests_per_minute": 1_000_000}
            )
        },
    )
    secrets = MemorySecretStore({"zendesk": Credential("token", Secret(token))})
    built = build_backends(config, secrets, clock)
    if built.problems or not built.backends:
        raise RuntimeError(f"no backend: {built.problems}")
    open_store(db, sla=config.sla, clock=clock).close()  # the UI's connection migrates
    writer = open_store(db, sla=config.sla, clock=clock, migrate=False)
    engine = SyncEngine(writer, built.backends, clock)
    if synchronous_store:  # cProfile sees one thread only: run the store calls on this one

        async def same_thread(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
            return fn(*args, **kwargs)

        engine._db = same_thread  # type: ignore[method-assign]
    passes = 0
    pulled = 0
    t0 = time.perf_counter()
    try:
        while True:
            report = await engine.run_once()
            passes += 1
            outcome = report.outcomes["zendesk"]
            if outcome.error:
                raise RuntimeError(f"sync failed: {outcome.error}")
            pulled += outcome.pulled
            if not outcome.more and not outcome.waiting:
                break  # the pass read both exports (tickets, then comment events) to the end
            if outcome.waiting:
                await asyncio.sleep(min(outcome.waiting, 1.0))
        elapsed = time.perf_counter() - t0
    finally:
        await built.aclose()
    tickets = writer.tickets.ticket_count()
    comments = int(writer.db.execute("SELECT count(*) FROM comments").fetchone()[0])
    writer.close()
    return {
        "sync_s": elapsed,
        "passes": passes,
        "pulled": pulled,
        "tickets": tickets,
        "comments": comments,
        "memory": read_status_mb(),
    }


def product(url: str, token: str, db: str, profile: str | None) -> dict[str, Any]:
    if profile is None:
        return asyncio.run(_product(url, token, db, False))
    import cProfile

    from bench.common import profile_to

    prof = cProfile.Profile()
    prof.enable()
    try:
        info = asyncio.run(_product(url, token, db, True))
    finally:
        prof.disable()
    info["profile_top"] = profile_to(
        Path(profile),
        prof,
        "first sync (store calls on the event loop's thread so cProfile sees them)",
    )
    return info


def main(argv: list[str]) -> int:
    kind, url, token, db = argv[:4]
    profile = argv[argv.index("--profile") + 1] if "--profile" in argv else None
    if kind == "floor":  # the static server (no fake) serves the ticket pages only
        info = floor(url, token, db, events="--tickets-only" not in argv)
    else:
        info = product(url, token, db, profile)
    print("INFO " + json.dumps(info), flush=True)
    print("DONE", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
