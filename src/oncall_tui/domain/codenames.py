"""Customer codenames: the names of minor planets, proposed unused.

The bundled list (``oncall_tui/data/minor_planets.txt``, read by :mod:`oncall_tui.data.resources`)
holds the named minor planets of NASA/JPL's Small-Body Database as KStars ships it, in the
order of their numbers, each as a label-safe lowercase ASCII slug ("Danaë" is ``danae``) beside
its official spelling; its header names the source, its date and licence. A codename is free
when no customer has it and no tracker label ``customer-<codename>`` exists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: Source of the bundled list, named wherever the list is shown.
SOURCE = "NASA/JPL Small-Body Database: the IAU's names of numbered minor planets"

_VALID = re.compile(r"^[a-z][a-z0-9-]{1,38}$")


@dataclass(frozen=True, slots=True)
class MinorPlanet:
    """One bundled name: its number, the codename slug and the name as the IAU spells it."""

    number: int
    codename: str
    name: str


def parse_minor_planets(text: str) -> tuple[MinorPlanet, ...]:
    """Read the bundled list: ``number<TAB>codename<TAB>name`` lines, ``#`` comments.

    Raises ValueError naming the line on anything else (the file ships with the package, so
    a bad line is a packaging mistake, caught by the tests)."""
    planets: list[MinorPlanet] = []
    seen: set[str] = set()
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 3 or not parts[0].isdigit() or not valid_codename(parts[1]):
            raise ValueError(f"minor planets, line {n}: expected number, codename, name")
        if parts[1] in seen:
            raise ValueError(f"minor planets, line {n}: {parts[1]} twice")
        seen.add(parts[1])
        planets.append(MinorPlanet(int(parts[0]), parts[1], parts[2].strip()))
    return tuple(planets)


def valid_codename(name: str) -> bool:
    """A codename usable in a label: lowercase letters, digits and dashes."""
    return bool(_VALID.match(name))


def taken_codenames(
    customer_codenames: Iterable[str | None], labels: Iterable[str], prefix: str = "customer-"
) -> set[str]:
    """Codenames in use: a customer's, or any ``customer-<codename>`` label."""
    taken = {c.strip().casefold() for c in customer_codenames if c and c.strip()}
    folded = prefix.casefold()
    taken |= {x.casefold()[len(folded) :] for x in labels if x.casefold().startswith(folded)}
    return taken


def propose(
    planets: Sequence[MinorPlanet], taken: Iterable[str], count: int = 5
) -> list[MinorPlanet]:
    """The first ``count`` of ``planets`` whose codenames are free."""
    used = {x.casefold() for x in taken}
    free = (p for p in planets if p.codename not in used)
    return [p for _, p in zip(range(count), free, strict=False)]
