"""Errors the domain layer raises for bad input (config values, schemas, files)."""

from __future__ import annotations


class ConfigValueError(ValueError):
    """A configuration value is missing, of the wrong type or out of range.

    Attributes:
        key: dotted path of the offending key, e.g. ``sla.targets.premium.P1``.
        expected: what was expected, in words a user understands.
    """

    def __init__(self, key: str, expected: str, got: object = None) -> None:
        self.key = key
        self.expected = expected
        self.got = got
        shown = "" if got is None else f", got {got!r}"
        super().__init__(f"{key}: expected {expected}{shown}")
