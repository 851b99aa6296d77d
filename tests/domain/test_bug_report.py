"""The bug-report form: schema parsing, validation, pre-fill, rendering, search-first help."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oncall_tui.data.resources import default_form_schema
from oncall_tui.domain.bug_form import (
    TICKET_URL_KEY,
    FieldRole,
    FieldType,
    FormField,
    parse_form_schema,
)
from oncall_tui.domain.bug_report import (
    BugReportDraft,
    FieldError,
    IssuePreview,
    create_issue_payload,
    prefill,
    public_text,
    render_issue,
    validate,
    validate_field,
)
from oncall_tui.domain.bug_similar import SimilarIssue, rank_similar, similar_issue_query
from oncall_tui.domain.errors import ConfigValueError
from oncall_tui.domain.guard import GuardOverride
from oncall_tui.domain.labels import LabelScheme
from oncall_tui.domain.tickets import Customer, Source, Ticket

T0 = datetime(2024, 7, 1, 9, 30, tzinfo=UTC)

SMALL: dict[str, Any] = {
    "sections": [
        {
            "id": "main",
            "title": "Report",
            "fields": [
                {
                    "id": "title",
                    "label": "Title",
                    "type": "line",
                    "role": "title",
                    "required": True,
                },
                {"id": "codename", "label": "Customer", "type": "line", "role": "codename"},
                {"id": "version", "label": "Server version", "type": "version", "required": True},
                {
                    "id": "agent",
                    "label": "Agent",
                    "type": "choice",
                    "choices": ["fleetd", "osquery"],
                },
                {"id": "hosts", "label": "Hosts", "type": "integer"},
                {"id": "actual", "label": "Actual behaviour", "type": "text", "required": True},
                {"id": "os", "label": "OS", "type": "line"},
            ],
        },
        {
            "id": "more",
            "title": "Environment details",
            "collapsed": True,
            "fields": [
                {"id": "db", "label": "Database", "type": "line"},
                {"id": "archive", "label": "Debug archive", "type": "text"},
            ],
        },
        {"id": "unused", "title": "Unused", "fields": [{"id": "x", "label": "X", "type": "line"}]},
    ]
}
SCHEMA = parse_form_schema(SMALL)
VALUES = {
    "title": "  Live query returns   500 ",
    "codename": "vesta",
    "version": "4.57.1",
    "agent": "fleetd",
    "hosts": "1200",
    "actual": "Live query returns 500.\r\nSecond line.\n\n",
    "os": "macOS 14.5",
    "db": "MySQL 8.0 <RDS>",
    "archive": "",
    TICKET_URL_KEY: "https://help.example.com/agent/tickets/4821",
}
EXPECTED_BODY = """\
## Report

- **Customer:** vesta
- **Server version:** 4.57.1
- **Agent:** fleetd
- **Hosts:** 1200

### Actual behaviour

Live query returns 500.
Second line.

- **OS:** macOS 14.5

<details>
<summary>Environment details</summary>

- **Database:** MySQL 8.0 &lt;RDS>

</details>
"""


def field(type_: str, **extra: Any) -> FormField:
    return FormField(id="f", label="F", type=FieldType(type_), **extra)


# --------------------------------------------------------------------------- schema


def test_small_schema_parses() -> None:
    assert [s.id for s in SCHEMA.sections] == ["main", "more", "unused"]
    assert SCHEMA.sections[1].collapsed
    assert SCHEMA.title_field.id == "title"
    assert SCHEMA.title_field.max_length == 256  # GitHub's title limit by default
    assert SCHEMA.field("agent").choices == ("fleetd", "osquery")
    assert SCHEMA.by_role(FieldRole.CODENAME) == SCHEMA.field("codename")
    assert SCHEMA.by_role(FieldRole.OS) is None
    assert SCHEMA.max_body_chars == 65_000
    assert not SCHEMA.link_ticket_in_issue
    with pytest.raises(KeyError):
        SCHEMA.field("nope")


def test_default_schema_has_the_handbook_fields() -> None:
    schema = default_form_schema()
    required = [f.id for f in schema.fields if f.required]
    assert required == [
        "title",
        "codename",
        "server_version",
        "agent_kind",
        "agent_version",
        "os",
        "browser",
        "expected",
        "actual",
        "steps",
    ]
    assert schema.field("agent_kind").choices == ("fleetd", "osquery")
    assert "steps the customer took" in schema.field("steps").help
    details = schema.sections[-1]
    assert details.title == "Environment details" and details.collapsed
    assert {f.id for f in details.fields} >= {
        "total_hosts",
        "online_hosts",
        "scheduled_queries",
        "server_instances",
        "db_read_replicas",
        "redis_cluster_mode",
        "debug_archive",
    }
    assert all(not f.required for f in details.fields)
    assert {r: schema.by_role(r) is not None for r in FieldRole} == {r: True for r in FieldRole}


def mutate(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    d = copy.deepcopy(SMALL)
    change(d)
    return d


def _fields(d: dict[str, Any], section: int = 0) -> list[dict[str, Any]]:
    fields: list[dict[str, Any]] = d["sections"][section]["fields"]
    return fields


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (lambda d: _fields(d)[2].update(type="semver"), "sections[0].fields[2].type"),
        (lambda d: _fields(d)[2].pop("type"), "sections[0].fields[2].type"),
        (lambda d: _fields(d)[3].pop("choices"), "sections[0].fields[3].choices"),
        (lambda d: _fields(d)[3].update(choices=[]), "sections[0].fields[3].choices"),
        (lambda d: _fields(d)[3].update(choices=["a", "a"]), "sections[0].fields[3].choices"),
        (lambda d: _fields(d)[3].update(choices=["a", ""]), "sections[0].fields[3].choices"),
        (lambda d: _fields(d)[6].update(choices=["a"]), "sections[0].fields[6].choices"),
        (lambda d: _fields(d, 1)[0].update(id="os"), "sections[1].fields[0].id"),
        (lambda d: d["sections"][1].update(id="main"), "sections[1].id"),
        (lambda d: _fields(d)[0].pop("role"), "sections"),
        (lambda d: _fields(d)[0].update(required=False), "sections[0].fields[0].required"),
        (lambda d: _fields(d)[0].update(required="yes"), "sections[0].fields[0].required"),
        (lambda d: _fields(d)[6].update(role="server_version"), "sections[0].fields[6].type"),
        (lambda d: _fields(d)[6].update(role="codename"), "sections[0].fields[6].role"),
        (lambda d: _fields(d)[6].update(role="platform"), "sections[0].fields[6].role"),
        (lambda d: _fields(d)[0].update(lable="Title"), "sections[0].fields[0].lable"),
        (lambda d: d["sections"][0].update(colapsed=True), "sections[0].colapsed"),
        (lambda d: _fields(d)[6].update(id="Operating System"), "sections[0].fields[6].id"),
        (lambda d: _fields(d)[6].update(id=TICKET_URL_KEY), "sections[0].fields[6].id"),
        (lambda d: _fields(d)[6].update(label=""), "sections[0].fields[6].label"),
        (lambda d: _fields(d)[6].update(help=3), "sections[0].fields[6].help"),
        (lambda d: _fields(d)[6].update(pattern="[a-"), "sections[0].fields[6].pattern"),
        (lambda d: _fields(d)[6].update(max_length=0), "sections[0].fields[6].max_length"),
        (lambda d: _fields(d)[6].update(max_length=True), "sections[0].fields[6].max_length"),
        (lambda d: d.update(max_body_chars=-1), "max_body_chars"),
        (lambda d: d.update(link_ticket_in_issue="yes"), "link_ticket_in_issue"),
        (lambda d: d.update(sections=[]), "sections"),
        (lambda d: d.pop("sections"), "sections"),
        (lambda d: d["sections"][1].update(fields=[]), "sections[1].fields"),
        (lambda d: d["sections"][1].update(title=""), "sections[1].title"),
        (lambda d: d["sections"][1]["fields"].__setitem__(0, "db"), "sections[1].fields[0]"),
        (lambda d: d["sections"].__setitem__(2, []), "sections[2]"),
    ],
)
def test_schema_errors_name_the_key(change: Callable[[dict[str, Any]], None], key: str) -> None:
    with pytest.raises(ConfigValueError) as info:
        parse_form_schema(mutate(change))
    assert info.value.key == key
    with pytest.raises(ConfigValueError) as info:
        parse_form_schema(mutate(change), key="bug_report")
    assert info.value.key == "bug_report." + key


def test_schema_error_message_says_what_was_expected() -> None:
    with pytest.raises(ConfigValueError) as info:
        parse_form_schema(mutate(lambda d: _fields(d)[2].update(type="semver")), key="bug_report")
    assert str(info.value) == (
        "bug_report.sections[0].fields[2].type: expected one of line, text, choice, version, "
        "integer, got 'semver'"
    )


def test_schema_overrides_on_a_base() -> None:
    base = default_form_schema()
    schema = parse_form_schema(
        {"link_ticket_in_issue": True, "repository": "ignored: the caller's key"}, base=base
    )
    assert schema.sections == base.sections
    assert schema.link_ticket_in_issue and schema.max_body_chars == base.max_body_chars
    assert parse_form_schema(SMALL, base=base).sections == SCHEMA.sections


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("schema_field", "value", "message"),
    [
        # required / optional
        (field("line", required=True), "", "Required."),
        (field("line", required=True), " \n\t ", "Required."),
        (field("line", required=True), None, "Required."),
        (field("line"), "", None),
        (field("integer"), "   ", None),
        # line
        (field("line"), "macOS 14.5\twith tabs", None),
        (field("line"), "two\nlines", "Must be a single line."),
        (field("line"), "x" * 1000, None),
        (field("line"), "x" * 1001, "Too long: 1,001 characters, at most 1,000."),
        (field("line", max_length=5), "abcdef", "Too long: 6 characters, at most 5."),
        (field("line"), "emoji 😀 and RTL \u200f marks", None),
        # text
        (field("text"), "line 1\r\nline 2\n\tindented", None),
        (field("text"), "x" * 70_000, None),  # the body cap applies in validate()
        (field("text", max_length=10), "x" * 11, "Too long: 11 characters, at most 10."),
        # version
        (field("version"), "4.57.1", None),
        (field("version"), "v1.2", None),
        (field("version"), "V4.57", None),
        (field("version"), "4.57.1-rc2", None),
        (field("version"), "4.57.1+build.7", None),
        (field("version"), "1.2.3.4", None),
        (field("version"), " 4.57.1 ", None),
        (field("version"), "4", "Not a version number; expected e.g. 4.57.1, v1.2 or 4.57.1-rc2."),
        (
            field("version"),
            "latest",
            "Not a version number; expected e.g. 4.57.1, v1.2 or 4.57.1-rc2.",
        ),
        (
            field("version"),
            "4.57.x",
            "Not a version number; expected e.g. 4.57.1, v1.2 or 4.57.1-rc2.",
        ),
        (
            field("version"),
            "4..57",
            "Not a version number; expected e.g. 4.57.1, v1.2 or 4.57.1-rc2.",
        ),
        (
            field("version"),
            "4.57.1 rc2",
            "Not a version number; expected e.g. 4.57.1, v1.2 or 4.57.1-rc2.",
        ),
        (field("version"), "4.57.1\n", None),  # surrounding whitespace is trimmed
        (field("version"), "4.57\n.1", "Must be a single line."),
        # integer
        (field("integer"), "0", None),
        (field("integer"), "1200", None),
        (field("integer"), " 42 ", None),
        (field("integer"), "-1", "Must be 0 or more."),
        (field("integer"), "1.5", "Must be a whole number, digits only (e.g. 1200)."),
        (field("integer"), "12,000", "Must be a whole number, digits only (e.g. 1200)."),
        (field("integer"), "+3", "Must be a whole number, digits only (e.g. 1200)."),
        (field("integer"), "１２", "Must be a whole number, digits only (e.g. 1200)."),
        (field("integer"), "many", "Must be a whole number, digits only (e.g. 1200)."),
        (field("integer"), "1" * 19, "Too long: 19 characters, at most 18."),
        # choice
        (field("choice", choices=("fleetd", "osquery")), "fleetd", None),
        (
            field("choice", choices=("fleetd", "osquery")),
            "Fleetd",
            "Must be one of: fleetd, osquery.",
        ),
        (
            field("choice", choices=("fleetd", "osquery")),
            "orbit",
            "Must be one of: fleetd, osquery.",
        ),
        # pattern
        (field("line", pattern="[a-z]+", pattern_message="Lowercase."), "vesta", None),
        (field("line", pattern="[a-z]+", pattern_message="Lowercase."), "Vesta", "Lowercase."),
        (field("line", pattern="[a-z]+"), "Vesta", "Does not have the expected format."),
    ],
)
def test_validate_field(schema_field: FormField, value: str | None, message: str | None) -> None:
    assert validate_field(schema_field, value) == message


@pytest.mark.parametrize(
    ("type_", "value", "message"),
    [
        (
            "line",
            "abc\x00def",
            "Contains an invisible control character NUL (U+0000) at position 4; remove it. "
            "Tabs and line breaks are fine.",
        ),
        (
            "text",
            "ok\nred \x1b[31mtext",
            "Contains an invisible control character ESC (U+001B) at line 2, column 5 (ESC usually "
            "comes from coloured terminal output); remove it. Tabs and line breaks are fine.",
        ),
        (
            "version",
            "4.57.1\x7f",
            "Contains an invisible control character DEL (U+007F) at position 7",
        ),
        (
            "integer",
            "\x0c12",
            "Contains an invisible control character form feed (U+000C) at position 1",
        ),
        ("text", "a\x85b", "Contains an invisible control character control character (U+0085)"),
    ],
)
def test_control_characters_are_rejected(type_: str, value: str, message: str) -> None:
    result = validate_field(field(type_), value)
    assert result is not None and result.startswith(message)


def test_validate_lists_errors_in_field_order() -> None:
    errors = validate(SCHEMA, {"version": "latest", "hosts": "-3", "agent": "orbit", "zzz": "x"})
    assert errors == [
        FieldError("title", "Required."),
        FieldError("version", "Not a version number; expected e.g. 4.57.1, v1.2 or 4.57.1-rc2."),
        FieldError("agent", "Must be one of: fleetd, osquery."),
        FieldError("hosts", "Must be 0 or more."),
        FieldError("actual", "Required."),
    ]
    assert validate(SCHEMA, VALUES) == []


def test_default_schema_requires_the_handbook_fields() -> None:
    schema = default_form_schema()
    assert [e.field_id for e in validate(schema, {})] == [f.id for f in schema.fields if f.required]
    assert all(e.message == "Required." for e in validate(schema, {}))


def test_body_cap_error_goes_on_the_longest_field() -> None:
    schema = parse_form_schema({**SMALL, "max_body_chars": 200})
    values = {**VALUES, "actual": "word " * 40, "archive": "log line\n" * 30}
    errors = validate(schema, values)
    assert [e.field_id for e in errors] == ["archive"]
    assert errors[0].message.startswith("The issue body would be ")
    assert "at most 200" in errors[0].message and "(270 characters)" in errors[0].message


def test_github_body_limit_by_default() -> None:
    values = {**VALUES, "actual": "x" * 64_000, "archive": "y" * 2_000}
    assert [e.field_id for e in validate(SCHEMA, values)] == ["actual"]


VALUE_TEXT = st.text() | st.lists(
    st.sampled_from(["\x00", "\u200f", "\u202e", "😀", "\n", "\r", "#", "<", "`", "4.57.1"])
).map("".join)


@settings(max_examples=150, deadline=None)
@given(
    values=st.dictionaries(st.sampled_from([f.id for f in SCHEMA.fields] + ["other"]), VALUE_TEXT)
)
def test_validate_never_raises(values: dict[str, str]) -> None:
    errors = validate(SCHEMA, values)
    assert all(isinstance(e, FieldError) and e.message for e in errors)
    render_issue(SCHEMA, values)


@settings(max_examples=10, deadline=None)
@given(chunk=VALUE_TEXT, times=st.integers(1, 2000))
def test_validate_huge_values(chunk: str, times: int) -> None:
    huge = ((chunk or "x") * times)[:100_000]
    values = {f.id: huge for f in default_form_schema().fields}
    assert validate(default_form_schema(), values)  # too long, never a crash


def test_validate_100k_of_text_quickly() -> None:
    values = {**VALUES, "actual": "Error: boom \x00\n" * 7_000}
    errors = validate(SCHEMA, values)
    assert [e.field_id for e in errors] == ["actual", "actual"]
    assert "NUL" in errors[0].message and "issue body would be" in errors[1].message


# --------------------------------------------------------------------------- drafts


def test_draft_is_immutable_and_carries_the_ticket_link() -> None:
    source = {"title": "x", TICKET_URL_KEY: "https://help.example.com/t/1"}
    draft = BugReportDraft(values=source, ticket_id=7, codename="vesta")
    source["title"] = "changed"
    assert draft.values["title"] == "x"
    with pytest.raises(TypeError):
        draft.values["title"] = "y"  # type: ignore[index]
    assert draft.ticket_url == "https://help.example.com/t/1"
    override = GuardOverride("customer agreed", T0, ("Acme",))
    edited = draft.with_override(override).with_value("title", "y")
    assert edited.values["title"] == "y" and draft.values["title"] == "x"
    assert edited.override == override and edited.ticket_id == 7
    assert BugReportDraft().ticket_url is None


# --------------------------------------------------------------------------- pre-fill


def ticket(body: str, subject: str = "Live query fails", url: str | None = None) -> Ticket:
    return Ticket(
        id=1,
        source=Source.HELPDESK,
        subject=subject,
        opened_at=T0,
        updated_at=T0,
        body=body,
        url=url,
    )


ACME = Customer(id=1, name="Acme Corp", plan="premium", codename="vesta", domains=("acme.com",))
PREFILLED = ("server_version", "agent_kind", "agent_version", "os", "browser")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "We're on Fleet 4.57.1; hosts run fleetd 1.30.0 on macOS 14.5. UI in Chrome 126.",
            {
                "server_version": "4.57.1",
                "agent_kind": "fleetd",
                "agent_version": "1.30.0",
                "os": "macOS 14.5",
                "browser": "Chrome 126",
            },
        ),
        (
            "osquery 5.12.1 on Ubuntu 22.04 LTS and windows 11 hosts",
            {"agent_kind": "osquery", "agent_version": "5.12.1", "os": "Ubuntu 22.04, Windows 11"},
        ),
        ("fleetd 1.30.0 (osquery 5.12.1)", {"agent_kind": "fleetd", "agent_version": "1.30.0"}),
        ("fleetd 1.29.0, then fleetd 1.30.0", {"agent_kind": "fleetd"}),  # two versions: unsure
        ("Upgraded Fleet 4.56.0 to Fleet 4.57.1", {}),
        ("Fleet server version: v4.57.1-rc2.", {"server_version": "4.57.1-rc2"}),
        ("fleet v4.57.1.", {"server_version": "4.57.1"}),
        ("server version 4.57", {"server_version": "4.57"}),
        ("fleetctl 4.57.1 and fleetdm", {}),
        ("we use fleet, fleetd and chrome on macOS", {}),  # no versions: nothing is guessed
        ("Mac OS X 10.15.7 and macOS Sonoma", {"os": "macOS 10.15.7, macOS Sonoma"}),
        ("macos sonoma 14.5", {"os": "macOS Sonoma 14.5"}),
        ("Windows Server 2022 and RHEL 9.3", {"os": "Windows Server 2022, RHEL 9.3"}),
        (
            "Debian 12, Amazon Linux 2023, ChromeOS 126",
            {"os": "Debian 12, Amazon Linux 2023, ChromeOS 126"},
        ),
        ("Firefox 128.0.3 and Microsoft Edge 126", {"browser": "Firefox 128.0.3, Edge 126"}),
        ("Google Chrome version 126.0.6478.127", {"browser": "Chrome 126.0.6478.127"}),
        ("an edge 3 case in Chrome OS 120", {"os": "ChromeOS 120"}),
        ("Windows 11, then windows 11 again", {"os": "Windows 11"}),
    ],
)
def test_prefill_extracts_only_what_it_clearly_finds(body: str, expected: dict[str, str]) -> None:
    values = prefill(default_form_schema(), ticket(body), None, None)
    assert {k: v for k, v in values.items() if k in PREFILLED} == expected


def test_prefill_title_codename_link_and_comments() -> None:
    t = ticket("see comments", subject="Re: FW: [Acme] Live  query fails", url="https://api/1")
    values = prefill(
        default_form_schema(),
        t,
        ACME,
        "https://help.example.com/agent/tickets/1",
        ["On Fleet 4.57.1"],
    )
    assert values == {
        "title": "Live query fails",
        "codename": "vesta",
        "server_version": "4.57.1",
        TICKET_URL_KEY: "https://help.example.com/agent/tickets/1",
    }
    assert prefill(default_form_schema(), t, None, None)[TICKET_URL_KEY] == "https://api/1"
    assert "codename" not in prefill(default_form_schema(), t, Customer(2, "X", "free"), None)


def test_prefill_respects_the_schema() -> None:
    # only fields the schema has (by role), and choices the field offers
    values = prefill(SCHEMA, ticket("Fleet 4.57.1, fleetd 1.30.0, macOS 14.5"), ACME, None)
    assert values == {"title": "Live query fails", "codename": "vesta"}
    narrow = parse_form_schema(
        mutate(lambda d: _fields(d)[3].update(role="agent_kind", choices=["osquery"]))
    )
    assert "agent" not in prefill(narrow, ticket("fleetd 1.30.0"), None, None)
    assert prefill(narrow, ticket("osquery 5.12.1"), None, None)["agent"] == "osquery"


@settings(max_examples=100, deadline=None)
@given(body=VALUE_TEXT, comments=st.lists(VALUE_TEXT, max_size=3))
def test_prefill_never_raises(body: str, comments: list[str]) -> None:
    schema = default_form_schema()
    values = prefill(schema, ticket(body, subject=body[:50]), ACME, None, comments)
    for key, value in values.items():
        if key != TICKET_URL_KEY:
            assert "\n" not in value and len(value) <= (schema.field(key).limit or 10**9)


# --------------------------------------------------------------------------- rendering


def test_render_exact_markdown() -> None:
    preview = render_issue(SCHEMA, VALUES)
    assert preview == IssuePreview(
        title="Live query returns 500",
        body_markdown=EXPECTED_BODY,
        labels=("bug", ":reproduce", ":incoming", "customer-vesta"),
    )
    assert "help.example.com" not in preview.body_markdown  # private link stays out


def test_render_ticket_link_only_when_configured() -> None:
    schema = parse_form_schema({**SMALL, "link_ticket_in_issue": True})
    body = render_issue(schema, VALUES).body_markdown
    assert body == EXPECTED_BODY + "\nSupport ticket: https://help.example.com/agent/tickets/4821\n"
    without = render_issue(schema, {k: v for k, v in VALUES.items() if k != TICKET_URL_KEY})
    assert without.body_markdown == EXPECTED_BODY


def test_render_fences_text_that_would_break_the_structure() -> None:
    values = {
        "title": "t",
        "actual": "Log:\n## not our heading\n```\ncode\n````",
        "archive": "see </details> here",
    }
    body = render_issue(SCHEMA, values).body_markdown
    assert "### Actual behaviour\n\n`````\nLog:\n## not our heading\n```\ncode\n````\n`````" in body
    assert "### Debug archive\n\n```\nsee </details> here\n```\n\n</details>" in body
    for text in ("Title\n====", "a\n---", "<script>", "  # heading", "***"):
        assert "```" in render_issue(SCHEMA, {"title": "t", "actual": text}).body_markdown
    for text in ("plain *markdown* with [a link](https://x)", "- a list\n- of items", "#hashtag"):
        assert "```" not in render_issue(SCHEMA, {"title": "t", "actual": text}).body_markdown


def test_public_text_is_what_the_guard_checks() -> None:
    text = public_text(SCHEMA, VALUES)
    assert list(text) == [f.id for f in SCHEMA.fields]
    assert text["title"] == VALUES["title"] and text["x"] == ""
    linked = parse_form_schema({**SMALL, "link_ticket_in_issue": True})
    assert public_text(linked, VALUES)[TICKET_URL_KEY] == VALUES[TICKET_URL_KEY]


def test_render_labels_and_empty_values() -> None:
    scheme = LabelScheme(bug="type:bug", customer_prefix="cust:")
    preview = render_issue(SCHEMA, {"title": "t", "codename": " Vesta "}, scheme)
    assert preview.labels == ("type:bug", ":reproduce", ":incoming", "cust:vesta")
    assert render_issue(SCHEMA, {"title": "t"}).labels == ("bug", ":reproduce", ":incoming")
    assert render_issue(SCHEMA, {}).body_markdown == ""


def test_create_issue_payload_keeps_the_link_beside_the_issue() -> None:
    override = GuardOverride("name is public anyway", T0, ("Acme",))
    draft = BugReportDraft(values=VALUES, ticket_id=4821, codename="vesta", override=override)
    preview = render_issue(SCHEMA, draft.values)
    payload = create_issue_payload(preview, draft, "acme/product")
    assert payload == {
        "repo": "acme/product",
        "title": "Live query returns 500",
        "body": EXPECTED_BODY,
        "labels": ["bug", ":reproduce", ":incoming", "customer-vesta"],
        "ticket_id": 4821,
        "ticket_url": "https://help.example.com/agent/tickets/4821",
        "guard_override": {
            "reason": "name is public anyway",
            "at": "2024-07-01T09:30:00+00:00",
            "terms": ["Acme"],
        },
    }


# --------------------------------------------------------------------------- search first


def test_similar_issue_query_variants() -> None:
    values = {
        "title": "Live queries fail with 502 after upgrading to 4.57.1 on the dashboard page",
        "actual": 'The UI shows "Request failed: 502 Bad Gateway (id 123456)"\n'
        "error: websocket closed by 10.0.0.1 unexpectedly",
    }
    assert similar_issue_query(values, SCHEMA) == [
        '"Request failed: 502 Bad Gateway (id)"',
        '"websocket closed by unexpectedly"',
        "live queries fail 502 upgrading dashboard page",
        "live queries upgrading dashboard",
    ]
    assert similar_issue_query({"title": "The Fleet is down"}, extra_stopwords=["fleet"]) == [
        "down"
    ]
    assert similar_issue_query({}) == []


def test_rank_similar_by_token_overlap() -> None:
    values = {"title": "Live query fails on Windows hosts", "actual": ""}
    candidates = [
        (11, "Dark mode colours", "Nothing in common here"),
        (12, "Windows hosts: live queries failing", ""),
        (13, "Policy page slow", "live query on windows"),
        (14, "Live query failure", "windows hosts"),
    ]
    ranked = rank_similar(candidates, values, SCHEMA)
    assert [r.id for r in ranked] == [12, 14, 13]
    assert ranked[0] == SimilarIssue(12, "Windows hosts: live queries failing", 1.0)
    assert ranked[1].score == pytest.approx((2 + 0.5 * 2) / 5)  # "failure" is not "fail"
    assert ranked[2].score == pytest.approx(0.5 * 3 / 5)
    assert rank_similar(candidates, {"title": "the a an"}) == []
