"""The bug-report form as data: its field types and roles, sections, schema and TOML parsing.

The package ships a default (``oncall_tui/data/bug_report_form.toml``, loaded by
``oncall_tui.data.resources.default_form_schema``) and a team may replace it from its config;
:func:`parse_form_schema` checks either the same way. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from oncall_tui.domain.errors import ConfigValueError

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


def _table_id(d: Any, path: str, expected: str, known: frozenset[str]) -> str:
    """The id of a field's or a section's table, once the table and its keys are checked."""
    if not isinstance(d, Mapping):
        raise ConfigValueError(path, expected, d)
    _unknown(d, known, path)
    table_id = _str(d, "id", path, required=True)
    if not _ID.fullmatch(table_id):
        raise ConfigValueError(_path(path, "id"), "lowercase letters, digits, _ or -", table_id)
    return table_id


def _parse_field(d: Any, path: str) -> FormField:
    field_id = _table_id(d, path, "a table with id, label and type", _FIELD_KEYS)
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
    section_id = _table_id(d, path, "a table with id, title and fields", _SECTION_KEYS)
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


#: Values key of the support ticket's link; not a form field, never a field id.
TICKET_URL_KEY = "ticket_url"
