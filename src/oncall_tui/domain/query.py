"""The queue's search language, shared by the `/` filter and the saved views.

Free words search the full text (subject, body, comments, customer name and codename) as
prefixes; ``field:value`` terms filter, a comma means "any of", a leading ``-`` negates a
term or a word; ``"quotes"`` keep spaces (``label:"+more info please"``) or make a word of
something that looks like a term (``"error:500"``)::

    printer jam -acme priority:P0,P1 plan:ultimate customer:vesta status:pending
    label:~investigate assignee:alex assignee:none source:desk is:open is:paused
    is:unsent sla:breached -label:bug #41165 41165 rita@globex.io

``#41165`` is a ticket's number at its backend (the help desk's ticket id, the tracker's issue
number); a bare number is that ticket *or* the word. An e-mail address (or its beginning,
``rita@glo``) searches the requesters. A misspelt field or value is not searched for: it is
reported in :attr:`Query.problems` ("priorty: unknown field — did you mean priority?").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

FIELDS = {
    "priority": "P0, P1, P2 or P3",
    "plan": "a plan name, e.g. premium",
    "customer": "a codename or a word of the customer's name",
    "status": "new, open, pending, hold, solved or closed",
    "label": "a label, e.g. ~investigate",
    "assignee": "an e-mail, its name before the @ (alex), me or none",
    "source": "desk, chat or tracker",
    "is": "open, closed, paused, pending, unsent, conflict or failed",
    "sla": "ok, warning, critical, breached, paused or none",
}
ALIASES = {"p": "priority", "prio": "priority", "cust": "customer", "l": "label", "src": "source"}
#: ``is:`` values. ``is:pending`` is the ticket status (as ``status:pending``); a local change
#: not yet confirmed by its backend is ``is:unsent``.
IS_VALUES = {"open", "closed", "paused", "pending", "unsent", "conflict", "failed"}
SLA_VALUES = {"ok", "warning", "critical", "breached", "paused", "none"}
STATUS_VALUES = {"new", "open", "pending", "hold", "solved", "closed"}
#: What the queue's Source column shows, and the backends' names, for each stored source.
SOURCE_WORDS = {
    "desk": "helpdesk",
    "helpdesk": "helpdesk",
    "zendesk": "helpdesk",
    "chat": "chat",
    "slack": "chat",
    "tracker": "tracker",
    "github": "tracker",
}
#: The stored source as the Source column shows it.
SOURCE_LABELS = {"helpdesk": "desk", "chat": "chat", "tracker": "tracker"}
STATUS_WORDS = {**{s: s for s in STATUS_VALUES}, "on-hold": "hold", "onhold": "hold"}
PRIORITY_VALUES = ("P0", "P1", "P2", "P3")

_NUMBER = re.compile(r"#?([0-9]{1,18})|([\w.-]+/[\w.-]+#[0-9]{1,18})")
_EMAIL = re.compile(r"[^\s@\"]+@[^\s@\"]*")
_FIELD_NAME = re.compile(r"[A-Za-z][A-Za-z_-]*")


@dataclass(frozen=True)
class Term:
    """One ``field:values`` filter."""

    field: str
    values: tuple[str, ...]
    negated: bool = False


@dataclass(frozen=True)
class Query:
    """A parsed search: filters, full-text words, and any problems to show the user.

    Attributes:
        terms: ``field:value`` filters, all of which must hold.
        words: full-text words (prefixes), all of which must match.
        excluded: words (``-acme``) no matching ticket may contain.
        numbers: ticket numbers; ``(number, exact)``: exact for ``#41165`` and a tracker's
            ``acme/product#123``, else the number *or* the word (a bare ``41165``).
        emails: requester addresses, or the beginning of one (``rita@glo``).
        problems: what could not be understood, one line each (never searched for).
    """

    terms: tuple[Term, ...] = ()
    words: tuple[str, ...] = ()
    problems: tuple[str, ...] = field(default=(), compare=False)
    excluded: tuple[str, ...] = ()
    numbers: tuple[tuple[str, bool], ...] = ()
    emails: tuple[str, ...] = ()

    def __and__(self, other: Query) -> Query:
        return Query(
            self.terms + other.terms,
            self.words + other.words,
            self.problems + other.problems,
            self.excluded + other.excluded,
            self.numbers + other.numbers,
            self.emails + other.emails,
        )

    @property
    def is_empty(self) -> bool:
        """True when the query matches everything."""
        return not (self.terms or self.words or self.excluded or self.numbers or self.emails)

    @property
    def depends_on_time(self) -> bool:
        """True when the matching tickets change with the clock alone (``sla:breached`` gains
        tickets as due times pass); every other term changes only with the data."""
        return any(term.field == "sla" for term in self.terms)

    @property
    def ticket_number(self) -> str | None:
        """The number when the whole query is one ticket number (``#41165`` or ``41165``):
        the filter box opens that ticket on enter."""
        if len(self.numbers) == 1 and not (
            self.terms or self.words or self.excluded or self.emails
        ):
            return self.numbers[0][0]
        return None


def _split(text: str) -> list[tuple[str, bool]]:
    """Tokens separated by whitespace, each with whether it opens with a quote (after any
    ``-``): such a token is words, whatever it looks like.

    Double quotes group (``label:"+more info please"``); an unfinished quote while typing
    runs to the end. Apostrophes are letters (``customer's``).
    """
    tokens: list[tuple[str, bool]] = []
    current: list[str] = []
    quoted = in_quote = False
    started = False
    for ch in text:
        if ch == '"':
            if not current or current == ["-"]:
                quoted = True
            in_quote = not in_quote
            started = True
        elif ch.isspace() and not in_quote:
            if started:
                tokens.append(("".join(current), quoted))
            current, quoted, started = [], False, False
        else:
            current.append(ch)
            started = True
    if started:
        tokens.append(("".join(current), quoted))
    return tokens


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice ``word`` most likely misspells, if any is close."""
    import difflib  # only when something is misspelt: start-up does not import it

    found = difflib.get_close_matches(word.lower(), sorted(choices), n=1, cutoff=0.6)
    return found[0] if found else None


def _unknown_field(name: str) -> str:
    guess = closest(name, set(FIELDS) | set(ALIASES))
    if guess is not None:
        guess = ALIASES.get(guess, guess)
        return f"{name}: unknown field — did you mean {guess}?"
    return f"{name}: unknown field — fields: {', '.join(sorted(FIELDS))}"


def _bad_values(key: str, bad: list[str], allowed: Iterable[str]) -> str:
    shown = ",".join(bad)
    guess = closest(bad[0], allowed) if len(bad) == 1 else None
    hint = f"did you mean {key}:{guess}?" if guess else FIELDS[key]
    return f"{key}:{shown} is not valid — {hint}"


def _values(key: str, values: tuple[str, ...]) -> tuple[tuple[str, ...], str | None]:
    """Normalised values of a field, or a problem."""
    if key == "priority":
        norm = tuple(v.upper() if v.upper().startswith("P") else f"P{v}" for v in values)
        bad = [v for v, n in zip(values, norm, strict=True) if n not in PRIORITY_VALUES]
        return norm, _bad_values(key, bad, PRIORITY_VALUES) if bad else None
    lookup: dict[str, str] | None = {
        "status": STATUS_WORDS,
        "source": SOURCE_WORDS,
        "is": {v: v for v in IS_VALUES},
        "sla": {v: v for v in SLA_VALUES},
    }.get(key)
    if key == "plan":
        return tuple(v.lower() for v in values), None
    if lookup is None:
        return values, None
    bad = [v for v in values if v.lower() not in lookup]
    if bad:
        return values, _bad_values(key, bad, lookup)
    return tuple(dict.fromkeys(lookup[v.lower()] for v in values)), None


def parse_query(text: str) -> Query:
    """Parse what the user typed; never raises (problems are reported in the result)."""
    terms: list[Term] = []
    words: list[str] = []
    excluded: list[str] = []
    numbers: list[tuple[str, bool]] = []
    emails: list[str] = []
    problems: list[str] = []
    for token, quoted in _split(text):
        negated = token.startswith("-") and len(token) > 1
        body = token[1:] if negated else token
        if quoted:  # "error:500", -"acme corp": words, whatever they look like
            if body.strip():
                (excluded if negated else words).append(body)
            continue
        name, sep, value = body.partition(":")
        key = ALIASES.get(name.lower(), name.lower())
        if sep and key in FIELDS:
            raw = tuple(v for v in value.split(",") if v)
            if not raw:
                problems.append(f"{key}: needs a value ({FIELDS[key]})")
                continue
            values, problem = _values(key, raw)
            if problem is not None:
                problems.append(problem)
                continue
            terms.append(Term(key, values, negated))
            continue
        if sep and _FIELD_NAME.fullmatch(name) and not value.startswith("/"):
            # A misspelt field, not words: "priorty:P0" must not quietly match nothing
            # (https://... is a word; quote anything else that should be one).
            problems.append(_unknown_field(name))
            continue
        if negated:
            excluded.append(body)
            continue
        number = _NUMBER.fullmatch(body)
        if number is not None:  # "#41165" or "acme/product#123": that ticket, nothing else
            numbers.append((number.group(1) or number.group(2), "#" in body))
        elif _EMAIL.fullmatch(body) and not body.startswith("@"):
            emails.append(body.lower())
        else:
            words.append(token)
    return Query(
        tuple(terms),
        tuple(words),
        tuple(problems),
        tuple(excluded),
        tuple(numbers),
        tuple(emails),
    )
