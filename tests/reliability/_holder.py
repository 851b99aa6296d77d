"""A process that holds the database the way the app does (run as a script, not collected).

    python _holder.py DB

It opens the UI's connection, the sync engine's writer, the queue's count reader and the
background integrity check (the app's four connections, in the app's order), prints
``ready``, and then for each line on stdin (``go N``) adds the label ``acked-N`` to ticket 1
and prints ``acked N`` once the transaction has committed: what the app's toast confirms.
The test kills it with SIGKILL at some point after an ``acked``.
"""

from __future__ import annotations

import sys

from oncall_tui.domain.query import parse_query
from oncall_tui.store import open_store
from oncall_tui.store.checks import check_integrity


def main() -> int:
    db = sys.argv[1]
    ui = open_store(db)
    writer = open_store(db, migrate=False)  # the sync engine's connection (cli.engine_factory)
    counter = ui.queue.queue_counter()
    assert counter is not None
    counter.count(parse_query("is:open"))  # the view counts' reader
    assert check_integrity(db) is None  # the app's check after the first paint
    tid = int(ui.db.execute("SELECT min(id) FROM tickets").fetchone()[0])
    writer.sync_state.record_outcome("zendesk", None)
    print("ready", flush=True)
    for line in sys.stdin:
        n = line.split()[1]
        ui.tickets.add_labels(tid, [f"acked-{n}"])
        print(f"acked {n}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
