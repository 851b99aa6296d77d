"""Measure 1: cold start to first paint, whole process, headless.

Each run spawns a fresh interpreter (``python -m bench.runner``, see :mod:`bench.runner`) and
times from just before the spawn to reading the child's ``first_paint`` mark: for the app,
the first frame in which the queue's table rendered a ticket; for the floor, the first frame
of a bare Textual app showing one label. Runs alternate app/floor so both see the same noise;
one untimed run of each first (bytecode and page cache). The app runs twice per round: with
no backend, and with a help desk configured (as every real user has: the sync engine is built,
its first pass fails at once on loopback), so work done for the sync stack before the first
frame shows.

Targets: median(app) ≤ 1.5 × median(floor), in both configurations.
"""

from __future__ import annotations

import re
from pathlib import Path

from bench.common import (
    NOW_ISO,
    PROFILES_DIR,
    Options,
    Report,
    child_env,
    require,
    run_child,
    stamp,
)
from bench.generate import OFFLINE_TOKEN, cached_db, config_file

RATIO = 1.5


def app_args(db: Path, *extra: str, backend: bool = False) -> list[str]:
    """Runner arguments for the app on ``db`` (as ``oncall-tui --db --config --now``); with
    ``backend``, a help desk configured (run it with ``child_env(**OFFLINE_TOKEN)``)."""
    config = config_file(backend=backend)
    return ["app", "--db", str(db), "--config", str(config), "--now", NOW_ISO, *extra]


def _importtime(args: list[str]) -> list[tuple[int, int, int, str]]:
    """(cumulative µs, self µs, depth, module) of every import in one child start."""
    result = run_child(args, env=child_env(PYTHONPROFILEIMPORTTIME="1"), timeout=120)
    rows = []
    for line in result.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if m:
            rows.append((int(m[2]), int(m[1]), (len(m[3]) - 1) // 2, m[4]))
    return rows


def _import_profile(db: Path, path: Path) -> tuple[str, float]:
    """``-X importtime`` of one app start: the slowest imports, and the total (ms)."""
    rows = _importtime(app_args(db))
    path.write_text(
        "cumulative_us self_us depth module\n"
        + "\n".join(f"{c:>12} {s:>8} {d:>3} {name}" for c, s, d, name in rows)
        + "\n"
    )
    top = sorted((r for r in rows if r[2] <= 1), reverse=True)[:15]
    total = sum(c for c, _s, d, _n in rows if d == 0) / 1000
    return "\n".join(f"{c / 1000:7.1f} ms  {'  ' * d}{name}" for c, _s, d, name in top), total


def run(opts: Options) -> Report:
    report = Report("startup", "cold start to first paint (whole process, headless 120×40)")
    db = cached_db(opts.n, opts.seed)
    reps = opts.reps(9, 2)
    report.meta.update(n=opts.n, reps=reps)
    app_s: list[float] = []
    synced_s: list[float] = []
    bare_s: list[float] = []
    with_token = child_env(**OFFLINE_TOKEN)
    app_child: list[float] = []
    bare_child: list[float] = []
    if not opts.quick:  # untimed warm-up: bytecode caches, page cache
        run_child(["bare"])
        run_child(app_args(db))
        run_child(app_args(db, backend=True), env=with_token)
    for _ in range(reps):
        b = run_child(["bare"])
        require(b, "first_paint")
        a = run_child(app_args(db))
        require(a, "first_paint")
        s = run_child(app_args(db, backend=True), env=with_token)
        require(s, "first_paint")
        synced_s.append(s.arrival["first_paint"])
        bare_s.append(b.arrival["first_paint"])
        app_s.append(a.arrival["first_paint"])
        bare_child.append(b.marks["first_paint"])
        app_child.append(a.marks["first_paint"])
    floor = report.row("floor", "floor: bare app, one label", "s", bare_s)
    app = report.row("app", f"app, {opts.n:,} tickets", "s", app_s)
    synced = report.row("app-backend", "app, a help desk configured", "s", synced_s)
    report.row("floor-in-child", "floor: from interpreter up (child's own clock)", "s", bare_child)
    report.row("app-in-child", "app: from interpreter up (child's own clock)", "s", app_child)
    ratio = app.median / floor.median
    t = report.target(
        f"first paint ≤ {RATIO}× floor",
        ratio,
        RATIO,
        "<=",
        "x",
        f"{app.median * 1000:.0f} ms vs floor {floor.median * 1000:.0f} ms",
    )
    t_synced = report.target(
        f"first paint, a backend configured ≤ {RATIO}× floor",
        synced.median / floor.median,
        RATIO,
        "<=",
        "x",
        f"{synced.median * 1000:.0f} ms vs floor {floor.median * 1000:.0f} ms",
    )
    missed = t.passed is False or t_synced.passed is False
    if missed and opts.profile and not opts.quick:
        when = stamp()
        PROFILES_DIR.mkdir(parents=True, exist_ok=True)
        path = PROFILES_DIR / f"startup-app-{when}.txt"
        prof = run_child(app_args(db, "--profile", str(path)))
        require(prof, "first_paint")
        report.notes.append(f"cProfile of one app start to first paint: {path}")
        imports = PROFILES_DIR / f"startup-imports-{when}.txt"
        top, total = _import_profile(db, imports)
        floor_total = sum(c for c, _s, d, _n in _importtime(["bare"]) if d == 0) / 1000
        report.meta.update(
            import_top=top, import_ms=round(total, 1), floor_import_ms=round(floor_total, 1)
        )
        report.notes.append(
            f"-X importtime of one app start: {imports} (imports {total:.0f} ms"
            f" vs the floor's {floor_total:.0f} ms)"
        )
    return report
