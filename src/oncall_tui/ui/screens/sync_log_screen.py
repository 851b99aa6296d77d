"""SyncLogScreen: each backend's state, the unsent and failed changes, and the sync log.

A failed change holds the ones queued after it for the same ticket, so this is where the user
retries it (after fixing the cause) or discards it (which restores the local value). A change
parked by a backoff or a server's wait (capped at 15 minutes) can be sent now or discarded.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Label, OptionList, Static
from textual.widgets.option_list import Option

from oncall_tui.domain.ops import Op, OpState
from oncall_tui.domain.tickets import ticket_ref
from oncall_tui.settings.paths import styles_dir
from oncall_tui.store import Store
from oncall_tui.ui.times import local, shown_tz, zone_name
from oncall_tui.ui.widgets.status_bar import StatusBar


def _when(at: datetime | None, tz: tzinfo) -> str:
    return local(at, tz, "%Y-%m-%d %H:%M:%S %Z") if at else "never"


def describe(op: Op, store: Store | None = None, *, waiting: bool = False) -> Text:
    """One line for an outbox entry (customer text stays plain text), naming its ticket as
    the queue does (``zendesk #41165``)."""
    payload = op.payload
    detail = (
        payload.get("priority")
        or payload.get("status")
        or payload.get("assignee")
        or ", ".join(payload.get("labels", []) or [])
        or payload.get("title")
        or (payload.get("body") or "")[:60]
    )
    state = {
        OpState.FAILED: "⚠ failed",
        OpState.INFLIGHT: "… in flight",
        OpState.PENDING: "↻ pending",
    }.get(op.state, str(op.state))
    if waiting:
        state = "↶ waiting"
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"{state:<12}", style="bold" if op.state == OpState.FAILED else "")
    ref = ticket_ref(op.source, op.remote_id)
    if store is not None and op.ticket_id is not None:
        try:
            ticket = store.tickets.get_ticket(op.ticket_id)
            ref = ticket_ref(ticket.source, ticket.remote_id)
        except LookupError:
            pass  # the ticket is gone from the cache: the entry's own reference
    text.append(f"{ref} {op.kind.replace('_', ' ')}: {detail}")
    if op.idempotency_key.startswith("auto:customer-reply:"):
        text.append("  (the customer replied)", style="dim")
    if op.error:
        text.append(f"  — {op.error}", style="italic")
    return text


class SyncLogScreen(Screen[None]):
    """Sync status and the outbox; `r` retries a failed change, `n` sends a parked one now,
    `d` discards one."""

    CSS_PATH: ClassVar = [styles_dir() / "sync_log.tcss"]  # loaded when first shown
    BINDINGS = [
        Binding("escape,q", "back", "Back", id="back"),
        Binding("r", "retry", "Retry", id="retry-change"),
        Binding("n", "send_now", "Send now", id="send-change-now"),
        Binding("d", "discard", "Discard", id="discard-change"),
        Binding("ctrl+r", "app.sync_now", "Sync now", id="sync-now-log"),
    ]

    def __init__(self, store: Store, sla_settings: object) -> None:
        super().__init__()
        self.store = store
        self.sla_settings = sla_settings
        self.ops: list[Op] = []

    def compose(self) -> ComposeResult:
        yield StatusBar(self.sla_settings)  # type: ignore[arg-type]
        with Vertical(id="sync-log-body"):
            yield Label(Text("Backends"), classes="section-title")
            yield Static(id="sync-backends")
            yield Label(Text("Unsent and failed changes"), classes="section-title")
            yield OptionList(id="sync-ops")
            yield Label(Text("Log (newest first)"), classes="section-title", id="sync-log-title")
            yield Static(id="sync-lines")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.watch(self.app, "store_revision", self.reload, init=False)
        self.set_interval(1.0, self._tick)
        self._tick()
        self.reload()

    def _tick(self) -> None:
        self.query_one(StatusBar).now = self.app.ctx.clock()  # type: ignore[attr-defined]
        self.query_one(OptionList).focus()

    def reload(self, *_: object) -> None:
        """Re-read states, entries and log lines."""
        tz = shown_tz(self)
        states = Table(
            box=None, padding=(0, 2), show_edge=False, pad_edge=False, header_style="bold"
        )
        for column in ("Backend", "Last success", "Last attempt", "Last error"):
            states.add_column(column)
        backend_states = self.store.sync_state.backend_states()
        if not backend_states:
            states.add_row(Text("no sync yet (local only, or not run yet)"))
        for s in backend_states:
            states.add_row(
                Text(s.backend, style="bold"),
                Text(_when(s.last_success_at, tz)),
                Text(_when(s.last_attempt_at, tz)),
                Text(s.last_error or "—"),
            )
        self.query_one("#sync-backends", Static).update(states)
        self.ops = self.store.outbox.ops((OpState.FAILED, OpState.PENDING, OpState.INFLIGHT))
        self.ops.sort(key=lambda op: (op.state != OpState.FAILED, op.id or 0))
        waiting = self.store.outbox.waiting_op_ids(self.store.clock())
        options = self.query_one(OptionList)
        highlighted = options.highlighted
        options.clear_options()
        options.add_options(
            [Option(self._line(op, op.id in waiting, tz), id=str(op.id)) for op in self.ops]
            or [Option(Text("nothing waiting: every change was sent"), disabled=True)]
        )
        if self.ops:
            options.highlighted = min(highlighted or 0, len(self.ops) - 1)
        zone = zone_name(tz, self.app.ctx.clock())  # type: ignore[attr-defined]
        self.query_one("#sync-log-title", Label).update(Text(f"Log (newest first, {zone})"))
        lines = Text()
        for at, backend, level, message in self.store.sync_state.log_entries(100):
            lines.append(f"{local(at, tz, '%H:%M:%S')} {backend:<8} {level:<7} ", style="dim")
            lines.append(message + "\n")
        self.query_one("#sync-lines", Static).update(lines or Text("(empty)"))

    def _line(self, op: Op, waiting: bool, tz: tzinfo) -> Text:
        text = describe(op, self.store, waiting=waiting)
        until = self.store.outbox.parked_until(op.id) if op.id is not None else None
        if until is not None and not waiting:
            text.append(f"  (next try {local(until, tz, '%H:%M:%S')}; n sends now)", style="dim")
        return text

    def _current(self) -> Op | None:
        index = self.query_one(OptionList).highlighted
        if index is None or not self.ops or index >= len(self.ops):
            return None
        return self.ops[index]

    def action_retry(self) -> None:
        op = self._current()
        if op is None or op.state != OpState.FAILED:
            self.notify("Only a failed change can be retried.", severity="warning")
            return
        assert op.id is not None
        self.store.outbox.retry_failed(op.id)
        self.app.store_revision += 1  # type: ignore[attr-defined]
        self.app.action_sync_now()  # type: ignore[attr-defined]
        self.notify("Queued again; syncing now.", timeout=3)

    def action_send_now(self) -> None:
        """A change parked by a backoff or a server's wait goes in the next pass, now."""
        op = self._current()
        if op is None:
            self.notify("Nothing to send: no change is waiting.", timeout=3)
            return
        if op.state == OpState.FAILED:
            self.notify("A failed change is retried with r.", severity="warning")
            return
        assert op.id is not None
        if not self.store.outbox.send_now(op.id):
            self.notify("That change is being sent right now.", severity="warning")
            return
        engine = getattr(self.app, "engine", None)
        if engine is not None:
            engine.lift_waits()  # the user asked: the backend's wait no longer holds it
        self.app.store_revision += 1  # type: ignore[attr-defined]
        self.app.run_sync()  # type: ignore[attr-defined]
        note = (
            " (looked up first: its last answer was lost)" if op.state == OpState.INFLIGHT else ""
        )
        self.notify(f"Sending now{note}.", timeout=3, markup=False)

    def action_discard(self) -> None:
        op = self._current()
        if op is None:
            self.notify("Nothing to discard: no change is waiting.", timeout=3)
            return
        assert op.id is not None
        if not self.store.outbox.discard(op.id):
            self.notify(
                "That change is being sent; it cannot be discarded now.", severity="warning"
            )
            return
        self.app.store_revision += 1  # type: ignore[attr-defined]
        if op.state == OpState.INFLIGHT:
            self.notify(
                "Discarded; the local value is restored. If it had reached the backend, "
                "the next sync shows it.",
                timeout=5,
            )
            return
        self.notify("Discarded; the local value is restored.", timeout=3)

    def action_back(self) -> None:
        self.app.pop_screen()
