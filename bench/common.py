"""What every benchmark shares: options, statistics, targets, the table and the JSON file.

A benchmark is a function ``run(opts) -> Report``. It fills the report with *rows* (one
measured quantity each: its samples and unit) and *targets* (a row's median, or a ratio of two
rows' medians, against a limit). Printing and writing are done here so every benchmark looks
the same.

Nothing here gates: a missed target prints FAIL; ``python -m bench`` exits 0 unless
``--strict`` (and never fails on targets with ``--quick``, where N is tiny and timing noisy).
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / "bench"
RESULTS_DIR = BENCH_DIR / "results"
CACHE_DIR = RESULTS_DIR / "cache"
PROFILES_DIR = RESULTS_DIR / "profiles"

#: Monday 2026-11-23 10:30 in Los Angeles (inside business hours), the tests' frozen "now".
NOW = datetime(2026, 11, 23, 18, 30, tzinfo=UTC)
NOW_ISO = "2026-11-23T18:30:00Z"
DEFAULT_N = 100_000
QUICK_N = 2_000
DEFAULT_SEED = 7
#: Terminal size of every in-process and headless run (the snapshot tests' size).
SIZE = (120, 40)
#: The wide layout: the detail pane opens beside the queue from 150 columns.
WIDE_SIZE = (160, 48)


@dataclass
class Options:
    """How this run was asked for."""

    quick: bool = False
    """Tiny N, one or two repeats, short windows; targets reported but never enforced."""
    strict: bool = False
    """Exit non-zero when a target fails (full mode only)."""
    n: int = DEFAULT_N
    """Tickets in the generated database."""
    seed: int = DEFAULT_SEED
    """Generator seed."""
    repeats: int | None = None
    """Override every benchmark's repeat count."""
    profile: bool = True
    """Save a cProfile of the product side when a target is missed."""

    def reps(self, full: int, quick: int = 1) -> int:
        """How many repetitions: the override, else ``quick`` or ``full``."""
        if self.repeats is not None:
            return max(1, self.repeats)
        return quick if self.quick else full


@dataclass
class Row:
    """One measured quantity."""

    key: str
    label: str
    unit: str
    samples: list[float]
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.samples) if self.samples else math.nan

    @property
    def low(self) -> float:
        return min(self.samples) if self.samples else math.nan

    @property
    def high(self) -> float:
        return max(self.samples) if self.samples else math.nan

    @property
    def p95(self) -> float:
        return percentile(self.samples, 95)

    def summary(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "unit": self.unit,
            "n": len(self.samples),
            "median": _finite(self.median),
            "min": _finite(self.low),
            "max": _finite(self.high),
            "p95": _finite(self.p95),
            "note": self.note,
            "samples": self.samples,
        }


@dataclass
class Target:
    """A limit on a measured value: ``value <= limit`` (``op="<="``) or ``>=``."""

    name: str
    value: float
    limit: float
    op: str
    unit: str
    detail: str = ""
    """How the value was computed (e.g. "median 0.61 s / floor median 0.45 s")."""
    measurable: bool = True
    """False when the product side does not exist yet (reported as N/A)."""

    @property
    def passed(self) -> bool | None:
        if not self.measurable or math.isnan(self.value):
            return None
        return self.value <= self.limit if self.op == "<=" else self.value >= self.limit

    @property
    def verdict(self) -> str:
        return {True: "PASS", False: "FAIL", None: "N/A"}[self.passed]

    def margin(self) -> str:
        """By how much it passes or fails, as a percentage of the limit."""
        if self.passed is None or not self.limit:
            return ""
        pct = (self.value - self.limit) / abs(self.limit) * 100
        return f"{pct:+.0f}% vs limit"


@dataclass
class Report:
    """What one benchmark measured."""

    name: str
    title: str
    rows: list[Row] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def row(self, key: str, label: str, unit: str, samples: Sequence[float], note: str = "") -> Row:
        r = Row(key, label, unit, [float(s) for s in samples], note)
        self.rows.append(r)
        return r

    def get(self, key: str) -> Row:
        for r in self.rows:
            if r.key == key:
                return r
        raise KeyError(key)

    def target(
        self,
        name: str,
        value: float,
        limit: float,
        op: str,
        unit: str,
        detail: str = "",
        measurable: bool = True,
    ) -> Target:
        t = Target(name, float(value), float(limit), op, unit, detail, measurable)
        self.targets.append(t)
        return t

    # -- output

    def print(self, quick: bool) -> None:
        print(f"\n== {self.name}: {self.title}")
        headers = ("measure", "median", "min–max", "p95", "n")
        lines = [
            (
                r.label,
                fmt(r.median, r.unit),
                f"{fmt(r.low, r.unit)}–{fmt(r.high, r.unit)}",
                fmt(r.p95, r.unit) if len(r.samples) >= 5 else "",
                str(len(r.samples)),
            )
            for r in self.rows
        ]
        _print_table(headers, lines)
        for t in self.targets:
            verdict = t.verdict
            if quick and verdict != "N/A":
                verdict = f"({verdict}, not enforced in --quick)"
            print(
                f"  target {t.name}: {fmt(t.value, t.unit)} {t.op} {fmt(t.limit, t.unit)}"
                f"  {verdict} {t.margin()}  {t.detail}".rstrip()
            )
        for note in self.notes:
            print(f"  note: {note}")

    def to_json(self, opts: Options) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "options": asdict(opts),
            "machine": machine_info(),
            "rows": [r.summary() for r in self.rows],
            "targets": [
                {**asdict(t), "verdict": t.verdict, "enforced": not opts.quick}
                for t in self.targets
            ],
            "meta": self.meta,
            "notes": self.notes,
        }

    def write(self, opts: Options, stamp: str) -> Path:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        path = RESULTS_DIR / f"{self.name}-{stamp}.json"
        path.write_text(json.dumps(self.to_json(opts), indent=2, default=str) + "\n")
        return path


def _finite(x: float) -> float | None:
    return None if math.isnan(x) else x


def _print_table(headers: Sequence[str], lines: Sequence[Sequence[str]]) -> None:
    widths = [
        max(len(h), *(len(line[i]) for line in lines)) if lines else len(h)
        for i, h in enumerate(headers)
    ]
    print("  " + "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("  " + "  ".join("-" * w for w in widths))
    for line in lines:
        print("  " + "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)))


def percentile(samples: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation: a p95 is a sample that happened)."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def fmt(value: float, unit: str) -> str:
    """A value with its unit, at a sensible precision."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if unit == "s":
        return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"
    if unit == "ms":
        return f"{value:.2f} ms" if value < 10 else f"{value:.1f} ms"
    if unit == "%":
        return f"{value:.2f} %"
    if unit == "MB":
        return f"{value:.1f} MB"
    if unit == "x":
        return f"{value:.2f}×"
    if unit == "/s":
        return f"{value:,.0f}/s"
    if unit == "B":
        return f"{value:,.0f} B"
    return f"{value:.3g} {unit}".rstrip()


def machine_info() -> dict[str, Any]:
    """Enough to tell two result files' machines apart."""
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }
    try:
        import textual

        info["textual"] = textual.__version__
    except Exception:  # pragma: no cover - textual is a dependency
        pass
    try:
        import sqlite3

        info["sqlite"] = sqlite3.sqlite_version
    except Exception:  # pragma: no cover
        pass
    try:
        info["git"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
        info["git_dirty"] = bool(
            subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no"],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=5,
            ).stdout.strip()
        )
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        load = os.getloadavg()
        info["loadavg"] = [round(x, 2) for x in load]
    except OSError:
        pass
    return info


def stamp() -> str:
    """A timestamp for result file names (UTC, sortable)."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


# --------------------------------------------------------------------------------------------
# Child processes


def child_env(**extra: str) -> dict[str, str]:
    """Environment of a benchmark child: bench importable, no user files, no real keyring."""
    env = dict(os.environ)
    home = CACHE_DIR / "home"
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "data").mkdir(parents=True, exist_ok=True)
    env.update(
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")])),
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        PYTHONDONTWRITEBYTECODE="",
        TEXTUAL="",
    )
    for name in (
        "ONCALL_TUI_CONFIG",
        "ONCALL_TUI_DB",
        "ONCALL_TUI_ZENDESK_TOKEN",
        "ONCALL_TUI_GITHUB_TOKEN",
        "ONCALL_TUI_SLACK_TOKEN",
        "TEXTUAL_DEVTOOLS",
    ):
        env.pop(name, None)
    env.update(extra)
    return env


@dataclass
class ChildResult:
    """What a runner child printed: ``MARK name value`` lines, and timing seen by the parent."""

    marks: dict[str, float]
    arrival: dict[str, float]
    """Seconds from spawn to when the parent read each mark."""
    info: dict[str, Any]
    returncode: int | None
    stderr: str


def run_child(
    args: Sequence[str],
    *,
    timeout: float = 120.0,
    env: dict[str, str] | None = None,
    module: str = "bench.runner",
) -> ChildResult:
    """Spawn ``python -m MODULE ARGS`` and collect its marks and info.

    The clock starts just before the spawn; ``arrival`` says when each mark was read.
    """
    cmd = [sys.executable, "-m", module, *args]
    marks: dict[str, float] = {}
    arrival: dict[str, float] = {}
    info: dict[str, Any] = {}
    import tempfile

    errfile = tempfile.TemporaryFile(mode="w+")  # a pipe could fill up and block the child
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env or child_env(),
        stdout=subprocess.PIPE,
        stderr=errfile,
        stdin=subprocess.DEVNULL,
        text=True,
        bufsize=1,
    )
    assert proc.stdout is not None
    deadline = start + timeout
    try:
        for line in proc.stdout:
            now = time.perf_counter()
            parts = line.strip().split(" ", 2)
            if len(parts) >= 3 and parts[0] == "MARK":
                marks[parts[1]] = float(parts[2])
                arrival[parts[1]] = now - start
            elif len(parts) >= 2 and parts[0] == "INFO":
                info.update(json.loads(line.strip()[5:]))
            elif parts and parts[0] == "DONE":
                break
            if now > deadline:
                break
        proc.wait(timeout=max(1.0, deadline - time.perf_counter()))
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    finally:
        if proc.poll() is None:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    errfile.seek(0)
    stderr = errfile.read()
    errfile.close()
    proc.stdout.close()
    return ChildResult(marks, arrival, info, proc.returncode, stderr)


def require(result: ChildResult, *marks: str) -> None:
    """Raise with the child's stderr when it did not get as far as ``marks``."""
    missing = [m for m in marks if m not in result.marks and m not in result.info]
    if missing:
        tail = "\n".join(result.stderr.strip().splitlines()[-25:])
        raise RuntimeError(
            f"benchmark child exited ({result.returncode}) without {missing}:\n{tail}"
        )


def timed(fn: Callable[[], Any]) -> float:
    """Wall seconds of one call."""
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def read_status_mb(pid: int | str = "self") -> dict[str, float]:
    """VmHWM / VmRSS from /proc in MB (empty off Linux)."""
    out: dict[str, float] = {}
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                key, _, rest = line.partition(":")
                if key in ("VmHWM", "VmRSS"):
                    out[key] = int(rest.split()[0]) / 1024
    except OSError:
        pass
    return out


def profile_to(path: Any, profiler: Any, title: str) -> str:
    """Write a cProfile report (top by cumulative and by own time) to ``path``; return the top
    own-time lines as a short summary."""
    import io
    import pstats

    out = io.StringIO()
    out.write(f"# {title}\n\n")
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(50)
    stats.sort_stats("tottime").print_stats(30)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(out.getvalue())
    return top_entries(profiler)


def top_entries(profiler: Any, n: int = 8) -> str:
    """The ``n`` functions with most own time, one line each."""
    import pstats

    stats = pstats.Stats(profiler)
    total = sum(v[2] for v in stats.stats.values()) or 1.0  # type: ignore[attr-defined]
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:n]  # type: ignore[attr-defined]
    lines = []
    for (file, line, func), (_cc, calls, tottime, cumtime, _callers) in rows:
        short = "/".join(file.split("/")[-2:])
        lines.append(
            f"{tottime * 1000:8.1f} ms own {cumtime * 1000:8.1f} ms cum "
            f"{tottime / total:5.1%} {calls:>8} calls  {short}:{line}({func})"
        )
    return "\n".join(lines)
