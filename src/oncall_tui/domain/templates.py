"""Reply templates: canned answers with placeholders, filled from the ticket at hand.

The package ships a library (``oncall_tui/data/reply_templates.toml``, loaded by
``oncall_tui.data.resources.default_templates``); a team adds or replaces templates by id from
its config with the same shape::

    [templates.live-query-error]
    title = "Apology: server error while running a live query"
    body = '''
    Hi {requester},
    ...
    '''

Placeholders are ``{name}`` with a name from :data:`PLACEHOLDERS`. Filling never fails: a
placeholder without a value stays visible as ``{issue_url}`` so the engineer sees what is
left to fill in (:func:`unfilled`: the reply cannot be sent until it is), and any other
brace in the text (``{``, ``}``, ``{"json": 1}``) is kept as written. Replacement is a
single pass: values containing braces are not expanded again. :func:`render` also reflows
the body (:func:`reflow`): the TOML is wrapped for the file, the reply is wrapped by the
reader's window. ``{requester}`` is the requester's :func:`display_name`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from oncall_tui.domain.errors import ConfigValueError

#: Placeholder names a template may use, and what the app fills them with.
PLACEHOLDERS: Mapping[str, str] = MappingProxyType(
    {
        "customer": "the customer's real name (for private replies only)",
        "codename": "the customer's public codename, e.g. vesta",
        "requester": "the person who opened the ticket",
        "ticket_id": "the help-desk ticket number",
        "ticket_url": "the ticket's link in the help desk",
        "issue_url": "the public issue's link",
        "agent": "the engineer replying (you)",
    }
)

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_ID = re.compile(r"[a-z0-9][a-z0-9_-]*")
_KEYS = frozenset({"title", "body"})


@dataclass(frozen=True, slots=True)
class Template:
    """One reply template."""

    id: str
    """Stable id, e.g. ``live-query-error``; config entries with the same id replace it."""
    title: str
    """Shown in the template picker."""
    body: str
    """The reply text with ``{placeholder}``s."""

    @property
    def placeholders(self) -> tuple[str, ...]:
        """Placeholder names used in the body, in order of first use."""
        return placeholders(self.body)


def placeholders(text: str) -> tuple[str, ...]:
    """The ``{name}`` placeholders in ``text``, in order of first use, without repeats."""
    return tuple(dict.fromkeys(_PLACEHOLDER.findall(text)))


def fill(template: Template | str, context: Mapping[str, str | None]) -> str:
    """The template's body with every placeholder that has a value replaced.

    Args:
        template: a template or a raw body.
        context: values by placeholder name; missing, None or empty values leave the
            placeholder visible (``{issue_url}``).

    Never raises on stray braces; values are inserted verbatim, not re-expanded.
    """
    body = template.body if isinstance(template, Template) else template

    def replace(match: re.Match[str]) -> str:
        value = context.get(match.group(1))
        return value if isinstance(value, str) and value else match.group(0)

    return _PLACEHOLDER.sub(replace, body)


def missing(template: Template | str, context: Mapping[str, str | None]) -> tuple[str, ...]:
    """Placeholders that :func:`fill` would leave visible with this context."""
    body = template.body if isinstance(template, Template) else template
    return tuple(name for name in placeholders(body) if not context.get(name))


def parse_templates(
    d: Mapping[str, Any], key: str = "templates", allowed: Iterable[str] = PLACEHOLDERS
) -> list[Template]:
    """Build templates from a TOML table of ``id -> {title, body}``, in file order.

    Args:
        d: e.g. ``{"ack": {"title": "On-call acknowledgement", "body": "Hi {requester}, ..."}}``.
        key: dotted path of ``d`` in its file, prefixed to error keys.
        allowed: the placeholder names a body may use (a misspelt ``{custmer}`` would
            otherwise reach a customer).

    Raises:
        ConfigValueError: for a bad id, a missing or non-string title or body, an unknown
            key or an unknown placeholder, naming e.g. ``templates.ack.body``.
    """
    names = set(allowed)
    result: list[Template] = []
    for template_id, table in d.items():
        path = f"{key}.{template_id}" if key else str(template_id)
        if not isinstance(template_id, str) or not _ID.fullmatch(template_id):
            raise ConfigValueError(path, "an id of lowercase letters, digits, _ or -", template_id)
        if not isinstance(table, Mapping):
            raise ConfigValueError(path, "a table with title and body", table)
        for name in table:
            if name not in _KEYS:
                raise ConfigValueError(f"{path}.{name}", "a known key (body, title)")
        title = table.get("title")
        if not isinstance(title, str) or not title.strip():
            raise ConfigValueError(f"{path}.title", "a non-empty string", title)
        body = table.get("body")
        if not isinstance(body, str) or not body.strip():
            raise ConfigValueError(f"{path}.body", "a non-empty string", body)
        for name in placeholders(body):
            if name not in names:
                raise ConfigValueError(
                    f"{path}.body",
                    f"placeholders among {', '.join('{' + n + '}' for n in sorted(names))}",
                    "{" + name + "}",
                )
        result.append(Template(id=template_id, title=title.strip(), body=body.strip("\n")))
    return result


def merge_templates(base: Iterable[Template], overrides: Iterable[Template]) -> list[Template]:
    """``base`` with same-id templates replaced in place and new ones appended."""
    merged = {t.id: t for t in base}
    for template in overrides:
        merged[template.id] = template
    return list(merged.values())


_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")


def reflow(text: str) -> str:
    """Join the hard-wrapped lines of each paragraph into one line (the reader's window
    wraps them), keeping blank lines, list items, indented code and short lines.

    A line is a wrapped one when it is long (at least 60% of the longest line) and the next
    line continues it (not blank, not a new list item); so "Thanks," above "{agent}" and
    each item of a list stay on their own lines, while an item's indented continuation
    joins its item.
    """
    lines = text.split("\n")
    longest = max((len(line.rstrip()) for line in lines), default=0)
    if longest < 40:
        return text  # nothing looks hard-wrapped
    threshold = longest * 0.6
    out: list[str] = []
    joinable = False
    for line in lines:
        stripped = line.strip()
        continues = (
            joinable
            and bool(stripped)
            and not _LIST_ITEM.match(line)
            and not line.startswith(("    ", "\t"))
            and bool(out)
        )
        if continues:
            out[-1] = out[-1].rstrip() + " " + stripped
        else:
            out.append(line.rstrip())
        current = out[-1]
        joinable = (
            bool(stripped)
            and len(line.rstrip()) >= threshold
            and not line.startswith(("    ", "\t"))
        )
        if not current.strip():
            joinable = False
    return "\n".join(out)


@dataclass(frozen=True, slots=True)
class Rendered:
    """A template filled in for one ticket."""

    text: str
    """The reply text (reflowed; placeholders without a value left as ``{name}``)."""
    missing: tuple[str, ...]
    """Placeholders that could not be filled: sending is blocked until they are replaced."""


def render(template: Template, context: Mapping[str, str | None]) -> Rendered:
    """``template`` reflowed and filled from ``context``, with what is left to fill."""
    body = reflow(template.body)
    return Rendered(fill(body, context), missing(body, context))


def unfilled(text: str) -> tuple[str, ...]:
    """Known placeholders still in ``text`` (``{issue_url}``): a reply must not go out so."""
    return tuple(name for name in placeholders(text) if name in PLACEHOLDERS)


_EMAIL_NAME = re.compile(r"^\s*\"?([^\"<>@]+?)\"?\s*<[^<>@\s]+@[^<>\s]+>\s*$")


def display_name(requester: str | None, contacts: Iterable[str] = ()) -> str | None:
    """The requester as a person is greeted: "Rita Okafor", not "rita" of rita@globex.io.

    From, in order: the name in ``"Rita Okafor <rita@globex.io>"``; the customer contact with
    that e-mail; the contact whose first name is the e-mail's local part ("rita" → "Rita
    Okafor"); the local part itself when it reads as a name ("rita.okafor" → "Rita Okafor").
    None when nothing reads as a name (``x7@...``): the greeting is then left for the writer.
    """
    if not requester or not requester.strip():
        return None
    text = requester.strip()
    named = _EMAIL_NAME.match(text)
    if named:
        return " ".join(named.group(1).split())
    if "@" not in text:
        return " ".join(text.split())
    email = text.strip("<>").casefold()
    local = email.split("@", 1)[0]
    people = [c for c in contacts if c.strip()]
    for contact in people:
        if email in contact.casefold():
            name = re.sub(r"<[^>]*>|\S+@\S+", " ", contact)
            if name.strip():
                return " ".join(name.split())
    parts = [p for p in re.split(r"[._+-]+", local) if p]
    for contact in people:
        words = re.sub(r"<[^>]*>|\S+@\S+", " ", contact).split()
        if words and parts and words[0].casefold() == parts[0]:
            if len(parts) == 1 or (len(words) > 1 and words[-1].casefold() == parts[-1]):
                return " ".join(words)
    if parts and all(p.isalpha() and len(p) > 1 for p in parts):
        return " ".join(p.capitalize() for p in parts)
    return None
