"""The daily integrity check's round in a child process, on apsw's SQLite.

Why a child: the SQLite Python links (3.40 here) walks a table's b-trees in one step that the
progress handler never sees, ~1–7 s of CPU for the tickets table at a million tickets (cold
pages cost most), so that step alone can exceed a five-minute window's 1 %. Newer SQLite
calls the progress handler during that walk too, so :class:`~oncall_tui.store.integrity._Pacer`
pauses inside it like anywhere else. apsw brings such a SQLite, but two copies of SQLite must
never open one file in one process (closing a file in one copy drops the POSIX locks the other
holds), so it runs here, in a process of its own, and the app never imports apsw.

Usage (by :func:`~oncall_tui.store.integrity.check_paced`)::

    python -m oncall_tui.store.integrity_child DB AFTER DUTY SLICE

Writes one JSON line per table found sound (``["sound", name]``) and ends with
``["end", damage or null]``. Reads its stdin until EOF: when the app closes it, or dies
(even by SIGKILL), the check stops at its next pause and the child exits, so it never
holds a read transaction for an app that is gone.
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import Any

from oncall_tui.store.db import BUSY_TIMEOUT_MS
from oncall_tui.store.integrity import _Pacer, check_tables

#: SQLite progress-handler period in the child: its walk counts a step per page checked,
#: so 200 steps is ~1 MB of 4 KiB pages between looks at the clock.
STEPS = 200


def _say(kind: str, value: str | None) -> None:
    sys.stdout.write(json.dumps([kind, value]) + "\n")
    sys.stdout.flush()


def run(path: str, after: str | None, stop: threading.Event, duty: float, slice_s: float) -> Any:
    """The round (see :func:`~oncall_tui.store.integrity.check_tables`): the damage, or None."""
    import apsw

    uri = Path(path).absolute().as_uri() + "?mode=ro"
    try:
        conn = apsw.Connection(uri, flags=apsw.SQLITE_OPEN_READONLY | apsw.SQLITE_OPEN_URI)
    except apsw.Error as exc:
        return str(exc)
    pacer = _Pacer(stop, duty, slice_s)
    try:
        conn.set_busy_timeout(BUSY_TIMEOUT_MS)
        conn.set_progress_handler(lambda: bool(pacer.progress()), STEPS)
        return check_tables(conn, after, pacer, lambda name: _say("sound", name))
    except apsw.InterruptError:
        return None  # told to stop (the app closed its end)
    except apsw.Error as exc:
        return str(exc)
    finally:
        conn.close()


def main(argv: list[str]) -> int:
    try:
        path, after, duty, slice_s = argv[0], argv[1] or None, float(argv[2]), float(argv[3])
    except (IndexError, ValueError):
        sys.stderr.write("usage: python -m oncall_tui.store.integrity_child DB AFTER DUTY SLICE\n")
        return 2
    stop = threading.Event()

    def watch() -> None:
        try:
            sys.stdin.buffer.read()
        except (OSError, ValueError):
            pass
        stop.set()  # EOF: the app is done with us (or gone)

    threading.Thread(target=watch, daemon=True).start()
    problem = run(path, after, stop, duty, slice_s)
    if not stop.is_set():
        _say("end", problem)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
