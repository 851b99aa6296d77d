"""Reading payloads: typed access to the backends' JSON that fails with
:class:`~oncall_tui.sync.base.BadPayload`, never ``KeyError`` or ``TypeError``; instants and
JSON text read the same way."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from oncall_tui.sync.base import MAX_ID_CHARS, BadPayload


class Fields:
    """Typed access to one JSON object of a payload.

    Every getter raises :class:`BadPayload` naming the object and key when the value is missing
    or of the wrong type, so mapping code reads like the wire format and cannot leak a
    ``KeyError`` or ``TypeError``.
    """

    __slots__ = ("data", "what")

    def __init__(self, obj: object, what: str) -> None:
        if not isinstance(obj, dict):
            raise BadPayload(f"{what}: expected a JSON object, got {_kind(obj)}")
        self.data: dict[str, Any] = obj
        self.what = what

    def _fail(self, key: str, expected: str, value: object) -> BadPayload:
        return BadPayload(f"{self.what}.{key}: expected {expected}, got {_kind(value)}")

    def raw(self, key: str) -> Any:
        """The value as it is (None if absent)."""
        return self.data.get(key)

    def text(self, key: str) -> str:
        """A required string."""
        value = self.data.get(key)
        if not isinstance(value, str):
            raise self._fail(key, "a string", value)
        return value

    def opt_text(self, key: str) -> str | None:
        """A string, or None if absent or null."""
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self._fail(key, "a string or null", value)
        return value

    def integer(self, key: str) -> int:
        """A required integer (booleans are not integers here)."""
        value = self.data.get(key)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self._fail(key, "an integer", value)
        return value

    def opt_integer(self, key: str) -> int | None:
        """An integer, or None if absent or null."""
        if self.data.get(key) is None:
            return None
        return self.integer(key)

    def ident(self, key: str) -> str:
        """A required id (integer or string, at most :data:`MAX_ID_CHARS`), as text."""
        value = self.data.get(key)
        if isinstance(value, bool) or not isinstance(value, int | str) or value == "":
            raise self._fail(key, "an id", value)
        text = str(value)
        if len(text) > MAX_ID_CHARS:
            raise BadPayload(f"{self.what}.{key}: an id longer than {MAX_ID_CHARS} characters")
        return text

    def opt_ident(self, key: str) -> str | None:
        """An id as text, or None if absent or null."""
        if self.data.get(key) is None:
            return None
        return self.ident(key)

    def flag(self, key: str, default: bool = False) -> bool:
        """A boolean; ``default`` if absent or null."""
        value = self.data.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self._fail(key, "true or false", value)
        return value

    def items(self, key: str) -> list[Any]:
        """A list; empty if absent or null."""
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self._fail(key, "a list", value)
        return value

    def objects(self, key: str) -> Iterator[Fields]:
        """Each element of a list of objects."""
        for i, item in enumerate(self.items(key)):
            yield Fields(item, f"{self.what}.{key}[{i}]")

    def texts(self, key: str) -> tuple[str, ...]:
        """A list of strings; empty if absent or null."""
        values = self.items(key)
        for value in values:
            if not isinstance(value, str):
                raise self._fail(key, "a list of strings", value)
        return tuple(values)

    def sub(self, key: str) -> Fields:
        """A required nested object."""
        return Fields(self.data.get(key), f"{self.what}.{key}")

    def opt_sub(self, key: str) -> Fields | None:
        """A nested object, or None if absent or null."""
        if self.data.get(key) is None:
            return None
        return self.sub(key)

    def instant(self, key: str) -> datetime:
        """A required ISO-8601 timestamp, as an aware UTC datetime."""
        return parse_instant(self.text(key), f"{self.what}.{key}")

    def opt_instant(self, key: str) -> datetime | None:
        """An ISO-8601 timestamp, or None if absent or null."""
        value = self.opt_text(key)
        return None if value is None else parse_instant(value, f"{self.what}.{key}")


def _kind(value: object) -> str:
    if value is None:
        return "nothing"
    name = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(type(value))
    return name or f"a {type(value).__name__}"


def parse_instant(value: str, what: str) -> datetime:
    """Parse an ISO-8601 timestamp (``Z`` or offset; naive means UTC) into aware UTC."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise BadPayload(f"{what}: expected an ISO-8601 timestamp, got {value[:40]!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # "0001-01-01T00:00+01:00" is in year 0 in UTC
        raise BadPayload(f"{what}: timestamp out of range, got {value[:40]!r}") from None


def format_instant(value: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ``, the form GitHub and Zendesk use."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def decode_json(text: str | bytes, what: str) -> Any:
    """Parse JSON; malformed, undecodable or absurdly nested input raises BadPayload."""
    try:
        return json.loads(text)
    except (ValueError, UnicodeDecodeError):  # JSONDecodeError is a ValueError
        raise BadPayload(f"{what}: the answer is not valid JSON") from None
    except RecursionError:
        raise BadPayload(f"{what}: the answer is nested too deeply to read") from None


__all__ = ["Fields", "decode_json", "format_instant", "parse_instant"]
