"""The customer bug report: its draft, validation, pre-fill and rendering as a public issue.

The form is data (:class:`~oncall_tui.domain.bug_form.FormSchema`, its parsing beside it in
``bug_form``); searching for a similar issue first is ``bug_similar``. Everything here is pure:
no I/O, no clock.

A draft's values are plain strings by field id, plus one reserved key, :data:`TICKET_URL_KEY`,
holding the support ticket's link. That link points into the private help desk, so by default
it is **not** written into the public issue: :func:`render_issue` adds a
``Support ticket: <link>`` line only when the schema says ``link_ticket_in_issue = true``, and
:func:`create_issue_payload` always carries it beside the issue (never in its body) so the
sync engine can post the new issue's link back to the ticket.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from oncall_tui.domain.bug_form import (
    TICKET_URL_KEY,
    FieldRole,
    FieldType,
    FormField,
    FormSchema,
    FormSection,
)
from oncall_tui.domain.guard import GuardOverride
from oncall_tui.domain.labels import DEFAULT_SCHEME, LabelScheme
from oncall_tui.domain.tickets import Customer, Ticket

# --------------------------------------------------------------------------- drafts, validation


@dataclass(frozen=True, slots=True)
class FieldError:
    """A problem with one field's value, ready to show beside it."""

    field_id: str
    message: str


@dataclass(frozen=True)
class BugReportDraft:
    """A bug report being written; saved as is by the store, immutable.

    Attributes:
        values: field values by field id, plus :data:`TICKET_URL_KEY` for the ticket link.
        ticket_id: the local support ticket it comes from, if any.
        codename: the customer's assigned codename (from the CRM), for the guard and the
            label; the form's codename field is what gets filed.
        override: the engineer's decision to file despite guard hits, if any.
    """

    values: Mapping[str, str] = field(default_factory=dict)
    ticket_id: int | None = None
    codename: str | None = None
    override: GuardOverride | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", MappingProxyType(dict(self.values)))

    @property
    def ticket_url(self) -> str | None:
        """The private support-ticket link, if known."""
        return self.values.get(TICKET_URL_KEY) or None

    def with_value(self, field_id: str, value: str) -> BugReportDraft:
        """A copy with one value changed.

        The override is kept: it covers terms, not text, so a term an edit adds is still
        reported by the guard.
        """
        return replace(self, values={**self.values, field_id: value})

    def with_override(self, override: GuardOverride | None) -> BugReportDraft:
        """A copy carrying ``override``."""
        return replace(self, override=override)


_VERSION = re.compile(
    r"v?\d+(?:\.\d+){1,3}(?:[-+][0-9A-Za-z]+(?:[.-][0-9A-Za-z]+)*)?", re.IGNORECASE
)
_DIGITS = re.compile(r"[0-9]+")
_NEGATIVE = re.compile(r"-[0-9]+")
_BAD_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL_NAMES = {
    0x00: "NUL",
    0x07: "BEL",
    0x08: "backspace",
    0x0B: "vertical tab",
    0x0C: "form feed",
    0x1B: "ESC",
    0x7F: "DEL",
}


def _control_message(value: str, match: re.Match[str]) -> str:
    code = ord(match.group())
    name = _CONTROL_NAMES.get(code, "control character")
    line = value.count("\n", 0, match.start()) + 1
    column = match.start() - (value.rfind("\n", 0, match.start()) + 1) + 1
    where = f"line {line}, column {column}" if "\n" in value else f"position {column}"
    hint = " (ESC usually comes from coloured terminal output)" if code == 0x1B else ""
    return (
        f"Contains an invisible control character {name} (U+{code:04X}) at {where}{hint}; "
        "remove it. Tabs and line breaks are fine."
    )


def validate_field(schema_field: FormField, value: str | None) -> str | None:
    """The message to show under one field when the user leaves it, or None if it is fine.

    Checks, in order: required, control characters, single line, length, then the type
    (version, whole number, choice) and the field's own pattern. Never raises.
    """
    f = schema_field
    value = value or ""
    text = value.strip()
    if not text:
        return "Required." if f.required else None
    bad = _BAD_CONTROL.search(value)
    if bad:
        return _control_message(value, bad)
    if f.type is not FieldType.TEXT and ("\n" in text or "\r" in text):
        return "Must be a single line."
    limit = f.limit
    if limit is not None and len(value) > limit:
        return f"Too long: {len(value):,} characters, at most {limit:,}."
    if f.type is FieldType.VERSION and not _VERSION.fullmatch(text):
        return "Not a version number; expected e.g. 4.57.1, v1.2 or 4.57.1-rc2."
    if f.type is FieldType.INTEGER:
        if _NEGATIVE.fullmatch(text):
            return "Must be 0 or more."
        if not _DIGITS.fullmatch(text):
            return "Must be a whole number, digits only (e.g. 1200)."
    if f.type is FieldType.CHOICE and text not in f.choices:
        return f"Must be one of: {', '.join(f.choices)}."
    if f.pattern is not None and not re.fullmatch(f.pattern, text):
        return f.pattern_message or "Does not have the expected format."
    return None


def validate(schema: FormSchema, values: Mapping[str, str]) -> list[FieldError]:
    """Every problem that blocks filing, in form order.

    Besides each field's own checks, the rendered body must fit the tracker
    (``schema.max_body_chars``); if it does not, the error goes on the longest field.
    Keys of ``values`` that are not fields (e.g. :data:`TICKET_URL_KEY`) are ignored.
    Never raises.
    """
    errors: dict[str, list[str]] = {}
    for f in schema.fields:
        message = validate_field(f, values.get(f.id))
        if message:
            errors.setdefault(f.id, []).append(message)
    body = render_issue(schema, values).body_markdown
    if len(body) > schema.max_body_chars:
        longest = max(schema.fields, key=lambda f: len(values.get(f.id) or ""))
        size = len(values.get(longest.id) or "")
        errors.setdefault(longest.id, []).append(
            f"The issue body would be {len(body):,} characters; the tracker takes at most "
            f"{schema.max_body_chars:,}. Shorten this field ({size:,} characters): keep the "
            "relevant lines of long logs and share the rest in the debug archive."
        )
    return [FieldError(f.id, m) for f in schema.fields for m in errors.get(f.id, ())]


# --------------------------------------------------------------------------- pre-fill

_V = r"v?(\d+\.\d+(?:\.\d+){0,2}(?:-[0-9A-Za-z]+(?:\.[0-9A-Za-z]+)*)?)(?!\.?\d)"
# One whitespace run, then an optional ":"/"=" and its own run: "\s*[:=]?\s*" would try every
# split of a long blank run (quadratic on customer text).
_FILLER = (
    r"(?:\s+(?:server|premium|free|version|ver\.?|is|was|on|at|to|now|running))*"
    r"\s*(?:[:=]\s*)?"
)
_SERVER_RES = (
    re.compile(r"\bfleet\b" + _FILLER + _V, re.IGNORECASE),
    re.compile(r"\bserver\s+version\s*(?:is\s+)?(?:[:=]\s*)?" + _V, re.IGNORECASE),
)
_AGENT_RES = {
    "fleetd": re.compile(r"\bfleetd\b" + _FILLER + _V, re.IGNORECASE),
    "osquery": re.compile(r"\bosquery[di]?\b" + _FILLER + _V, re.IGNORECASE),
}
_MAC_NAMES = "Tahoe|Sequoia|Sonoma|Ventura|Monterey|Big Sur|Catalina|Mojave"
_OS_RES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(source, re.IGNORECASE), name)
    for source, name in (
        (
            r"\b(?:mac\s?OS(?:\s?X)?|OS\s?X)\b[ \t]*("
            + _MAC_NAMES
            + r")?[ \t]*(\d{2}(?:\.\d+){0,2})?",
            "macOS",
        ),
        (
            r"\bWindows\s+((?:Server\s+)?(?:2012(?:\s?R2)?|2016|2019|2022|2025|10|11))\b",
            "Windows",
        ),
        (r"\bUbuntu\s+(\d{2}\.\d{2}(?:\.\d+)?)(?!\.?\d)", "Ubuntu"),
        (r"\bDebian\s+(\d{1,2}(?:\.\d+)?)(?!\.?\d)", "Debian"),
        (r"\b(?:RHEL|Red\s+Hat\s+Enterprise\s+Linux)\s*(\d{1,2}(?:\.\d+)?)(?!\.?\d)", "RHEL"),
        (r"\bCentOS\s+((?:Stream\s+)?\d{1,2}(?:\.\d+)*)(?!\.?\d)", "CentOS"),
        (r"\bFedora\s+(\d{2})(?!\.?\d)", "Fedora"),
        (r"\bAmazon\s+Linux\s+(2023|2)(?!\.?\d)", "Amazon Linux"),
        (r"\bChrome\s?OS\s+(\d+(?:\.\d+)*)(?!\.?\d)", "ChromeOS"),
    )
)
_BROWSER_RES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(source + r"\s+(?:v(?:ersion)?\s*)?(\d+(?:\.\d+){0,3})(?!\.?\d)", flags), name)
    for source, flags, name in (
        (r"\b(?:Google\s+)?Chrome\b", re.IGNORECASE, "Chrome"),
        (r"\bChromium\b", re.IGNORECASE, "Chromium"),
        (r"\b(?:Mozilla\s+)?Firefox(?:\s+ESR)?\b", re.IGNORECASE, "Firefox"),
        (r"\bSafari\b", re.IGNORECASE, "Safari"),
        (r"\b(?:Microsoft\s+Edge|Edge)\b", 0, "Edge"),  # "edge 3" in prose is not a browser
        (r"\bBrave\b", 0, "Brave"),
        (r"\bOpera\b", 0, "Opera"),
        (r"\bVivaldi\b", re.IGNORECASE, "Vivaldi"),
    )
)
_SUBJECT_PREFIX = re.compile(
    r"^(?:\s*(?:re|fwd?|aw|wg)\s*:\s*|\s*\[[^\]]{0,30}\]\s*)+", re.IGNORECASE
)


_OS_WORDS = {"server": "Server", "stream": "Stream", "r2": "R2"}


def _unique(found: Iterable[str]) -> str | None:
    distinct = list(dict.fromkeys(found))
    return distinct[0] if len(distinct) == 1 else None


def _os_hints(text: str) -> list[str]:
    hits: list[tuple[int, str]] = []
    for pattern, name in _OS_RES:
        for m in pattern.finditer(text):
            if name == "macOS":
                parts = [p for p in (m.group(1), m.group(2)) if p]
                if not parts:
                    continue  # "macOS" alone says too little
                value = " ".join(
                    ["macOS", *(p.title() if not p[0].isdigit() else p for p in parts)]
                )
            else:
                words = [_OS_WORDS.get(w.lower(), w) for w in m.group(1).split()]
                value = " ".join([name, *words])
            hits.append((m.start(), value))
    return list(dict.fromkeys(v for _, v in sorted(hits)))


def _browser_hints(text: str) -> list[str]:
    hits = sorted(
        (m.start(), f"{name} {m.group(1)}") for p, name in _BROWSER_RES for m in p.finditer(text)
    )
    return list(dict.fromkeys(v for _, v in hits))


def prefill(
    schema: FormSchema,
    ticket: Ticket,
    customer: Customer | None,
    ticket_url: str | None,
    comments: Sequence[str] = (),
) -> dict[str, str]:
    """Values the form can start with, taken from the ticket; nothing is guessed.

    Fills, for fields present in the schema (found by role):

    * title: the ticket subject without "Re:"/"Fwd:"/"[tag]" prefixes (the guard still checks
      it for the customer's name);
    * codename: the customer's codename;
    * server version: "Fleet 4.57.1", "fleet v4.57.1", "Fleet server version: 4.57",
      "server version 4.57.1";
    * agent kind and version: "fleetd 1.30.0" or "osquery 5.12.1"; fleetd wins when both
      are mentioned (it ships osquery);
    * OS: "macOS 14.5", "macOS Sonoma", "Windows 11", "Ubuntu 22.04", RHEL, Debian,
      CentOS, Fedora, Amazon Linux, ChromeOS; several distinct ones are joined with ", ";
    * browser: a browser name followed by a version ("Chrome 126", "Firefox 128.0");
    * :data:`TICKET_URL_KEY`: ``ticket_url``, else the ticket's own URL.

    A version is filled only when the text names exactly one (an upgrade "from 4.56.0 to
    4.57.1" written as two "Fleet x" mentions leaves it empty).

    Args:
        schema: the form.
        ticket: the support ticket (subject and body are searched).
        customer: the customer, for the codename.
        ticket_url: the ticket's link in the help desk's web UI.
        comments: the thread's message bodies, searched after the ticket body.
    """
    text = "\n".join([ticket.subject, ticket.body, *comments])
    found: dict[FieldRole, str | None] = {}
    subject = _SUBJECT_PREFIX.sub("", ticket.subject).strip()
    found[FieldRole.TITLE] = " ".join(subject.split()) or None
    found[FieldRole.CODENAME] = (
        customer.codename.strip() if customer and customer.codename else None
    )
    found[FieldRole.SERVER_VERSION] = _unique(
        m.group(1) for p in _SERVER_RES for m in p.finditer(text)
    )
    for kind in ("fleetd", "osquery"):  # fleetd first: it ships osquery
        versions = [m.group(1) for m in _AGENT_RES[kind].finditer(text)]
        if versions:
            found[FieldRole.AGENT_KIND] = kind
            found[FieldRole.AGENT_VERSION] = _unique(versions)
            break
    found[FieldRole.OS] = ", ".join(_os_hints(text)) or None
    found[FieldRole.BROWSER] = ", ".join(_browser_hints(text)) or None

    values: dict[str, str] = {}
    for role, value in found.items():
        f = schema.by_role(role)
        if f is None or not value:
            continue
        if f.type is FieldType.CHOICE:
            value = next((c for c in f.choices if c.casefold() == value.casefold()), None)
            if value is None:
                continue
        if f.limit is not None and len(value) > f.limit:
            continue
        values[f.id] = value
    url = ticket_url or ticket.url
    if url:
        values[TICKET_URL_KEY] = url
    return values


# --------------------------------------------------------------------------- rendering


@dataclass(frozen=True, slots=True)
class IssuePreview:
    """The issue exactly as it will be filed."""

    title: str
    body_markdown: str
    labels: tuple[str, ...]


_BREAKS_STRUCTURE = re.compile(
    r"^ {0,3}(?:#{1,6}(?:[ \t]|$)|```|~~~|<|=+[ \t]*$|-{2,}[ \t]*$|\*{3,}[ \t]*$|_{3,}[ \t]*$)",
    re.MULTILINE,
)
_DETAILS_TAG = re.compile(r"</?(?:details|summary)\b", re.IGNORECASE)
_BACKTICKS = re.compile(r"`+")


def _block(value: str) -> str:
    """Multi-line customer text, verbatim unless it would break our structure.

    Headings are ours: text with lines that Markdown would read as a heading, a code fence,
    an HTML block or a rule goes inside a fence longer than any backtick run it contains.
    """
    text = value.replace("\r\n", "\n").replace("\r", "\n").strip("\n").rstrip()
    if _BREAKS_STRUCTURE.search(text) or _DETAILS_TAG.search(text):
        longest = max((len(m.group()) for m in _BACKTICKS.finditer(text)), default=0)
        fence = "`" * max(3, longest + 1)
        return f"{fence}\n{text}\n{fence}"
    return text


def _inline(value: str) -> str:
    """One-line customer text: whitespace collapsed, "<" escaped so no tag can open."""
    return " ".join(value.split()).replace("<", "&lt;")


def _section_body(section: FormSection, values: Mapping[str, str]) -> str:
    blocks: list[str] = []
    bullets: list[str] = []
    for f in section.fields:
        if f.role is FieldRole.TITLE:
            continue
        value = values.get(f.id) or ""
        if not value.strip():
            continue
        if f.type is FieldType.TEXT:
            if bullets:
                blocks.append("\n".join(bullets))
                bullets = []
            blocks.append(f"### {f.label}\n\n{_block(value)}")
        else:
            bullets.append(f"- **{f.label}:** {_inline(value)}")
    if bullets:
        blocks.append("\n".join(bullets))
    return "\n\n".join(blocks)


def render_issue(
    schema: FormSchema, values: Mapping[str, str], scheme: LabelScheme = DEFAULT_SCHEME
) -> IssuePreview:
    """The public issue for these values, exactly as it will be filed.

    Layout: the title field becomes the title; each section with a non-empty field becomes
    ``## Section title`` (collapsed sections become a ``<details>`` block instead); in it,
    one-line fields are a list (``- **Label:** value``) and text fields get ``### Label``
    over their content. Empty fields are skipped. The support-ticket link is added only when
    ``schema.link_ticket_in_issue`` (see the module docstring). Labels: ``bug``,
    ``:reproduce``, ``:incoming`` and ``customer-<codename>`` (names from ``scheme``).
    """
    title = " ".join((values.get(schema.title_field.id) or "").split())
    parts: list[str] = []
    for section in schema.sections:
        content = _section_body(section, values)
        if not content:
            continue
        if section.collapsed:
            summary = html.escape(section.title, quote=False)
            parts.append(f"<details>\n<summary>{summary}</summary>\n\n{content}\n\n</details>")
        else:
            parts.append(f"## {section.title}\n\n{content}")
    url = (values.get(TICKET_URL_KEY) or "").strip()
    if schema.link_ticket_in_issue and url:
        parts.append(f"Support ticket: {_inline(url)}")
    body = "\n\n".join(parts) + "\n" if parts else ""
    codename_field = schema.by_role(FieldRole.CODENAME)
    codename = (values.get(codename_field.id) or "") if codename_field else ""
    return IssuePreview(title=title, body_markdown=body, labels=scheme.new_issue_labels(codename))


def public_text(schema: FormSchema, values: Mapping[str, str]) -> dict[str, str]:
    """What the public issue will show, by field id: the input for ``guard.check``.

    Every form field's value, plus the ticket link under :data:`TICKET_URL_KEY` when the
    schema puts it in the issue.
    """
    text = {f.id: values.get(f.id) or "" for f in schema.fields}
    if schema.link_ticket_in_issue and values.get(TICKET_URL_KEY):
        text[TICKET_URL_KEY] = values[TICKET_URL_KEY]
    return text


def create_issue_payload(preview: IssuePreview, draft: BugReportDraft, repo: str) -> dict[str, Any]:
    """The ``CREATE_ISSUE`` outbox payload for a previewed draft (JSON-serialisable).

    ``ticket_id`` and ``ticket_url`` travel beside the issue, not in it: the sync engine uses
    them to post the new issue's link back to the support ticket. ``guard_override`` records
    who decided to file despite guard hits, for the private audit trail.
    """
    override = draft.override
    return {
        "repo": repo,
        "title": preview.title,
        "body": preview.body_markdown,
        "labels": list(preview.labels),
        "ticket_id": draft.ticket_id,
        "ticket_url": draft.ticket_url,
        "guard_override": None
        if override is None
        else {
            "reason": override.reason,
            "at": override.at.isoformat(),
            "terms": list(override.terms),
        },
    }
