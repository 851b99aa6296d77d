"""Load runbooks: the ones bundled with the app, then the team's own folder.

A team runbook replaces the bundled one with the same slug (file stem in lower case), so a
team can adapt ``escalate-suspected-bug.md`` to its own labels without forking the app. A bad
file never stops the others from loading: it becomes a ``RunbookError`` in
``LoadResult.problems`` and is skipped.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from oncall_tui.domain.runbook_parse import parse_runbook
from oncall_tui.domain.runbooks import Runbook, RunbookError, RunbookOrigin

#: Runbooks larger than this are refused: they are meant to be short.
MAX_RUNBOOK_BYTES = 1024 * 1024
#: Package holding ``runbooks/*.md``.
BUNDLED_PACKAGE = "oncall_tui.data"
#: File names in a team folder that are documentation about the folder, not runbooks.
IGNORED_NAMES = frozenset({"readme.md"})


@dataclass(frozen=True, slots=True)
class LoadResult:
    """Runbooks ready to use, in title order, and what went wrong with the rest.

    Attributes:
        runbooks: bundled and team runbooks, one per slug, sorted by title.
        problems: one error per file that was skipped, naming the file.
        overridden: slugs of bundled runbooks replaced by a team runbook.
    """

    runbooks: list[Runbook]
    problems: list[RunbookError]
    overridden: list[str] = field(default_factory=list)


def load_runbooks(team_dir: Path | None, *, max_bytes: int = MAX_RUNBOOK_BYTES) -> LoadResult:
    """Load the bundled runbooks, then every ``*.md`` under ``team_dir`` (recursively).

    Hidden files and folders and ``README.md`` files are ignored; symlinked folders are not
    followed. A missing ``team_dir`` is not a problem (the team has none yet).

    Args:
        team_dir: the team's runbook folder, or None.
        max_bytes: largest team file accepted (bundled files are always held to
            ``MAX_RUNBOOK_BYTES``).

    Returns:
        The runbooks and the problems; this never raises because of a bad file.
    """
    problems: list[RunbookError] = []
    by_slug: dict[str, Runbook] = {}

    for resource in _bundled_files(problems):
        where = f"<bundled>/{resource.name}"
        data = _read_resource(resource, where, MAX_RUNBOOK_BYTES, problems)
        text = _decode(data, where, problems)
        runbook = _parse(_slug(resource.name), text, RunbookOrigin.BUNDLED, where, problems)
        if runbook is not None:
            by_slug[runbook.slug] = runbook

    overridden: list[str] = []
    team_paths: dict[str, Path] = {}
    for path in _team_files(team_dir, problems) if team_dir is not None else []:
        where = str(path)
        slug = _slug(path.name)
        if slug in team_paths:
            problems.append(
                RunbookError(where, f"same slug '{slug}' as {team_paths[slug]}; file skipped")
            )
            continue
        text = _decode(_read_file(path, max_bytes, problems), where, problems)
        runbook = _parse(slug, text, RunbookOrigin.TEAM, where, problems)
        if runbook is None:
            continue
        team_paths[slug] = path
        if slug in by_slug:
            overridden.append(slug)
        by_slug[slug] = runbook

    runbooks = sorted(by_slug.values(), key=lambda r: (r.title.casefold(), r.slug))
    return LoadResult(runbooks, problems, sorted(overridden))


def _slug(file_name: str) -> str:
    return file_name[: -len(".md")].lower()


def _parse(
    slug: str, text: str | None, origin: RunbookOrigin, where: str, problems: list[RunbookError]
) -> Runbook | None:
    if text is None:
        return None
    try:
        return parse_runbook(slug, text, origin=origin, location=where)
    except RunbookError as exc:
        problems.append(exc)
        return None


def _decode(data: bytes | None, where: str, problems: list[RunbookError]) -> str | None:
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.append(
            RunbookError(
                where, f"not UTF-8 text (bad byte at offset {exc.start}); save it as UTF-8"
            )
        )
        return None


def _too_large(where: str, max_bytes: int) -> RunbookError:
    return RunbookError(where, f"file is too large (the limit is {_size(max_bytes)})")


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):g} MiB"
    if n >= 1024:
        return f"{n / 1024:g} KiB"
    return f"{n} bytes"


# --- bundled -------------------------------------------------------------------------------


def _bundled_files(problems: list[RunbookError]) -> list[Traversable]:
    try:
        folder = resources.files(BUNDLED_PACKAGE).joinpath("runbooks")
        return sorted(
            (f for f in folder.iterdir() if f.name.lower().endswith(".md") and f.is_file()),
            key=lambda f: f.name,
        )
    except (ModuleNotFoundError, OSError) as exc:
        problems.append(
            RunbookError("<bundled>", f"bundled runbooks are missing from the installation: {exc}")
        )
        return []


def _read_resource(
    resource: Traversable, where: str, max_bytes: int, problems: list[RunbookError]
) -> bytes | None:
    try:
        with resource.open("rb") as stream:
            data: bytes = stream.read(max_bytes + 1)
    except OSError as exc:
        problems.append(RunbookError(where, f"cannot read: {exc.strerror or exc}"))
        return None
    if len(data) > max_bytes:
        problems.append(_too_large(where, max_bytes))
        return None
    return data


# --- team folder ---------------------------------------------------------------------------


def _team_files(team_dir: Path, problems: list[RunbookError]) -> list[Path]:
    try:
        if not team_dir.exists():
            return []
        if not team_dir.is_dir():
            problems.append(RunbookError(str(team_dir), "the team runbook folder is not a folder"))
            return []
    except OSError as exc:
        problems.append(RunbookError(str(team_dir), f"cannot open: {exc.strerror or exc}"))
        return []

    def report(exc: OSError) -> None:
        where = str(exc.filename or team_dir)
        problems.append(RunbookError(where, f"cannot list folder: {exc.strerror or exc}"))

    found: list[Path] = []
    for folder, dirnames, filenames in os.walk(team_dir, onerror=report):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        found.extend(
            Path(folder, name)
            for name in sorted(filenames)
            if name.lower().endswith(".md")
            and not name.startswith(".")
            and name.lower() not in IGNORED_NAMES
        )
    return found


def _read_file(path: Path, max_bytes: int, problems: list[RunbookError]) -> bytes | None:
    where = str(path)
    try:
        # O_NONBLOCK: a FIFO named *.md must not hang the app; fstat then refuses it.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as stream:
            info = os.fstat(stream.fileno())
            if not stat.S_ISREG(info.st_mode):
                problems.append(RunbookError(where, "not a regular file"))
                return None
            if info.st_size > max_bytes:
                problems.append(_too_large(where, max_bytes))
                return None
            data = stream.read(max_bytes + 1)
    except OSError as exc:
        problems.append(RunbookError(where, f"cannot read: {exc.strerror or exc}"))
        return None
    if len(data) > max_bytes:  # it grew after fstat
        problems.append(_too_large(where, max_bytes))
        return None
    return data
