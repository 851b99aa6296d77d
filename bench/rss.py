"""Measure 7: peak RSS with the whole cache and the queue open.

A fresh headless app process (:mod:`bench.runner`, built as ``oncall-tui --db`` builds it)
paints the queue, keeps running two seconds (two real ticks), and reports its peak resident
set (``VmHWM`` from ``/proc/self/status``; ``ru_maxrss`` elsewhere). The bare one-label app is
measured the same way for reference.

Target: app peak RSS ≤ 80 MB.
"""

from __future__ import annotations

from bench.common import Options, Report, require, run_child
from bench.generate import cached_db
from bench.startup import app_args

LIMIT_MB = 80.0


def run(opts: Options) -> Report:
    report = Report("rss", "peak RSS, queue open (whole process, headless 120×40)")
    db = cached_db(opts.n, opts.seed)
    reps = opts.reps(3, 1)
    settle = "1" if opts.quick else "2"
    app_peak: list[float] = []
    app_first: list[float] = []
    bare_peak: list[float] = []
    for _ in range(reps):
        b = run_child(["bare", "--settle", settle])
        require(b, "rss")
        a = run_child(app_args(db, "--settle", settle))
        require(a, "rss")
        bare_peak.append(b.info["rss"]["VmHWM"])
        app_peak.append(a.info["rss"]["VmHWM"])
        app_first.append(a.info["rss_first_paint"]["VmHWM"])
    report.row("floor", "floor: bare app, peak", "MB", bare_peak)
    report.row("app-first-paint", f"app, {opts.n:,} tickets: peak at first paint", "MB", app_first)
    app = report.row("app", f"app, {opts.n:,} tickets: peak after {settle} s", "MB", app_peak)
    report.target(
        f"peak RSS ≤ {LIMIT_MB:.0f} MB", app.median, LIMIT_MB, "<=", "MB", f"max {app.high:.1f} MB"
    )
    return report
