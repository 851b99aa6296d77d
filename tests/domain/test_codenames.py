"""Codenames: the bundled minor planets (real data, its source named), proposed when free
among customers and tracker labels."""

from __future__ import annotations

from importlib.resources import files

import pytest

from oncall_tui.data.resources import MINOR_PLANETS_FILE, minor_planets
from oncall_tui.domain.codenames import (
    SOURCE,
    MinorPlanet,
    parse_minor_planets,
    propose,
    taken_codenames,
    valid_codename,
)


def test_the_bundled_list_is_real_label_safe_unique_and_in_number_order() -> None:
    planets = minor_planets()
    slugs = [p.codename for p in planets]
    assert len(slugs) == len(set(slugs)) == 2461
    assert planets[0] == MinorPlanet(1, "ceres", "Ceres")
    assert planets[3] == MinorPlanet(4, "vesta", "Vesta")
    numbers = [p.number for p in planets]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    by_number = {p.number: p for p in planets}
    # spot checks against the catalogue: a folded diacritic, a late naming, a left-out name
    assert by_number[433].codename == "eros"
    assert by_number[486958] == MinorPlanet(486958, "arrokoth", "Arrokoth")
    assert 85 not in by_number  # (85) Io: two letters make a poor label
    assert all(valid_codename(s) and s.isalpha() and 3 <= len(s) <= 14 for s in slugs)
    assert "JPL" in SOURCE


def test_the_data_file_names_its_source_date_and_licence() -> None:
    header = [
        line
        for line in files("oncall_tui.data").joinpath(MINOR_PLANETS_FILE).read_text().splitlines()
        if line.startswith("#")
    ]
    text = "\n".join(header)
    for needed in ("Small-Body Database", "kstars-data 5:3.6.2-2", "2022-11-30", "Licence"):
        assert needed in text


def test_parse_refuses_a_bad_line() -> None:
    assert parse_minor_planets("# c\n\n1\tceres\tCeres\n") == (MinorPlanet(1, "ceres", "Ceres"),)
    with pytest.raises(ValueError, match="line 2"):
        parse_minor_planets("1\tceres\tCeres\n2\tPallas\tPallas\n")
    with pytest.raises(ValueError, match="twice"):
        parse_minor_planets("1\tceres\tCeres\n2\tceres\tCeres\n")


def test_taken_and_proposed() -> None:
    planets = minor_planets()
    taken = taken_codenames(["Ceres", None, ""], ["bug", "customer-pallas", "Customer-Juno"])
    assert taken == {"ceres", "pallas", "juno"}
    assert [p.codename for p in propose(planets, taken, 3)] == ["vesta", "astraea", "hebe"]
    assert propose(planets, {p.codename for p in planets}) == []


def test_valid_codename() -> None:
    assert valid_codename("vesta") and valid_codename("new-one")
    assert not valid_codename("Vesta") and not valid_codename("a b") and not valid_codename("")
