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

Here: the model, the Markdown structure (checklist, steps, code blocks) and placeholders, all
pure. Parsing a file is ``runbook_parse`` (with PyYAML), suggesting and filtering runbooks
``runbook_search``; reading files is ``oncall_tui.data.runbook_library``'s job.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Set
from dataclasses import dataclass, field
from enum import StrEnum

from oncall_tui.domain.tickets import Customer, Priority, Source, Ticket

#: Placeholders a runbook may use; ``placeholder_context`` fills them from a ticket.
PLACEHOLDERS = ("customer", "codename", "ticket_url", "ticket_id", "requester", "assignee")


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


def scan_body(markdown: str) -> _Scan:
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
    return scan_body(runbook.body).steps


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
    code_lines = scan_body(text).code_lines
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


# --- fuzzy filter --------------------------------------------------------------------------
