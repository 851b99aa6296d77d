"""Codenames: bundled minor planets, proposed when free among customers and tracker labels."""

from __future__ import annotations

from oncall_tui.domain.codenames import (
    MINOR_PLANETS,
    SOURCE,
    propose,
    taken_codenames,
    valid_codename,
)


def test_the_bundled_list_is_label_safe_unique_and_names_its_source() -> None:
    names = [n for _, n in MINOR_PLANETS]
    assert len(names) == len(set(names)) == 101
    assert MINOR_PLANETS[0] == (1, "ceres") and MINOR_PLANETS[3] == (4, "vesta")
    assert (433, "eros") in MINOR_PLANETS
    assert all(valid_codename(n) for n in names)
    assert "minorplanetcenter.net" in SOURCE


def test_taken_and_proposed() -> None:
    taken = taken_codenames(["Ceres", None, ""], ["bug", "customer-pallas", "Customer-Juno"])
    assert taken == {"ceres", "pallas", "juno"}
    assert propose(taken, 3) == [(4, "vesta"), (5, "astraea"), (6, "hebe")]
    assert propose({n for _, n in MINOR_PLANETS}) == []


def test_valid_codename() -> None:
    assert valid_codename("vesta") and valid_codename("new-one")
    assert not valid_codename("Vesta") and not valid_codename("a b") and not valid_codename("")
