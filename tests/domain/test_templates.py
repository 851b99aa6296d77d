"""Reply templates: filling placeholders, parsing the library, the shipped templates."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oncall_tui.data.resources import default_templates
from oncall_tui.domain.errors import ConfigValueError
from oncall_tui.domain.templates import (
    PLACEHOLDERS,
    Template,
    display_name,
    fill,
    merge_templates,
    missing,
    parse_templates,
    placeholders,
    reflow,
    render,
    unfilled,
)

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


# ---- issue 14: reflowed bodies, display names, placeholders that block ---------------------


def test_reflow_joins_wrapped_lines_and_keeps_structure() -> None:
    body = (
        "Hi {requester},\n"
        "\n"
        "Thanks for letting us know. I'm {agent}, the engineer on call this week, and I'm\n"
        "looking into this now. I'll update this ticket as soon as I know more.\n"
        "\n"
        "- the server version and the agent (fleetd or osquery) with its version number\n"
        "  on an affected host\n"
        "- the server logs\n"
        "\n"
        "    fleetctl debug archive --context default --output /tmp/archive.tgz now\n"
        "    second line of code\n"
        "\n"
        "Thanks,\n"
        "{agent}"
    )
    assert reflow(body).split("\n") == [
        "Hi {requester},",
        "",
        "Thanks for letting us know. I'm {agent}, the engineer on call this week, and I'm "
        "looking into this now. I'll update this ticket as soon as I know more.",
        "",
        "- the server version and the agent (fleetd or osquery) with its version number "
        "on an affected host",
        "- the server logs",
        "",
        "    fleetctl debug archive --context default --output /tmp/archive.tgz now",
        "    second line of code",
        "",
        "Thanks,",
        "{agent}",
    ]


def test_every_shipped_template_renders_without_hard_breaks() -> None:
    from oncall_tui.data.resources import default_templates

    for template in default_templates():
        text = render(template, {}).text
        for paragraph in text.split("\n\n"):
            lines = paragraph.split("\n")
            prose = [x for x in lines if not x.lstrip().startswith(("-", "{")) and len(x) > 50]
            assert len(prose) <= 1, (template.id, paragraph)


def test_render_names_what_it_could_not_fill() -> None:
    template = Template("t", "T", "Hi {requester},\n\nthe issue: {issue_url}\n{agent}")
    out = render(template, {"requester": "Rita Okafor", "agent": "alex"})
    assert out.missing == ("issue_url",)
    assert out.text == "Hi Rita Okafor,\n\nthe issue: {issue_url}\nalex"
    assert unfilled(out.text) == ("issue_url",)
    assert unfilled('a literal {"json": 1} and {not_a_placeholder}') == ()


@pytest.mark.parametrize(
    ("requester", "contacts", "name"),
    [
        ("rita@globexhealth.io", ("Rita Okafor",), "Rita Okafor"),
        ("Rita Okafor <rita@globexhealth.io>", (), "Rita Okafor"),
        ('"Okafor, Rita" <rita@globexhealth.io>', (), "Okafor, Rita"),
        ("jane@acme.com", ("Jane Doe <jane@acme.com>", "Will Page"), "Jane Doe"),
        ("jd@acme.com", ("Jane Doe <JD@acme.com>",), "Jane Doe"),
        ("jane.doe@acme.com", ("Jane Miller", "Jane Doe"), "Jane Doe"),
        ("dana.whitfield@acme.com", (), "Dana Whitfield"),
        ("x7@acme.com", (), None),
        ("", (), None),
        (None, (), None),
        ("Pepper Hale", (), "Pepper Hale"),
    ],
)
def test_display_name(requester: str | None, contacts: tuple[str, ...], name: str | None) -> None:
    assert display_name(requester, contacts) == name
