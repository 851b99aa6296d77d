"""Measure 3: the per-second countdown tick with the queue open.

The app (built as ``oncall-tui --db`` builds it, frozen clock) runs in-process and headless
at 120×40, and 160×48 where the detail pane shows beside the queue. The screen's own
1-second timer is paused so only our ticks run. Each measured tick advances the frozen clock
by one second (so countdowns change and the SLA-crossing query has a window to scan), calls
``QueueScreen.tick()`` and waits for the frame that repaints the rows whose text changed (a
second that changes none repaints nothing). The figure is the main thread's CPU time
(``time.thread_time``) from just before ``tick()`` to the end of that frame, or, without one,
until everything the tick caused is handled: the tick itself, the messages it causes, and
composing the frame (:func:`bench.inproc.settle`, which posts nothing itself: the figure
once held ~5 ms, at 25 widgets ~9 ms, of Pilot's own round of callbacks to every widget).

Target: median ≤ 5 ms CPU per tick.
"""

from __future__ import annotations

import asyncio
import cProfile
import time
from datetime import timedelta
from typing import Any

from bench.common import (
    NOW_ISO,
    PROFILES_DIR,
    SIZE,
    WIDE_SIZE,
    Options,
    Report,
    profile_to,
    stamp,
)
from bench.generate import cached_db, config_file
from bench.inproc import DisplaySpy, product_app, quiesce, settle

LIMIT_MS = 5.0


async def _ticks(
    app: Any, ctx: Any, size: tuple[int, int], reps: int, profiler: cProfile.Profile | None
) -> tuple[list[float], list[float]]:
    from oncall_tui.ui.screens.queue_screen import QueueScreen

    cpu: list[float] = []
    wall: list[float] = []
    async with app.run_test(size=size) as pilot:
        spy = DisplaySpy(app)
        await quiesce(pilot, spy)
        screen = app.screen
        assert isinstance(screen, QueueScreen), screen
        paused = [t for t in list(screen._timers) if getattr(t, "_callback", None) == screen.tick]
        for timer in paused:
            timer.pause()
        for i in range(reps + 3):
            ctx.clock.advance(timedelta(seconds=1))
            frames = spy.count
            if profiler is not None:
                profiler.enable()
            c0, w0 = time.thread_time(), time.perf_counter()
            screen.tick()
            # A second that changes no countdown repaints nothing (only changed rows are
            # refreshed): then the tick's cost ends when everything it caused is handled.
            c1 = await settle(app, spy, frames)
            w1 = spy.last_wall if spy.count != frames else time.perf_counter()
            if profiler is not None:
                profiler.disable()
            await quiesce(pilot, spy)  # (not measured: anything later is not the tick's)
            if i >= 3:  # the first ticks warm caches
                cpu.append(c1 - c0)
                wall.append(w1 - w0)
        for timer in paused:
            timer.resume()
    return cpu, wall


def _measure(
    size: tuple[int, int], reps: int, db: str, cfg: str, profiler: cProfile.Profile | None = None
) -> tuple[list[float], list[float]]:
    app, ctx = product_app(db, cfg, NOW_ISO)
    try:
        return asyncio.run(_ticks(app, ctx, size, reps, profiler))
    finally:
        ctx.store.close()


def run(opts: Options) -> Report:
    report = Report("tick", "per-second countdown tick, CPU per tick (in-process)")
    db = str(cached_db(opts.n, opts.seed))
    cfg = str(config_file())
    reps = opts.reps(60, 5)
    report.meta.update(n=opts.n, reps=reps)
    failing = []
    for label, size in (("", SIZE), (" (wide, detail pane)", WIDE_SIZE)):
        cpu, wall = _measure(size, reps, db, cfg)
        row = report.row(f"cpu{label}", f"tick CPU{label}", "ms", [x * 1000 for x in cpu])
        report.row(f"wall{label}", f"tick to frame, wall{label}", "ms", [x * 1000 for x in wall])
        t = report.target(
            f"tick CPU{label} ≤ {LIMIT_MS:.0f} ms",
            row.median,
            LIMIT_MS,
            "<=",
            "ms",
            f"p95 {row.p95:.2f} ms",
        )
        if t.passed is False:
            failing.append(size)
    if failing and opts.profile and not opts.quick:
        when = stamp()
        for size in failing:
            prof = cProfile.Profile()
            _measure(size, 30, db, cfg, prof)
            path = PROFILES_DIR / f"tick-{size[0]}x{size[1]}-{when}.txt"
            report.meta.setdefault("profiles", {})[str(path)] = profile_to(
                path, prof, f"30 ticks at {size}"
            )
            report.notes.append(f"profile of 30 ticks at {size[0]}×{size[1]}: {path}")
    return report
