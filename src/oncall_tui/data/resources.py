"""Loaders for the data files packaged with oncall-tui (importlib.resources + tomllib).

The domain parses; this module only reads the shipped TOML. Each loader parses once per
process (the files cannot change while it runs) and returns immutable data.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from oncall_tui.domain.templates import Template, parse_templates

if TYPE_CHECKING:  # the form's domain (~10 ms to import) loads when a bug report opens
    from oncall_tui.domain.bug_form import FormSchema
    from oncall_tui.domain.codenames import MinorPlanet

_DATA = "oncall_tui.data"
FORM_FILE = "bug_report_form.toml"
TEMPLATES_FILE = "reply_templates.toml"


def read_data_toml(name: str) -> dict[str, Any]:
    """Parse one packaged TOML file from ``oncall_tui/data``."""
    return tomllib.loads(files(_DATA).joinpath(name).read_text(encoding="utf-8"))


@cache
def default_form_schema() -> FormSchema:
    """The shipped bug-report form (``[bug_report]`` of ``bug_report_form.toml``)."""
    from oncall_tui.domain.bug_form import parse_form_schema

    return parse_form_schema(read_data_toml(FORM_FILE)["bug_report"], key="bug_report")


def default_templates() -> list[Template]:
    """The shipped reply templates (``[templates.<id>]`` of ``reply_templates.toml``)."""
    return list(_default_templates())


@cache
def _default_templates() -> tuple[Template, ...]:
    return tuple(parse_templates(read_data_toml(TEMPLATES_FILE)["templates"], key="templates"))


MINOR_PLANETS_FILE = "minor_planets.txt"


@cache
def minor_planets() -> tuple[MinorPlanet, ...]:
    """The bundled named minor planets (``minor_planets.txt``), in the order of their numbers."""
    from oncall_tui.domain.codenames import parse_minor_planets

    return parse_minor_planets(
        files(_DATA).joinpath(MINOR_PLANETS_FILE).read_text(encoding="utf-8")
    )
