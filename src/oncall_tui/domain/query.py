"""The queue's search language, shared by the `/` filter and the saved views.

Free words search the full text (subject, body, comments, customer name and codename);
``field:value`` terms filter, a comma means "any of", a leading ``-`` negates::

    printer jam priority:P0,P1 plan:ultimate customer:vesta status:open label:~investigate
    assignee:me assignee:none source:chat is:open is:paused is:pending sla:breached -label:bug
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

FIELDS = {
    "priority": "P0, P1, P2 or P3",
    "plan": "a plan name, e.g. premium",
    "customer": "a codename or a word of the customer's name",
    "status": "new, open, pending, hold, solved or closed",
    "label": "a label, e.g. ~investigate",
    "assignee": "a name, me or none",
    "source": "helpdesk, chat or tracker",
    "is": "open, paused, pending (not yet synced), conflict or failed",
    "sla": "ok, warning, critical, breached, paused or none",
}
ALIASES = {"p": "priority", "prio": "priority", "cust": "customer", "l": "label", "src": "source"}
IS_VALUES = {"open", "closed", "paused", "pending", "conflict", "failed"}
SLA_VALUES = {"ok", "warning", "critical", "breached", "paused", "none"}


@dataclass(frozen=True)
class Term:
    """One ``field:values`` filter."""

    field: str
    values: tuple[str, ...]
    negated: bool = False


@dataclass(frozen=True)
class Query:
    """A parsed search: filters, full-text words, and any problems to show the user."""

    terms: tuple[Term, ...] = ()
    words: tuple[str, ...] = ()
    problems: tuple[str, ...] = field(default=(), compare=False)

    def __and__(self, other: Query) -> Query:
        return Query(
            self.terms + other.terms, self.words + other.words, self.problems + other.problems
        )

    @property
    def is_empty(self) -> bool:
        """True when the query matches everything."""
        return not self.terms and not self.words


def _split(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:  # an unfinished quote while typing: fall back to whitespace
        return text.replace('"', " ").split()


def parse_query(text: str) -> Query:
    """Parse what the user typed; never raises (problems are reported in the result)."""
    terms: list[Term] = []
    words: list[str] = []
    problems: list[str] = []
    for token in _split(text):
        negated = token.startswith("-") and ":" in token
        body = token[1:] if negated else token
        name, sep, value = body.partition(":")
        key = ALIASES.get(name.lower(), name.lower())
        if not sep or key not in FIELDS:
            words.append(token)
            continue
        values = tuple(v for v in value.split(",") if v)
        if not values:
            problems.append(f"{key}: needs a value ({FIELDS[key]})")
            continue
        if key == "priority":
            values = tuple(v.upper() if v.upper().startswith("P") else f"P{v}" for v in values)
            bad = [v for v in values if v not in {"P0", "P1", "P2", "P3"}]
        elif key in {"status", "source", "is", "sla", "plan"}:
            values = tuple(v.lower() for v in values)
            allowed = {
                "status": {"new", "open", "pending", "hold", "solved", "closed"},
                "source": {"helpdesk", "chat", "tracker"},
                "is": IS_VALUES,
                "sla": SLA_VALUES,
            }.get(key)
            bad = [v for v in values if allowed is not None and v not in allowed]
        else:
            bad = []
        if bad:
            problems.append(f"{key}:{','.join(bad)} is not valid ({FIELDS[key]})")
            continue
        terms.append(Term(key, values, negated))
    return Query(tuple(terms), tuple(words), tuple(problems))
