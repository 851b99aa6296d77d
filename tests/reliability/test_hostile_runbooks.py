"""Hostile runbook files: ``parse_runbook`` raises only ``RunbookError`` (or returns one).

A team folder is shared and edited by hand; one bad file must become a problem listed beside
the others, never an exception that stops the runbook screen.
"""

from __future__ import annotations

import pytest
import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from oncall_tui.domain.runbook_parse import parse_runbook
from oncall_tui.domain.runbooks import Runbook, RunbookError
from tests.reliability.conftest import HOSTILE, fuzz

#: Pieces of YAML syntax, explicit tags included (the loader resolves them even though its
#: implicit resolvers only know null and merge).
FRAGMENTS = [
    "title:",
    "summary:",
    "tags:",
    "applies_to:",
    "priorities:",
    "labels:",
    "keywords:",
    "sources:",
    "!!int",
    "!!float",
    "!!bool",
    "!!timestamp",
    "!!binary",
    "!!set",
    "!!omap",
    "!!pairs",
    "!!str",
    "!!null",
    "!!map",
    "!!seq",
    "!!python/object:os.system",
    "!custom",
    "&a",
    "*a",
    "<<:",
    "? ",
    "- ",
    "[",
    "]",
    "{",
    "}",
    "'",
    '"',
    "|",
    ">",
    "%YAML 1.1",
    "%TAG ! tag:x,2000:",
    "---",
    "...",
    "\t",
    "#",
    ":",
    ",",
    "~",
    "null",
    "P0",
    "helpdesk",
    "abc",
    "12",
    "0x1F",
    "1e999",
    "2024-13-45",
    "2024-01-01",
    ".nan",
    "yes",
    "=",
    "\\",
    "\x00",
    "\x1b",
    "\ufeff",
    "é",
    "🔥",
    "\n",
    "\n  ",
    "\n    ",
]
front_matter = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=6), max_size=40).map(
    lambda parts: " ".join(parts)
)
structured = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["title", "summary", "tags", "applies_to", "priorities", "labels"])
            | st.text(max_size=8),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


def parses_or_runbook_error(text: str) -> None:
    try:
        result = parse_runbook("fuzz", text)
    except RunbookError as exc:
        assert str(exc)
        return
    assert isinstance(result, Runbook)


@pytest.mark.product_bug("B5: explicit YAML tags escape parse_runbook as ValueError/KeyError")
@fuzz(300)
@given(front_matter, st.text(max_size=60))
@example("title: !!int abc", "")  # ValueError from int()
@example("title: !!bool abc", "")  # KeyError from the bool table
@example("title: !!timestamp 2024-13-45", "")  # ValueError: month must be in 1..12
@example("title: !!float abc", "")
@example("title: !!int", "")  # IndexError: an empty scalar
@example("title: !!timestamp x", "")  # AttributeError: the regex did not match
def test_any_front_matter_is_a_runbook_or_a_runbook_error(front: str, body: str) -> None:
    parses_or_runbook_error(f"---\n{front}\n---\n{body}")


@fuzz(150)
@given(structured)
def test_any_yaml_document_is_a_runbook_or_a_runbook_error(data: object) -> None:
    front = yaml.safe_dump(data, allow_unicode=True)
    parses_or_runbook_error(f"---\n{front}---\n- [ ] a step\n")


@fuzz(150)
@given(st.text(max_size=300))
def test_any_file_text_is_a_runbook_or_a_runbook_error(text: str) -> None:
    parses_or_runbook_error(text)


@pytest.mark.parametrize(
    "front",
    [
        "title: " + "[" * 20_000 + "]" * 20_000,  # deep nesting
        "a: &a [*a, *a]\nb: &b [*a, *a, *b]\ntitle: *b",  # aliases, self-reference
        "title: x\n" + "k: v\n" * 20_000,  # over the front-matter size limit
        "title: " + "x" * 10_000,
        "title: ok\ntags: [" + ", ".join(HOSTILE[:6]).replace("[", "(").replace("]", ")") + "]",
    ],
)
def test_pathological_front_matter(front: str) -> None:
    parses_or_runbook_error(f"---\n{front}\n---\nbody\n")


def test_billion_laughs_is_cheap() -> None:
    lol = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        lol.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    text = "---\n" + "\n".join(lol) + "\ntitle: *i\n---\n"
    with pytest.raises(RunbookError):
        parse_runbook("lol", text)
