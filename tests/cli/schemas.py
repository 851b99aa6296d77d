"""The JSON schemas the README documents ("Scripting"), as checked by the tests.

A schema is a dict: key → a type, a tuple of types (None for null), a nested schema, or a
one-element list (an array of that). Every key must be there and nothing else.
"""

from __future__ import annotations

from typing import Any

STR, INT, BOOL = str, int, bool
OPT_STR = (str, type(None))
OPT_INT = (int, type(None))

CLOCK = {
    "name": STR,
    "state": STR,
    "target": OPT_STR,
    "due": OPT_STR,
    "warn_at": OPT_STR,
    "paused": BOOL,
    "seconds_left": OPT_INT,
    "countdown": STR,
}
TICKET = {
    "ref": STR,
    "source": STR,
    "backend": STR,
    "remote_id": OPT_STR,
    "url": OPT_STR,
    "subject": STR,
    "status": STR,
    "priority": STR,
    "channel": STR,
    "assignee": OPT_STR,
    "requester": OPT_STR,
    "customer": OPT_STR,
    "codename": OPT_STR,
    "plan": OPT_STR,
    "labels": [STR],
    "opened_at": STR,
    "updated_at": STR,
    "first_response_at": OPT_STR,
    "unsent": INT,
    "conflict": BOOL,
    "sla": CLOCK,
    "clocks": [CLOCK],
}
DRAFT = {
    "id": INT,
    "kind": STR,
    "ticket": OPT_STR,
    "title": STR,
    "state": STR,
    "updated_at": STR,
    "fields": dict,
}
OUTBOX = {
    "id": INT,
    "kind": STR,
    "state": STR,
    "in_undo_window": BOOL,
    "attempts": INT,
    "error": OPT_STR,
    "created_at": OPT_STR,
    "payload": dict,
}
COMMENT = {"author": STR, "created_at": STR, "public": BOOL, "body": STR, "sent": BOOL}
LINK = {"url": STR, "title": STR}
SHOW = {
    **TICKET,
    "body": STR,
    "thread": [COMMENT],
    "links": [LINK],
    "drafts": [DRAFT],
    "outbox": [OUTBOX],
}
STATES = {"ok", "warning", "critical", "breached", "paused", "none"}


def check(value: Any, schema: Any, where: str = "$") -> None:
    """Raise AssertionError naming the first place ``value`` does not fit ``schema``."""
    if isinstance(schema, dict):
        assert isinstance(value, dict), f"{where}: expected an object, got {value!r}"
        assert set(value) == set(schema), f"{where}: keys {sorted(set(value) ^ set(schema))}"
        for key, sub in schema.items():
            check(value[key], sub, f"{where}.{key}")
    elif isinstance(schema, list):
        assert isinstance(value, list), f"{where}: expected an array, got {value!r}"
        for i, item in enumerate(value):
            check(item, schema[0], f"{where}[{i}]")
    else:
        types = schema if isinstance(schema, tuple) else (schema,)
        if bool not in types:  # True is an int to Python, not to a JSON schema
            assert not isinstance(value, bool), f"{where}: a boolean where {types} belong"
        assert isinstance(value, types), f"{where}: {value!r} is not {types}"
