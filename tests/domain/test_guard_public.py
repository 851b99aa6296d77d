"""The guard on public writes: every known customer, phrases, and mentions made inert."""

from __future__ import annotations

import pytest

from oncall_tui.demo.seed import CUSTOMERS
from oncall_tui.domain.guard import check_public, needs_guard, neutralise, references
from oncall_tui.domain.ops import OpKind
from oncall_tui.domain.tickets import Customer, Source

KNOWN = [
    Customer(id=i, name=n, plan=p, codename=c, domains=d, contacts=k)
    for i, (n, p, c, d, k) in enumerate(CUSTOMERS, start=1)
]
BY_NAME = {c.name: c for c in KNOWN}
GLOBEX = BY_NAME["Globex Health"]
ACME = BY_NAME["Acme Logistics"]


@pytest.mark.parametrize(
    ("source", "kind", "public"),
    [
        (Source.TRACKER, OpKind.REPLY, True),  # a comment on a public issue
        (Source.TRACKER, OpKind.ADD_LABELS, True),  # a label on a public issue
        (Source.TRACKER, OpKind.CREATE_ISSUE, True),  # a bug report
        (Source.HELPDESK, OpKind.CREATE_ISSUE, True),  # a bug report filed from a ticket
        (Source.CHAT, OpKind.REPLY, True),  # a message into a shared channel
        (Source.HELPDESK, OpKind.REPLY, False),  # to the customer themselves
        (Source.HELPDESK, OpKind.NOTE, False),  # internal
        (Source.HELPDESK, OpKind.ADD_LABELS, False),  # help-desk tags are internal
        (Source.TRACKER, OpKind.REMOVE_LABELS, False),  # nothing new is published
        (Source.TRACKER, OpKind.SET_STATUS, False),
    ],
)
def test_which_writes_are_public(source: Source, kind: OpKind, public: bool) -> None:
    assert needs_guard(source, kind) is public


@pytest.mark.parametrize(
    ("text", "own", "audience", "expected"),
    [
        # the false positive of issue 14: a common word that is only part of a name
        ("the load balancer health check fails", GLOBEX, None, []),
        ("Health check fails on every node", GLOBEX, None, []),
        # the false negative: another real customer, on Globex's report
        ("Acme Logistics sees it too", GLOBEX, None, [("Acme Logistics", "Acme Logistics")]),
        ("acme's hosts too", GLOBEX, None, [("Acme", "Acme Logistics")]),
        (
            "see dana.whitfield@acme-logistics.com",
            GLOBEX,
            None,
            [("Dana Whitfield", ACME.name), ("acme-logistics.com", ACME.name)],
        ),
        ("Dana Whitfield reported it", GLOBEX, None, [("Dana Whitfield", ACME.name)]),
        ("Whitfield reported it", GLOBEX, None, [("Whitfield", ACME.name)]),
        # the ticket's own customer: every term, first names alone included
        ("Globex Health is down", GLOBEX, None, [("Globex Health", GLOBEX.name)]),
        ("Rita says hi", GLOBEX, None, [("Rita", GLOBEX.name)]),
        # another customer's first name alone names nobody on a public tracker
        ("Thanks Chris, merged", GLOBEX, None, []),
        # common words of other customers' names and people are not hits
        ("our S3 bucket stopped filling", GLOBEX, None, []),  # Charlie Bucket's surname
        ("Umbrella's hosts too", GLOBEX, None, [("Umbrella", "Umbrella Retail")]),
        ("retail logistics freight foods", GLOBEX, None, []),
        # codenames are what public text is for
        ("customer-vesta and customer-ceres both affected", GLOBEX, None, []),
        # the audience itself: naming Acme in Acme's own shared channel is no leak...
        ("Hi Acme Logistics team", ACME, ACME, []),
        # ...naming another customer there is
        ("Globex Health had this too", ACME, ACME, [("Globex Health", GLOBEX.name)]),
    ],
)
def test_check_public(
    text: str,
    own: Customer,
    audience: Customer | None,
    expected: list[tuple[str, str]],
) -> None:
    hits = check_public({"body": text}, KNOWN, own=own, audience=audience)
    assert [(h.term, h.customer) for h in hits] == expected


def test_every_customer_is_checked_without_an_own_one() -> None:
    hits = check_public({"title": "Stark Aerospace and initech.bank"}, KNOWN)
    assert [h.customer for h in hits] == ["Stark Aerospace", "Initech Banking"]


@pytest.mark.parametrize(
    ("text", "inert"),
    [
        ("ping @alice now", "ping `@alice` now"),
        ("see #123 and acme/product#45", "see `#123` and `acme/product#45`"),
        ("@org/team please", "`@org/team` please"),
        ("<!here> and <@U0123>", "`@here` and `@U0123`"),
        ("mail rita@globexhealth.io", "mail rita@globexhealth.io"),  # an e-mail is no mention
        ("already `@alice` and ```\n#9\n```", "already `@alice` and ```\n#9\n```"),
        ("issue#12x and &#123;", "issue#12x and &#123;"),
        ("step #1: restart", "step `#1`: restart"),
    ],
)
def test_neutralise(text: str, inert: str) -> None:
    assert neutralise(text) == inert


def test_a_reference_kept_on_purpose_stays_live() -> None:
    text = "@alice see #123"
    assert [r.text for r in references(text)] == ["@alice", "#123"]
    assert neutralise(text, keep={"#123"}) == "`@alice` see #123"
