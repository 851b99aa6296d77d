"""A running app's halves, as its own process (run as a script, not collected).

    python _app.py CONFIG DB SOURCE REMOTE_ID STOP_FILE

Holds the database open the way the app does (the UI's connection on the main thread, the
sync engine with its own writer) and runs a sync pass every 0.2 s against the configured
backends. Prints one JSON line each time the watched ticket's thread, as the UI's connection
reads it (every 0.1 s, beside the engine's passes), changes (each comment's body and whether
it is sent); stops when STOP_FILE appears.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

from oncall_tui.domain.clock import SystemClock
from oncall_tui.settings.config import load_config
from oncall_tui.settings.secrets import EnvFirstSecretStore, MemorySecretStore
from oncall_tui.store import open_store
from oncall_tui.sync.engine import SyncEngine
from oncall_tui.sync.factory import build_backends


def main() -> int:
    config_path, db, source, remote_id, stop = sys.argv[1:6]
    clock = SystemClock()
    config = load_config(Path(config_path), required=True)
    ui = open_store(db, sla=config.sla, clock=clock)
    ui.undo_seconds = config.undo_seconds
    writer = open_store(db, sla=config.sla, clock=clock, migrate=False)
    built = build_backends(config, EnvFirstSecretStore(MemorySecretStore()), clock)
    engine = SyncEngine(writer, built.backends, clock)
    seen: object = "?"

    async def watch() -> None:
        """The UI's side: reads the thread on its own connection every 0.1 s, whatever the
        engine is doing (a pass may wait out the backend's rate budget, as in the app, where
        the sync runs in a worker and the screen reads the store meanwhile)."""
        nonlocal seen
        while not Path(stop).exists():
            ticket = ui.tickets.find_ticket(source, remote_id)
            thread = (
                [[c.body, c.remote_id is not None] for c in ui.tickets.comments(ticket.id)]
                if ticket
                else None
            )
            if thread != seen:
                seen = thread
                print(json.dumps({"thread": thread, "at": time.time()}), flush=True)
            await asyncio.sleep(0.1)

    async def sync() -> None:
        while not Path(stop).exists():
            await engine.run_once()
            await asyncio.sleep(0.2)

    async def loop() -> None:
        watcher = asyncio.create_task(watch())
        try:
            await sync()
        finally:
            await watcher
        await built.aclose()

    asyncio.run(loop())
    ui.close()
    writer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
