"""The customer bug-report form: schema, validation, pre-fill, rendering and search-first help.

The form is data (:class:`FormSchema`), parsed from TOML by :func:`parse_form_schema`: the
package ships a default (``oncall_tui/data/bug_report_form.toml``, loaded by
``oncall_tui.data.resources.default_form_schema``) and a team may replace it from its config.
Everything here is pure: no I/O, no clock.

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
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from oncall_tui.domain.errors import ConfigValueError
from oncall_tui.domain.guard import GuardOverride
from oncall_tui.domain.labels import DEFAULT_SCHEME, LabelScheme
from oncall_tui.domain.tickets import Customer, Ticket

#: Values key of the support ticket's link; not a form field, never a field id.
TICKET_URL_KEY = "ticket_url"
#: GitHub refuses issue bodies over 65,536 characters; keep a margin for what sync adds.
DEFAULT_MAX_BODY_CHARS = 65_000
#: GitHub's limit on issue titles.
TITLE_MAX_CHARS = 256


class FieldType(StrEnum):
    """How a field is edited and checked."""

    LINE = "line"  # one line of free text
    TEXT = "text"  # multi-line free text (Markdown allowed)
    CHOICE = "choice"  # one of the field's ``choices``
    VERSION = "version"  # a version number: 4.57.1, v1.2, 4.57.1-rc2
    INTEGER = "integer"  # a whole number, 0 or more


class FieldRole(StrEnum):
    """What a field means to the code: the issue title, the codename label, pre-fill targets.

    Roles let a team rename or reword fields while pre-fill and rendering still find them.
    """

    TITLE = "title"
    CODENAME = "codename"
    SERVER_VERSION = "server_version"
    AGENT_KIND = "agent_kind"
    AGENT_VERSION = "agent_version"
    OS = "os"
    BROWSER = "browser"


#: The field type each role needs.
ROLE_TYPES: Mapping[FieldRole, FieldType] = MappingProxyType(
    {
        FieldRole.TITLE: FieldType.LINE,
        FieldRole.CODENAME: FieldType.LINE,
        FieldRole.SERVER_VERSION: FieldType.VERSION,
        FieldRole.AGENT_KIND: FieldType.CHOICE,
        FieldRole.AGENT_VERSION: FieldType.VERSION,
        FieldRole.OS: FieldType.LINE,
        FieldRole.BROWSER: FieldType.LINE,
    }
)

#: Longest value of a field type when the schema sets no ``max_length`` (None: the body cap).
DEFAULT_MAX_LENGTH: Mapping[FieldType, int | None] = MappingProxyType(
    {
        FieldType.LINE: 1_000,
        FieldType.TEXT: None,
        FieldType.CHOICE: 200,
        FieldType.VERSION: 64,
        FieldType.INTEGER: 18,
    }
)


@dataclass(frozen=True, slots=True)
class FormField:
    """One input of the form."""

    id: str
    """Stable id: the key in draft values and the widget id (``[a-z][a-z0-9_-]*``)."""
    label: str
    """Shown beside the input and used as the heading in the issue body."""
    type: FieldType
    required: bool = False
    help: str = ""
    """One or two sentences under the input."""
    placeholder: str = ""
    choices: tuple[str, ...] = ()
    """The allowed values of a ``choice`` field, in display order."""
    role: FieldRole | None = None
    max_length: int | None = None
    """Longest accepted value in characters; None means the type's default."""
    pattern: str | None = None
    """Optional regular expression the whole (stripped) value must match."""
    pattern_message: str = ""
    """Shown when ``pattern`` does not match."""

    @property
    def limit(self) -> int | None:
        """The effective maximum length."""
        return self.max_length if self.max_length is not None else DEFAULT_MAX_LENGTH[self.type]


@dataclass(frozen=True, slots=True)
class FormSection:
    """A group of fields; ``collapsed`` ones start folded in the form and in the issue."""

    id: str
    title: str
    fields: tuple[FormField, ...]
    collapsed: bool = False


@dataclass(frozen=True, slots=True)
class FormSchema:
    """The whole bug-report form."""

    sections: tuple[FormSection, ...]
    max_body_chars: int = DEFAULT_MAX_BODY_CHARS
    """Longest issue body the tracker accepts."""
    link_ticket_in_issue: bool = False
    """Write "Support ticket: <link>" into the public issue. Off by default: the link is a
    private help-desk URL, and some help desks put the customer's name in it."""

    @property
    def fields(self) -> tuple[FormField, ...]:
        """Every field, in form order."""
        return tuple(f for s in self.sections for f in s.fields)

    def field(self, field_id: str) -> FormField:
        """The field with this id.

        Raises:
            KeyError: no such field.
        """
        for f in self.fields:
            if f.id == field_id:
                return f
        raise KeyError(field_id)

    def by_role(self, role: FieldRole) -> FormField | None:
        """The field playing ``role``, if the schema has one."""
        return next((f for f in self.fields if f.role is role), None)

    @property
    def title_field(self) -> FormField:
        """The field whose value becomes the issue title (every schema has one)."""
        found = self.by_role(FieldRole.TITLE)
        assert found is not None, "parse_form_schema guarantees a title field"
        return found


# --------------------------------------------------------------------------- schema parsing

_ID = re.compile(r"[a-z][a-z0-9_-]*")
_SECTION_KEYS = frozenset({"id", "title", "collapsed", "fields"})
_FIELD_KEYS = frozenset(
    {
        "id",
        "label",
        "type",
        "required",
        "help",
        "placeholder",
        "choices",
        "role",
        "max_length",
        "pattern",
        "pattern_message",
    }
)
#: Top-level keys :func:`parse_form_schema` reads; others belong to the caller's table.
FORM_KEYS = frozenset({"sections", "max_body_chars", "link_ticket_in_issue"})


def _path(prefix: str, key: str) -> str:
    if not prefix:
        return key
    return f"{prefix}{key}" if key.startswith("[") else f"{prefix}.{key}"


def _str(d: Mapping[str, Any], name: str, path: str, *, required: bool = False) -> str:
    value = d.get(name, "" if not required else None)
    if not isinstance(value, str) or (required and not value.strip()):
        expected = "a non-empty string" if required else "a string"
        raise ConfigValueError(_path(path, name), expected, value)
    return value


def _bool(d: Mapping[str, Any], name: str, path: str, default: bool) -> bool:
    value = d.get(name, default)
    if not isinstance(value, bool):
        raise ConfigValueError(_path(path, name), "true or false", value)
    return value


def _positive_int(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigValueError(path, "a whole number, at least 1", value)
    return value


def _unknown(d: Mapping[str, Any], known: frozenset[str], path: str) -> None:
    for name in d:
        if name not in known:
            raise ConfigValueError(
                _path(path, str(name)), f"a known key ({', '.join(sorted(known))})"
            )


def _parse_field(d: Any, path: str) -> FormField:
    if not isinstance(d, Mapping):
        raise ConfigValueError(path, "a table with id, label and type", d)
    _unknown(d, _FIELD_KEYS, path)
    field_id = _str(d, "id", path, required=True)
    if not _ID.fullmatch(field_id):
        raise ConfigValueError(_path(path, "id"), "lowercase letters, digits, _ or -", field_id)
    if field_id == TICKET_URL_KEY:
        raise ConfigValueError(
            _path(path, "id"), f"an id other than the reserved {TICKET_URL_KEY!r}"
        )
    label = _str(d, "label", path, required=True)
    raw_type = d.get("type")
    try:
        ftype = FieldType(str(raw_type) if isinstance(raw_type, str) else "")
    except ValueError:
        raise ConfigValueError(
            _path(path, "type"), f"one of {', '.join(t.value for t in FieldType)}", raw_type
        ) from None
    choices: tuple[str, ...] = ()
    if ftype is FieldType.CHOICE:
        raw = d.get("choices")
        cpath = _path(path, "choices")
        if not isinstance(raw, list) or not raw:
            raise ConfigValueError(cpath, "a non-empty array of strings for a choice field", raw)
        for item in raw:
            if not isinstance(item, str) or not item.strip() or item != item.strip():
                raise ConfigValueError(cpath, "non-empty strings without surrounding spaces", item)
        if len(set(raw)) != len(raw):
            raise ConfigValueError(cpath, "distinct choices", raw)
        choices = tuple(raw)
    elif "choices" in d:
        raise ConfigValueError(
            _path(path, "choices"), 'no choices unless type = "choice"', d["choices"]
        )
    role: FieldRole | None = None
    if "role" in d:
        try:
            role = FieldRole(d["role"])
        except ValueError:
            raise ConfigValueError(
                _path(path, "role"), f"one of {', '.join(r.value for r in FieldRole)}", d["role"]
            ) from None
        if ROLE_TYPES[role] is not ftype:
            raise ConfigValueError(
                _path(path, "type"),
                f"{ROLE_TYPES[role].value!r} for role {role.value!r}",
                ftype.value,
            )
    max_length = None
    if "max_length" in d:
        max_length = _positive_int(d["max_length"], _path(path, "max_length"))
    elif role is FieldRole.TITLE:
        max_length = TITLE_MAX_CHARS
    pattern = None
    if "pattern" in d:
        pattern = _str(d, "pattern", path, required=True)
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ConfigValueError(
                _path(path, "pattern"), f"a valid regular expression ({exc})", pattern
            ) from None
    required = _bool(d, "required", path, False)
    if role is FieldRole.TITLE and not required:
        raise ConfigValueError(_path(path, "required"), "true for the title field", required)
    return FormField(
        id=field_id,
        label=label,
        type=ftype,
        required=required,
        help=_str(d, "help", path),
        placeholder=_str(d, "placeholder", path),
        choices=choices,
        role=role,
        max_length=max_length,
        pattern=pattern,
        pattern_message=_str(d, "pattern_message", path),
    )


def _parse_section(d: Any, path: str) -> FormSection:
    if not isinstance(d, Mapping):
        raise ConfigValueError(path, "a table with id, title and fields", d)
    _unknown(d, _SECTION_KEYS, path)
    section_id = _str(d, "id", path, required=True)
    if not _ID.fullmatch(section_id):
        raise ConfigValueError(_path(path, "id"), "lowercase letters, digits, _ or -", section_id)
    raw_fields = d.get("fields")
    if not isinstance(raw_fields, list) or not raw_fields:
        raise ConfigValueError(
            _path(path, "fields"), "a non-empty array of [[...fields]] tables", raw_fields
        )
    fields_ = tuple(_parse_field(f, _path(path, f"fields[{i}]")) for i, f in enumerate(raw_fields))
    return FormSection(
        id=section_id,
        title=_str(d, "title", path, required=True),
        fields=fields_,
        collapsed=_bool(d, "collapsed", path, False),
    )


def parse_form_schema(
    d: Mapping[str, Any], key: str = "", base: FormSchema | None = None
) -> FormSchema:
    """Build a :class:`FormSchema` from parsed TOML.

    Only the keys in :data:`FORM_KEYS` are read, so ``d`` may be a config table that also
    holds other settings (repository, labels). ``sections``, when present, replaces all of
    ``base``'s sections; the scalar keys override ``base``'s one by one.

    Args:
        d: the table, e.g. ``{"sections": [{"id": ..., "title": ..., "fields": [...]}]}``.
        key: dotted path of ``d`` in its file, prefixed to error keys (e.g. ``bug_report``).
        base: the schema whose values apply where ``d`` is silent (the packaged default).

    Raises:
        ConfigValueError: naming the offending key, e.g. ``sections[1].fields[0].type``
            (array indexes count from 0): unknown type or role, a choice field without
            choices, duplicate field or section ids, no title field, a role on a field of the
            wrong type, a bad pattern, an unknown key.
    """
    if "sections" in d:
        raw = d["sections"]
        if not isinstance(raw, list) or not raw:
            raise ConfigValueError(
                _path(key, "sections"), "a non-empty array of [[sections]] tables", raw
            )
        sections = tuple(_parse_section(s, _path(key, f"sections[{i}]")) for i, s in enumerate(raw))
    elif base is not None:
        sections = base.sections
    else:
        raise ConfigValueError(_path(key, "sections"), "at least one [[sections]] table")

    seen_sections: set[str] = set()
    seen_fields: set[str] = set()
    roles: dict[FieldRole, str] = {}
    for i, section in enumerate(sections):
        spath = _path(key, f"sections[{i}]")
        if section.id in seen_sections:
            raise ConfigValueError(_path(spath, "id"), "a section id used once", section.id)
        seen_sections.add(section.id)
        for j, f in enumerate(section.fields):
            fpath = _path(spath, f"fields[{j}]")
            if f.id in seen_fields:
                raise ConfigValueError(_path(fpath, "id"), "a field id used once in the form", f.id)
            seen_fields.add(f.id)
            if f.role is not None:
                if f.role in roles:
                    raise ConfigValueError(
                        _path(fpath, "role"),
                        f"a role used once (already on {roles[f.role]!r})",
                        f.role.value,
                    )
                roles[f.role] = f.id
    if FieldRole.TITLE not in roles:
        raise ConfigValueError(
            _path(key, "sections"), 'one field with role = "title" (the issue title)'
        )

    max_body = base.max_body_chars if base else DEFAULT_MAX_BODY_CHARS
    if "max_body_chars" in d:
        max_body = _positive_int(d["max_body_chars"], _path(key, "max_body_chars"))
    link = _bool(d, "link_ticket_in_issue", key, base.link_ticket_in_issue if base else False)
    return FormSchema(sections=sections, max_body_chars=max_body, link_ticket_in_issue=link)


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
_OS_RES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"\b(?:mac\s?OS(?:\s?X)?|OS\s?X)\b[ \t]*("
            + _MAC_NAMES
            + r")?[ \t]*(\d{2}(?:\.\d+){0,2})?",
            re.IGNORECASE,
        ),
        "macOS",
    ),
    (
        re.compile(
            r"\bWindows\s+((?:Server\s+)?(?:2012(?:\s?R2)?|2016|2019|2022|2025|10|11))\b",
            re.IGNORECASE,
        ),
        "Windows",
    ),
    (re.compile(r"\bUbuntu\s+(\d{2}\.\d{2}(?:\.\d+)?)(?!\.?\d)", re.IGNORECASE), "Ubuntu"),
    (re.compile(r"\bDebian\s+(\d{1,2}(?:\.\d+)?)(?!\.?\d)", re.IGNORECASE), "Debian"),
    (
        re.compile(
            r"\b(?:RHEL|Red\s+Hat\s+Enterprise\s+Linux)\s*(\d{1,2}(?:\.\d+)?)(?!\.?\d)",
            re.IGNORECASE,
        ),
        "RHEL",
    ),
    (re.compile(r"\bCentOS\s+((?:Stream\s+)?\d{1,2}(?:\.\d+)*)(?!\.?\d)", re.IGNORECASE), "CentOS"),
    (re.compile(r"\bFedora\s+(\d{2})(?!\.?\d)", re.IGNORECASE), "Fedora"),
    (re.compile(r"\bAmazon\s+Linux\s+(2023|2)(?!\.?\d)", re.IGNORECASE), "Amazon Linux"),
    (re.compile(r"\bChrome\s?OS\s+(\d+(?:\.\d+)*)(?!\.?\d)", re.IGNORECASE), "ChromeOS"),
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


# --------------------------------------------------------------------------- search first

#: Words that say nothing about which bug it is.
STOPWORDS = frozenset(
    """
    a about after again all also am an and any are as at be because been before being both
    but by can cannot could did do does doing done don dont during each even for from get
    gets getting got had has have having he her here hers him his how i if in into is isn
    it its just me more most my no nor not now of off on once only or other our out over
    own same she should so some such than that the their them then there these they this
    those through to too under until up very was we were what when where which while who
    whom why will with would you your yours
    hi hello thanks thank please issue issues problem problems bug bugs customer customers
    help seems seem still anymore when since trying tried try work works working
    """.split()
)

_QUOTED = re.compile(
    r"\"([^\"\n]{8,160})\"|“([^”\n]{8,160})”|`([^`\n]{8,160})`|(?<!\w)'([^'\n]{8,160})'(?!\w)"
)
_ERROR_LINE = re.compile(
    r"\b(?:error|exception|fatal|panic|failed)\b\s*:\s*([^\n]{8,160})", re.IGNORECASE
)
_VERSIONISH = re.compile(r"\bv?\d+(?:\.\d+)+(?:-[0-9A-Za-z.]+)?\b", re.IGNORECASE)
_NOISE = re.compile(
    r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b|\b[0-9a-f]{12,}\b|\b\d{5,}\b",
    re.IGNORECASE,
)
_EMPTY_BRACKETS = re.compile(r"\(\s*\)|\[\s*\]|\{\s*\}")
_SPACE_BEFORE_CLOSE = re.compile(r"\s+([)\]}])")
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")


def _stem(word: str) -> str:
    w = word.lower().removesuffix("'s")
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3 and not w.endswith("ss"):
            w = w[: -len(suffix)] + keep
            break
    return w[:-1] if len(w) > 4 and w.endswith("e") else w


def _keywords(text: str, stopwords: frozenset[str]) -> list[str]:
    text = _NOISE.sub(" ", _VERSIONISH.sub(" ", text))
    words = [w for w in _WORD.findall(text) if w.lower() not in stopwords and len(w) > 1]
    return list(dict.fromkeys(w.lower() for w in words))


def _title_and_texts(values: Mapping[str, str], schema: FormSchema | None) -> tuple[str, list[str]]:
    if schema is None:
        title = values.get("title") or ""
        texts = [v for k, v in values.items() if k not in ("title", TICKET_URL_KEY)]
    else:
        title = values.get(schema.title_field.id) or ""
        texts = [values.get(f.id) or "" for f in schema.fields if f.type is FieldType.TEXT]
    return title, texts


#: Error messages taken from a draft; the dedupe below is quadratic in their number.
MAX_ERROR_MESSAGES = 20


def _error_messages(texts: Iterable[str]) -> list[str]:
    found: list[str] = []
    for text in texts:
        for m in _QUOTED.finditer(text):
            found.append(next(g for g in m.groups() if g))
        for m in _ERROR_LINE.finditer(text):
            found.append(m.group(1))
    cleaned: list[str] = []
    for message in found:
        message = _EMPTY_BRACKETS.sub(" ", _NOISE.sub("", _VERSIONISH.sub("", message)))
        message = " ".join(message.replace('"', "").split()).strip(" .,:;'`")
        message = _SPACE_BEFORE_CLOSE.sub(r"\1", message)
        if len(message) >= 8 and not any(message in seen for seen in cleaned):
            cleaned.append(message)  # "502 Bad Gateway" inside "Request failed: 502..." is dropped
            if len(cleaned) >= MAX_ERROR_MESSAGES:  # a pasted log: enough to search with
                break
    return cleaned


def similar_issue_query(
    values: Mapping[str, str],
    schema: FormSchema | None = None,
    *,
    extra_stopwords: Iterable[str] = (),
) -> list[str]:
    """Search strings to try before filing, most specific first.

    Variants: error messages quoted as phrases (quoted text or ``error: ...`` lines, with
    versions, ids and long numbers stripped), the title's keywords, and the title's four
    longest keywords. Versions never appear: a bug seen on 4.57.1 is likely filed against
    another version.

    Args:
        values: the draft's values.
        schema: the form (to find the title and text fields); without it, ``title`` is the
            title and every other value is searched for messages.
        extra_stopwords: product words every issue shares (e.g. the product's name).
    """
    stop = STOPWORDS | {w.lower() for w in extra_stopwords}
    title, texts = _title_and_texts(values, schema)
    queries = [f'"{m}"' for m in _error_messages([title, *texts])[:3]]
    words = _keywords(title, stop)
    if words:
        queries.append(" ".join(words))
        if len(words) > 4:
            longest = set(sorted(words, key=len, reverse=True)[:4])
            queries.append(" ".join(w for w in words if w in longest))
    return list(dict.fromkeys(q for q in queries if q.strip('"').strip()))


K = TypeVar("K")


@dataclass(frozen=True, slots=True)
class SimilarIssue(Generic[K]):
    """A candidate issue and how much it shares with the draft (0 to 1)."""

    id: K
    title: str
    score: float


def rank_similar(
    candidates: Sequence[tuple[K, str, str]],
    values: Mapping[str, str],
    schema: FormSchema | None = None,
    *,
    extra_stopwords: Iterable[str] = (),
) -> list[SimilarIssue[K]]:
    """Order issues found by the store's full-text search by likeness to the draft.

    The score is token overlap: the share of the draft's title and error-message keywords
    (lightly stemmed) found in the candidate, a keyword in its title counting fully and one
    only in its body half. Candidates sharing nothing are dropped; ties keep input order.

    Args:
        candidates: ``(id, title, body)`` triples.
        values: the draft's values.
        schema: as for :func:`similar_issue_query`.
        extra_stopwords: as for :func:`similar_issue_query`.
    """
    stop = STOPWORDS | {w.lower() for w in extra_stopwords}
    title, texts = _title_and_texts(values, schema)
    query_text = " ".join([title, *_error_messages([title, *texts])])
    query = {_stem(w) for w in _keywords(query_text, stop)}
    if not query:
        return []
    ranked: list[SimilarIssue[K]] = []
    for issue_id, issue_title, issue_body in candidates:
        in_title = {_stem(w) for w in _keywords(issue_title, stop)}
        in_body = {_stem(w) for w in _keywords(issue_body, stop)}
        score = sum(1.0 if w in in_title else 0.5 if w in in_body else 0.0 for w in query)
        if score > 0:
            ranked.append(SimilarIssue(issue_id, issue_title, round(score / len(query), 4)))
    ranked.sort(key=lambda s: -s.score)
    return ranked
