"""Reading an adapter's ``[backends.<name>.options]`` table: the checks every adapter's
``from_options`` makes alike."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from oncall_tui.domain.errors import ConfigValueError


def only_known(options: Mapping[str, Any], key: str, known: Iterable[str]) -> None:
    """Refuse an option the adapter does not read (a typo would otherwise pass unnoticed)."""
    names = set(known)
    for name in options:
        if name not in names:
            raise ConfigValueError(f"{key}.{name}", f"one of {', '.join(sorted(names))}")


def positive_number(
    options: Mapping[str, Any], key: str, name: str, default: float, unit: str = ""
) -> float:
    """The option ``name`` as a number above zero (``default`` when not given); ``unit``
    names what it counts in the error (``days``)."""
    value = options.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        expected = f"a positive number of {unit}" if unit else "a positive number"
        raise ConfigValueError(f"{key}.{name}", expected, value)
    return float(value)


__all__ = ["only_known", "positive_number"]
