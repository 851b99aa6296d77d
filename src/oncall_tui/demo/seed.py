"""Deterministic demo data: customers, tickets, threads and bug reports relative to "now".

The same seed and the same "now" always give the same data. Every ticket carries a remote id
in its backend's format, so the demo's fake backends can serve the very same records and the
real sync engine finds them already cached.

A little over 500 lines on purpose: the demo's words (customers, subjects, threads) and the
functions that spread them over the day and the week are read and changed together.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from oncall_tui.domain.tickets import (
    Channel,
    Comment,
    Customer,
    PauseInterval,
    Priority,
    Source,
    Status,
    Ticket,
)

if TYPE_CHECKING:
    from oncall_tui.store import Store

#: Agents are named by their help-desk identity (an email), as Zendesk assigns by email.
AGENTS = tuple(f"{name}@support.example" for name in ("alex", "sam", "priya", "jordan", "mei"))
DEMO_USER = AGENTS[0]
DEMO_REPO = "acme/product"
#: The demo's engineering help channel (``[escalation] help_channel_id``): the fake Slack has
#: it, so the time-box's on-call message is posted there.
DEMO_HELP_CHANNEL = "C0HELPENG"

CUSTOMERS: tuple[tuple[str, str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    # name, plan, codename, domains, contacts
    (
        "Acme Logistics",
        "ultimate",
        "ceres",
        ("acme-logistics.com",),
        ("Dana Whitfield", "Omar Haddad"),
    ),
    ("Globex Health", "premium", "vesta", ("globexhealth.io",), ("Rita Okafor",)),
    ("Initech Banking", "ultimate", "eros", ("initech.bank",), ("Bill Lumbergh", "Joanna Park")),
    ("Umbrella Retail", "premium", "pallas", ("umbrella-retail.com",), ("Chris Redfield",)),
    ("Stark Aerospace", "ultimate", "juno", ("starkaero.com",), ("Pepper Hale",)),
    ("Wayne Freight", "premium", "hygiea", ("waynefreight.co",), ("Lucius Fox",)),
    ("Hooli Cloud", "free", "psyche", ("hooli.xyz",), ("Gavin Bellson",)),
    ("Soylent Foods", "free", "iris", ("soylentfoods.net",), ("Sol Roth",)),
    ("Tyrell Robotics", "ultimate", "flora", ("tyrell-robotics.com",), ("Rachael Tyrell",)),
    ("Cyberdyne Systems", "premium", "metis", ("cyberdyne.systems",), ("Miles Dyson",)),
    ("Wonka Confections", "free", "hebe", ("wonka.candy",), ("Charlie Bucket",)),
    ("Oscorp Labs", "premium", "astraea", ("oscorp-labs.com",), ("Harriet Osborn",)),
)

SUBJECTS: tuple[tuple[str, str, Priority], ...] = (
    (
        "Every page returns 502 after upgrading to Fleet {ver}",
        "Since the upgrade to Fleet {ver} this morning every page of the UI returns 502 Bad "
        "Gateway. The load balancer health checks fail too. Our hosts are on fleetd {agent}.",
        Priority.P0,
    ),
    (
        "Production instance unreachable, MySQL connection errors",
        "Fleet server logs show `Error 1040: Too many connections` and the UI is down. We run "
        "Fleet {ver} with 3 server instances behind an ALB.",
        Priority.P0,
    ),
    (
        "Live query hangs at 95% and never finishes",
        "Running a live query against ~2,000 hosts stalls at 95% responded. Fleet {ver}, "
        "osquery {osq}. Browser: Chrome 126 on macOS 14.5.",
        Priority.P1,
    ),
    (
        "fleetd not enrolling on Windows 11 hosts",
        "New Windows 11 machines install fleetd {agent} but never show up in Fleet. Logs say "
        "`enroll failed: certificate signed by unknown authority`.",
        Priority.P1,
    ),
    (
        "Policies show stale results for a subset of hosts",
        "About 10% of our Ubuntu 22.04 hosts report policy results that are two days old. "
        "Fleet {ver}.",
        Priority.P2,
    ),
    (
        "Vulnerability dashboard is empty after migration",
        "After migrating to the new server, the software vulnerabilities page shows nothing. "
        "Fleet {ver}, MySQL 8.0.36.",
        Priority.P2,
    ),
    (
        "SSO login loop with Okta",
        "Users get redirected back to the Okta login page in a loop. Started after renewing the "
        "IdP certificate. Browser: Firefox 127.",
        Priority.P2,
    ),
    (
        "Scheduled query results missing in S3",
        "Query results for the `usb_devices` pack stopped arriving in our S3 bucket on Friday. "
        "Fleet {ver}.",
        Priority.P2,
    ),
    (
        "How do I configure scheduled queries for macOS only?",
        "We want a query to run only on macOS hosts every hour. What is the recommended way?",
        Priority.P3,
    ),
    (
        "Question about rotating the enroll secret",
        "Can we rotate the global enroll secret without re-enrolling every host?",
        Priority.P3,
    ),
    (
        "License key purchase failed at checkout",
        "Our card was charged but we never received the license key. Order ref 88231.",
        Priority.P3,
    ),
    (
        "Request: export host list as CSV with custom columns",
        "Is there a way to export the hosts table with labels and last seen time?",
        Priority.P3,
    ),
    (
        "MDM enrollment profile not installing on macOS 15",
        "The enrollment profile downloads but macOS 15 says it is invalid. Fleet {ver}.",
        Priority.P1,
    ),
    (
        "API returns 500 when filtering hosts by label",
        "`GET /api/v1/fleet/hosts?label_id=12` returns 500 on Fleet {ver}. Logs attached: "
        "[ERROR] [osquery] distributed query failed",
        Priority.P2,
    ),
    (
        "Need help sizing Redis for 50k hosts",
        "We're planning a rollout to 50k hosts. What Redis capacity do you recommend?",
        Priority.P3,
    ),
)

CHAT_MESSAGES = (
    "Hey team, our Fleet UI is super slow since this morning, anyone around?",
    "Is there a known issue with fleetd {agent} on ARM Macs?",
    "Quick question: can we pin osquery to {osq} for a subset of hosts?",
    "We're seeing duplicate hosts after re-imaging laptops, how do we clean them up?",
    "Our certificate renewal is tomorrow, anything we should do on the Fleet side?",
    "Hi! The live query page shows 0 hosts online but they're clearly online.",
)

BUG_STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("new", ("bug", ":reproduce", ":incoming")),
    ("investigating", ("bug", "~investigate", ":help-customers")),
    ("reproduced", ("bug", ":product")),
    ("not reproduced", ("bug", ":reproduce", ":incoming")),
)

BUG_TITLES = (
    "Live query stalls at 95% on large host counts",
    "fleetd enrollment fails with custom CA on Windows",
    "Hosts API returns 500 when filtering by label",
    "Policy results not refreshed for some Ubuntu hosts",
    "Vulnerability dashboard empty after server migration",
    "MDM profile rejected by macOS 15",
    "Okta SSO redirect loop after certificate renewal",
    "S3 logging destination silently stops",
)

COMMENT_LINES = (
    "Thanks for reaching out! Could you share the server logs from the time it happened?",
    "Here are the logs you asked for.",
    "We reproduced this on our side and are looking into it.",
    "Any update on this? It's blocking our rollout.",
    "Could you run `fleetctl debug archive` and attach the result?",
    "Restarting the servers helped for an hour, then it came back.",
    "I've escalated this to engineering; I'll update you by end of day.",
)


@dataclass
class DemoData:
    """Everything the demo seeds. ``Comment.ticket_id`` indexes ``tickets``."""

    customers: list[Customer] = field(default_factory=list)
    tickets: list[Ticket] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)


def comment_id(ticket: Ticket, when: datetime, j: int) -> str:
    """A comment id in the format of the ticket's backend (so the fakes can serve it)."""
    if ticket.source == Source.CHAT:
        channel = (ticket.remote_id or "").partition(":")[0]
        return f"{channel}:{int(when.timestamp())}.{j:06d}"
    return str(
        7_000_000 + int(ticket.remote_id.rpartition("#")[2] if ticket.remote_id else 0) * 10 + j
    )


def _version(rng: random.Random) -> str:
    return f"4.{rng.randint(50, 60)}.{rng.randint(0, 3)}"


def make_demo_data(
    now: datetime, seed: int = 1, count: int = 200, *, history: bool = False
) -> DemoData:
    """Generate the demo's customers and about ``count`` tickets, deterministically.

    With ``history``, a week of solved tickets is added too (see :func:`add_week_history`),
    so the on-call handoff has something to summarise on first run.
    """
    rng = random.Random(seed)
    data = DemoData()
    for i, (name, plan, codename, domains, contacts) in enumerate(CUSTOMERS, start=1):
        data.customers.append(
            Customer(
                id=i,
                name=name,
                plan=plan,
                codename=codename,
                domains=domains,
                contacts=contacts,
                remote_id=str(900 + i),
            )
        )
    zendesk_id = 41000
    tracker_number = 1200
    n_bugs = 2 * len(BUG_STAGES)
    n_chat = max(6, count // 10)
    n_helpdesk = max(0, count - n_bugs - n_chat)

    def fill(template: str) -> str:
        return template.format(
            ver=_version(rng),
            agent=f"1.{rng.randint(25, 36)}.0",
            osq=f"5.{rng.randint(10, 14)}.{rng.randint(0, 2)}",
        )

    def thread(
        index: int, opened: datetime, requester: str, n: int, *, answered: bool = True
    ) -> datetime | None:
        """Alternate our replies and the customer's, ours first (unanswered: the customer's
        and our internal notes only); returns when we first answered in public."""
        when = opened
        first: datetime | None = None
        for j in range(n):
            when = when + timedelta(minutes=rng.randint(5, 240))
            if when >= now:
                break
            ours = not j % 2
            author = rng.choice(AGENTS) if ours else requester
            body = rng.choice(COMMENT_LINES)
            public = rng.random() > 0.15
            if ours and not answered:
                public = False  # a note: not an answer
            if ours and public and first is None:
                first = when
            data.comments.append(
                Comment(
                    id=0,
                    ticket_id=index,
                    author=author,
                    body=body,
                    created_at=when,
                    public=public,
                    remote_id=comment_id(data.tickets[index], when, j),
                    role="staff" if ours else "customer",
                )
            )
        return first

    def say(index: int, when: datetime, author: str, role: str, j: int) -> None:
        data.comments.append(
            Comment(
                id=0,
                ticket_id=index,
                author=author,
                body=COMMENT_LINES[j % len(COMMENT_LINES)],
                created_at=when,
                public=True,
                remote_id=comment_id(data.tickets[index], when, j),
                role=role,
            )
        )

    # Help-desk tickets. The first few are placed on purpose so the demo always shows
    # breached, due-within-the-hour and paused tickets whatever the day of the week: they use
    # calendar-hour targets (premium P0: 4 h; chat: 24 h), which run on weekends too.
    placed = [
        (timedelta(hours=6, minutes=12), Priority.P0, "premium", Status.OPEN, ()),  # breached
        (timedelta(hours=4, minutes=30), Priority.P0, "premium", Status.NEW, ()),  # breached
        (timedelta(hours=3, minutes=25), Priority.P0, "premium", Status.OPEN, ()),  # 35 min
        (timedelta(hours=3, minutes=50), Priority.P0, "premium", Status.NEW, ()),  # 10 min
        (timedelta(hours=2), Priority.P1, "premium", Status.PENDING, ()),  # paused
        (timedelta(hours=20), Priority.P2, "ultimate", Status.OPEN, ("+more info please",)),
    ]
    by_plan = {
        p: [c for c in data.customers if c.plan == p] for p in ("free", "premium", "ultimate")
    }
    for i in range(n_helpdesk):
        subject, body, priority = SUBJECTS[rng.randrange(len(SUBJECTS))]
        labels: tuple[str, ...] = ()
        if i < len(placed):
            age, priority, plan, status, labels = placed[i]
            customer = by_plan[plan][i % len(by_plan[plan])]
            opened = now - age
        else:
            customer = rng.choice(data.customers)
            opened = now - timedelta(minutes=rng.randint(20, 60 * 24 * 3))
            status = rng.choices(
                [Status.NEW, Status.OPEN, Status.PENDING, Status.HOLD, Status.SOLVED],
                weights=[20, 45, 12, 5, 10],
            )[0]
            if rng.random() < 0.06:
                labels = ("+more info please",)
        channel = Channel.FORM if rng.random() < 0.08 else Channel.EMAIL
        if i > len(placed) and rng.random() < 0.04:
            channel = Channel.ALERT
        zendesk_id += 1
        requester = f"{customer.contacts[0].split()[0].lower()}@{customer.domains[0]}"
        pauses: tuple[PauseInterval, ...] = ()
        if status in (Status.PENDING, Status.HOLD) or labels:
            pauses = (PauseInterval(opened + (now - opened) / 2),)
        # Older tickets have mostly had an answer already; the placed ones have not.
        answered = i >= len(placed) and now - opened > timedelta(hours=5) and rng.random() < 0.6
        if answered:
            rng.randint(10, 180)  # drawn as before, so the rest of the demo stays the same
        data.tickets.append(
            Ticket(
                id=0,
                source=Source.HELPDESK,
                remote_id=str(zendesk_id),
                channel=channel,
                subject=fill(subject),
                body=fill(body),
                status=status,
                priority=priority,
                labels=(*labels, "alert") if channel == Channel.ALERT else labels,
                assignee=None if rng.random() < 0.3 else rng.choice(AGENTS),
                requester=requester,
                customer_id=customer.id,
                url=f"https://demo.zendesk.example/agent/tickets/{zendesk_id}",
                opened_at=opened,
                updated_at=opened + (now - opened) / 3,
                pauses=pauses,
                version=(opened + (now - opened) / 3).strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
        )
        index = len(data.tickets) - 1
        first = thread(index, opened, requester, rng.randint(0, 4), answered=answered)
        data.tickets[index] = replace(data.tickets[index], first_response_at=first)

    # A ticket answered late, whose customer wrote again: the first reply "answered 2d 11h
    # late" (premium P0: 4 calendar hours), and a next-reply clock running for 1h 20m.
    if data.tickets:
        customer = by_plan["premium"][0]
        opened = now - timedelta(days=3)
        zendesk_id += 1
        requester = f"{customer.contacts[0].split()[0].lower()}@{customer.domains[0]}"
        data.tickets.append(
            Ticket(
                id=0,
                source=Source.HELPDESK,
                remote_id=str(zendesk_id),
                subject="Fleet server returns 502 after the upgrade",
                body="Every page returns 502 since we upgraded this morning.",
                status=Status.OPEN,
                priority=Priority.P0,
                requester=requester,
                assignee=AGENTS[1],
                customer_id=customer.id,
                url=f"https://demo.zendesk.example/agent/tickets/{zendesk_id}",
                opened_at=opened,
                updated_at=now - timedelta(hours=2, minutes=40),
                version=(now - timedelta(hours=2, minutes=40)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
        )
        index = len(data.tickets) - 1
        late = opened + timedelta(hours=4) + timedelta(days=2, hours=11)
        say(index, late, AGENTS[1], "staff", 0)
        say(index, now - timedelta(hours=2, minutes=40), requester, "customer", 1)
        data.tickets[index] = replace(data.tickets[index], first_response_at=late)

    # Chat threads: 24 calendar hours to answer.
    for i in range(n_chat):
        customer = rng.choice(data.customers)
        opened = now - (
            timedelta(hours=23, minutes=20)
            if i == 0
            else timedelta(minutes=rng.randint(5, 60 * 30))
        )
        ts = f"{int(opened.timestamp())}.{rng.randint(100000, 999999)}"
        slack_channel = f"C0DEMO{customer.id:03d}"
        text = fill(rng.choice(CHAT_MESSAGES))
        data.tickets.append(
            Ticket(
                id=0,
                source=Source.CHAT,
                remote_id=f"{slack_channel}:{ts}",
                channel=Channel.CHAT,
                subject=text[:80],
                body=text,
                status=Status.OPEN if rng.random() < 0.8 else Status.SOLVED,
                priority=Priority.P2,
                assignee=None,
                requester=customer.contacts[0],
                customer_id=customer.id,
                url=f"https://demo.slack.example/archives/{slack_channel}/p{ts.replace('.', '')}",
                opened_at=opened,
                updated_at=opened,
                version=ts,
            )
        )
        index = len(data.tickets) - 1
        first = thread(index, opened, customer.contacts[0], rng.randint(0, 3))
        data.tickets[index] = replace(data.tickets[index], first_response_at=first)

    # Tracker issues: bug reports at each escalation stage.
    for i in range(n_bugs):
        stage, labels = BUG_STAGES[i % len(BUG_STAGES)]
        customer = rng.choice([c for c in data.customers if c.codename])
        tracker_number += rng.randint(1, 9)
        opened = now - timedelta(hours=rng.randint(2, 24 * 10))
        title = BUG_TITLES[i % len(BUG_TITLES)]
        data.tickets.append(
            Ticket(
                id=0,
                source=Source.TRACKER,
                remote_id=f"{DEMO_REPO}#{tracker_number}",
                channel=Channel.TRACKER,
                subject=title,
                body=f"Bug report ({stage}).\n\n### Reproduction steps\n\n1. Open the hosts "
                f"page\n2. Filter by label\n3. Observe the error",
                status=Status.OPEN,
                priority=Priority.P3,  # the tracker has no priorities (no P-label)
                labels=(*labels, f"customer-{customer.codename}"),
                assignee=rng.choice(AGENTS) if stage != "new" else None,
                requester=rng.choice(AGENTS),
                customer_id=customer.id,
                url=f"https://github.com/{DEMO_REPO}/issues/{tracker_number}",
                opened_at=opened,
                updated_at=opened + timedelta(hours=1),
                version=str(tracker_number),
            )
        )
        thread(len(data.tickets) - 1, opened, rng.choice(AGENTS), rng.randint(1, 3))
    if history:
        add_week_history(data, now, seed)
    return data


def add_week_history(data: DemoData, now: datetime, seed: int = 1, count: int = 90) -> None:
    """Add the past week's solved tickets: first replies on time and late, customer follow-ups
    and their answers, and on-call alerts, spread over eight days. Uses its own random stream,
    so the rest of the demo is the same with or without it."""
    rng = random.Random(seed * 7919 + 17)
    zendesk_id = 40400
    for i in range(count):
        subject, body, priority = SUBJECTS[rng.randrange(len(SUBJECTS))]
        customer = rng.choice([c for c in data.customers if c.plan != "free"])
        opened = now - timedelta(minutes=rng.randint(60 * 26, 60 * 24 * 8))
        alert = i % 12 == 0
        late = rng.random() < 0.22
        minutes = rng.randint(300, 1500) if late else rng.randint(8, 150)
        answered = opened + timedelta(minutes=minutes)
        zendesk_id += 1
        requester = f"{customer.contacts[0].split()[0].lower()}@{customer.domains[0]}"
        agent = rng.choice(AGENTS)
        ticket = Ticket(
            id=0,
            source=Source.HELPDESK,
            first_response_at=answered,
            remote_id=str(zendesk_id),
            channel=Channel.ALERT if alert else Channel.EMAIL,
            subject=subject.format(ver="4.58.0", agent="1.36.0", osq="5.12.1"),
            body=body.format(ver="4.58.0", agent="1.36.0", osq="5.12.1"),
            status=Status.SOLVED if rng.random() < 0.8 else Status.CLOSED,
            priority=priority,
            labels=("alert",) if alert else (),
            assignee=agent,
            requester=requester,
            customer_id=customer.id,
            url=f"https://demo.zendesk.example/agent/tickets/{zendesk_id}",
            opened_at=opened,
            updated_at=answered + timedelta(hours=6),
            version=(answered + timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        data.tickets.append(ticket)
        index = len(data.tickets) - 1
        when, author = answered, agent
        for j in range(1 + 2 * rng.randint(0, 2)):  # our answer, then follow-ups and replies
            if j:
                gap = rng.randint(20, 600) if author == requester else rng.randint(60, 900)
                when = when + timedelta(minutes=gap)
            if when >= now - timedelta(minutes=30):
                break
            data.comments.append(
                Comment(
                    id=0,
                    ticket_id=index,
                    author=author,
                    body=rng.choice(COMMENT_LINES),
                    created_at=when,
                    remote_id=comment_id(ticket, when, j),
                    role="staff" if author == agent else "customer",
                )
            )
            author = requester if author == agent else agent


def seed_store(store: Store, data: DemoData) -> list[int]:
    """Write the demo data into ``store`` in one transaction; returns the new ticket ids."""
    with store.db.atomic():
        ids = {c.id: store.tickets.upsert_customer(c, source="zendesk") for c in data.customers}
        tickets = [replace(t, customer_id=ids.get(t.customer_id or -1)) for t in data.tickets]
        return store.tickets.insert_tickets(tickets, data.comments)
