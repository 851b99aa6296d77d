"""Measure 4: idle CPU with the queue open.

A fresh headless app process (:mod:`bench.runner`) paints the queue with a *running* clock
(starting at the frozen "now" and moving in real time, so every 1-second tick changes the
countdowns and scans for SLA crossings, as in real use), settles for two seconds, then
measures its own CPU time (``getrusage``, all threads) over the window: 30 s, or 3 s with
``--quick`` (settling one second). Nobody presses a key. The bare one-label app is measured
the same way.

Target: app CPU ≤ 1 % of one core over the window.
"""

from __future__ import annotations

from bench.common import PROFILES_DIR, Options, Report, require, run_child, stamp
from bench.generate import cached_db
from bench.startup import app_args

LIMIT_PCT = 1.0


def run(opts: Options) -> Report:
    window = 3.0 if opts.quick else 30.0
    report = Report("idle", f"idle CPU over {window:.0f} s, queue open (whole process)")
    db = cached_db(opts.n, opts.seed)
    reps = opts.reps(3, 1)
    app_pct: list[float] = []
    bare_pct: list[float] = []
    timeout = window + 60
    settle = "1" if opts.quick else "2"
    for _ in range(reps):
        b = run_child(["bare", "--settle", settle, "--idle", str(window)], timeout=timeout)
        require(b, "idle_cpu_s")
        a = run_child(
            app_args(db, "--ticking", "1", "--settle", settle, "--idle", str(window)),
            timeout=timeout,
        )
        require(a, "idle_cpu_s")
        bare_pct.append(100 * b.info["idle_cpu_s"] / b.info["idle_wall_s"])
        app_pct.append(100 * a.info["idle_cpu_s"] / a.info["idle_wall_s"])
    report.meta.update(window_s=window, reps=reps)
    report.row("floor", "floor: bare app", "%", bare_pct)
    app = report.row("app", f"app, {opts.n:,} tickets, ticking clock", "%", app_pct)
    t = report.target(
        f"idle CPU ≤ {LIMIT_PCT:.0f} % of a core",
        app.median,
        LIMIT_PCT,
        "<=",
        "%",
        f"= {app.median * 10:.1f} ms CPU per second",
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
                "2",
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
