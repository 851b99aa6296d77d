"""One app-like process for the two-instances test (run as a script, not collected).

    python _instance.py DB ROLE ITERATIONS GO_FILE [--retry-locked]

Roles: ``ui-*`` makes local edits the way the app does (priority, labels, internal notes, a
draft saved on every keystroke); ``labels-*`` only adds labels to ticket 1; ``sync`` writes
pages of remote changes and their cursor the way the sync engine's writer does. Every role
waits for GO_FILE so the processes really overlap, then prints one JSON line with what it
did and every exception it met.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
import traceback
from datetime import UTC, datetime, timedelta
from pathlib import Path

from oncall_tui.domain.tickets import Channel, Priority, Source, Status
from oncall_tui.store import open_store
from oncall_tui.sync.base import Page, RemoteComment, RemoteTicket

T0 = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
PAUSE = 0.001


def remote(n: int, step: int) -> RemoteTicket:
    return RemoteTicket(
        source=Source.HELPDESK,
        remote_id=str(n),
        subject=f"Ticket {n} (remote copy {step})",
        body=f"body {step}",
        status=Status.OPEN,
        priority=Priority.P2,
        channel=Channel.EMAIL,
        labels=(),
        assignee=None,
        requester="rita@example.com",
        customer_remote_id=None,
        opened_at=T0,
        updated_at=T0 + timedelta(seconds=step),
        url=None,
        version=str(step),
    )


def main() -> int:
    db, role, iterations, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    retry_locked = "--retry-locked" in sys.argv
    store = open_store(db, migrate=False)
    ids = [int(r[0]) for r in store.db.execute("SELECT id FROM tickets ORDER BY id")]
    result: dict[str, object] = {"role": role, "ops": 0, "comments": [], "labels": []}
    errors: list[str] = []
    retries = 0

    def attempt(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal retries
        for _ in range(200):
            try:
                return fn(*args, **kwargs)
            except sqlite3.OperationalError as exc:
                if not (retry_locked and "locked" in str(exc)):
                    raise
                retries += 1
                time.sleep(0.001)
        raise RuntimeError("still locked after 200 retries")

    draft = (
        store.drafts.create_draft("bug_report", None, {"title": role})
        if role.startswith("ui")
        else 0
    )
    deadline = time.monotonic() + 30
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.005)
    started = time.monotonic()
    for i in range(iterations):
        # A real instance never writes back to back: the UI waits for keys, the engine for
        # the network. Without any gap, SQLite's busy handler (sleeps of up to 100 ms, not a
        # queue) can starve one writer past the busy timeout under three hammering writers.
        time.sleep(PAUSE)
        try:
            if role.startswith("ui"):
                tid = ids[i % len(ids)]
                attempt(store.tickets.set_priority, tid, list(Priority)[i % 4])
                result["ops"] += 1  # type: ignore[operator]
                label = f"{role}-{i}"
                attempt(store.tickets.add_labels, tid, [label])
                result["ops"] += 1  # type: ignore[operator]
                result["labels"].append([tid, label])  # type: ignore[attr-defined]
                body = f"{role} note {i}"
                attempt(store.tickets.add_comment, tid, body, public=False, author=role)
                result["ops"] += 1  # type: ignore[operator]
                result["comments"].append(body)  # type: ignore[attr-defined]
                attempt(store.drafts.save_draft, draft, {"title": f"{role} draft {i}"})
            elif role.startswith("labels"):
                label = f"{role}-{i}"
                attempt(store.tickets.add_labels, ids[0], [label])
                result["ops"] += 1  # type: ignore[operator]
                result["labels"].append([ids[0], label])  # type: ignore[attr-defined]
            else:  # sync: one page of every ticket plus a new remote comment, and its cursor
                page = Page(
                    tickets=tuple(remote(n, i + 1) for n in range(1, len(ids) + 1)),
                    comments=(
                        RemoteComment(
                            Source.HELPDESK,
                            str(i % len(ids) + 1),
                            f"remote-{i}",
                            "agent",
                            f"remote comment {i}",
                            True,
                            T0 + timedelta(seconds=i),
                        ),
                    ),
                    cursor=f"cursor-{i}",
                )
                attempt(store.remote.apply_page, "zendesk", page)
                attempt(store.sync_state.record_outcome, "zendesk", None)
                result["comments"].append(f"remote comment {i}")  # type: ignore[attr-defined]
                result["cursor"] = f"cursor-{i}"
        except Exception as exc:  # noqa: BLE001 - every failure is reported to the test
            errors.append("".join(traceback.format_exception_only(exc)).strip())
    result.update(
        draft=draft,
        errors=errors,
        retries=retries,
        seconds=round(time.monotonic() - started, 3),
    )
    store.close()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
