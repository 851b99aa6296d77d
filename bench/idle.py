"""Measure 4: idle CPU with the queue open.

A fresh headless app process (:mod:`bench.runner`) paints the queue with a *running* clock
(starting at the frozen "now" and moving in real time, so every 1-second tick changes the
countdowns and scans for SLA crossings, as in real use), then measures its own CPU time
(``getrusage``, all threads, plus its child processes: the integrity check runs in one) over
the window, which starts at the first paint: five minutes in
a full run (so the work after the first paint — the counts, the background integrity check —
and five minute ticks with their recounts are all in it), 3 s with ``--quick`` (after one
second). Nobody presses a key. The bare one-label app is measured the same way.

The daily integrity check is due in every run (its marks are cleared first): it checks table
by table, in name order, paced (``oncall_tui.store.integrity``), starting ``START_DELAY`` (6
minutes) after the app started, so the first window holds the start-up's work after the first
paint and not the check. A second run (full runs only) starts the round at the tickets table,
whose b-tree walk is the check's largest (paused inside only in the child process, on apsw's
SQLite), and its window begins a
few seconds before the check does (a settle of ``START_DELAY`` less 5 s): the worst window the
check makes, with the ticks and the minute recounts around it.

Target: app CPU ≤ 1 % of one core averaged over the window, in both runs.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bench.common import PROFILES_DIR, Options, Report, require, run_child, stamp
from bench.generate import cached_db
from bench.startup import app_args
from oncall_tui.store.integrity import START_DELAY

LIMIT_PCT = 1.0
#: The meta keys of the app's integrity check (oncall_tui.ui.app, oncall_tui.store.integrity).
INTEGRITY_MARKS = ("integrity_ok_at", "integrity_progress")


def integrity_due(db: Path, *, from_table: str | None = None) -> None:
    """Make the app's integrity check due, its round starting at ``from_table`` (the top if
    None): the run before left its marks in the cached database."""
    conn = sqlite3.connect(db)
    try:
        with conn:
            conn.execute(
                f"DELETE FROM meta WHERE key IN ({', '.join('?' * len(INTEGRITY_MARKS))})",
                INTEGRITY_MARKS,
            )
            if from_table is not None:
                before = conn.execute(
                    "SELECT max(name) FROM sqlite_schema WHERE type = 'table' AND rootpage > 0 "
                    "AND name < ?",
                    [from_table],
                ).fetchone()[0]
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES (?, ?)", [INTEGRITY_MARKS[1], before]
                )
    finally:
        conn.close()


def run(opts: Options) -> Report:
    window = 3.0 if opts.quick else 300.0
    report = Report("idle", f"idle CPU over {window:.0f} s, queue open (whole process)")
    db = cached_db(opts.n, opts.seed)
    reps = opts.reps(1, 1)
    app_pct: list[float] = []
    worst_pct: list[float] = []
    bare_pct: list[float] = []
    timeout = window + 60
    settle = "1" if opts.quick else "0"
    # The second run's window: from a few seconds before the check's start.
    check_settle = str(max(START_DELAY.total_seconds() - 5.0, 0.0))
    for _ in range(reps):
        # The floor is a reference only: half a minute tells its rate.
        bare_window = str(min(window, 30.0))
        b = run_child(["bare", "--settle", settle, "--idle", bare_window], timeout=timeout)
        require(b, "idle_cpu_s")
        bare_pct.append(100 * b.info["idle_cpu_s"] / b.info["idle_wall_s"])
        for start, samples in ((None, app_pct), ("tickets", worst_pct)):
            if start is not None and opts.quick:
                continue
            integrity_due(db, from_table=start)
            wait = settle if start is None else check_settle
            a = run_child(
                app_args(db, "--ticking", "1", "--settle", wait, "--idle", str(window)),
                timeout=timeout + float(wait),
            )
            require(a, "idle_cpu_s")
            samples.append(100 * a.info["idle_cpu_s"] / a.info["idle_wall_s"])
    report.meta.update(window_s=window, reps=reps)
    report.row("floor", "floor: bare app", "%", bare_pct)
    app = report.row(
        "app", f"app, {opts.n:,} tickets, ticking clock, integrity check due", "%", app_pct
    )
    if worst_pct:
        worst = report.row(
            "app_worst_step",
            "the same from the check's start, its round at the tickets table",
            "%",
            worst_pct,
        )
    t = report.target(
        f"idle CPU ≤ {LIMIT_PCT:.0f} % of a core",
        app.median,
        LIMIT_PCT,
        "<=",
        "%",
        f"= {app.median * 10:.1f} ms CPU per second",
    )
    if worst_pct:
        report.target(
            f"idle CPU ≤ {LIMIT_PCT:.0f} % of a core, the check's largest step in the window",
            worst.median,
            LIMIT_PCT,
            "<=",
            "%",
            f"= {worst.median * 10:.1f} ms CPU per second",
        )
    if t.passed is False and opts.profile and not opts.quick:
        PROFILES_DIR.mkdir(parents=True, exist_ok=True)
        path = PROFILES_DIR / f"idle-{stamp()}.txt"
        r = run_child(
            app_args(
                db,
                "--ticking",
                "1",
                "--settle",
                "0",
                "--idle",
                str(window),
                "--profile-idle",
                str(path),
            ),
            timeout=timeout,
        )
        require(r, "idle_cpu_s")
        report.notes.append(f"cProfile of the idle window (main thread): {path}")
    return report
