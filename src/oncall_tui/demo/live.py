"""The live demo: the real adapters and sync engine against the in-process wire fakes.

The fakes are seeded with the very records the demo database was seeded with, so the first
pull finds everything already cached; afterwards each sync pass lets the fakes make up a little
activity (a new ticket, a customer reply, a chat message), so a new user sees sync happen. A
demo database opened again (``--demo --db X``) seeds them from what it holds instead
(:func:`demo_data_from_store`): what the last session sent (a filed bug, its labels, a reply)
is still at the "backend", and a new record never takes a number the last session's fakes gave.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from oncall_tui.demo.fakes import DEFAULT_TOKEN
from oncall_tui.demo.fakes.github import GitHubFake
from oncall_tui.demo.fakes.slack import SlackFake
from oncall_tui.demo.fakes.zendesk import ZendeskFake
from oncall_tui.demo.seed import AGENTS, DEMO_HELP_CHANNEL, DEMO_REPO, DemoData
from oncall_tui.domain.clock import Clock
from oncall_tui.domain.tickets import Source
from oncall_tui.sync.base import Backend, RemoteComment, RemoteCustomer, RemoteTicket
from oncall_tui.sync.github import GitHubBackend
from oncall_tui.sync.github_wire import GitHubConfig
from oncall_tui.sync.http import build_client
from oncall_tui.sync.slack import SlackBackend
from oncall_tui.sync.slack_wire import SlackConfig
from oncall_tui.sync.zendesk import ZendeskBackend
from oncall_tui.sync.zendesk_config import ZendeskConfig

ZENDESK_URL = "https://demo.zendesk.example"
GITHUB_URL = "https://api.github.example"
SLACK_URL = "https://slack.example/api"
#: The seeded help-desk comments' ids start here (``demo.seed.comment_id``); the fake's own
#: ids (tickets it makes up, comments it is sent) stay below.
SEEDED_COMMENT_IDS = 7_000_000


@dataclass
class DemoBackends:
    """The fakes and the adapters talking to them."""

    backends: list[Backend]
    fakes: list[Any]
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    def add_activity(self) -> None:
        """Let each fake make up something new (called between sync passes)."""
        for fake in self.fakes:
            fake.add_activity()


def remote_records(
    data: DemoData,
) -> tuple[
    list[RemoteCustomer], dict[Source, list[RemoteTicket]], dict[Source, list[RemoteComment]]
]:
    """The demo data as the records the adapters produce."""
    customers = {c.id: c for c in data.customers}
    remote_customers = [
        RemoteCustomer(c.remote_id or str(c.id), c.name, c.plan, c.domains, c.contacts, c.codename)
        for c in data.customers
    ]
    tickets: dict[Source, list[RemoteTicket]] = {s: [] for s in Source}
    comments: dict[Source, list[RemoteComment]] = {s: [] for s in Source}
    for t in data.tickets:
        customer = customers.get(t.customer_id or -1)
        tickets[t.source].append(
            RemoteTicket(
                source=t.source,
                remote_id=t.remote_id or "",
                subject=t.subject,
                body=t.body,
                status=t.status,
                priority=t.priority,
                channel=t.channel,
                labels=t.labels,
                assignee=t.assignee,
                requester=t.requester,
                customer_remote_id=customer.remote_id if customer else None,
                opened_at=t.opened_at,
                updated_at=t.updated_at,
                url=t.url,
                version=t.version,
            )
        )
    for c in data.comments:
        t = data.tickets[c.ticket_id]
        comments[t.source].append(
            RemoteComment(
                source=t.source,
                ticket_remote_id=t.remote_id or "",
                remote_id=c.remote_id or "",
                author=c.author,
                body=c.body,
                public=c.public,
                created_at=c.created_at,
                author_role=c.role,
            )
        )
    return remote_customers, tickets, comments


def demo_data_from_store(store: Any) -> DemoData:
    """Everything a demo database holds that a backend has (a remote id), as demo data: the
    fakes of a session that opens it again serve what the last session left."""
    from oncall_tui.domain.query import parse_query

    rows = store.queue.open_queue(parse_query(""), limit=10**7)
    tickets = [store.tickets.get_ticket(r.id) for r in rows]
    tickets = [t for t in tickets if t.remote_id]
    index = {t.id: i for i, t in enumerate(tickets)}
    comments = [
        replace(c, ticket_id=index[t.id])
        for t in tickets
        for c in store.tickets.comments(t.id)
        if c.remote_id and not c.pending
    ]
    return DemoData(customers=store.tickets.customers(), tickets=tickets, comments=comments)


def build_demo_backends(data: DemoData, clock: Clock, *, reopened: bool = False) -> DemoBackends:
    """Seed the three fakes with ``data`` and build the real adapters over them (``reopened``:
    ``data`` is a demo database's own, so the help desk's new ids start past its numbers)."""
    customers, tickets, comments = remote_records(data)
    zendesk = ZendeskFake(
        tickets=tickets[Source.HELPDESK],
        comments=comments[Source.HELPDESK],
        organizations=customers,
        clock=clock,
        export_lag=0,
        export_rate_per_minute=None,
    )
    if reopened:  # the fake's ids are one counter: tickets, comments, users, audits
        made = [int(r.remote_id) for r in tickets[Source.HELPDESK] if r.remote_id.isdigit()]
        made += [
            int(c.remote_id)
            for c in comments[Source.HELPDESK]
            if c.remote_id.isdigit() and int(c.remote_id) < SEEDED_COMMENT_IDS
        ]
        zendesk.reserve_ids(max(made, default=0))
    github = GitHubFake(
        repos=(DEMO_REPO,),
        issues=tickets[Source.TRACKER],
        comments=comments[Source.TRACKER],
        clock=clock,
    )
    channels = sorted({t.remote_id.partition(":")[0] for t in tickets[Source.CHAT]})
    slack = SlackFake(
        channels=[*channels, DEMO_HELP_CHANNEL],
        quiet_channels=(DEMO_HELP_CHANNEL,),  # ours: no customer writes there
        messages=[
            *tickets[Source.CHAT],
            *sorted(comments[Source.CHAT], key=lambda c: c.created_at),
        ],
        clock=clock,
    )
    by_channel = {
        t.remote_id.partition(":")[0]: t.customer_remote_id
        for t in tickets[Source.CHAT]
        if t.customer_remote_id
    }

    def client(fake: Any, url: str) -> httpx.AsyncClient:
        return build_client(url, DEFAULT_TOKEN, transport=httpx.MockTransport(fake.async_handler))

    clients = [client(zendesk, ZENDESK_URL), client(github, GITHUB_URL), client(slack, SLACK_URL)]
    backends: Sequence[Backend] = [
        ZendeskBackend(clients[0], ZendeskConfig(export_requests_per_minute=600), clock=clock),
        GitHubBackend(clients[1], GitHubConfig(repos=(DEMO_REPO,)), clock=clock),
        SlackBackend(
            clients[2],
            SlackConfig.from_options(
                tuple(channels),
                AGENTS,  # our people: their replies answer
                {"channel_customers": by_channel, "workspace_url": "https://demo.slack.example"},
            ),
            clock=clock,
        ),
    ]
    return DemoBackends(list(backends), [zendesk, github, slack], clients)
