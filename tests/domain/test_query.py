"""The filter language as typed: what each token becomes, and the problems shown for typos."""

from __future__ import annotations

import pytest

from oncall_tui.domain.query import Query, Term, parse_query


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("printer jam", Query(words=("printer", "jam"))),
        ("-Acme", Query(excluded=("Acme",))),
        ("printer -acme", Query(words=("printer",), excluded=("acme",))),
        ('-"acme corp"', Query(excluded=("acme corp",))),
        ("-", Query(words=("-",))),  # a lone dash is nothing to leave out
        ("priority:P0,1", Query(terms=(Term("priority", ("P0", "P1")),))),
        ("p:p2", Query(terms=(Term("priority", ("P2",)),))),
        ("-label:bug", Query(terms=(Term("label", ("bug",), negated=True),))),
        ('label:"+more info please"', Query(terms=(Term("label", ("+more info please",)),))),
        ("assignee:alex", Query(terms=(Term("assignee", ("alex",)),))),
        # the Source column's own word, the backends' names and the stored value
        ("source:desk", Query(terms=(Term("source", ("helpdesk",)),))),
        ("source:Zendesk,slack", Query(terms=(Term("source", ("helpdesk", "chat")),))),
        ("src:github", Query(terms=(Term("source", ("tracker",)),))),
        ("status:pending", Query(terms=(Term("status", ("pending",)),))),
        ("status:on-hold", Query(terms=(Term("status", ("hold",)),))),
        # is:pending is the ticket status; the unsynced state has its own name
        ("is:pending", Query(terms=(Term("is", ("pending",)),))),
        ("is:unsent", Query(terms=(Term("is", ("unsent",)),))),
        ("#41165", Query(numbers=(("41165", True),))),
        ("41165", Query(numbers=(("41165", False),))),
        ("acme/product#123", Query(numbers=(("acme/product#123", True),))),
        ("rita@globexhealth.io", Query(emails=("rita@globexhealth.io",))),
        ("Rita@Glo", Query(emails=("rita@glo",))),
        ("@acme", Query(words=("@acme",))),  # not an address: words
        ('"error:500"', Query(words=("error:500",))),  # quoted: words, whatever they look like
        ("https://acme.zendesk.com/agent", Query(words=("https://acme.zendesk.com/agent",))),
        ("10:30", Query(words=("10:30",))),
    ],
)
def test_tokens(text: str, expected: Query) -> None:
    parsed = parse_query(text)
    assert parsed == expected
    assert parsed.problems == ()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("priorty:P0", "priorty: unknown field — did you mean priority?"),
        ("-assigne:me", "assigne: unknown field — did you mean assignee?"),
        ("colour:red", "colour: unknown field — fields: assignee, customer, is, label,"),
        ("priority:P9", "priority:P9 is not valid — P0, P1, P2 or P3"),
        ("status:pendig", "status:pendig is not valid — did you mean status:pending?"),
        ("is:nonsense", "is:nonsense is not valid — open, closed, paused, pending, unsent"),
        ("source:", "source: needs a value (desk, chat or tracker)"),
        ("sla:breachd", "sla:breachd is not valid — did you mean sla:breached?"),
    ],
)
def test_problems_are_reported_and_not_searched(text: str, problem: str) -> None:
    parsed = parse_query(text)
    assert len(parsed.problems) == 1 and parsed.problems[0].startswith(problem), parsed.problems
    # Nothing is searched for a misspelt term: not its words either ("priorty" "P0" would
    # quietly match nothing).
    assert parsed.is_empty


def test_a_problem_leaves_the_rest_of_the_query() -> None:
    parsed = parse_query("printer priorty:P0 plan:premium")
    assert parsed.words == ("printer",)
    assert parsed.terms == (Term("plan", ("premium",)),)
    assert len(parsed.problems) == 1


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("41165", "41165"),
        ("#41165", "41165"),
        (" #7 ", "7"),
        ("acme/product#12", "acme/product#12"),
    ],
)
def test_a_lone_number_is_a_jump(text: str, number: str) -> None:
    assert parse_query(text).ticket_number == number


@pytest.mark.parametrize("text", ["41165 printer", "#1 #2", "is:open #41165", "-41165", "printer"])
def test_anything_more_is_not_a_jump(text: str) -> None:
    assert parse_query(text).ticket_number is None


def test_unfinished_quote_while_typing_never_raises() -> None:
    assert parse_query('label:"+more info').terms == (Term("label", ("+more info",)),)
    assert parse_query('"').is_empty


def test_combined_queries_keep_every_part() -> None:
    both = parse_query("is:open -acme #5 rita@x") & parse_query("printer priorty:1")
    assert both.terms == (Term("is", ("open",)),)
    assert both.words == ("printer",) and both.excluded == ("acme",)
    assert both.numbers == (("5", True),) and both.emails == ("rita@x",)
    assert len(both.problems) == 1
