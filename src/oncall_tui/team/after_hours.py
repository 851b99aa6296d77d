"""Chat outside business hours, as the handbook runs it, in the relay.

In a designated customer channel, a message from someone who is not one of ours (not in
``employees``, not a bot) posted while support is closed gets:

1. a help-desk ticket: the help desk is searched for the ticket carrying the thread's id
   (``external_id = "slack:<channel>:<thread ts>"``); if there is one the message becomes an
   internal note on it (a public comment by us would count as our answer and stop its SLA
   clock), otherwise a ticket is created with the message as its description. Attachments
   are not carried over; the text says how many there were.
2. one thread reply per thread and closed period (the template, with the ticket's id and when
   support opens again).

Exactly once, across restarts, network faults and a change of leader: each step is an outbox
entry of the relay's own store with a key made from the message, thread and period, entered
*in flight* so the adapter looks for an earlier attempt (the ticket by its ``external_id``
and Zendesk's ``Idempotency-Key``, the note by its text, the reply by the key in its message
metadata) before sending anything. Each message's progress is also kept in the relays'
shared bucket (``chat.<key>``), so the relay that takes over finishes what the other began.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from oncall_tui.domain.calendars import BusinessCalendar
from oncall_tui.domain.ops import Op, OpKind
from oncall_tui.domain.team import ChatMessage, ChatPage
from oncall_tui.domain.tickets import Source
from oncall_tui.settings.team import AfterHoursConfig
from oncall_tui.store import Store
from oncall_tui.store.team import ChatTask
from oncall_tui.sync.base import BadPayload, Page, SyncError
from oncall_tui.sync.slack import SlackBackend
from oncall_tui.sync.slack_wire import SKIPPED_SUBTYPES, is_employee, parse_message, ts_to_datetime
from oncall_tui.team.shared import CHAT_TTL, SharedState, chat_key

THREAD_META = "team_thread:"
#: Rounds of plan-then-send in one pass (search, create, reply).
ROUNDS = 4


class WatchedSlackBackend(SlackBackend):
    """The Slack adapter, also handing every customer message of the designated channels to
    the store with its page (a :class:`ChatPage`), bots and employees left out."""

    def __init__(self, inner: SlackBackend, channels: tuple[str, ...]) -> None:
        super().__init__(inner.client, inner.config, clock=inner.clock, name=inner.name)
        self.watched = frozenset(channels)
        self._seen: list[ChatMessage] = []

    async def call(self, method: str, **args: Any) -> Any:
        found = await super().call(method, **args)
        channel = args.get("channel")
        if method in ("conversations.history", "conversations.replies") and (
            channel in self.watched
        ):
            for item in found.items("messages"):
                try:
                    message = parse_message(item)
                except BadPayload:
                    continue  # the adapter's own reading sets it aside for the sync log
                if (
                    message.subtype in SKIPPED_SUBTYPES
                    or message.is_bot
                    or is_employee(message, self.config)
                ):
                    continue
                files = item.get("files") if isinstance(item, dict) else None
                self._seen.append(
                    ChatMessage(
                        key=f"{channel}:{message.ts}",
                        thread=f"{channel}:{message.thread_ts or message.ts}",
                        author=message.user,
                        body=message.text,
                        at=ts_to_datetime(message.ts),
                        files=len(files) if isinstance(files, list) else 0,
                    )
                )
        return found

    async def fetch_changes(self, cursor: str | None) -> Page:
        self._seen = []
        page = await super().fetch_changes(cursor)
        seen, self._seen = self._seen, []
        if not seen:
            return page
        # every field of the page (one added to Page later is not lost), and the chat seen
        return ChatPage(**{f.name: getattr(page, f.name) for f in fields(page)}, chat=tuple(seen))


@dataclass
class AfterHoursCounts:
    """What one pass did."""

    replies: int = 0
    tickets: int = 0
    notes: int = 0
    waiting: int = 0

    def text(self) -> str:
        return (
            f"after hours: {self.replies} replies, {self.tickets} tickets, {self.notes} notes"
            + (f", {self.waiting} in progress" if self.waiting else "")
        )


class AfterHours:
    """Plans the outbox entries for the kept chat messages (see the module docstring).

    Args:
        config: channels and the reply template.
        store: the relay's store (its outbox sends the entries).
        state: the relays' shared bucket.
        calendar: business hours.
        helpdesk: the help-desk adapter (for the search by thread id).
        clock: now.
        log: where a problem is told.
    """

    def __init__(
        self,
        config: AfterHoursConfig,
        store: Store,
        state: SharedState,
        calendar: BusinessCalendar,
        helpdesk: Any,
        clock: Callable[[], datetime],
        log: Callable[[str], None],
    ) -> None:
        self.config = config
        self.store = store
        self.state = state
        self.calendar = calendar
        self.helpdesk = helpdesk
        self.clock = clock
        self.log = log
        self.since: datetime | None = None

    async def _db(self, fn: Any, *args: Any) -> Any:
        return await asyncio.to_thread(fn, *args)

    async def start(self) -> None:
        """Read (or set, for the first relay ever) when the reply started."""
        from nats.js import errors as jerr

        value, _rev = await self.state.get("since")
        if value is None:
            try:
                await self.state.write("since", {"at": self.clock().isoformat()}, last=0)
            except jerr.KeyWrongLastSequenceError:
                pass
            value, _rev = await self.state.get("since")
        at = value.get("at") if value else None
        self.since = datetime.fromisoformat(at) if isinstance(at, str) else self.clock()

    async def adopt(self) -> None:
        """Taking the lead: every message another relay kept and did not finish."""
        for key in await self.state.keys("chat."):
            value, _rev = await self.state.get(key)
            if not value or value.get("state") == "done":
                continue
            try:
                task = ChatTask(
                    key=str(value["key"]),
                    thread=str(value["thread"]),
                    author=str(value["author"]),
                    body=str(value["body"]),
                    at=datetime.fromisoformat(str(value["at"])),
                    files=int(value.get("files", 0)),
                    state="shared",
                )
            except (KeyError, ValueError, TypeError):
                continue
            await self._db(self.store.team.keep_chat_task, task)

    async def share(self) -> None:
        """New kept messages: answered in hours or before the start are let be; the others
        go to the shared bucket (before the checkpoint moves past them)."""
        from nats.js import errors as jerr

        since = self.since or self.clock()
        for task in await self._db(self.store.team.chat_tasks, ["new"]):
            if task.at < since or self.calendar.is_open(task.at):
                await self._db(self.store.team.set_chat_state, task.key, "let-be")
                continue
            value = shared_value(task, "shared")
            try:
                await self.state.write(chat_key(task.key), value, last=0, ttl=CHAT_TTL)
            except jerr.KeyWrongLastSequenceError:
                known, _rev = await self.state.get(chat_key(task.key))
                if known and known.get("state") == "done":
                    await self._db(self.store.team.set_chat_state, task.key, "done")
                    continue
            await self._db(self.store.team.set_chat_state, task.key, "shared")

    async def run(self, engine: Any, counts: AfterHoursCounts) -> None:
        """Plan and send until nothing moves (or a few rounds)."""
        for _ in range(ROUNDS):
            planned = await self.plan(counts)
            if not planned:
                return
            await engine.push_once()

    async def plan(self, counts: AfterHoursCounts) -> int:
        """One step for each unfinished message; returns how many entries were queued."""
        queued = 0
        counts.waiting = 0
        for task in await self._db(self.store.team.chat_tasks, ["shared", "ticketed"]):
            try:
                queued += await self._step(task, counts)
            except SyncError as exc:
                self.log(f"after hours: {task.key}: {exc}")
        return queued

    async def _step(self, task: ChatTask, counts: AfterHoursCounts) -> int:
        if task.state == "shared":
            ticket, queued = await self._ticket_step(task, counts)
            if ticket is None:
                counts.waiting += 1
                return queued
            await self._db(self.store.team.set_chat_state, task.key, "ticketed")
        return await self._reply_step(task, counts)

    async def _thread_ticket(self, thread: str) -> str | None:
        known = await self._db(self.store.tickets.meta, THREAD_META + thread)
        if known:
            return str(known)
        value, _rev = await self.state.get("thread." + chat_key(thread)[5:])
        if value and isinstance(value.get("ticket"), str):
            await self._remember(thread, value["ticket"])
            return str(value["ticket"])
        return None

    async def _remember(self, thread: str, ticket: str) -> None:
        await self._db(self.store.tickets.set_meta, THREAD_META + thread, ticket)
        await self.state.write(
            "thread." + chat_key(thread)[5:], {"ticket": ticket}, last=None, ttl=CHAT_TTL
        )

    async def _ticket_step(
        self, task: ChatTask, counts: AfterHoursCounts
    ) -> tuple[str | None, int]:
        """The thread's ticket once it exists (None: not yet), and the entries queued."""
        create_key = f"ooh-ticket:{task.thread}"
        ticket = await self._thread_ticket(task.thread)
        if ticket is None:
            created = await self._db(self.store.outbox.op_state, create_key)
            if created is None:
                found = await self.helpdesk.search_issues(
                    f'external_id:"{external_id(task.thread)}"'
                )
                if found:
                    ticket = found[0].remote_id
                    await self._remember(task.thread, ticket)
                else:
                    await self._enqueue(
                        Op(
                            kind=OpKind.CREATE_TICKET,
                            source=Source.HELPDESK,
                            payload={
                                "subject": subject_of(task.body),
                                "body": ticket_body(task),
                                "external_id": external_id(task.thread),
                                "labels": ["chat", "after-hours"],
                                "message": task.key,
                            },
                            idempotency_key=create_key,
                        )
                    )
                    return None, 1
            elif created[0] == "done" and created[1]:
                ticket = created[1]
                await self._remember(task.thread, ticket)
                counts.tickets += 1
                op = await self._db(self.store.outbox.op_by_key, create_key)
                if op is not None and op.payload.get("message") == task.key:
                    return ticket, 0  # this message is the ticket's description
            elif created[0] in ("pending", "inflight"):
                return None, 0
            else:
                self.log(f"after hours: the ticket for {task.thread} was refused; see the log")
                await self._db(self.store.team.set_chat_state, task.key, "failed")
                return None, 0
        op = await self._db(self.store.outbox.op_by_key, create_key)
        if op is not None and op.payload.get("message") == task.key:
            return ticket, 0
        note_key = f"ooh-note:{task.key}"
        noted = await self._db(self.store.outbox.op_state, note_key)
        if noted is None:
            await self._enqueue(
                Op(
                    kind=OpKind.NOTE,
                    source=Source.HELPDESK,
                    remote_id=ticket,
                    payload={"body": note_body(task)},
                    idempotency_key=note_key,
                )
            )
            return None, 1
        if noted[0] == "done":
            counts.notes += 1
            return ticket, 0
        if noted[0] in ("pending", "inflight"):
            return None, 0
        await self._db(self.store.team.set_chat_state, task.key, "failed")
        return None, 0

    async def _reply_step(self, task: ChatTask, counts: AfterHoursCounts) -> int:
        opens = self.calendar.next_opening(task.at)
        reply_key = f"ooh-reply:{task.thread}:{opens.isoformat()}"
        replied = await self._db(self.store.outbox.op_state, reply_key)
        if replied is None:
            ticket = await self._thread_ticket(task.thread) or "?"
            local = opens.astimezone(self.calendar.tz)
            text = self.config.reply.format(
                ticket=ticket, opens=local.strftime("%A %H:%M %Z").replace(" 0", " ")
            )
            await self._enqueue(
                Op(
                    kind=OpKind.REPLY,
                    source=Source.CHAT,
                    remote_id=task.thread,
                    payload={"body": text},
                    idempotency_key=reply_key,
                )
            )
            return 1
        if replied[0] == "done":
            if await self._finish(task):
                counts.replies += 1
            return 0
        if replied[0] not in ("pending", "inflight"):
            await self._db(self.store.team.set_chat_state, task.key, "failed")
        return 0

    async def _finish(self, task: ChatTask) -> bool:
        """Done: shared, then local. True if this message's reply was the one posted."""
        value = shared_value(task, "done")
        await self.state.write(chat_key(task.key), value, last=None, ttl=CHAT_TTL)
        await self._db(self.store.team.set_chat_state, task.key, "done")
        return True

    async def _enqueue(self, op: Op) -> None:
        """Queue ``op`` in flight: the adapter looks for an earlier attempt before sending."""
        await self._db(self.store.outbox.enqueue_unclear, op)


def shared_value(task: ChatTask, state: str) -> dict[str, Any]:
    """A chat message's record in the team's shared bucket, in ``state`` (shared, done)."""
    return {
        "key": task.key,
        "thread": task.thread,
        "author": task.author,
        "body": task.body,
        "at": task.at.isoformat(),
        "files": task.files,
        "state": state,
    }


def external_id(thread: str) -> str:
    """The help-desk ticket's ``external_id`` for a chat thread."""
    return f"slack:{thread}"


def subject_of(text: str) -> str:
    line = next((x.strip() for x in text.splitlines() if x.strip()), "") or "(no text)"
    line = line if len(line) <= 70 else line[:69] + "…"
    return f"Chat: {line}"


def ticket_body(task: ChatTask) -> str:
    return f"{_said(task)}\n\n(Opened from the chat thread {task.thread}, outside support hours.)"


def note_body(task: ChatTask) -> str:
    return f"{_said(task)}\n\n(Chat message {task.key}, outside support hours.)"


def _said(task: ChatTask) -> str:
    files = ""
    if task.files:
        many = "attachment was" if task.files == 1 else "attachments were"
        files = f"\n\n({task.files} {many} not carried over; see the thread.)"
    return f"{task.author} wrote in chat:\n\n{task.body}{files}"
