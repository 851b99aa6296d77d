"""The confidentiality guard: the customer's identity must not reach a public issue."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oncall_tui.domain.guard import (
    GuardHit,
    GuardOverride,
    check,
    describe,
    override_for,
    replace_hits,
    unresolved,
)
from oncall_tui.domain.tickets import Customer

ACME = Customer(
    id=1,
    name="Acme Corp",
    plan="premium",
    codename="vesta",
    domains=("acme.com",),
    contacts=("Jane Doe <jane.doe@acme.com>", "Will Page", "Bob Smith"),
)
AT = datetime(2024, 7, 1, 12, 0, tzinfo=UTC)


def found(text: str, customer: Customer = ACME) -> list[str]:
    return [text[h.start : h.end] for h in check({"f": text}, customer)]


@pytest.mark.parametrize(
    ("text", "matches"),
    [
        # the company name: case, punctuation, possessive, spacing
        ("Acme", ["Acme"]),
        ("seen at ACME today", ["ACME"]),
        ("acme's fleet", ["acme"]),
        ("Acme’s fleet", ["Acme"]),
        ("Acme, Inc. reported", ["Acme"]),
        ("the ACME-corp tenant", ["ACME-corp"]),
        ("AcmeCorp", ["AcmeCorp"]),
        ("acme_corp_prod", ["acme_corp"]),
        ("Acme Corp.", ["Acme Corp"]),
        ("A.C.M.E. said", ["A.C.M.E."]),
        ("host acme01 is down", ["acme"]),
        ("(acme)", ["acme"]),
        # domains and emails
        ("acme.com", ["acme.com"]),
        ("https://fleet.acme.com/hosts", ["acme.com"]),
        ("ping ACME.COM", ["ACME.COM"]),
        ("mail jane.doe@acme.com now", ["jane.doe@acme.com"]),
        ("user@acme.com", ["acme.com"]),
        ("acme dot com", ["acme dot com"]),
        ("acme[.]com", ["acme[.]com"]),
        ("acme (dot) com", ["acme (dot) com"]),
        # people
        ("Jane Doe called", ["Jane Doe"]),
        ("JANE DOE", ["JANE DOE"]),
        ("Doe, Jane", ["Doe, Jane"]),
        ("user jane.doe logged in", ["jane.doe"]),
        ("Ms Doe wrote", ["Doe"]),
        ("Jane says hi", ["Jane"]),
        ("Bob Smith and smith", ["Bob Smith", "smith"]),
        ("Will Page replied", ["Will Page"]),
        ("Page said", ["Page"]),
        # several in one text, in order
        ("Acme (acme.com): Jane", ["Acme", "acme.com", "Jane"]),
    ],
)
def test_hits(text: str, matches: list[str]) -> None:
    assert found(text) == matches


@pytest.mark.parametrize(
    "text",
    [
        "The corporation's incoming data is incorporated into the LLC report.",
        "Inc. Corp. The Ltd co",
        "acmeist placement acmes",  # letters either side: not the name
        "jane said the page will load; will you check the next page?",  # common, lowercase
        "customer-vesta is affected; vesta runs 4.57.1",  # the codename is fine
        "macOS 14.5 with Chrome 126 and fleetd 1.30.0",
        "",
    ],
)
def test_no_false_positives(text: str) -> None:
    assert found(text) == []


def test_common_word_company_matches_only_as_a_name() -> None:
    target = Customer(id=2, name="Target Corporation", plan="ultimate", codename="eros")
    assert found("the target host and targets", target) == []
    assert found("Target says TARGET and Target Corporation", target) == [
        "Target",
        "TARGET",
        "Target Corporation",
    ]
    assert found("target corporation", target) == []


def test_generic_only_name_matches_as_a_whole() -> None:
    generic = Customer(id=3, name="Global Solutions Inc", plan="premium")
    assert found("global solutions are generic", generic) == ["global solutions"]
    assert found("GlobalSolutions", generic) == ["GlobalSolutions"]
    assert found("Global Solutions Inc.", generic) == ["Global Solutions Inc"]
    assert found("a global rollout of solutions", generic) == []


def test_domain_name_is_a_distinctive_word() -> None:
    customer = Customer(id=4, name="Blue Harbor Logistics", plan="premium", domains=("bhl.co.uk",))
    assert found("bhl ships from BHL.co.uk", customer) == ["bhl", "BHL.co.uk"]
    # ordinary words in the name: found as the name (Capitalised), never alone
    assert found("Blue Harbor's hosts", customer) == ["Blue Harbor"]
    assert found("Blue and Harbor", customer) == []
    assert found("blue harbor", customer) == []
    assert found("BLUE HARBOR LOGISTICS", customer) == ["BLUE HARBOR LOGISTICS"]
    assert found("logistics in blue", customer) == []


def test_hit_details_and_context() -> None:
    text = "x " * 25 + "Acme" + " y" * 25
    (hit,) = check({"summary": text}, ACME)
    assert hit == GuardHit(
        field_id="summary",
        term="Acme",
        start=50,
        end=54,
        context="…" + "x " * 15 + "Acme" + " y" * 15 + "…",
        customer="Acme Corp",
    )
    (hit,) = check({"steps": "1. open\n\tAcme\x1b[0m page"}, ACME)
    assert hit.context == "1. open  Acme [0m page"
    assert describe(hit) == 'steps: "Acme" in "1. open  Acme [0m page"'


def test_hits_per_field_in_field_order() -> None:
    hits = check({"title": "Acme broken", "summary": "", "steps": "ask jane.doe@acme.com"}, ACME)
    assert [(h.field_id, h.term) for h in hits] == [
        ("title", "Acme"),
        ("steps", "jane.doe@acme.com"),
    ]


def test_customer_without_identity_finds_nothing() -> None:
    empty = Customer(id=5, name="", plan="free")
    assert check({"f": "Anything at all, Inc."}, empty) == []


def test_replace_hits_with_codename() -> None:
    text = "Acme's hosts at fleet.acme.com; ask Jane Doe"
    hits = check({"f": text}, ACME)
    assert replace_hits(text, hits, "vesta") == "vesta's hosts at fleet.vesta; ask vesta"


def test_override_covers_terms() -> None:
    hits = check({"f": "Acme and Jane Doe"}, ACME)
    override = override_for(hits[:1], "customer agreed to be named", AT)
    assert override.terms == ("Acme",)
    assert unresolved(hits, override) == hits[1:]
    assert unresolved(hits, None) == hits
    assert unresolved(hits, GuardOverride("ok", AT, ("ACME", "jane doe"))) == []


@pytest.mark.parametrize(
    ("reason", "at"),
    [("", AT), ("   ", AT), ("ok", datetime(2024, 7, 1, 12, 0))],
)
def test_override_needs_reason_and_aware_time(reason: str, at: datetime) -> None:
    with pytest.raises(ValueError):
        GuardOverride(reason, at, ("Acme",))


WEIRD = st.sampled_from(
    ["\x00", "\u200f", "\u202e", "😀", "Acme", "acme.com", "Jane", " ", "\n", "'s", ".", "ß", "İ"]
)
TEXT = st.text() | st.lists(WEIRD | st.text(max_size=5)).map("".join)
NAMES = st.text(max_size=30) | st.lists(WEIRD | st.text(max_size=6), max_size=5).map(" ".join)


@settings(max_examples=200, deadline=None)
@given(
    text=TEXT, name=NAMES, contacts=st.lists(NAMES, max_size=3), domains=st.lists(TEXT, max_size=2)
)
def test_check_never_raises(text: str, name: str, contacts: list[str], domains: list[str]) -> None:
    customer = Customer(
        id=9,
        name=name,
        plan="premium",
        codename="ceres",
        domains=tuple(domains),
        contacts=tuple(contacts),
    )
    for hit in check({"f": text}, customer):
        assert 0 <= hit.start < hit.end <= len(text)
        assert hit.term


@settings(max_examples=10, deadline=None)
@given(chunk=TEXT, times=st.integers(1, 4000))
def test_check_handles_huge_text(chunk: str, times: int) -> None:
    text = (chunk + " Acme ")[:200] * times  # up to ~100k characters
    hits = check({"f": text[:100_000]}, ACME)
    assert all(h.term for h in hits)


def test_check_is_fast_on_100k_characters() -> None:
    text = ("Error: connection refused by host 10.0.0.1 at Acme's office\n" * 2000)[:100_000]
    hits = check({"actual": text}, ACME)
    assert len(hits) >= 1600
