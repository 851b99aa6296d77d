"""Customer codenames: the names of minor planets, proposed unused.

The bundled list is the names of the first hundred numbered minor planets (and 433 Eros), in
the order of their numbers, from the IAU Minor Planet Center's list of numbered minor planets
(https://minorplanetcenter.net/iau/lists/NumberedMPs.html), written as label-safe lowercase
ASCII ("Danaë" is ``danae``). A codename is free when no customer has it and no tracker label
``customer-<codename>`` exists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

#: Source of :data:`MINOR_PLANETS`, named wherever the list is shown.
SOURCE = (
    "IAU Minor Planet Center, numbered minor planets "
    "(https://minorplanetcenter.net/iau/lists/NumberedMPs.html)"
)

#: (number, name) of the bundled minor planets.
MINOR_PLANETS: tuple[tuple[int, str], ...] = tuple(
    enumerate(
        """
        ceres pallas juno vesta astraea hebe iris flora metis hygiea parthenope victoria
        egeria irene eunomia psyche thetis melpomene fortuna massalia lutetia kalliope
        thalia themis phocaea proserpina euterpe bellona amphitrite urania euphrosyne
        pomona polyhymnia circe leukothea atalante fides leda laetitia harmonia daphne
        isis ariadne nysa eugenia hestia aglaja doris pales virginia nemausa europa
        kalypso alexandra pandora melete mnemosyne concordia elpis echo danae erato
        ausonia angelina cybele maja asia leto hesperia panopaea niobe feronia klytia
        galatea eurydike freia frigga diana eurynome sappho terpsichore alkmene beatrix
        klio io semele sylvia thisbe julia antiope aegina undina minerva aurora arethusa
        aegle klotho ianthe dike hekate
        """.split(),
        start=1,
    )
) + ((433, "eros"),)

_VALID = re.compile(r"^[a-z][a-z0-9-]{1,38}$")


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


def propose(taken: Iterable[str], count: int = 5) -> list[tuple[int, str]]:
    """The first ``count`` bundled minor planets whose names are free."""
    used = {x.casefold() for x in taken}
    return [(n, name) for n, name in MINOR_PLANETS if name not in used][:count]
