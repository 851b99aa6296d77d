"""One sync process for the outbox-claim tests (run as a script, not collected).

    python _drainer.py LEASE_SECONDS

Reads one trial per line on stdin, ``DB URL``: opens the database, builds the help desk
adapter against the fake at URL (the token from ``ONCALL_TUI_ZENDESK_TOKEN``) and runs the
real :class:`SyncEngine` (``push_once``) until the outbox holds nothing pending or in flight,
then prints one JSON line: its claimer id, passes, what it pushed and every exception it met.
Several of these drain one outbox at once; the test counts what arrived on the fake.

Only the engine's retry backoff is scaled down (x0.05), so a trial with dropped connections
takes seconds, not minutes; nothing else is changed.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import traceback
from datetime import timedelta
from typing import Any

import oncall_tui.sync.engine as engine_module
from oncall_tui.domain.clock import SystemClock
from oncall_tui.store import open_store
from oncall_tui.sync.engine import SyncEngine
from oncall_tui.sync.http import build_client
from oncall_tui.sync.zendesk import ZendeskBackend
from oncall_tui.sync.zendesk_config import ZendeskConfig

TRIAL_LIMIT = 40.0
_real_backoff = engine_module.backoff
engine_module.backoff = lambda attempts, rng=None: 0.05 * _real_backoff(attempts, rng)


async def drain(db: str, url: str, lease: float, token: str) -> dict[str, Any]:
    clock = SystemClock()
    store = open_store(db, clock=clock)
    errors: list[str] = []
    pushed = passes = 0
    async with build_client(url, token, timeout=10) as client:
        backend = ZendeskBackend(client, ZendeskConfig(), clock=clock)
        engine = SyncEngine(store, [backend], clock, lease=timedelta(seconds=lease))
        deadline = time.monotonic() + TRIAL_LIMIT
        while time.monotonic() < deadline:
            try:
                report = await engine.push_once()
                passes += 1
                pushed += sum(o.pushed for o in report.outcomes.values())
                errors.extend(report.trouble)
                counts = store.outbox.outbox_counts()
            except Exception as exc:  # noqa: BLE001 - reported to the test
                errors.append("".join(traceback.format_exception_only(exc)).strip())
                counts = {"unknown": 1}
            if not counts.get("pending") and not counts.get("inflight"):
                break
            await asyncio.sleep(0.02)
    store.close()
    return {
        "claimer": engine.claimer,
        "passes": passes,
        "pushed": pushed,
        "errors": errors,
        "left": counts,
    }


def main() -> int:
    import os

    lease = float(sys.argv[1])
    token = os.environ["ONCALL_TUI_ZENDESK_TOKEN"]
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        db, url = line.split()
        result = asyncio.run(drain(db, url, lease, token))
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
