"""Realistic benchmark data: N tickets in a database written by the product's own store code,
and the very same tickets as Zendesk incremental-export pages for the sync benchmark.

Run on its own to (re)build the cache::

    python -m bench.generate --n 100000 --seed 7

The vocabularies (customers, subjects, chat messages, bug titles, comment lines, agents) come
from :mod:`oncall_tui.demo.seed`; the distribution is that of one on-call engineer's cache:
a 90-day history window, ~90 % help-desk tickets (email, contact form, on-call alerts), ~8 %
chat threads, ~1 % tracker issues, ~2 comments per ticket; the last three days look like the
demo (most tickets still open), older tickets are mostly solved or closed. About 20 % of all
tickets are open. Customers: the demo's twelve plus regional subsidiaries (N / 250 in all).

The database is written through ``open_store`` + ``upsert_customer`` + ``insert_tickets``
(batches of 2,000), so SLA columns and the full-text index are what the app would store. It is
cached under ``bench/results/cache/`` keyed by N, seed, the store's schema version and a hash
of this generator and the vocabularies, so repeated runs reuse it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import CACHE_DIR, DEFAULT_N, DEFAULT_SEED, NOW

#: Bump when the shape of the generated data changes on purpose.
GEN_VERSION = 3
HISTORY_DAYS = 90
BATCH = 2_000
PER_PAGE = 1_000
ZENDESK_BASE = "https://bench.zendesk.example"
FIRST_ZENDESK_ID = 100_001
REGIONS = (
    "EMEA",
    "APAC",
    "US East",
    "US West",
    "LATAM",
    "Canada",
    "Nordics",
    "DACH",
    "Benelux",
    "Iberia",
    "ANZ",
    "Japan",
    "India",
    "Gulf",
    "UK&I",
    "France",
)
EXTRA_TAGS = (
    "mdm",
    "osquery",
    "billing",
    "sso",
    "live_query",
    "vulnerabilities",
    "api",
    "enrollment",
    "policies",
    "s3_logging",
)


def _vocab() -> Any:
    from oncall_tui.demo import seed

    return seed


def cache_key(n: int, seed: int) -> str:
    """Stable name for a generated data set (changes when generator, vocabulary or schema do)."""
    from oncall_tui.store.migrations import SCHEMA_VERSION

    v = _vocab()
    h = hashlib.sha256()
    h.update(Path(__file__).read_bytes())
    h.update(
        repr(
            (
                v.CUSTOMERS,
                v.SUBJECTS,
                v.CHAT_MESSAGES,
                v.BUG_STAGES,
                v.BUG_TITLES,
                v.COMMENT_LINES,
                v.AGENTS,
            )
        ).encode()
    )
    return f"n{n}-s{seed}-g{GEN_VERSION}-schema{SCHEMA_VERSION}-{h.hexdigest()[:10]}"


# --------------------------------------------------------------------------------------------
# Domain objects


@dataclass
class Dataset:
    """Customers and a stream of (ticket, comments) in generation order."""

    n: int
    seed: int
    now: datetime
    customers: list[Any]


def make_customers(n: int, rng: random.Random) -> list[Any]:
    """The demo's customers, then regional subsidiaries until there are ``max(12, n/250)``."""
    from oncall_tui.domain.tickets import Customer

    base = _vocab().CUSTOMERS
    count = max(len(base), n // 250)
    out = []
    for i in range(count):
        name, plan, codename, domains, contacts = base[i % len(base)]
        k = i // len(base)
        if k:
            region = REGIONS[(k - 1) % len(REGIONS)]
            name = f"{name} {region}" + (f" {k}" if k > len(REGIONS) else "")
            plan = rng.choices(("free", "premium", "ultimate"), weights=(40, 35, 25))[0]
            codename = f"{codename}{k}"
            domains = tuple(
                f"{region.lower().replace(' ', '').replace('&', '')}{k}.{d}" for d in domains
            )
        out.append(
            Customer(
                id=i + 1,
                name=name,
                plan=plan,
                codename=codename,
                domains=domains,
                contacts=contacts,
                remote_id=str(900 + i + 1),
            )
        )
    return out


def iter_tickets(
    n: int, seed: int, now: datetime = NOW
) -> tuple[list[Any], Iterator[tuple[Any, list[Any]]]]:
    """Customers, and ``n`` (ticket, comments) pairs; ``ticket.customer_id`` indexes customers
    (1-based) and ``comment.ticket_id`` is 0 (the caller places them)."""
    from oncall_tui.domain.tickets import (
        Channel,
        Comment,
        PauseInterval,
        Priority,
        Source,
        Status,
        Ticket,
    )

    v = _vocab()
    rng = random.Random(seed)
    customers = make_customers(n, rng)
    agents = v.AGENTS

    def fill(template: str) -> str:
        return template.format(
            ver=f"4.{rng.randint(50, 60)}.{rng.randint(0, 3)}",
            agent=f"1.{rng.randint(25, 36)}.0",
            osq=f"5.{rng.randint(10, 14)}.{rng.randint(0, 2)}",
        )

    def thread(opened: datetime, requester: str, count: int, tag: str) -> list[Any]:
        out = []
        when = opened
        for j in range(count):
            when = when + timedelta(minutes=rng.randint(5, 240))
            if when >= now:
                break
            customer = bool(j % 2)
            out.append(
                Comment(
                    id=0,
                    ticket_id=0,
                    author=requester if customer else rng.choice(agents),
                    body=rng.choice(v.COMMENT_LINES),
                    created_at=when,
                    public=rng.random() > 0.15,
                    remote_id=f"{tag}-{j}",
                    role="customer" if customer else "staff",
                )
            )
        return out

    recent = [Status.NEW, Status.OPEN, Status.PENDING, Status.HOLD, Status.SOLVED]
    recent_w = [20, 45, 12, 5, 10]
    older = [Status.NEW, Status.OPEN, Status.PENDING, Status.HOLD, Status.SOLVED, Status.CLOSED]
    older_w = [1, 6, 4, 2, 62, 25]
    history = HISTORY_DAYS * 24 * 60

    def generate() -> Iterator[tuple[Any, list[Any]]]:
        tracker_number = 1200
        for i in range(n):
            customer = customers[rng.randrange(len(customers))]
            # Recent days are busier: half the tickets in the last 10 days.
            minutes = (
                rng.randint(5, 10 * 24 * 60) if rng.random() < 0.5 else rng.randint(5, history)
            )
            opened = now - timedelta(minutes=minutes)
            age = now - opened
            pick = rng.random()
            zid = FIRST_ZENDESK_ID + i
            if pick < 0.91:
                subject, body, priority = v.SUBJECTS[rng.randrange(len(v.SUBJECTS))]
                status = (
                    rng.choices(recent, weights=recent_w)[0]
                    if age < timedelta(days=3)
                    else rng.choices(older, weights=older_w)[0]
                )
                labels: tuple[str, ...] = ()
                if status not in (Status.SOLVED, Status.CLOSED) and rng.random() < 0.06:
                    labels = ("+more info please",)
                if rng.random() < 0.3:
                    labels = (*labels, rng.choice(EXTRA_TAGS))
                roll = rng.random()
                channel = (
                    Channel.FORM if roll < 0.08 else Channel.ALERT if roll < 0.12 else Channel.EMAIL
                )
                requester = f"{customer.contacts[0].split()[0].lower()}@{customer.domains[0]}"
                pauses: tuple[Any, ...] = ()
                if status in (Status.PENDING, Status.HOLD) or any(
                    x.startswith("+") for x in labels
                ):
                    pauses = (PauseInterval(opened + age / 2),)
                answered = None
                done = status in (Status.SOLVED, Status.CLOSED)
                if done or (age > timedelta(hours=5) and rng.random() < 0.6):
                    answered = opened + timedelta(minutes=rng.randint(10, 180))
                    if answered >= now:
                        answered = None
                ticket = Ticket(
                    id=0,
                    source=Source.HELPDESK,
                    remote_id=str(zid),
                    channel=channel,
                    subject=fill(subject),
                    body=fill(body),
                    status=status,
                    priority=priority,
                    labels=labels,
                    assignee=None if rng.random() < 0.3 else rng.choice(agents),
                    requester=requester,
                    customer_id=customer.id,
                    url=f"{ZENDESK_BASE}/agent/tickets/{zid}",
                    opened_at=opened,
                    updated_at=opened + age / 3,
                    pauses=pauses,
                    first_response_at=answered,
                    version=(opened + age / 3).strftime("%Y-%m-%dT%H:%M:%SZ"),
                )
                comments = thread(opened, requester, rng.randint(0, 4), f"z{zid}")
            elif pick < 0.99:
                opened = (
                    now - timedelta(minutes=rng.randint(5, 60 * 30))
                    if rng.random() < 0.3
                    else opened
                )
                ts = f"{int(opened.timestamp())}.{rng.randint(100000, 999999)}"
                text = fill(rng.choice(v.CHAT_MESSAGES))
                recent_chat = now - opened < timedelta(days=2)
                ticket = Ticket(
                    id=0,
                    source=Source.CHAT,
                    remote_id=f"C0BENCH{customer.id:04d}:{ts}",
                    channel=Channel.CHAT,
                    subject=text[:80],
                    body=text,
                    status=(Status.OPEN if (recent_chat and rng.random() < 0.8) else Status.SOLVED),
                    priority=Priority.P2,
                    requester=customer.contacts[0],
                    customer_id=customer.id,
                    url=f"https://bench.slack.example/archives/C0BENCH{customer.id:04d}/p{ts}",
                    opened_at=opened,
                    updated_at=opened,
                    version=ts,
                )
                comments = thread(opened, customer.contacts[0], rng.randint(0, 3), f"s{i}")
            else:
                stage, stage_labels = v.BUG_STAGES[rng.randrange(len(v.BUG_STAGES))]
                tracker_number += rng.randint(1, 9)
                ticket = Ticket(
                    id=0,
                    source=Source.TRACKER,
                    remote_id=f"{v.DEMO_REPO}#{tracker_number}",
                    channel=Channel.TRACKER,
                    subject=rng.choice(v.BUG_TITLES),
                    body=f"Bug report ({stage}).\n\n### Reproduction steps\n\n1. Open the hosts"
                    " page\n2. Filter by label\n3. Observe the error",
                    status=Status.OPEN if rng.random() < 0.7 else Status.CLOSED,
                    priority=Priority.P2,
                    labels=(*stage_labels, f"customer-{customer.codename}"),
                    assignee=rng.choice(agents) if stage != "new" else None,
                    requester=rng.choice(agents),
                    customer_id=customer.id,
                    url=f"https://github.com/{v.DEMO_REPO}/issues/{tracker_number}",
                    opened_at=opened,
                    updated_at=opened + timedelta(hours=1),
                    version=str(tracker_number),
                )
                comments = thread(opened, rng.choice(agents), rng.randint(1, 3), f"g{i}")
            yield ticket, comments

    return customers, generate()


# --------------------------------------------------------------------------------------------
# The database


def build_db(
    path: Path, n: int, seed: int, now: datetime = NOW, *, batch: int = BATCH, quiet: bool = False
) -> dict[str, Any]:
    """Write ``n`` tickets into a new database at ``path`` through the product's store code."""
    from oncall_tui.domain.clock import FrozenClock
    from oncall_tui.store import open_store

    t0 = time.perf_counter()
    store = open_store(path, clock=FrozenClock(now))
    customers, stream = iter_tickets(n, seed, now)
    ids = {}
    with store.db.atomic():
        for c in customers:
            ids[c.id] = store.tickets.upsert_customer(c, source="zendesk")
    written = 0
    n_comments = 0
    pending: list[Any] = []
    pending_comments: list[Any] = []

    def flush() -> None:
        nonlocal written, n_comments
        store.tickets.insert_tickets(pending, pending_comments)
        written += len(pending)
        n_comments += len(pending_comments)
        pending.clear()
        pending_comments.clear()
        if not quiet and sys.stderr.isatty():
            rate = written / (time.perf_counter() - t0)
            print(
                f"\r  generating: {written:,}/{n:,} tickets ({rate:,.0f}/s)",
                end="",
                file=sys.stderr,
                flush=True,
            )

    for ticket, comments in stream:
        index = len(pending)
        pending.append(replace(ticket, customer_id=ids[ticket.customer_id]))
        pending_comments.extend(replace(c, ticket_id=index) for c in comments)
        if len(pending) >= batch:
            flush()
    if pending:
        flush()
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.db.execute("ANALYZE")
    store.close()
    if not quiet and sys.stderr.isatty():
        print(file=sys.stderr)
    return {
        "tickets": written,
        "comments": n_comments,
        "customers": len(customers),
        "seconds": round(time.perf_counter() - t0, 2),
        "bytes": path.stat().st_size,
    }


def cached_db(n: int = DEFAULT_N, seed: int = DEFAULT_SEED, *, quiet: bool = False) -> Path:
    """The generated database for (n, seed), built on first use and reused afterwards.

    Callers that write must work on a copy (:func:`fresh_copy`).
    """
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    path = CACHE_DIR / f"tickets-{cache_key(n, seed)}.db"
    meta = path.with_suffix(".json")
    if path.exists() and meta.exists():
        return path
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    for stale in (tmp, Path(str(tmp) + "-wal"), Path(str(tmp) + "-shm")):
        stale.unlink(missing_ok=True)
    if not quiet:
        print(
            f"  building the {n:,}-ticket database (cached afterwards): {path.name}",
            file=sys.stderr,
            flush=True,
        )
    info = build_db(tmp, n, seed, quiet=quiet)
    for side in ("-wal", "-shm"):
        Path(str(tmp) + side).unlink(missing_ok=True)
    os.replace(tmp, path)
    meta.write_text(json.dumps(info, indent=2) + "\n")
    if not quiet:
        print(f"  built in {info['seconds']} s ({info['bytes'] / 1e6:.0f} MB)", file=sys.stderr)
    return path


def db_info(path: Path) -> dict[str, Any]:
    """What :func:`build_db` reported for a cached database."""
    meta = path.with_suffix(".json")
    return json.loads(meta.read_text()) if meta.exists() else {}


def fresh_copy(src: Path, dest_dir: Path) -> Path:
    """A private copy of a cached database (for benchmarks that write)."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / src.name
    for side in ("", "-wal", "-shm"):
        Path(str(dest) + side).unlink(missing_ok=True)
    shutil.copyfile(src, dest)
    return dest


#: A help desk nobody answers (the discard port on loopback): the app builds its sync engine
#: as for a real user, and the engine's first pass fails at once, offline.
OFFLINE_BACKEND = '\n[backends.zendesk]\nurl = "http://127.0.0.1:9"\n'
#: Its token, from the environment (the benchmark children have no keyring).
OFFLINE_TOKEN = {"ONCALL_TUI_ZENDESK_TOKEN": "bench@example.com/token:offline"}


def config_file(user: str | None = None, *, backend: bool = False) -> Path:
    """A config file for the app under test: the demo user, so "My queue" has rows; with
    ``backend``, a help desk configured too (:data:`OFFLINE_BACKEND`), as every real user has."""
    user = user or _vocab().DEMO_USER
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    path = CACHE_DIR / ("bench-config-backend.toml" if backend else "bench-config.toml")
    text = f'user = "{user}"\nsync_interval = 0\n' + (OFFLINE_BACKEND if backend else "")
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path


# --------------------------------------------------------------------------------------------
# Zendesk incremental-export pages (the same tickets, on the wire)

_PRIORITY = {"P0": "urgent", "P1": "high", "P2": "normal", "P3": "low"}
_VIA = {"email": "email", "form": "web_form", "alert": "api", "chat": "chat", "tracker": "api"}


def _z(dt: datetime | None) -> str | None:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ") if dt else None


def _tag(label: str) -> str:
    word = "_".join(label.strip().split()).lower()
    return "waiting_" + word[1:].lstrip("_") if word.startswith("+") else word


@dataclass
class ZendeskData:
    """The export pages (JSON bytes) and, per ticket id, its comments' JSON."""

    pages: list[bytes]
    comments: dict[int, bytes]
    tickets: int


def _users(
    customers: list[Any], agents: tuple[str, ...]
) -> tuple[dict[str, dict[str, Any]], dict[str, int]]:
    """Zendesk users: agents, and each customer's contacts (email → user)."""
    users: dict[str, dict[str, Any]] = {}
    ids: dict[str, int] = {}
    next_id = 5_000_001
    for agent in agents:
        email = agent if "@" in agent else f"{agent}@support.example"
        users[email] = {
            "id": next_id,
            "name": agent.split("@")[0].title(),
            "email": email,
            "organization_id": None,
            "role": "agent",
        }
        ids[agent] = next_id
        next_id += 1
    for c in customers:
        for k, contact in enumerate(c.contacts):
            email = f"{contact.split()[0].lower()}@{c.domains[0]}"
            if email in users:
                continue
            users[email] = {
                "id": next_id,
                "name": contact,
                "email": email,
                "organization_id": int(c.remote_id),
                "role": "end-user",
            }
            ids[email] = next_id
            ids[f"{c.id}:{k}"] = next_id
            next_id += 1
    return users, ids


def _org(c: Any) -> dict[str, Any]:
    return {
        "id": int(c.remote_id),
        "url": f"{ZENDESK_BASE}/api/v2/organizations/{c.remote_id}.json",
        "name": c.name,
        "domain_names": list(c.domains),
        "details": "",
        "notes": "",
        "group_id": None,
        "shared_tickets": False,
        "shared_comments": False,
        "tags": [f"plan_{c.plan}", f"codename_{c.codename}"],
        "organization_fields": {"plan": c.plan, "codename": c.codename},
        "created_at": "2020-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    }


def zendesk_data(
    n: int = DEFAULT_N,
    seed: int = DEFAULT_SEED,
    *,
    per_page: int = PER_PAGE,
    with_comments: bool = True,
) -> ZendeskData:
    """Every generated ticket as Zendesk's cursor-based incremental export, ``per_page`` per
    page, sideloading the page's users and organizations (``include=users,organizations``).

    Chat threads and tracker issues are exported as Zendesk tickets too (``via.channel`` chat
    and api), so the export holds all ``n`` tickets. Pages are in ``updated_at`` order, as the
    export serves them.
    """
    v = _vocab()
    customers, stream = iter_tickets(n, seed)
    by_id = {c.id: c for c in customers}
    users, user_ids = _users(customers, v.AGENTS)
    rows: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    comment_id = 900_000_001
    for i, (t, comments) in enumerate(stream):
        zid = FIRST_ZENDESK_ID + i
        c = by_id[t.customer_id]
        req_email = f"{c.contacts[0].split()[0].lower()}@{c.domains[0]}"
        requester_id = user_ids.get(req_email, 5_000_001)
        assignee_id = user_ids.get(t.assignee) if t.assignee else None
        tags = [_tag(x) for x in t.labels]
        if t.channel.value == "alert":
            tags.append("alert")
        updated = _z(t.updated_at)
        ticket = {
            "url": f"{ZENDESK_BASE}/api/v2/tickets/{zid}.json",
            "id": zid,
            "external_id": None,
            "via": {
                "channel": _VIA.get(t.channel.value, "email"),
                "source": {"from": {}, "to": {}, "rel": None},
            },
            "created_at": _z(t.opened_at),
            "updated_at": updated,
            "generated_timestamp": int(t.updated_at.timestamp()),
            "type": "incident" if t.priority.value in ("P0", "P1") else "question",
            "subject": t.subject,
            "raw_subject": t.subject,
            "description": t.body,
            "priority": _PRIORITY[t.priority.value],
            "status": t.status.value,
            "recipient": "support@bench.example",
            "requester_id": requester_id,
            "submitter_id": requester_id,
            "assignee_id": assignee_id,
            "organization_id": int(c.remote_id),
            "group_id": 360_000_001,
            "collaborator_ids": [],
            "follower_ids": [],
            "email_cc_ids": [],
            "forum_topic_id": None,
            "problem_id": None,
            "has_incidents": False,
            "is_public": True,
            "due_at": None,
            "tags": tags,
            "custom_fields": [{"id": 360_001, "value": None}, {"id": 360_002, "value": "fleet"}],
            "satisfaction_rating": None,
            "sharing_agreement_ids": [],
            "custom_status_id": 1,
            "fields": [{"id": 360_001, "value": None}, {"id": 360_002, "value": "fleet"}],
            "followup_ids": [],
            "ticket_form_id": 360_000_100,
            "brand_id": 360_000_200,
            "allow_channelback": False,
            "allow_attachments": True,
            "from_messaging_channel": t.channel.value == "chat",
        }
        wire_comments = []
        if with_comments:
            first = {
                "id": comment_id,
                "type": "Comment",
                "author_id": requester_id,
                "body": t.body,
                "html_body": f"<p>{t.body}</p>",
                "plain_body": t.body,
                "public": True,
                "attachments": [],
                "audit_id": comment_id + 1,
                "via": ticket["via"],
                "created_at": _z(t.opened_at),
                "metadata": {"system": {}, "custom": {}},
            }
            comment_id += 2
            wire_comments.append(first)
            for cm in comments:
                author = user_ids.get(cm.author) or user_ids.get(req_email, requester_id)
                wire_comments.append(
                    {
                        "id": comment_id,
                        "type": "Comment",
                        "author_id": author,
                        "body": cm.body,
                        "html_body": f"<p>{cm.body}</p>",
                        "plain_body": cm.body,
                        "public": cm.public,
                        "attachments": [],
                        "audit_id": comment_id + 1,
                        "via": {"channel": "web", "source": {"from": {}, "to": {}, "rel": None}},
                        "created_at": _z(cm.created_at),
                        "metadata": {"system": {}, "custom": {}},
                    }
                )
                comment_id += 2
        rows.append((ticket, wire_comments))
    rows.sort(key=lambda r: (r[0]["generated_timestamp"], r[0]["id"]))
    by_user_id = {u["id"]: u for u in users.values()}
    orgs = {int(c.remote_id): _org(c) for c in customers}
    pages: list[bytes] = []
    comment_pages: dict[int, bytes] = {}
    count = len(rows)
    for start in range(0, count, per_page):
        chunk = rows[start : start + per_page]
        tickets = [t for t, _ in chunk]
        user_set = {t["requester_id"] for t in tickets} | {
            t["assignee_id"] for t in tickets if t["assignee_id"]
        }
        org_set = {t["organization_id"] for t in tickets}
        last = start + per_page >= count
        after = None if last else f"bench-cursor-{start // per_page + 1}"
        page = {
            "tickets": tickets,
            "users": [by_user_id[u] for u in sorted(user_set) if u in by_user_id],
            "organizations": [orgs[o] for o in sorted(org_set)],
            "after_cursor": after,
            "after_url": (
                f"{ZENDESK_BASE}/api/v2/incremental/tickets/cursor.json?cursor={after}"
                if after
                else None
            ),
            "before_cursor": None,
            "before_url": None,
            "end_of_stream": last,
        }
        pages.append(json.dumps(page, separators=(",", ":")).encode())
        if with_comments:
            for t, cms in chunk:
                authors = sorted({cm["author_id"] for cm in cms})
                comment_pages[t["id"]] = json.dumps(
                    {
                        "comments": cms,
                        "users": [by_user_id[a] for a in authors if a in by_user_id],
                        "next_page": None,
                        "previous_page": None,
                        "count": len(cms),
                    },
                    separators=(",", ":"),
                ).encode()
    return ZendeskData(pages=pages, comments=comment_pages, tickets=count)


def cached_pages(n: int = DEFAULT_N, seed: int = DEFAULT_SEED) -> Path:
    """A directory with ``page-0001.json``… and ``comments.jsonl`` for (n, seed), cached."""
    folder = CACHE_DIR / f"zendesk-{cache_key(n, seed)}"
    done = folder / "done.json"
    if done.exists():
        return folder
    tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    t0 = time.perf_counter()
    data = zendesk_data(n, seed)
    for i, page in enumerate(data.pages, start=1):
        (tmp / f"page-{i:04d}.json").write_bytes(page)
    with (tmp / "comments.jsonl").open("wb") as fh:
        for ticket_id, body in data.comments.items():
            fh.write(str(ticket_id).encode() + b"\t" + body + b"\n")
    (tmp / "done.json").write_text(
        json.dumps(
            {
                "tickets": data.tickets,
                "pages": len(data.pages),
                "bytes": sum(len(p) for p in data.pages),
                "seconds": round(time.perf_counter() - t0, 2),
            }
        )
        + "\n"
    )
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(tmp, folder)
    return folder


def load_pages(folder: Path) -> list[bytes]:
    """The export pages of a cached directory, in order."""
    return [p.read_bytes() for p in sorted(folder.glob("page-*.json"))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.generate", description="Build (or find) the cached benchmark data."
    )
    parser.add_argument("--n", type=int, default=DEFAULT_N)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--pages", action="store_true", help="also the Zendesk export pages")
    args = parser.parse_args(argv)
    path = cached_db(args.n, args.seed)
    print(path, json.dumps(db_info(path)))
    if args.pages:
        folder = cached_pages(args.n, args.seed)
        print(folder, (folder / "done.json").read_text().strip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
