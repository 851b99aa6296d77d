"""Loading bundled and team runbooks from disk."""

from __future__ import annotations

import os
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from oncall_tui.data.runbook_library import LoadResult, load_runbooks
from oncall_tui.domain.runbook_search import suggest
from oncall_tui.domain.runbooks import (
    PLACEHOLDERS,
    Runbook,
    RunbookOrigin,
    fill_placeholders,
    steps,
)
from oncall_tui.domain.tickets import Priority, Source, Ticket

BUNDLED_SLUGS = {
    "assign-customer-codename",
    "change-credit-card",
    "contact-developer-on-call",
    "escalate-suspected-bug",
    "extend-sandbox-trial",
    "file-a-bug-report",
    "generate-trial-license-key",
    "hand-off-on-call-week",
    "missed-customer-call",
    "respond-to-suspected-outage",
    "restart-search-crawler",
}


def runbook_text(title: str, body: str = "- [ ] Do it.\n") -> str:
    return f"---\ntitle: {title}\ntags: [team]\n---\n{body}"


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def by_slug(result: LoadResult) -> dict[str, Runbook]:
    return {r.slug: r for r in result.runbooks}


def test_bundled_runbooks_all_parse_without_problems() -> None:
    result = load_runbooks(None)
    assert result.problems == []
    assert result.overridden == []
    assert {r.slug for r in result.runbooks} == BUNDLED_SLUGS
    for runbook in result.runbooks:
        assert runbook.origin is RunbookOrigin.BUNDLED
        assert runbook.location == f"<bundled>/{runbook.slug}.md"
        assert runbook.summary, runbook.slug
        assert len(runbook.checklist) >= 4, runbook.slug
        # every placeholder used is one the app knows how to fill
        filled = fill_placeholders(runbook.body, dict.fromkeys(PLACEHOLDERS, "X"))
        assert re.findall(r"\{\w+\}", filled) == [], runbook.slug
    titles = [r.title.casefold() for r in result.runbooks]
    assert titles == sorted(titles)


def test_bundled_escalation_follows_the_label_flow() -> None:
    escalate = by_slug(load_runbooks(None))["escalate-suspected-bug"]
    body = escalate.body
    for label in (":incoming", ":reproduce", "~investigate", ":help-customers", ":product"):
        assert label in body
    assert "one hour" in body
    assert any(s.kind == "code" and "gh issue edit" in s.text for s in steps(escalate))


def test_missing_team_dir_is_fine(tmp_path: Path) -> None:
    result = load_runbooks(tmp_path / "nope")
    assert result.problems == []
    assert {r.slug for r in result.runbooks} == BUNDLED_SLUGS


def test_team_runbooks_load_recursively_and_override_bundled(tmp_path: Path) -> None:
    write(tmp_path / "Escalate-Suspected-Bug.md", runbook_text("Our escalation"))
    write(tmp_path / "billing" / "refund.md", runbook_text("Issue a refund"))
    write(tmp_path / "notes.txt", "not a runbook")
    result = load_runbooks(tmp_path)
    assert result.problems == []
    assert result.overridden == ["escalate-suspected-bug"]
    runbooks = by_slug(result)
    assert set(runbooks) == BUNDLED_SLUGS | {"refund"}
    team = runbooks["escalate-suspected-bug"]
    assert team.title == "Our escalation"
    assert team.origin is RunbookOrigin.TEAM
    assert team.location == str(tmp_path / "Escalate-Suspected-Bug.md")
    assert runbooks["refund"].location == str(tmp_path / "billing" / "refund.md")


def test_bad_files_are_reported_by_name_and_skipped(tmp_path: Path) -> None:
    write(tmp_path / "good.md", runbook_text("Good one"))
    write(tmp_path / "no-front-matter.md", "# Just a heading\n")
    write(tmp_path / "bad-yaml.md", "---\ntitle: [oops\n---\n")
    write(tmp_path / "latin1.md", runbook_text("Caf\u00e9").encode("latin-1"))
    write(tmp_path / "huge.md", runbook_text("Huge", "x" * 2000))
    # A bad team file does not hide the bundled runbook of the same slug.
    write(tmp_path / "change-credit-card.md", "---\ntitle: x\nowner: me\n---\n")

    result = load_runbooks(tmp_path, max_bytes=1000)

    problems = {Path(p.where).name: p.problem for p in result.problems}
    assert set(problems) == {
        "no-front-matter.md",
        "bad-yaml.md",
        "latin1.md",
        "huge.md",
        "change-credit-card.md",
    }
    assert "missing front matter" in problems["no-front-matter.md"]
    assert "invalid YAML" in problems["bad-yaml.md"]
    assert "not UTF-8" in problems["latin1.md"]
    assert "too large" in problems["huge.md"] and "1000 bytes" in problems["huge.md"]
    assert "unknown key 'owner'" in problems["change-credit-card.md"]
    for problem in result.problems:
        assert str(problem).startswith(str(tmp_path))

    runbooks = by_slug(result)
    assert set(runbooks) == BUNDLED_SLUGS | {"good"}
    assert runbooks["change-credit-card"].origin is RunbookOrigin.BUNDLED
    assert result.overridden == []


def test_default_size_cap_is_one_mib(tmp_path: Path) -> None:
    write(tmp_path / "big.md", runbook_text("Big", "x" * (1024 * 1024)))
    result = load_runbooks(tmp_path)
    assert [p.problem for p in result.problems] == ["file is too large (the limit is 1 MiB)"]


def test_duplicate_team_slugs_keep_the_first(tmp_path: Path) -> None:
    write(tmp_path / "a" / "refund.md", runbook_text("First"))
    write(tmp_path / "b" / "Refund.md", runbook_text("Second"))
    result = load_runbooks(tmp_path)
    assert by_slug(result)["refund"].title == "First"
    [problem] = result.problems
    assert problem.where == str(tmp_path / "b" / "Refund.md")
    assert "same slug 'refund'" in problem.problem


def test_hidden_files_and_readme_are_ignored(tmp_path: Path) -> None:
    write(tmp_path / "README.md", "# About this folder\n")
    write(tmp_path / ".hidden.md", "junk")
    write(tmp_path / ".git" / "x.md", "junk")
    result = load_runbooks(tmp_path)
    assert result.problems == []
    assert {r.slug for r in result.runbooks} == BUNDLED_SLUGS


def test_team_dir_that_is_a_file_is_a_problem(tmp_path: Path) -> None:
    target = write(tmp_path / "runbooks", "oops")
    result = load_runbooks(target)
    assert [p.where for p in result.problems] == [str(target)]
    assert {r.slug for r in result.runbooks} == BUNDLED_SLUGS


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.md")
    result = load_runbooks(tmp_path)
    assert [(Path(p.where).name, p.problem) for p in result.problems] == [
        ("pipe.md", "not a regular file")
    ]


def test_broken_symlink_is_reported(tmp_path: Path) -> None:
    (tmp_path / "dangling.md").symlink_to(tmp_path / "missing.md")
    result = load_runbooks(tmp_path)
    [problem] = result.problems
    assert Path(problem.where).name == "dangling.md"
    assert problem.problem.startswith("cannot read")


def test_unreadable_file_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "secret.md", runbook_text("Secret"))
    write(tmp_path / "fine.md", runbook_text("Fine"))
    real_open = os.open

    def deny(file: Any, *args: Any, **kwargs: Any) -> int:
        if Path(str(file)) == path:
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(os, "open", deny)
    result = load_runbooks(tmp_path)
    assert [(p.where, p.problem) for p in result.problems] == [
        (str(path), "cannot read: Permission denied")
    ]
    assert "fine" in by_slug(result)


@pytest.mark.parametrize(
    ("kw", "first"),
    [
        (
            {"subject": "Every page returns 502", "priority": Priority.P0},
            "respond-to-suspected-outage",
        ),
        (
            {"subject": "How do I change our credit card?", "priority": Priority.P3},
            "change-credit-card",
        ),
        (
            {
                "subject": "Agent crashes after upgrade",
                "labels": ("bug", ":reproduce"),
                "priority": Priority.P1,
            },
            "escalate-suspected-bug",
        ),
        ({"subject": "Sorry, we missed the call", "source": Source.CHAT}, "missed-customer-call"),
        (
            {"subject": "Our sandbox trial expires Friday", "priority": Priority.P3},
            "extend-sandbox-trial",
        ),
    ],
)
def test_bundled_runbooks_are_suggested_for_typical_tickets(kw: dict[str, Any], first: str) -> None:
    t0 = datetime(2025, 3, 3, 17, 0, tzinfo=UTC)
    base = Ticket(id=1, source=Source.HELPDESK, subject="", opened_at=t0, updated_at=t0)
    ticket = replace(base, **kw)
    found = suggest(load_runbooks(None).runbooks, ticket)
    assert found and found[0].runbook.slug == first, [(s.runbook.slug, s.score) for s in found]
