"""The run's runbooks, read once (off the UI thread) and kept in ``AppContext.extras``, and what
the queue and the detail show of them: a ticket's checklist progress, the load's problems.

Light: the queue and the detail import this, not the runbook screen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from oncall_tui.data.runbook_library import LoadResult
from oncall_tui.domain.runbooks import Runbook, RunbookError, progress_text
from oncall_tui.settings.config import Config

if TYPE_CHECKING:
    from oncall_tui.ui.context import AppContext


#: ``AppContext.extras`` key of the per-run ``RunbookCache``.
CACHE_KEY = "runbooks"
#: Problems listed in the warning toast; the rest are counted.
MAX_PROBLEMS_SHOWN = 5


@dataclass
class RunbookCache:
    """Runbooks read once per run (``F5`` on the runbook screen reads them again)."""

    team_dir: Path | None
    """The team's folder: ``Config.runbooks_dir`` or ``<data dir>/runbooks``."""
    result: LoadResult | None = None
    """None until the first load finished."""
    reported: bool = False
    """Whether the load's problems have been shown (they are shown once)."""

    def by_slug(self) -> dict[str, Runbook]:
        """The loaded runbooks by slug (empty before the first load)."""
        return {r.slug: r for r in self.result.runbooks} if self.result else {}


def team_runbooks_dir(config: Config, data_dir: Path) -> Path:
    """Where the team's runbooks are: the configured folder, else ``<data dir>/runbooks``."""
    return config.runbooks_dir if config.runbooks_dir is not None else data_dir / "runbooks"


def runbook_cache(ctx: AppContext) -> RunbookCache:
    """The run's runbook cache, created on first use."""
    cache = ctx.extras.get(CACHE_KEY)
    if not isinstance(cache, RunbookCache):
        cache = RunbookCache(team_runbooks_dir(ctx.config, ctx.paths.data_dir))
        ctx.extras[CACHE_KEY] = cache
    return cache


def progress_lines(progress: Mapping[str, Set[int]], runbooks: Mapping[str, Runbook]) -> list[str]:
    """The detail's "Runbooks" lines, e.g. ``"Escalate a suspected bug 3/9"``, by title.

    A slug whose runbook is not loaded (yet, or any more) is shown by slug and count.
    """
    lines: list[tuple[str, str]] = []
    for slug, done in progress.items():
        if not done:
            continue
        runbook = runbooks.get(slug)
        if runbook is None:
            lines.append((slug, f"{slug}: {len(done)} ticked"))
        else:
            lines.append((runbook.title.casefold(), progress_text(runbook, done)))
    return [line for _, line in sorted(lines)]


def problems_message(problems: Sequence[RunbookError]) -> str:
    """One line per skipped file (``path: what is wrong``), at most ``MAX_PROBLEMS_SHOWN``."""
    lines = [str(problem) for problem in problems[:MAX_PROBLEMS_SHOWN]]
    if len(problems) > MAX_PROBLEMS_SHOWN:
        lines.append(f"and {len(problems) - MAX_PROBLEMS_SHOWN} more")
    return "\n".join(lines)
