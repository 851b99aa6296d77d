"""Runbook parsing, checklist, steps, placeholders, suggestions and fuzzy filtering."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from textwrap import dedent
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oncall_tui.domain.runbook_parse import parse_runbook
from oncall_tui.domain.runbook_search import fuzzy_filter, suggest
from oncall_tui.domain.runbooks import (
    AppliesTo,
    Runbook,
    RunbookError,
    RunbookOrigin,
    StepKind,
    fill_placeholders,
    placeholder_context,
    progress_text,
    render_with_progress,
    steps,
)
from oncall_tui.domain.tickets import Customer, Priority, Source, Ticket

T0 = datetime(2025, 3, 3, 17, 0, tzinfo=UTC)

GOOD = dedent(
    """\
    ---
    title: Escalate a suspected bug
    summary: Move it into investigation.
    tags: [bug, escalation]
    applies_to:
      priorities: [P0, p1]
      labels: [bug, "~investigate"]
      keywords: [crash, 500, no]
      sources: [helpdesk, Tracker]
    ---

    Intro paragraph with {customer}.

    - [ ] Ask for logs.
    - [x] Label it `~investigate`.
    * [ ] Time-box to one hour,
      then escalate.
    1. [ ] Numbered task.
    - plain item
    - [ ]
    -

    ```json
    {"labels": ["- [ ] not a task"], "x": {"customer": 1}}
    ```

    + [X] Last one.
    """
)


def rb(text: str = GOOD, slug: str = "escalate") -> Runbook:
    return parse_runbook(slug, text)


def front(yaml: str, body: str = "Body.\n") -> str:
    return f"---\n{yaml}\n---\n{body}"


def ticket(**kw: Any) -> Ticket:
    base = Ticket(id=1, source=Source.HELPDESK, subject="", opened_at=T0, updated_at=T0)
    return replace(base, **kw)


# --- parsing ---------------------------------------------------------------------------------


def test_parse_good_runbook() -> None:
    runbook = rb()
    assert runbook.slug == "escalate"
    assert runbook.title == "Escalate a suspected bug"
    assert runbook.summary == "Move it into investigation."
    assert runbook.tags == ("bug", "escalation")
    assert runbook.applies_to == AppliesTo(
        priorities=(Priority.P0, Priority.P1),
        labels=("bug", "~investigate"),
        keywords=("crash", "500", "no"),  # plain scalars stay text: no int, no False
        sources=(Source.HELPDESK, Source.TRACKER),
    )
    assert runbook.origin is RunbookOrigin.TEAM
    assert runbook.body.startswith("Intro paragraph")
    assert runbook.body.endswith("+ [X] Last one.\n")


def test_parse_minimal_runbook_and_options() -> None:
    runbook = parse_runbook(
        "x",
        "\ufeff---\r\ntitle:   Two   words\r\napplies_to:\r\ntags:\r\n---\r\n",
        origin=RunbookOrigin.BUNDLED,
        location="<bundled>/x.md",
    )
    assert runbook.title == "Two words"
    assert runbook.tags == ()
    assert runbook.applies_to == AppliesTo()
    assert runbook.body == ""
    assert runbook.checklist == ()
    assert runbook.origin == "bundled"
    assert runbook.location == "<bundled>/x.md"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("# Just markdown\n", "missing front matter"),
        ("", "missing front matter"),
        ("---\ntitle: x\n", "front matter is not closed"),
        ("---\n---\nbody", "front matter is empty"),
        (front("title: [unclosed"), "invalid YAML in the front matter at line 2"),
        (front("title: a\n  bad: indent"), "invalid YAML"),
        (front("- a\n- b"), "must be 'key: value' lines, not a list"),
        (front("just text"), "must be 'key: value' lines"),
        (front("tags: [a]"), "missing 'title'"),
        (front("title:"), "missing 'title'"),
        (front("title: '  '"), "'title' is empty"),
        (front("title: [a, b]"), "'title' must be text, not a list"),
        (front("title: x\nsummary: [a]"), "'summary' must be text"),
        (front("title: x\ntags: bug"), "'tags' must be a list"),
        (front("title: x\ntags: [a, [b]]"), "'tags' item 2 must be non-empty text"),
        (front("title: x\ntags: [a, '']"), "'tags' item 2 must be non-empty text"),
        (front("title: x\ntags: [~]"), "'tags' item 1 must be non-empty text, not nothing"),
        (front("title: x\nauthor: me"), "unknown key 'author' in the front matter"),
        (front("title: x\napplies_to: [P0]"), "'applies_to' must be a mapping"),
        (
            front("title: x\napplies_to:\n  status: [open]"),
            "unknown key 'status' in the 'applies_to'",
        ),
        (front("title: x\napplies_to:\n  priorities: [P5]"), "unknown priority 'P5'"),
        (
            front("title: x\napplies_to:\n  priorities: P0"),
            "'applies_to.priorities' must be a list",
        ),
        (front("title: x\napplies_to:\n  sources: [email]"), "unknown source 'email'"),
        (front("title: x\napplies_to:\n  labels: [{a: b}]"), "'applies_to.labels' item 1"),
        (front("title: !!python/object:os.system x"), "invalid YAML"),
        (front("title: " + "[" * 5000), "invalid YAML"),
        (front("title: " + "t" * 201), "'title' is too long"),
        (front("title: x\nsummary: " + "s" * 1001), "'summary' is too long"),
        (front("title: x\ntags: [" + "t" * 201 + "]"), "'tags' item 1 is too long"),
        (front("title: x\n" + "#" * 70000), "front matter is too long"),
    ],
)
def test_parse_bad_front_matter(text: str, problem: str) -> None:
    with pytest.raises(RunbookError) as caught:
        parse_runbook("bad", text)
    assert caught.value.where == "bad"
    assert problem in caught.value.problem
    assert "\n" not in str(caught.value)
    assert str(caught.value).startswith("bad: ")


def test_error_names_location_when_given() -> None:
    with pytest.raises(RunbookError, match=r"^/team/x\.md: missing front matter"):
        parse_runbook("x", "nope", location="/team/x.md")


@given(st.text(max_size=300))
def test_parse_raises_only_runbook_error(text: str) -> None:
    for candidate in (text, "---\n" + text + "\n---\n", "---\ntitle: t\n" + text + "\n---\n"):
        try:
            parse_runbook("fuzz", candidate)
        except RunbookError:
            pass


# --- checklist, progress, steps ------------------------------------------------------------------


def test_checklist_items_in_document_order() -> None:
    items = rb().checklist
    assert [(i.index, i.text) for i in items] == [
        (0, "Ask for logs."),
        (1, "Label it `~investigate`."),
        (2, "Time-box to one hour, then escalate."),
        (3, "Numbered task."),
        (4, "Last one."),
    ]
    lines = rb().body.split("\n")
    assert [lines[i.line_no - 1] for i in items] == [
        "- [ ] Ask for logs.",
        "- [x] Label it `~investigate`.",
        "* [ ] Time-box to one hour,",
        "1. [ ] Numbered task.",
        "+ [X] Last one.",
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("- [ ] a\n- [ ] b\n", ["a", "b"]),
        ("  - [ ] nested\n\t- [ ] tab nested\n", ["nested", "tab nested"]),
        ("-[ ] no space\n- [] empty box\n- [y] other\n", []),
        ("~~~\n- [ ] in tilde fence\n~~~\n- [ ] after\n", ["after"]),
        ("````\n```\n- [ ] still fenced\n```\n````\n- [ ] out\n", ["out"]),
        ("```\n- [ ] unclosed fence\n", []),
        ("- [ ] a\nlazy continuation\n\nparagraph\n", ["a lazy continuation"]),
        ("- [ ] a\n# heading\n", ["a"]),
        ("- [ ] a\n---\n", ["a"]),
        ("* * *\n- - -\n", []),
        ("``` has `backtick` in info\n- [ ] not a fence\n", ["not a fence"]),
    ],
)
def test_checklist_edge_cases(body: str, expected: list[str]) -> None:
    runbook = parse_runbook("x", front("title: x", body))
    assert [item.text for item in runbook.checklist] == expected


def test_render_with_progress_ticks_exactly_the_done_items() -> None:
    rendered = render_with_progress(rb(), {0, 3, 99})
    lines = rendered.split("\n")
    assert "- [x] Ask for logs." in lines
    assert "- [ ] Label it `~investigate`." in lines  # ticked in the file, not done
    assert "* [ ] Time-box to one hour," in lines
    assert "1. [x] Numbered task." in lines
    assert "+ [ ] Last one." in lines
    assert '{"labels": ["- [ ] not a task"], "x": {"customer": 1}}' in lines
    # only the boxes change
    unboxed = re.compile(r"\[[ xX]\]")
    assert unboxed.sub("[]", rendered) == unboxed.sub("[]", rb().body)


@pytest.mark.parametrize(
    ("done", "expected"),
    [
        (set(), "Escalate a suspected bug 0/5"),
        ({0, 1, 4}, "Escalate a suspected bug 3/5"),
        ({0, 1, 2, 3, 4, 7}, "Escalate a suspected bug 5/5"),
    ],
)
def test_progress_text(done: set[int], expected: str) -> None:
    assert progress_text(rb(), done) == expected


def test_progress_text_without_checklist_is_the_title() -> None:
    assert progress_text(parse_runbook("x", front("title: Plain")), set()) == "Plain"


def test_steps_cover_checklist_list_items_and_code_blocks() -> None:
    found = steps(rb())
    assert [(s.kind, s.text) for s in found] == [
        (StepKind.CHECK, "Ask for logs."),
        (StepKind.CHECK, "Label it `~investigate`."),
        (StepKind.CHECK, "Time-box to one hour, then escalate."),
        (StepKind.CHECK, "Numbered task."),
        (StepKind.ITEM, "plain item"),
        (StepKind.ITEM, "[ ]"),
        (StepKind.CODE, '{"labels": ["- [ ] not a task"], "x": {"customer": 1}}'),
        (StepKind.CHECK, "Last one."),
    ]
    assert [s.index for s in found] == list(range(len(found)))
    assert [s.checklist_index for s in found] == [0, 1, 2, 3, None, None, None, 4]
    code = found[6]
    assert code.lang == "json"
    assert rb().body.split("\n")[code.line_no - 1] == "```json"


def test_code_block_inside_list_item_is_dedented() -> None:
    body = "1. Run:\n\n   ```sh\n   echo hi\n     indented\n   ```\n"
    found = steps(parse_runbook("x", front("title: x", body)))
    assert [(s.kind, s.text) for s in found] == [
        (StepKind.ITEM, "Run:"),
        (StepKind.CODE, "echo hi\n  indented"),
    ]


# --- placeholders ----------------------------------------------------------------------------

CONTEXT = {"customer": "Acme Corp", "codename": "vesta", "ticket_url": "https://h/t/42"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hi {customer}", "Hi Acme Corp"),
        ("customer-{codename} at {ticket_url}", "customer-vesta at https://h/t/42"),
        ("{requester} stays", "{requester} stays"),
        ("{unknown} {customer}", "{unknown} Acme Corp"),
        (
            '```json\n{"customer": {"codename": 1}}\n```',
            '```json\n{"customer": {"codename": 1}}\n```',
        ),
        ("{ customer } {{customer}} ${codename}", "{ customer } {Acme Corp} $vesta"),
        ("{customer-name} {1customer}", "{customer-name} {1customer}"),
        ("", ""),
    ],
)
def test_fill_placeholders(text: str, expected: str) -> None:
    assert fill_placeholders(text, CONTEXT) == expected


def test_fill_placeholders_does_not_rescan_values() -> None:
    context = {"requester": "{codename}", "codename": "vesta"}
    assert fill_placeholders("{requester} / {codename}", context) == "{codename} / vesta"


def test_fill_placeholders_with_empty_context() -> None:
    assert fill_placeholders("{customer}", {}) == "{customer}"


def test_fill_placeholders_markdown_escapes_outside_code_only() -> None:
    context = {"requester": "[click](http://evil) *x*\n```\n# big"}
    text = "Hi {requester}\n```\necho {requester}\n```\n"
    assert fill_placeholders(text, context, markdown=True) == (
        "Hi \\[click\\](http://evil) \\*x\\* \\`\\`\\` \\# big\n"
        "```\n"
        "echo [click](http://evil) *x* ``` # big\n"
        "```\n"
    )


def test_placeholder_context_from_ticket() -> None:
    customer = Customer(id=7, name="Acme Corp", plan="premium", codename="vesta")
    t = ticket(remote_id="4711", url="https://h/t/4711", requester="Ann", assignee=None)
    assert placeholder_context(t, customer) == {
        "customer": "Acme Corp",
        "codename": "vesta",
        "ticket_url": "https://h/t/4711",
        "ticket_id": "4711",
        "requester": "Ann",
    }
    assert placeholder_context(ticket(id=3)) == {"ticket_id": "3"}


# --- suggestions -------------------------------------------------------------------------------


def make(slug: str, title: str, tags: tuple[str, ...] = (), **applies: Any) -> Runbook:
    return Runbook(slug=slug, title=title, body="", tags=tags, applies_to=AppliesTo(**applies))


LIBRARY = [
    make(
        "escalate",
        "Escalate a suspected bug",
        tags=("bug",),
        priorities=(Priority.P0, Priority.P1),
        labels=("bug", "~investigate"),
        keywords=("bug", "error", "crash", "500"),
    ),
    make(
        "outage",
        "Respond to a suspected outage",
        priorities=(Priority.P0,),
        keywords=("outage", "502", "every page"),
    ),
    make("card", "Change a credit card", tags=("billing",), keywords=("credit card",)),
    make("call", "A customer missed a call", sources=(Source.CHAT,), keywords=("missed call",)),
    make("handoff", "Hand off the on-call week"),
]


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        (
            {"subject": "Every page returns 502", "priority": Priority.P0},
            [
                (
                    "outage",
                    5,
                    ("priority P0", 'keyword "502" in subject', 'keyword "every page" in subject'),
                ),
                ("escalate", 1, ("priority P0",)),
            ],
        ),
        (
            {
                "subject": "Agent CRASH after upgrade",
                "body": "HTTP 500 from /api",
                "labels": ("Bug",),
                "priority": Priority.P2,
            },
            [
                (
                    "escalate",
                    6,
                    ('label "bug"', 'keyword "crash" in subject', 'keyword "500" in body'),
                )
            ],
        ),
        (
            {"subject": "How do I change my credit\ncard? billing question"},
            [("card", 3, ('keyword "credit card" in subject', 'tag "billing"'))],
        ),
        (
            {"subject": "We missed call today", "source": Source.CHAT},
            [("call", 3, ("source chat", 'keyword "missed call" in subject'))],
        ),
        ({"subject": "errors 5000 hosts crashed", "priority": Priority.P3}, []),
        ({"subject": "Hello"}, []),
    ],
)
def test_suggest(kw: dict[str, Any], expected: list[tuple[str, int, tuple[str, ...]]]) -> None:
    found = suggest(LIBRARY, ticket(**kw))
    assert [(s.runbook.slug, s.score, s.reasons) for s in found] == expected


def test_suggest_ties_go_by_title_and_unpack_as_tuples() -> None:
    twins = [
        make("b", "Beta", priorities=(Priority.P1,)),
        make("a", "Alpha", priorities=(Priority.P1,)),
    ]
    found = suggest(twins, ticket(priority=Priority.P1))
    assert [runbook.slug for runbook, _score, _reasons in found] == ["a", "b"]


def test_suggest_tag_already_a_keyword_counts_once() -> None:
    found = suggest(LIBRARY[:1], ticket(subject="a bug", priority=Priority.P3))
    assert found[0].score == 2
    assert found[0].reasons == ('keyword "bug" in subject',)


def test_suggest_curly_apostrophe_matches_straight_one() -> None:
    runbook = make("x", "X", keywords=("didn't join",))
    assert suggest([runbook], ticket(subject="They didn\u2019t join"))[0].score == 2


# --- fuzzy filter ----------------------------------------------------------------------------

FUZZY = [
    make("escalate-suspected-bug", "Escalate a suspected bug", tags=("bug", "escalation")),
    make("change-credit-card", "Change a customer's credit card", tags=("billing",)),
    make("contact-developer-on-call", "Contact the developer on call", tags=("on-call",)),
    make("missed-customer-call", "A customer missed a call"),
    make("hand-off-on-call-week", "Hand off the on-call week", tags=("handover",)),
]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "",
            [
                "missed-customer-call",
                "change-credit-card",
                "contact-developer-on-call",
                "escalate-suspected-bug",
                "hand-off-on-call-week",
            ],
        ),
        (
            "   ",
            [
                "missed-customer-call",
                "change-credit-card",
                "contact-developer-on-call",
                "escalate-suspected-bug",
                "hand-off-on-call-week",
            ],
        ),
        ("esc", ["escalate-suspected-bug", "missed-customer-call", "change-credit-card"]),
        ("ESC", ["escalate-suspected-bug", "missed-customer-call", "change-credit-card"]),
        (
            "cc",
            [
                "change-credit-card",
                "contact-developer-on-call",
                "missed-customer-call",
                "escalate-suspected-bug",
            ],
        ),
        ("billing", ["change-credit-card"]),
        ("dev call", ["contact-developer-on-call"]),
        ("handover", ["hand-off-on-call-week"]),
        ("zzz", []),
        ("bug zzz", []),
    ],
)
def test_fuzzy_filter(query: str, expected: list[str]) -> None:
    assert [r.slug for r in fuzzy_filter(FUZZY, query)] == expected
