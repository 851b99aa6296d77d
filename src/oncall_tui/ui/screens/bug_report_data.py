"""What the bug-report form works with besides its widgets: its settings from the config, the
similar issues in the local cache, and the preview's Markdown.

The queue, the CLI and the codename and outage helpers read the settings from here without
loading the form.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from oncall_tui.domain.bug_form import FormSchema, parse_form_schema
from oncall_tui.domain.bug_report import IssuePreview
from oncall_tui.domain.bug_similar import rank_similar, similar_issue_query
from oncall_tui.domain.errors import ConfigValueError
from oncall_tui.domain.labels import DEFAULT_SCHEME, LabelScheme, parse_label_scheme
from oncall_tui.domain.query import parse_query
from oncall_tui.domain.tickets import Ticket, ticket_ref
from oncall_tui.settings.config import Config
from oncall_tui.store import Store
from oncall_tui.ui.widgets.similar_issues import IssueMatch

#: ``drafts.kind`` of bug reports.
DRAFT_KIND = "bug_report"
#: Repository name in the payload when no tracker is configured (filed once one is).
LOCAL_REPO = "local"
#: Issues fetched from the cache per search, ranked, and shown.
SEARCH_LIMIT = 20
MAX_CANDIDATES = 40
MAX_SHOWN = 8
#: Single title keywords searched on their own (the full-text search ANDs its words).
MAX_SINGLE_WORDS = 6


@dataclass(frozen=True)
class BugReportSettings:
    """The form, the label names and the target repository, from the config."""

    schema: FormSchema
    scheme: LabelScheme
    repo: str
    """``owner/name`` of the first configured GitHub repository, else :data:`LOCAL_REPO`."""
    problems: tuple[str, ...] = ()
    """Config errors that made us fall back to the defaults (shown once as a toast)."""


def bug_report_settings(config: Config) -> BugReportSettings:
    """Parse ``config.bug_report`` and the GitHub backend; never raises."""
    from oncall_tui.data.resources import default_form_schema

    base = default_form_schema()
    table: Mapping[str, Any] = config.bug_report or {}
    problems: list[str] = []
    try:
        schema = parse_form_schema(table, key="bug_report", base=base)
    except ConfigValueError as exc:
        schema = base
        problems.append(f"{exc}. Using the default form.")
    raw_labels = table.get("labels", {})
    try:
        if not isinstance(raw_labels, Mapping):
            raise ConfigValueError("bug_report.labels", "a table of label names", raw_labels)
        scheme = parse_label_scheme(raw_labels, key="bug_report.labels")
    except ConfigValueError as exc:
        scheme = DEFAULT_SCHEME
        problems.append(f"{exc}. Using the default labels.")
    github = config.backends.get("github")
    repo = github.repos[0] if github is not None and github.repos else LOCAL_REPO
    return BugReportSettings(schema, scheme, repo, tuple(problems))


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+\-.!|~])")


def md_inline(text: str) -> str:
    """Plain text inside our Markdown: punctuation escaped, whitespace collapsed."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def preview_markdown(preview: IssuePreview, repo: str) -> str:
    """The issue as it will be filed: title, labels, repository, then the body."""
    labels = " ".join(f"`{label}`" for label in preview.labels)
    where = (
        "not configured: queued locally, filed once a tracker is set up"
        if repo == LOCAL_REPO
        else f"`{repo}`"
    )
    parts = [
        f"# {md_inline(preview.title) or '_(no title yet)_'}",
        "",
        f"**Labels:** {labels}  ",
        f"**Repository:** {where}",
        "",
        "---",
        "",
        preview.body_markdown or "_(nothing filled in yet)_",
    ]
    return "\n".join(parts)


def find_similar(
    store: Store,
    values: Mapping[str, str],
    schema: FormSchema,
    queries: Sequence[str] | None = None,
) -> list[IssueMatch]:
    """Tracker issues in the local cache that look like this draft, best first.

    Each search variant of :func:`similar_issue_query` runs as a ``source:tracker`` full-text
    query; since that ANDs its words, the title's longest keywords are also searched one by
    one. The union is ranked with :func:`rank_similar`. ``queries``: the variants, if
    already computed for these values.
    """
    if queries is None:
        queries = similar_issue_query(values, schema)
    words: list[str] = []
    for q in queries:
        if not q.startswith('"'):
            words.extend(q.split())
    singles = sorted(dict.fromkeys(words), key=len, reverse=True)[:MAX_SINGLE_WORDS]
    found: dict[int, Ticket] = {}
    for q in [*queries, *singles]:
        rows = store.queue.open_queue(parse_query(f"source:tracker {q}"), limit=SEARCH_LIMIT)
        for row in rows:
            if row.id not in found and len(found) < MAX_CANDIDATES:
                found[row.id] = store.tickets.get_ticket(row.id)
    ranked = rank_similar([(t.id, t.subject, t.body) for t in found.values()], values, schema)
    return [
        IssueMatch(
            id=r.id,
            ref=ticket_ref(found[r.id].source, found[r.id].remote_id),
            title=found[r.id].subject,
            url=found[r.id].url,
            status=str(found[r.id].status),
            score=r.score,
        )
        for r in ranked[:MAX_SHOWN]
    ]
