"""Measure 2: keypress to repaint with the whole cache in the queue.

The app is built as ``oncall-tui --db`` builds it and run in-process (``run_test``, headless,
120×40; the wide layout, 160×48 with the detail pane beside the queue, for cursor moves). Each
key's latency runs from sending the key event to the end of the frame showing its effect (see
:mod:`bench.inproc`). Keys: cursor down, page down, one character typed into the filter (``/``
first, untimed; ``escape`` after, untimed), and switching views (``5`` All open, ``1`` My
queue). The floor is the same key in :class:`bench.floors.BareTableApp`, measured in rounds
that alternate with the product's (floor, product, floor, product …), so both see the same
machine.

Targets: each key's median ≤ 1.5 × the floor's median for that key; p95 ≤ 100 ms.
"""

from __future__ import annotations

import asyncio
import cProfile
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
from bench.generate import cached_db, config_file, db_info
from bench.inproc import DisplaySpy, press, press_untimed, product_app, quiesce

RATIO = 1.5
P95_MS = 100.0
#: What is typed in the filter: the first letter is the measured key; the second is timed too,
#: for information (no target), since one letter alone may filter little.
FILTER_WORDS = ("li", "ss", "fl", "mi", "en", "po")  # live, sso, fleet, migration, enroll…
KEYS = ("down", "pagedown", "filter-char", "view-5", "view-1")
#: Rows measured and shown without a target.
INFO_KEYS = ("filter-2nd-char",)
WIDE_KEYS = ("down", "pagedown")
#: Floor and product alternate in this many rounds (full runs), each a share of the repeats.
ROUNDS = 3


async def _drive(
    app: Any, size: tuple[int, int], reps: int, keys: tuple[str, ...], *, rewind: str | None = None
) -> dict[str, list[float]]:
    """``rewind``: a key that goes back to the top, pressed (untimed) before a cursor move that
    would hit the end of a short table (the floor's 50 rows), so every timed move moves."""
    out: dict[str, list[float]] = {k: [] for k in (*keys, *INFO_KEYS)}
    async with app.run_test(size=size) as pilot:
        spy = DisplaySpy(app)
        await quiesce(pilot, spy)
        for key in ("down", "up", "pagedown", "pageup", "5", "1"):  # warm caches
            await press_untimed(pilot, spy, key)
        if "down" in keys:
            for i in range(reps):
                if rewind and i % 40 == 39:
                    await press_untimed(pilot, spy, rewind)
                out["down"].append(await press(pilot, spy, "down"))
        if "pagedown" in keys:
            for _ in range(reps):
                if rewind:
                    await press_untimed(pilot, spy, rewind)
                out["pagedown"].append(await press(pilot, spy, "pagedown"))
        if "filter-char" in keys:
            for i in range(reps):
                word = FILTER_WORDS[i % len(FILTER_WORDS)]
                await press_untimed(pilot, spy, "slash")
                out["filter-char"].append(await press(pilot, spy, word[0]))
                out["filter-2nd-char"].append(await press(pilot, spy, word[1]))
                await press_untimed(pilot, spy, "escape")
        if "view-5" in keys:
            for _ in range(reps):
                out["view-5"].append(await press(pilot, spy, "5"))
                out["view-1"].append(await press(pilot, spy, "1"))
    return out


def _product(
    db: str,
    cfg: str,
    size: tuple[int, int],
    reps: int,
    keys: tuple[str, ...],
    profiler: cProfile.Profile | None = None,
) -> dict[str, list[float]]:
    app, ctx = product_app(db, cfg, NOW_ISO)
    try:
        if profiler is not None:
            profiler.enable()
        try:
            return asyncio.run(_drive(app, size, reps, keys))
        finally:
            if profiler is not None:
                profiler.disable()
    finally:
        ctx.store.close()


def _floor(size: tuple[int, int], reps: int, keys: tuple[str, ...]) -> dict[str, list[float]]:
    from bench.floors import BareTableApp

    return asyncio.run(_drive(BareTableApp(), size, reps, keys, rewind="ctrl+home"))


def _merge(into: dict[str, list[float]], more: dict[str, list[float]]) -> None:
    for key, samples in more.items():
        into.setdefault(key, []).extend(samples)


def _rounds(db: str, cfg: str, reps: int, rounds: int) -> tuple[dict[str, list[float]], ...]:
    """Floor and product in alternating rounds (``reps`` split over ``rounds``), so that a slow
    spell of a shared machine lands on both sides instead of on whichever ran during it."""
    floor: dict[str, list[float]] = {}
    product: dict[str, list[float]] = {}
    floor_wide: dict[str, list[float]] = {}
    product_wide: dict[str, list[float]] = {}
    for i in range(rounds):
        share = reps // rounds + (1 if i < reps % rounds else 0)
        if share == 0:
            continue
        _merge(floor, _floor(SIZE, share, KEYS))
        _merge(product, _product(db, cfg, SIZE, share, KEYS))
        _merge(floor_wide, _floor(WIDE_SIZE, share, WIDE_KEYS))
        _merge(product_wide, _product(db, cfg, WIDE_SIZE, share, WIDE_KEYS))
    return floor, product, floor_wide, product_wide


def run(opts: Options) -> Report:
    report = Report("keys", "keypress to repaint (in-process, headless)")
    db = str(cached_db(opts.n, opts.seed))
    cfg = str(config_file())
    reps = opts.reps(30, 3)
    report.meta.update(
        db=db_info(cached_db(opts.n, opts.seed)),
        n=opts.n,
        size=SIZE,
        wide_size=WIDE_SIZE,
        reps=reps,
    )
    rounds = 1 if opts.quick else ROUNDS
    report.meta["rounds"] = rounds
    floor, product, floor_wide, product_wide = _rounds(db, cfg, reps, rounds)
    failing: list[tuple[str, tuple[int, int]]] = []
    for key in INFO_KEYS:
        report.row(
            f"floor:{key}", f"floor: {key} (no target)", "ms", [x * 1000 for x in floor[key]]
        )
        report.row(
            f"app:{key}",
            f"app {opts.n:,}: {key} (no target)",
            "ms",
            [x * 1000 for x in product[key]],
        )
    for label, fl, pr, keys, size in (
        ("", floor, product, KEYS, SIZE),
        (" (wide)", floor_wide, product_wide, WIDE_KEYS, WIDE_SIZE),
    ):
        for key in keys:
            f = report.row(
                f"floor:{key}{label.strip()}",
                f"floor: {key}{label}",
                "ms",
                [x * 1000 for x in fl[key]],
            )
            p = report.row(
                f"app:{key}{label.strip()}",
                f"app {opts.n:,}: {key}{label}",
                "ms",
                [x * 1000 for x in pr[key]],
            )
            ratio = p.median / f.median if f.median else float("nan")
            t1 = report.target(
                f"{key}{label} median ≤ {RATIO}× floor",
                ratio,
                RATIO,
                "<=",
                "x",
                f"{p.median:.1f} ms vs floor {f.median:.1f} ms",
            )
            t2 = report.target(f"{key}{label} p95 ≤ {P95_MS:.0f} ms", p.p95, P95_MS, "<=", "ms")
            if t1.passed is False or t2.passed is False:
                failing.append((key, size))
    if failing and opts.profile and not opts.quick:
        when = stamp()
        for size in {s for _, s in failing}:
            keys = tuple(dict.fromkeys(k for k, s in failing if s == size))
            flat = tuple(
                dict.fromkeys(
                    x
                    for k in keys
                    for x in (("view-5", "view-1") if k.startswith("view") else (k,))
                )
            )
            prof = cProfile.Profile()
            _product(db, cfg, size, max(10, reps // 2), flat, prof)
            path = PROFILES_DIR / f"keys-{'-'.join(keys)}-{size[0]}x{size[1]}-{when}.txt"
            summary = profile_to(path, prof, f"keys {keys} at {size}")
            report.notes.append(f"profile of {', '.join(keys)} at {size[0]}×{size[1]}: {path}")
            report.meta.setdefault("profiles", {})[str(path)] = summary
    return report
