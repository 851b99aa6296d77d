"""Reading an adapter's ``[backends.<name>.options]`` table: the checks every adapter's
``from_options`` makes alike."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
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


def text_table(
    options: Mapping[str, Any],
    key: str,
    name: str,
    expected: str,
    keys: Callable[[str], bool] = lambda _: True,
) -> dict[str, str]:
    """The option ``name`` as a table of text values (empty when not given), each of its
    keys passing ``keys``; ``expected`` says what it should be in the error."""
    table = options.get(name, {})
    if not isinstance(table, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) and keys(k) for k, v in table.items()
    ):
        raise ConfigValueError(f"{key}.{name}", expected)
    return dict(table)


__all__ = ["only_known", "positive_number", "text_table"]
