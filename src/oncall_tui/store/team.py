"""Team mode in the store: a member dropping tickets that left its groups, and the relay's
record of what it publishes (see :mod:`oncall_tui.domain.team` for the subjects).

The relay's store is an ordinary cache with publishing switched on (``publish``): every
record written (a pulled page, a push's answer, a live search) is also compared with what the
stream holds (``team_index``) and, when it differs, queued for publication (``team_outgoing``)
in the same transaction. A crash therefore leaves either the page, its cursor and its queued
messages, or none of them; the queue is emptied only once the stream acknowledged it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from oncall_tui.domain.tickets import Source
from oncall_tui.store.base import Part
from oncall_tui.store.db import iso, parse_iso

if TYPE_CHECKING:  # the wire format loads with the first team publish, not at start
    from oncall_tui.domain.remote import (
        RemoteComment,
        RemoteCustomer,
        RemoteRemoval,
        RemoteTicket,
    )
    from oncall_tui.domain.team import ChatMessage


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One queued stream operation: publish ``payload`` on ``subject`` (None: purge it)."""

    id: int
    subject: str
    payload: bytes | None
    digest: str | None


@dataclass(frozen=True, slots=True)
class ChatTask:
    """A chat message the out-of-hours reply has to handle (see the relay)."""

    key: str
    thread: str
    author: str
    body: str
    at: datetime
    files: int
    state: str


class Team(Part):
    """Removals (members) and the publication queue (the relay); the remote part hands it
    each page's removals, records and chat messages."""

    publish: bool = False
    """Queue every written record for the stream (set by the relay on its own store)."""
    sources: Mapping[str, Source] = {}
    """Backend name → source (customers carry no source of their own)."""
    prefix: str = "oncall"  # domain.team.PREFIX (a test checks they agree)
    """The subjects' first token."""
    chat_channels: frozenset[str] = frozenset()
    """Chat channels whose customer messages the relay keeps for the out-of-hours reply."""

    # ---- members -------------------------------------------------------------------------

    def forget_tickets(self, removals: Sequence[RemoteRemoval]) -> set[int]:
        """Drop tickets that left this cache's groups, unless the cached copy is newer than
        the removal (it came back through another group) or holds an unsent local change.

        Returns:
            The local ids of the tickets dropped.
        """
        gone: set[int] = set()
        with self.db.atomic():
            for removal in removals:
                row = self._one(
                    "SELECT id, remote_updated_at, pending_ops FROM tickets "
                    "WHERE source = ? AND remote_id = ?",
                    [str(removal.source), removal.remote_id],
                )
                if row is None:
                    self.db.execute(
                        "DELETE FROM pending_comments WHERE source = ? AND ticket_remote_id = ?",
                        [str(removal.source), removal.remote_id],
                    )
                    continue
                tid, known, pending = row
                known_at = parse_iso(known)
                if pending or (known_at is not None and known_at > removal.as_of):
                    continue
                self.db.execute("DELETE FROM ticket_fts WHERE rowid = ?", [tid])
                self.db.execute("DELETE FROM tickets WHERE id = ?", [tid])
                gone.add(int(tid))
        return gone

    # ---- the relay: queueing what changed -------------------------------------------------

    def stage(
        self,
        backend: str,
        customers: Sequence[RemoteCustomer],
        tickets: Sequence[RemoteTicket],
        comments: Sequence[RemoteComment],
    ) -> None:
        from oncall_tui.domain import team as wire

        prefix = self.prefix
        latest: dict[tuple[str, str], RemoteTicket] = {}
        for rt in tickets:
            key = (str(rt.source), rt.remote_id)
            if key not in latest or rt.updated_at >= latest[key].updated_at:
                latest[key] = rt
        live = self._live_tickets(latest)
        for key, rt in latest.items():
            group = wire.group_of(rt)
            subject = wire.ticket_subject(rt.source, group, rt.remote_id, prefix)
            payload = wire.encode(rt, group)
            before = live.get(key)
            if before is not None:
                old_subject, old_group, old_digest, old_payload = before
                old_at = _updated_at(old_payload)
                if old_at is not None and rt.updated_at < old_at:
                    continue  # an older copy (the export's lag): the stream has a newer one
                if old_subject == subject and old_digest == wire.digest(subject, payload):
                    continue  # unchanged: nothing to publish
                if old_group != (group or ""):
                    self._move(rt, old_subject, old_group, old_at or rt.updated_at, group)
            self._put(subject, "ticket", str(rt.source), group, rt.remote_id, None, payload)
            self._release_held(rt.source, rt.remote_id, group)
            if rt.customer_remote_id:
                self._stage_customer(backend, rt.source, rt.customer_remote_id, {group})
        for rc in comments:
            self._stage_comment(rc)
        source = self.sources.get(backend) or (tickets[0].source if tickets else None)
        if source is not None:
            for customer in customers:
                groups = self._customer_groups(source, customer.remote_id)
                if groups:
                    self._stage_customer(backend, source, customer.remote_id, groups)

    def _live_tickets(
        self, keys: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], tuple[str, str, str, str]]:
        """(subject, group, digest, payload) of each ticket's live subject, by key."""
        found: dict[tuple[str, str], tuple[str, str, str, str]] = {}
        by_source: dict[str, list[str]] = {}
        for source, remote_id in keys:
            by_source.setdefault(source, []).append(remote_id)
        for source, ids in by_source.items():
            for chunk in _chunks(ids):
                rows = self.db.execute(
                    "SELECT record_id, subject, grp, digest, payload FROM team_index "
                    f"WHERE source = ? AND kind = 'ticket' AND record_id IN "
                    f"({','.join('?' * len(chunk))})",
                    [source, *chunk],
                )
                for record_id, subject, grp, dig, payload in rows:
                    found[(source, record_id)] = (subject, grp, dig, payload)
        return found

    def _put(
        self,
        subject: str,
        kind: str,
        source: str,
        group: str | None,
        record_id: str,
        ticket_id: str | None,
        payload: bytes,
    ) -> bool:
        """Record ``payload`` as the subject's value and queue it; False if already so."""
        from oncall_tui.domain import team as wire

        dig = wire.digest(subject, payload)
        row = self._one("SELECT digest FROM team_index WHERE subject = ?", [subject])
        if row is not None and row[0] == dig:
            return False
        text = payload.decode()
        self.db.execute(
            "INSERT INTO team_index (subject, kind, source, grp, record_id, ticket_id, digest, "
            "payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (subject) DO UPDATE SET "
            "kind = excluded.kind, grp = excluded.grp, record_id = excluded.record_id, "
            "ticket_id = excluded.ticket_id, digest = excluded.digest, "
            "payload = excluded.payload, seq = NULL",
            [subject, kind, source, group or "", record_id, ticket_id, dig, text],
        )
        self.db.execute(
            "INSERT INTO team_outgoing (subject, payload, digest) VALUES (?, ?, ?)",
            [subject, text, dig],
        )
        return True

    def _move(
        self,
        rt: RemoteTicket,
        old_subject: str,
        old_group: str,
        as_of: datetime,
        group: str | None,
    ) -> None:
        """The ticket left ``old_group``: its old subject says so, its comments move along."""
        from oncall_tui.domain import team as wire
        from oncall_tui.domain.remote import RemoteComment, RemoteRemoval

        source = str(rt.source)
        removal = RemoteRemoval(rt.source, rt.remote_id, as_of)
        self._put(
            old_subject,
            "removed",
            source,
            old_group,
            rt.remote_id,
            None,
            wire.encode(removal, old_group or None),
        )
        rows = self.db.execute(
            "SELECT subject, record_id, payload FROM team_index WHERE source = ? "
            "AND kind = 'comment' AND ticket_id = ? AND grp = ?",
            [source, rt.remote_id, old_group],
        ).fetchall()
        if rows:
            self.db.execute(
                "INSERT INTO team_outgoing (subject, payload, digest) VALUES (?, NULL, NULL)",
                [wire.comments_filter(source, old_group or None, rt.remote_id, self.prefix)],
            )
            self.db.execute(
                f"DELETE FROM team_index WHERE subject IN ({','.join('?' * len(rows))})",
                [r[0] for r in rows],
            )
        for _subject, record_id, payload in rows:
            comment = wire.decode(payload).record
            assert isinstance(comment, RemoteComment)
            self._put(
                wire.comment_subject(source, group, rt.remote_id, record_id, self.prefix),
                "comment",
                source,
                group,
                record_id,
                rt.remote_id,
                wire.encode(comment, group),
            )

    def _stage_comment(self, rc: RemoteComment) -> None:
        from oncall_tui.domain import team as wire

        source = str(rc.source)
        row = self._one(
            "SELECT grp FROM team_index WHERE source = ? AND kind = 'ticket' AND record_id = ?",
            [source, rc.ticket_remote_id],
        )
        if row is None:  # its ticket has not been seen: its group is not known yet
            self.db.execute(
                "INSERT OR REPLACE INTO team_held (source, ticket_id, record_id, payload) "
                "VALUES (?, ?, ?, ?)",
                [source, rc.ticket_remote_id, rc.remote_id, wire.encode(rc, None).decode()],
            )
            return
        group = row[0] or None
        subject = wire.comment_subject(
            source, group, rc.ticket_remote_id, rc.remote_id, self.prefix
        )
        if self._one("SELECT 1 FROM team_index WHERE subject = ?", [subject]) is not None:
            return  # comments are written once (caches ignore a repeated one): nothing to add
        self._put(
            wire.comment_subject(source, group, rc.ticket_remote_id, rc.remote_id, self.prefix),
            "comment",
            source,
            group,
            rc.remote_id,
            rc.ticket_remote_id,
            wire.encode(rc, group),
        )

    def _release_held(self, source: Source, remote_id: str, group: str | None) -> None:
        from oncall_tui.domain import team as wire
        from oncall_tui.domain.remote import RemoteComment

        where = "WHERE source = ? AND ticket_id = ?"
        rows = self.db.execute(
            f"SELECT record_id, payload FROM team_held {where}", [str(source), remote_id]
        ).fetchall()
        if not rows:
            return
        self.db.execute(f"DELETE FROM team_held {where}", [str(source), remote_id])
        for record_id, payload in rows:
            comment = wire.decode(payload).record
            assert isinstance(comment, RemoteComment)
            self._put(
                wire.comment_subject(source, group, remote_id, record_id, self.prefix),
                "comment",
                str(source),
                group,
                record_id,
                remote_id,
                wire.encode(comment, group),
            )

    def _customer_groups(self, source: Source, remote_id: str) -> set[str | None]:
        rows = self.db.execute(
            "SELECT grp FROM team_index WHERE source = ? AND kind = 'customer' AND record_id = ?",
            [str(source), remote_id],
        )
        return {r[0] or None for r in rows}

    def _stage_customer(
        self, backend: str, source: Source, remote_id: str, groups: Iterable[str | None]
    ) -> None:
        """Publish the customer as this store knows it in each of ``groups``."""
        from oncall_tui.domain import team as wire
        from oncall_tui.domain.remote import RemoteCustomer

        row = self._one(
            "SELECT name, plan, codename, domains, contacts FROM customers "
            "WHERE source = ? AND remote_id = ?",
            [backend, remote_id],
        )
        if row is None:
            return
        name, plan, codename, domains, contacts = row
        customer = RemoteCustomer(
            remote_id=remote_id,
            name=name,
            plan=plan,
            domains=tuple(json.loads(domains)),
            contacts=tuple(json.loads(contacts)),
            codename=codename,
        )
        for group in groups:
            self._put(
                wire.customer_subject(source, group, remote_id, self.prefix),
                "customer",
                str(source),
                group,
                remote_id,
                None,
                wire.encode(customer, group),
            )

    # ---- the relay: the queue ---------------------------------------------------------------

    def outgoing(self, limit: int = 1000) -> list[Outgoing]:
        """The oldest queued stream operations."""
        rows = self.db.execute(
            "SELECT id, subject, payload, digest FROM team_outgoing ORDER BY id LIMIT ?", [limit]
        )
        return [
            Outgoing(r[0], r[1], r[2].encode() if r[2] is not None else None, r[3]) for r in rows
        ]

    def outgoing_count(self) -> int:
        """How many stream operations wait."""
        row = self._one("SELECT count(*) FROM team_outgoing")
        return int(row[0]) if row else 0

    def published(self, done: Sequence[int]) -> None:
        """The stream acknowledged these queued operations."""
        with self.db.atomic():
            for chunk in _chunks(list(done)):
                self.db.execute(
                    f"DELETE FROM team_outgoing WHERE id IN ({','.join('?' * len(chunk))})", chunk
                )

    def drop_outgoing(self) -> int:
        """Forget the queue (another relay led meanwhile: what it holds may be stale)."""
        with self.db.atomic():
            count = self.outgoing_count()
            self.db.execute("DELETE FROM team_outgoing")
        return count

    def index_digest(self, subject: str) -> str | None:
        """The digest of what the stream holds on ``subject``, as far as this relay knows."""
        row = self._one("SELECT digest FROM team_index WHERE subject = ?", [subject])
        return str(row[0]) if row else None

    def follow_stream(self, messages: Sequence[tuple[str, bytes, int]], position_key: str) -> None:
        """A standby relay's view of the stream: record each (subject, payload, sequence) as
        the subject's value, and the position, in one transaction."""
        from oncall_tui.domain import team as wire
        from oncall_tui.domain.remote import RemoteComment

        with self.db.atomic():
            for subject, payload, seq in messages:
                try:
                    message = wire.decode(payload)
                except wire.WireError:
                    continue  # not ours to index (another writer's subject)
                record = message.record
                ticket_id = record.ticket_remote_id if isinstance(record, RemoteComment) else None
                source = wire.source_of_subject(subject, self.prefix)
                self.db.execute(
                    "INSERT INTO team_index (subject, kind, source, grp, record_id, ticket_id, "
                    "digest, payload, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (subject) DO UPDATE SET kind = excluded.kind, "
                    "grp = excluded.grp, record_id = excluded.record_id, "
                    "ticket_id = excluded.ticket_id, digest = excluded.digest, "
                    "payload = excluded.payload, seq = excluded.seq",
                    [
                        subject,
                        message.kind,
                        str(source or ""),
                        message.group or "",
                        record.remote_id,
                        ticket_id,
                        wire.digest(subject, payload),
                        payload.decode(),
                        seq,
                    ],
                )
                if message.kind == "removed" and source is not None:
                    # its comments under that group were purged by the relay that moved it
                    self.db.execute(
                        "DELETE FROM team_index WHERE source = ? AND kind = 'comment' "
                        "AND ticket_id = ? AND grp = ?",
                        [str(source), record.remote_id, message.group or ""],
                    )
            if messages:
                self.db.execute(
                    "INSERT INTO sync_state (backend, cursor) VALUES (?, ?) "
                    "ON CONFLICT (backend) DO UPDATE SET cursor = excluded.cursor",
                    [position_key, str(messages[-1][2])],
                )

    # ---- the relay: chat messages for the out-of-hours reply ---------------------------------

    def keep_chat(self, messages: Iterable[ChatMessage]) -> None:
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO team_chat (key, thread, author, body, at, files) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(m.key, m.thread, m.author, m.body, iso(m.at), m.files) for m in messages],
        )

    def chat_tasks(self, states: Sequence[str]) -> list[ChatTask]:
        """Kept chat messages in these states, oldest first."""
        marks = ",".join("?" * len(states))
        rows = self.db.execute(
            f"SELECT key, thread, author, body, at, files, state FROM team_chat "
            f"WHERE state IN ({marks}) ORDER BY at, key",
            list(states),
        )
        tasks = []
        for key, thread, author, body, at, files, state in rows:
            when = parse_iso(at)
            assert when is not None
            tasks.append(ChatTask(key, thread, author, body, when, files, state))
        return tasks

    def keep_chat_task(self, task: ChatTask) -> None:
        """Remember a task (taken over from another relay) unless already known."""
        self.db.execute(
            "INSERT OR IGNORE INTO team_chat (key, thread, author, body, at, files, state) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [task.key, task.thread, task.author, task.body, iso(task.at), task.files, task.state],
        )

    def set_chat_state(self, key: str, state: str) -> None:
        """Move a kept chat message on."""
        self.db.execute("UPDATE team_chat SET state = ? WHERE key = ?", [state, key])


def _updated_at(payload: str) -> datetime | None:
    try:
        record = json.loads(payload).get("record", {})
        return parse_iso(record.get("updated_at") or record.get("as_of"))
    except (ValueError, AttributeError):
        return None


def _chunks(values: Sequence[Any], size: int = 900) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield list(values[start : start + size])
