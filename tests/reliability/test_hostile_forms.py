"""Hostile bug-report input: the form's pure functions never raise and stay fast.

Field values come from the keyboard, from pasted logs and (through pre-fill) from the
customer's ticket, so: huge text, NUL and control characters, RTL marks, emoji, markup.
``validate``/``validate_field``/``render_issue``/``public_text``/``guard.check`` and the
search-first helpers must answer for any of it; ``prefill`` and the similar-issue search
run on the UI thread, so they must also stay linear.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oncall_tui.data.resources import default_form_schema
from oncall_tui.domain import guard
from oncall_tui.domain.bug_form import TICKET_URL_KEY
from oncall_tui.domain.bug_report import (
    BugReportDraft,
    prefill,
    public_text,
    render_issue,
    validate,
    validate_field,
)
from oncall_tui.domain.bug_similar import rank_similar, similar_issue_query
from oncall_tui.domain.tickets import Customer, Source, Ticket
from tests.reliability.conftest import HOSTILE, fuzz

SCHEMA = default_form_schema()
FIELD_IDS = [f.id for f in SCHEMA.fields]
NOW = datetime(2026, 11, 23, 18, 30, tzinfo=UTC)
ACME = Customer(
    id=1,
    name="Acme Logistics Inc.",
    plan="premium",
    codename="ceres",
    domains=("acme-logistics.com", "acme.co.uk"),
    contacts=("Jane Doe <jane.doe@acme-logistics.com>", "Will Page"),
)

hostile_text = (
    st.text(max_size=80)
    | st.sampled_from(HOSTILE)
    | st.text(alphabet=st.characters(max_codepoint=0x3000), max_size=400)
    | st.builds(
        lambda s, n: s * n,
        st.sampled_from(["x", " ", "\n", "\x00", "é", "🔥"]),
        st.integers(0, 70_000),
    )
    | st.lists(st.sampled_from(HOSTILE) | st.text(max_size=10), max_size=20).map("".join)
)
values_strategy = st.dictionaries(
    st.sampled_from([*FIELD_IDS, TICKET_URL_KEY]) | st.text(max_size=5), hostile_text, max_size=8
)
customers = st.builds(
    Customer,
    id=st.just(7),
    name=hostile_text.filter(lambda s: len(s) < 200),
    plan=st.just("premium"),
    codename=st.none() | st.text(max_size=12),
    domains=st.lists(st.text(max_size=20) | st.just("acme.com"), max_size=3).map(tuple),
    contacts=st.lists(st.text(max_size=30) | st.just("j.doe@acme.com"), max_size=3).map(tuple),
)


@fuzz(150)
@given(values_strategy, st.one_of(st.just(ACME), customers))
def test_form_functions_never_raise(values: dict[str, str], customer: Customer) -> None:
    for f in SCHEMA.fields:
        message = validate_field(f, values.get(f.id))
        assert message is None or isinstance(message, str)
    errors = validate(SCHEMA, values)
    assert all(e.field_id in FIELD_IDS for e in errors)
    preview = render_issue(SCHEMA, values)
    assert isinstance(preview.body_markdown, str)
    hits = guard.check(public_text(SCHEMA, values), customer)
    for hit in hits:
        guard.describe(hit)
        assert "\x1b" not in hit.context and "\x00" not in hit.context
    draft = BugReportDraft(values=values).with_value("title", "x")
    assert draft.values["title"] == "x"
    similar_issue_query(values, SCHEMA)
    rank_similar([(1, "Live query hangs", "error: boom")], values, SCHEMA)


@pytest.mark.parametrize("value", ["\x00", "\x1b[31m", "a\x07b", "\x9b", "x\x0bx", "\x7f"])
def test_control_characters_are_reported_not_filed(value: str) -> None:
    summary = SCHEMA.field("summary")
    message = validate_field(summary, f"before {value} after")
    assert message is not None and "control character" in message


def test_a_megabyte_field_is_refused_with_a_message_quickly() -> None:
    values = {"title": "t", "actual": "lorem ipsum " * 90_000}
    started = time.monotonic()
    errors = validate(SCHEMA, values)
    assert time.monotonic() - started < 1.5
    assert any(e.field_id == "actual" and "characters" in e.message for e in errors)


@pytest.mark.product_bug("B6: prefill's version regexes are quadratic on blank runs (ReDoS)")
def test_prefill_is_linear_on_customer_text() -> None:
    """The ticket body is the customer's. ``\\s*[:=]?\\s*`` tries every split of a blank run
    after "fleet" or "server version": 10,000 spaces cost a second, 100,000 two minutes."""
    body = "Fleet" + " " * 10_000 + "x"
    ticket = Ticket(
        id=1, source=Source.HELPDESK, subject="Re: crash", body=body, opened_at=NOW, updated_at=NOW
    )
    started = time.monotonic()
    prefill(SCHEMA, ticket, ACME, None)
    assert time.monotonic() - started < 0.4


@pytest.mark.product_bug("B7: the similar-issue search dedupes error messages quadratically")
def test_similar_issue_search_is_fast_on_a_pasted_log() -> None:
    """A pasted log of 8,000 distinct "error: ..." lines (350 KB) freezes the form for
    seconds: every message is compared with every earlier one, on the UI thread."""
    log = "\n".join(f"error: request {i} failed with code {i % 997}x{i % 13}" for i in range(8000))
    values = {"title": "Live query hangs at 95%", "actual": log}
    started = time.monotonic()
    similar_issue_query(values, SCHEMA)
    rank_similar([(1, "Live query hangs", "error: boom")], values, SCHEMA)
    assert time.monotonic() - started < 1.5
