"""Runbooks: short step-by-step procedures written in Markdown with YAML front matter.

A runbook file looks like this::

    ---
    title: Escalate a suspected bug
    summary: Move a customer-affecting bug into investigation.
    tags: [bug, escalation]
    applies_to:
      priorities: [P0, P1]
      labels: [bug, "~investigate"]
      keywords: [crash, regression, "500"]
      sources: [helpdesk, tracker]
    ---
    Any Markdown. Task-list items form the checklist:

    - [ ] Ask {customer} for logs.

Everything here is pure: parsing, checklist and step extraction, placeholders, suggestions
and fuzzy filtering. Reading files is ``oncall_tui.data.runbook_library``'s job.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Set
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any, NamedTuple

import yaml

from oncall_tui.domain.tickets import Customer, Priority, Source, Ticket

#: Placeholders a runbook may use; ``placeholder_context`` fills them from a ticket.
PLACEHOLDERS = ("customer", "codename", "ticket_url", "ticket_id", "requester", "assignee")

#: Front matter is a handful of short fields; the limits keep a hostile file cheap to reject.
MAX_FRONT_MATTER_CHARS = 64 * 1024
MAX_TITLE_CHARS = 200
MAX_SUMMARY_CHARS = 1000
MAX_ITEM_CHARS = 200

_TOP_KEYS = frozenset({"title", "summary", "tags", "applies_to"})
_APPLIES_KEYS = frozenset({"priorities", "labels", "keywords", "sources"})

# Suggestion weights: a matching label is the strongest hint, priority and source the weakest.
LABEL_WEIGHT = 3
KEYWORD_IN_SUBJECT_WEIGHT = 2
KEYWORD_IN_BODY_WEIGHT = 1
TAG_WEIGHT = 1
PRIORITY_WEIGHT = 1
SOURCE_WEIGHT = 1


class RunbookError(ValueError):
    """A runbook cannot be used: bad front matter, unreadable file, too large...

    Attributes:
        where: the file path (or the slug when there is no file) the problem is about.
        problem: one line saying what is wrong, in words the runbook's author understands.
    """

    def __init__(self, where: str, problem: str) -> None:
        self.where = where
        self.problem = " ".join(problem.split())
        super().__init__(f"{where}: {self.problem}")


class RunbookOrigin(StrEnum):
    """Where a runbook came from; a team runbook replaces a bundled one of the same slug."""

    BUNDLED = "bundled"
    TEAM = "team"


class StepKind(StrEnum):
    """What a copyable step is."""

    CHECK = "check"  # a task-list item: "- [ ] ..."
    ITEM = "item"  # any other list item
    CODE = "code"  # a fenced code block


@dataclass(frozen=True, slots=True)
class AppliesTo:
    """Which tickets a runbook is suggested for; every field is an independent hint."""

    priorities: tuple[Priority, ...] = ()
    labels: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    sources: tuple[Source, ...] = ()


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    """One task-list item of a runbook.

    Attributes:
        index: position among the runbook's checklist items, from 0, in document order.
        text: the item's text without marker and box (continuation lines joined by spaces).
        line_no: 1-based line of the item within ``Runbook.body``.
    """

    index: int
    text: str
    line_no: int


@dataclass(frozen=True, slots=True)
class Step:
    """A piece of a runbook the user can select and copy.

    Attributes:
        index: position among the runbook's steps, from 0, in document order.
        kind: checklist item, other list item, or fenced code block.
        text: the item's text, or the code block's content without its fences.
        line_no: 1-based line within ``Runbook.body`` where the step starts.
        checklist_index: the ``ChecklistItem.index`` for a checklist step, else None.
        lang: the code block's language (first word of its info string), else "".
    """

    index: int
    kind: StepKind
    text: str
    line_no: int
    checklist_index: int | None = None
    lang: str = ""


@dataclass(frozen=True, slots=True)
class Runbook:
    """A parsed runbook.

    Attributes:
        slug: identifier, the file name's stem in lower case (``escalate-suspected-bug``).
        title: one-line human title from the front matter.
        body: the Markdown after the front matter.
        tags: free-form words for filtering and suggestions.
        applies_to: hints for suggesting the runbook on a ticket.
        summary: optional one-line description.
        checklist: the task-list items of ``body``, in document order.
        origin: bundled with the app, or from the team's folder.
        location: where it was read from (a path or package resource), for messages.
    """

    slug: str
    title: str
    body: str
    tags: tuple[str, ...] = ()
    applies_to: AppliesTo = field(default_factory=AppliesTo)
    summary: str = ""
    checklist: tuple[ChecklistItem, ...] = ()
    origin: RunbookOrigin = RunbookOrigin.TEAM
    location: str = ""


class Suggestion(NamedTuple):
    """A runbook suggested for a ticket, with why: unpacks as ``(runbook, score, reasons)``."""

    runbook: Runbook
    score: int
    reasons: tuple[str, ...]


# --- parsing -------------------------------------------------------------------------------


class _FrontMatterLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that reads every plain scalar as text (only ``~``/empty is null).

    Front matter holds nothing but text, so YAML 1.1's implicit types only hurt:
    ``keywords: [500]`` would be an int, ``tags: [no]`` False, ``title: 2024-01-01`` a date.
    """


_FrontMatterLoader.yaml_implicit_resolvers = {
    first: kept
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    if (
        kept := [
            (tag, regexp)
            for tag, regexp in resolvers
            if tag in ("tag:yaml.org,2002:null", "tag:yaml.org,2002:merge")
        ]
    )
}


def parse_runbook(
    slug: str,
    text: str,
    *,
    origin: RunbookOrigin = RunbookOrigin.TEAM,
    location: str = "",
) -> Runbook:
    """Parse a runbook file's text.

    Args:
        slug: the runbook's identifier (the loader uses the file stem in lower case).
        text: the whole file: ``---``, YAML front matter, ``---``, Markdown body.
        origin: bundled or team.
        location: path or resource name, used in error messages (defaults to the slug).

    Returns:
        The runbook, with its checklist extracted.

    Raises:
        RunbookError: for missing or invalid front matter (and only for that): missing
            ``title``, wrong types, unknown keys, priorities or sources.
    """
    where = location or slug
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if lines[0].rstrip() != "---":
        raise RunbookError(where, "missing front matter: the file must start with a '---' line")
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "...")), None)
    if end is None:
        raise RunbookError(where, "front matter is not closed: add a '---' line after it")
    raw = "\n".join(lines[1:end])
    if len(raw) > MAX_FRONT_MATTER_CHARS:
        raise RunbookError(
            where, f"front matter is too long (over {MAX_FRONT_MATTER_CHARS} characters)"
        )
    data = _load_yaml(raw, where)
    body = "\n".join(lines[end + 1 :]).strip("\n")
    body = body + "\n" if body else ""

    if data is None:
        raise RunbookError(where, "front matter is empty: it needs at least a title")
    if not isinstance(data, dict):
        raise RunbookError(where, f"front matter must be 'key: value' lines, not {_kind(data)}")
    _check_keys(data, _TOP_KEYS, "front matter", where)

    title = data.get("title")
    if title is None:
        raise RunbookError(where, "missing 'title' in the front matter")
    if not isinstance(title, str):
        raise RunbookError(where, f"'title' must be text, not {_kind(title)}")
    title = " ".join(title.split())
    if not title:
        raise RunbookError(where, "'title' is empty")
    if len(title) > MAX_TITLE_CHARS:
        raise RunbookError(where, f"'title' is too long (over {MAX_TITLE_CHARS} characters)")

    summary = data.get("summary")
    if summary is not None and not isinstance(summary, str):
        raise RunbookError(where, f"'summary' must be text, not {_kind(summary)}")
    if summary is not None and len(summary) > MAX_SUMMARY_CHARS:
        raise RunbookError(where, f"'summary' is too long (over {MAX_SUMMARY_CHARS} characters)")

    return Runbook(
        slug=slug,
        title=title,
        body=body,
        tags=_text_list(data.get("tags"), "tags", where),
        applies_to=_applies_to(data.get("applies_to"), where),
        summary=" ".join((summary or "").split()),
        checklist=tuple(_scan(body).checklist),
        origin=origin,
        location=location,
    )


def _load_yaml(raw: str, where: str) -> Any:
    try:
        # A SafeLoader subclass: no arbitrary objects can be constructed.
        return yaml.load(raw, Loader=_FrontMatterLoader)  # noqa: S506
    except yaml.MarkedYAMLError as exc:
        at = f" at line {exc.problem_mark.line + 2}" if exc.problem_mark else ""
        what = exc.problem or exc.context or "syntax error"
        raise RunbookError(where, f"invalid YAML in the front matter{at}: {what}") from None
    except yaml.YAMLError as exc:
        raise RunbookError(where, f"invalid YAML in the front matter: {exc}") from None
    except RecursionError:
        raise RunbookError(where, "invalid YAML in the front matter: nested too deeply") from None
    except Exception:  # noqa: BLE001
        # An explicit tag with a value it cannot hold ("!!int abc", "!!bool maybe",
        # "!!timestamp"): PyYAML's constructors raise ValueError, KeyError, IndexError...
        raise RunbookError(
            where, "invalid YAML in the front matter: a '!!' tag does not fit its value"
        ) from None


def _kind(value: object) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the text {_show(value)}"
    if value is None:
        return "nothing"
    return f"{type(value).__name__} {_show(value)}"


def _show(value: object, limit: int = 40) -> str:
    shown = " ".join(repr(value).split())
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def _check_keys(data: dict[Any, Any], allowed: frozenset[str], what: str, where: str) -> None:
    for key in data:
        if key not in allowed:
            expected = ", ".join(sorted(allowed))
            raise RunbookError(
                where, f"unknown key {_show(key)} in the {what} (expected one of: {expected})"
            )


def _text_list(value: object, key: str, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise RunbookError(where, f"'{key}' must be a list like [a, b], not {_kind(value)}")
    out: list[str] = []
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise RunbookError(
                where, f"'{key}' item {i + 1} must be non-empty text, not {_kind(item)}"
            )
        if len(item) > MAX_ITEM_CHARS:
            raise RunbookError(
                where, f"'{key}' item {i + 1} is too long (over {MAX_ITEM_CHARS} characters)"
            )
        out.append(" ".join(item.split()))
    return tuple(dict.fromkeys(out))


def _applies_to(value: object, where: str) -> AppliesTo:
    if value is None:
        return AppliesTo()
    if not isinstance(value, dict):
        raise RunbookError(where, f"'applies_to' must be a mapping of keys, not {_kind(value)}")
    _check_keys(value, _APPLIES_KEYS, "'applies_to' section", where)
    priorities: list[Priority] = []
    for name in _text_list(value.get("priorities"), "applies_to.priorities", where):
        try:
            priorities.append(Priority(name.upper()))
        except ValueError:
            raise RunbookError(
                where, f"unknown priority {_show(name)} in applies_to.priorities (use P0 to P3)"
            ) from None
    sources: list[Source] = []
    for name in _text_list(value.get("sources"), "applies_to.sources", where):
        try:
            sources.append(Source(name.lower()))
        except ValueError:
            known = ", ".join(s.value for s in Source)
            raise RunbookError(
                where, f"unknown source {_show(name)} in applies_to.sources (use {known})"
            ) from None
    return AppliesTo(
        priorities=tuple(dict.fromkeys(priorities)),
        labels=_text_list(value.get("labels"), "applies_to.labels", where),
        keywords=_text_list(value.get("keywords"), "applies_to.keywords", where),
        sources=tuple(dict.fromkeys(sources)),
    )


# --- Markdown structure: checklist, steps, code blocks ----------------------------------------

_FENCE_OPEN_RE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_LIST_RE = re.compile(r"^(?P<indent> *)(?P<marker>[-*+]|\d{1,9}[.)])(?:[ \t]+(?P<content>.*))?$")
_TASK_RE = re.compile(r"^\[(?P<box>[ xX])\][ \t]+(?P<text>\S.*)$")
_BOX_RE = re.compile(r"^(?P<lead>\s*(?:[-*+]|\d{1,9}[.)])[ \t]+)\[[ xX]\]")
_THEMATIC_RE = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
# Lines that start a new block and so end a list item's lazy continuation.
_BLOCK_START_RE = re.compile(r"^ {0,3}(?:#|>|\||<)")


@dataclass(slots=True)
class _Scan:
    steps: list[Step] = field(default_factory=list)
    checklist: list[ChecklistItem] = field(default_factory=list)
    code_lines: set[int] = field(default_factory=set)  # 0-based, fence lines included


@dataclass(slots=True)
class _OpenItem:
    kind: StepKind
    parts: list[str]
    line_no: int


def _scan(markdown: str) -> _Scan:
    """Find list items, task-list items and fenced code blocks, CommonMark-ish, line by line.

    Good enough for runbooks: no HTML blocks, no list items in block quotes, and a fence
    may be indented (as inside a list item).
    """
    scan = _Scan()
    lines = markdown.split("\n")
    item: _OpenItem | None = None

    def close_item() -> None:
        nonlocal item
        if item is None:
            return
        text = " ".join(item.parts)
        checklist_index = None
        if item.kind is StepKind.CHECK:
            checklist_index = len(scan.checklist)
            scan.checklist.append(ChecklistItem(checklist_index, text, item.line_no))
        scan.steps.append(
            Step(len(scan.steps), item.kind, text, item.line_no, checklist_index=checklist_index)
        )
        item = None

    i = 0
    while i < len(lines):
        line = lines[i].expandtabs(4)
        fence = _FENCE_OPEN_RE.match(line)
        if fence and not (fence["fence"][0] == "`" and "`" in fence["info"]):
            close_item()
            i = _read_fence(lines, i, fence, scan)
            continue
        listed = None if _THEMATIC_RE.match(line) else _LIST_RE.match(line)
        if listed:
            close_item()
            content = (listed["content"] or "").strip()
            task = _TASK_RE.match(content)
            if task:
                item = _OpenItem(StepKind.CHECK, [task["text"].strip()], i + 1)
            elif content:
                item = _OpenItem(StepKind.ITEM, [content], i + 1)
        elif item is not None:
            if not line.strip() or _THEMATIC_RE.match(line) or _BLOCK_START_RE.match(line):
                close_item()
            else:
                item.parts.append(line.strip())
        i += 1
    close_item()
    return scan


def _read_fence(lines: list[str], start: int, fence: re.Match[str], scan: _Scan) -> int:
    """Record the fenced block opening at ``start``; return the index of the line after it."""
    marker = fence["fence"]
    closing = re.compile(rf"^ *{re.escape(marker[0])}{{{len(marker)},}}[ \t]*$")
    indent = len(fence["indent"])
    content: list[str] = []
    i = start + 1
    while i < len(lines) and not closing.match(lines[i].expandtabs(4)):
        line = lines[i].expandtabs(4)
        strip = min(indent, len(line) - len(line.lstrip(" ")))
        content.append(line[strip:])
        i += 1
    last = min(i, len(lines) - 1)  # an unclosed fence runs to the end of the document
    scan.code_lines.update(range(start, last + 1))
    info = fence["info"].split()
    scan.steps.append(
        Step(
            len(scan.steps),
            StepKind.CODE,
            "\n".join(content),
            start + 1,
            lang=info[0] if info else "",
        )
    )
    return i + 1


def steps(runbook: Runbook) -> list[Step]:
    """The runbook's copyable steps: checklist items, other list items and fenced code blocks.

    Returns:
        Steps in document order; a checklist step carries its ``checklist_index``.
    """
    return _scan(runbook.body).steps


def render_with_progress(runbook: Runbook, done: Set[int]) -> str:
    """The runbook's body with each checklist box ticked exactly when its index is in ``done``.

    A box written as ``[x]`` in the file is shown unticked unless ``done`` has it: progress
    belongs to the person working through the runbook, not to the file.
    """
    lines = runbook.body.split("\n")
    for item in runbook.checklist:
        box = "[x]" if item.index in done else "[ ]"
        lines[item.line_no - 1] = _BOX_RE.sub(rf"\g<lead>{box}", lines[item.line_no - 1], count=1)
    return "\n".join(lines)


def progress_text(runbook: Runbook, done: Set[int]) -> str:
    """``"Escalate a suspected bug 3/5"``; just the title when there is no checklist."""
    total = len(runbook.checklist)
    if not total:
        return runbook.title
    ticked = sum(1 for item in runbook.checklist if item.index in done)
    return f"{runbook.title} {ticked}/{total}"


# --- placeholders --------------------------------------------------------------------------

_PLACEHOLDER_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_MARKDOWN_SPECIAL_RE = re.compile(r"([\\`*_\[\]<>#~|!])")


def fill_placeholders(text: str, context: Mapping[str, str], *, markdown: bool = False) -> str:
    """Replace ``{name}`` with ``context[name]`` for every name the context has.

    Only identifier-like names in single braces are placeholders, so JSON or shell snippets
    (``{"a": 1}``, ``{ x }``) pass through untouched, and a name missing from ``context``
    stays visible as ``{name}`` for the user to fill in. Inserted values are never scanned
    again, so a value that contains ``{codename}`` is inserted literally.

    Args:
        text: runbook Markdown or a step's text.
        context: placeholder values, e.g. from ``placeholder_context``.
        markdown: escape values outside fenced code blocks so that customer-supplied text
            (a requester's name) renders as plain text, not as links, emphasis or HTML, and
            fold every value onto one line so it cannot close a fence or start a block.
            Leave False for text that is copied rather than rendered.
    """
    if not context:
        return text

    def filler(escape: Callable[[str], str] | None) -> Callable[[re.Match[str]], str]:
        def fill(match: re.Match[str]) -> str:
            value = context.get(match[1])
            if value is None:
                return match[0]
            return escape(value) if escape else value

        return fill

    if not markdown:
        return _PLACEHOLDER_RE.sub(filler(None), text)
    code_lines = _scan(text).code_lines
    in_code, escaped = filler(_one_line), filler(_escape_markdown)
    return "\n".join(
        _PLACEHOLDER_RE.sub(in_code if i in code_lines else escaped, line)
        for i, line in enumerate(text.split("\n"))
    )


def _one_line(value: str) -> str:
    # A value must not add lines: a line of its own could close a code fence or start a block.
    return " ".join(value.split())


def _escape_markdown(value: str) -> str:
    return _MARKDOWN_SPECIAL_RE.sub(r"\\\1", _one_line(value))


def placeholder_context(ticket: Ticket, customer: Customer | None = None) -> dict[str, str]:
    """Placeholder values for a ticket; unknown values are left out so they stay visible.

    ``ticket_id`` is the backend's id when there is one (what people see), else the local id.
    """
    values: dict[str, str | None] = {
        "customer": customer.name if customer else None,
        "codename": customer.codename if customer else None,
        "ticket_url": ticket.url,
        "ticket_id": ticket.remote_id or str(ticket.id),
        "requester": ticket.requester,
        "assignee": ticket.assignee,
    }
    return {key: value for key, value in values.items() if value}


# --- suggestions ---------------------------------------------------------------------------


@lru_cache(maxsize=1024)
def _word_re(phrase: str) -> re.Pattern[str]:
    words = r"\s+".join(re.escape(word) for word in phrase.split())
    return re.compile(rf"(?<!\w){words}(?!\w)", re.IGNORECASE)


def _normalise(text: str) -> str:
    return text.replace("\u2019", "'").replace("\u2018", "'")


def suggest(runbooks: Iterable[Runbook], ticket: Ticket) -> list[Suggestion]:
    """Runbooks that fit a ticket, best first; runbooks with no match are left out.

    Scores add up: each matching label (case-insensitive) counts 3, each keyword found as
    a whole word in the subject 2 (only in the body 1), each tag found among the labels or
    as a whole word 1, a matching priority 1 and a matching source 1. Ties go by title.

    Returns:
        ``Suggestion(runbook, score, reasons)`` tuples; reasons are short phrases such as
        ``'label "bug"'`` or ``'keyword "crash" in subject'``.
    """
    labels = {label.casefold() for label in ticket.labels}
    subject, body = _normalise(ticket.subject), _normalise(ticket.body)
    found: list[Suggestion] = []
    for runbook in runbooks:
        applies = runbook.applies_to
        score = 0
        reasons: list[str] = []
        for label in applies.labels:
            if label.casefold() in labels:
                score += LABEL_WEIGHT
                reasons.append(f'label "{label}"')
        if ticket.priority in applies.priorities:
            score += PRIORITY_WEIGHT
            reasons.append(f"priority {ticket.priority}")
        if ticket.source in applies.sources:
            score += SOURCE_WEIGHT
            reasons.append(f"source {ticket.source}")
        for keyword in applies.keywords:
            pattern = _word_re(_normalise(keyword))
            if pattern.search(subject):
                score += KEYWORD_IN_SUBJECT_WEIGHT
                reasons.append(f'keyword "{keyword}" in subject')
            elif pattern.search(body):
                score += KEYWORD_IN_BODY_WEIGHT
                reasons.append(f'keyword "{keyword}" in body')
        already = {x.casefold() for x in (*applies.labels, *applies.keywords)}
        for tag in runbook.tags:
            if tag.casefold() in already:
                continue
            pattern = _word_re(_normalise(tag))
            if tag.casefold() in labels or pattern.search(subject) or pattern.search(body):
                score += TAG_WEIGHT
                reasons.append(f'tag "{tag}"')
        if score:
            found.append(Suggestion(runbook, score, tuple(reasons)))
    found.sort(key=lambda s: (-s.score, *_title_key(s.runbook)))
    return found


# --- fuzzy filter --------------------------------------------------------------------------

_WORD_BREAKS = frozenset(" -_/.:~+")
_FIELD_BONUS = {"title": 2, "slug": 1, "tag": 0}


def _title_key(runbook: Runbook) -> tuple[str, str]:
    return runbook.title.casefold(), runbook.slug


def fuzzy_filter(runbooks: Iterable[Runbook], query: str) -> list[Runbook]:
    """Runbooks whose title, slug or a tag contains the query as a subsequence, best first.

    The query is split on whitespace; every word must match (in any field). Matches at word
    starts and runs of consecutive letters score higher, as in most fuzzy finders; ties keep
    title order. An empty query returns every runbook in title order.
    """
    ordered = sorted(runbooks, key=_title_key)
    words = query.casefold().split()
    if not words:
        return ordered
    ranked: list[tuple[int, int, Runbook]] = []
    for position, runbook in enumerate(ordered):
        fields = [
            ("title", runbook.title.casefold()),
            ("slug", runbook.slug.casefold()),
            *(("tag", tag.casefold()) for tag in runbook.tags),
        ]
        total = 0
        for word in words:
            scores = [
                score + _FIELD_BONUS[name]
                for name, text in fields
                if (score := _subsequence_score(word, text)) is not None
            ]
            if not scores:
                break
            total += max(scores)
        else:
            ranked.append((-total, position, runbook))
    ranked.sort(key=lambda entry: entry[:2])
    return [runbook for _, _, runbook in ranked]


def _subsequence_score(query: str, text: str) -> int | None:
    """Best score of ``query`` as a subsequence of ``text``, or None when it is not one.

    Each matched character scores 1, plus 3 at the start of a word (2 more at the start of
    the text), plus 2 when it directly follows the previous match, minus 1 after a gap.
    Dynamic programming over (query char, text position).
    """
    if len(query) > len(text):
        return None
    bonus = [1 + (3 if i == 0 or text[i - 1] in _WORD_BREAKS else 0) for i in range(len(text))]
    bonus[0] += 2
    previous: list[int | None] = [
        bonus[i] if char == query[0] else None for i, char in enumerate(text)
    ]
    for query_char in query[1:]:
        current: list[int | None] = [None] * len(text)
        best_before: int | None = None  # best of previous[0 .. i-1]
        for i, char in enumerate(text):
            if char == query_char and i > 0:
                options = [] if best_before is None else [best_before + bonus[i] - 1]
                adjacent = previous[i - 1]
                if adjacent is not None:
                    options.append(adjacent + bonus[i] + 2)
                current[i] = max(options) if options else None
            prev_i = previous[i]
            if prev_i is not None and (best_before is None or prev_i > best_before):
                best_before = prev_i
        previous = current
    scores = [score for score in previous if score is not None]
    return max(scores) if scores else None
