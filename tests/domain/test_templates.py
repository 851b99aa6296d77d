"""Reply templates: filling placeholders, parsing the library, the shipped templates."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oncall_tui.domain.errors import ConfigValueError
from oncall_tui.domain.templates import (
    PLACEHOLDERS,
    Template,
    fill,
    merge_templates,
    missing,
    parse_templates,
    placeholders,
)
from oncall_tui.resources import default_templates

CONTEXT = {
    "customer": "Acme Corp",
    "codename": "vesta",
    "requester": "Jane",
    "ticket_id": "4821",
    "ticket_url": "https://help.example.com/tickets/4821",
    "agent": "Sam",
}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Hi {requester},", "Hi Jane,"),
        ("#{ticket_id} for {customer} ({codename})", "#4821 for Acme Corp (vesta)"),
        ("Issue: {issue_url}", "Issue: {issue_url}"),  # no value: stays visible
        ("{unknown} and {requester}", "{unknown} and Jane"),
        ("stray { brace } and {{requester}} and {", "stray { brace } and {Jane} and {"),
        ('json {"a": 1} and {0} and {}', 'json {"a": 1} and {0} and {}'),
        ("{requester}{requester}", "JaneJane"),
        ("", ""),
    ],
)
def test_fill(body: str, expected: str) -> None:
    assert fill(body, CONTEXT) == expected
    assert fill(Template("t", "T", body), CONTEXT) == expected


def test_fill_is_one_pass_and_empty_values_stay_visible() -> None:
    assert fill("{requester}", {"requester": "{agent}", "agent": "Sam"}) == "{agent}"
    assert fill("{issue_url}", {"issue_url": ""}) == "{issue_url}"
    assert fill("{issue_url}", {"issue_url": None}) == "{issue_url}"


def test_placeholders_and_missing() -> None:
    body = "Hi {requester}, see {issue_url} and {issue_url} ({ticket_id}) {"
    assert placeholders(body) == ("requester", "issue_url", "ticket_id")
    assert missing(body, CONTEXT) == ("issue_url",)
    assert Template("t", "T", body).placeholders == ("requester", "issue_url", "ticket_id")


def test_parse_templates_in_file_order() -> None:
    templates = parse_templates(
        {
            "zeta": {"title": " Last ", "body": "\nHi {requester}\n"},
            "alpha": {"title": "First", "body": "Bye {agent}"},
        }
    )
    assert templates == [
        Template("zeta", "Last", "Hi {requester}"),
        Template("alpha", "First", "Bye {agent}"),
    ]


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ({"Bad Id": {"title": "t", "body": "b"}}, "templates.Bad Id"),
        ({"ack": "text"}, "templates.ack"),
        ({"ack": {"body": "b"}}, "templates.ack.title"),
        ({"ack": {"title": "", "body": "b"}}, "templates.ack.title"),
        ({"ack": {"title": "t"}}, "templates.ack.body"),
        ({"ack": {"title": "t", "body": 3}}, "templates.ack.body"),
        ({"ack": {"title": "t", "body": "Hi {custmer}"}}, "templates.ack.body"),
        ({"ack": {"title": "t", "body": "b", "bdy": "x"}}, "templates.ack.bdy"),
    ],
)
def test_parse_templates_errors(table: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigValueError) as info:
        parse_templates(table)
    assert info.value.key == key


def test_unknown_placeholder_error_names_it() -> None:
    with pytest.raises(ConfigValueError, match=r"\{custmer\}"):
        parse_templates({"ack": {"title": "t", "body": "Hi {custmer}"}})


def test_merge_templates_replaces_by_id_and_appends() -> None:
    base = [Template("a", "A", "a"), Template("b", "B", "b")]
    merged = merge_templates(base, [Template("b", "B2", "b2"), Template("c", "C", "c")])
    assert [(t.id, t.title) for t in merged] == [("a", "A"), ("b", "B2"), ("c", "C")]


def test_shipped_templates() -> None:
    templates = default_templates()
    ids = {t.id for t in templates}
    assert len(templates) >= 6
    assert {
        "oncall-ack",
        "more-info",
        "bug-filed",
        "license-purchase-failed",
        "live-query-error",
        "outside-hours",
        "missed-call",
    } <= ids
    for template in templates:
        assert set(template.placeholders) <= set(PLACEHOLDERS)
        assert template.title and template.body.strip()
    bug_filed = next(t for t in templates if t.id == "bug-filed")
    assert "{issue_url}" in bug_filed.body
    filled = fill(bug_filed, {**CONTEXT, "issue_url": "https://github.com/o/r/issues/1"})
    assert "https://github.com/o/r/issues/1" in filled
    assert "{" not in filled


def test_default_templates_returns_a_fresh_list() -> None:
    first = default_templates()
    first.clear()
    assert default_templates()


@given(
    body=st.lists(
        st.sampled_from([*"{}ab_0 \n\x00\u200f😀", "{requester}", "{x}", "{issue_url}"])
    ).map("".join)
    | st.text(),
    context=st.dictionaries(st.sampled_from([*PLACEHOLDERS, "x"]), st.text(max_size=20)),
)
def test_fill_never_raises(body: str, context: dict[str, str]) -> None:
    result = fill(body, context)
    assert isinstance(result, str)
    if not placeholders(body):
        assert result == body
