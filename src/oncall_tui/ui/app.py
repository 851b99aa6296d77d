"""OncallApp: the Textual application shell.

Over 500 lines: the shell's parts (theme, the damaged-database guard, the sync worker,
the commands) share the app's state; the screens they open load on first use.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import io
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, ClassVar

from textual import work
from textual.actions import ActionParseResult
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.dom import DOMNode
from textual.events import Key
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from oncall_tui.settings.paths import styles_dir
from oncall_tui.startup import resume_collector
from oncall_tui.ui.commands import BindingCommands
from oncall_tui.ui.context import AppContext
from oncall_tui.ui.messages import SyncFinished, SyncProgress, SyncStarted
from oncall_tui.ui.screens.queue_screen import QueueScreen

#: When the background integrity check last found the database sound (meta key), and how
#: often it runs.
INTEGRITY_KEY = "integrity_ok_at"
INTEGRITY_EVERY = timedelta(hours=24)

#: The app-wide styles, parsed before the first frame. bug_report.tcss, runbook.tcss and
#: sync_log.tcss are their screens' ``CSS_PATH``: Textual loads them when such a screen is
#: first shown, instead of parsing ~5 ms of CSS nobody sees at start-up.
STYLE_FILES = (
    "app.tcss",
    "queue.tcss",
    "ticket.tcss",
    "dialogs.tcss",
    "escalation.tcss",
)


_startup_frozen = False


def _freeze_startup_objects() -> None:
    """Move what start-up created so far (modules, classes, config) out of the cyclic GC's way.

    By the time the first app is built the collector tracks ~40,000 objects from imports that
    live as long as the process. Without this, the first full collection (it comes during the
    first layout) walks all of them: ~25 ms before the first paint, and again at every later
    full collection. ``gc.freeze()`` moves them to the permanent generation; the collector keeps
    working as usual for everything created afterwards. Done once per process: cyclic garbage
    that exists at this moment is kept, and there is next to none at start-up (a test session
    that builds many apps freezes only at the first). The console script paused the collector
    while the modules loaded (:mod:`oncall_tui.startup`): from here it runs again.
    """
    global _startup_frozen
    if not _startup_frozen:
        _startup_frozen = True
        gc.freeze()
    resume_collector()


def _damage(error: BaseException) -> bool:
    """True for an SQLite error that means the database file or its schema is damaged."""
    if not isinstance(error, sqlite3.DatabaseError):
        return False
    if not isinstance(error, sqlite3.OperationalError):
        return True
    text = str(error)
    return text.startswith(("no such table", "no such column")) or "malformed" in text


#: Shortest and longest wait of the sync loop while a change waits out its undo window.
MIN_WAKE_SECONDS = 0.2
WINDOW_SLICE = 1.0


def plural(n: int, word: str) -> str:
    """``1 change``, ``2 changes``."""
    return f"{n} {word}{'' if n == 1 else 's'}"


#: The longest pause between failing passes (their backoff doubles up to it).
MAX_RETRY_WAIT = 300.0


def retry_wait(interval: float, failures: int) -> float:
    """Seconds until the next pass: the interval, doubled per failed pass in a row (up to
    :data:`MAX_RETRY_WAIT`, never below the interval)."""
    if failures <= 1:
        return interval
    return max(interval, min(MAX_RETRY_WAIT, interval * 2.0 ** min(failures - 1, 16)))


def status_error(message: SyncFinished) -> str:
    """The status line's word on a failed pass: the backend once, its error cut at a word
    boundary (the whole text is in the sync log, L)."""
    from oncall_tui.ui.feedback import shorten, without_backend

    if not message.errors:
        return message.summary.splitlines()[0] if message.summary else "sync failed"
    name, error = message.errors[0]
    text = without_backend(name, error)
    short = shorten(text)
    more = f" (+{len(message.errors) - 1} more)" if len(message.errors) > 1 else ""
    log = " · L: details" if short != text or more else ""
    return f"{name}: {short}{more}{log}"


class OncallApp(App[None]):
    """The on-call support console."""

    TITLE = "oncall-tui"
    CSS_PATH: ClassVar = [styles_dir() / name for name in STYLE_FILES]
    COMMANDS = App.COMMANDS | {BindingCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("question_mark", "help", "Help", id="help"),
        Binding("ctrl+r", "sync_now", "Sync", id="sync-now"),
        Binding("D", "drafts", "Drafts", id="drafts"),
        Binding("B", "new_bug_report", "New bug", id="new-bug-report"),
        Binding("L", "sync_log", "Sync log", id="sync-log"),
        Binding("W", "handoff", "Handoff", id="handoff"),
        Binding("S", "standup", "Stand-up", id="standup"),
    ]

    store_revision: reactive[int] = reactive(0, repaint=False)
    """Bumped whenever the store changed (local edit or sync); screens re-query on it."""
    sync_status: reactive[str] = reactive("local only", repaint=False)
    """One line about sync for the status bar: online/offline, last sync, pending, failed."""

    def __init__(self, ctx: AppContext) -> None:
        _freeze_startup_objects()
        super().__init__()
        self.ctx = ctx
        self.engine = None
        self.engine_pending = False
        """A backend is configured and the engine is built after the first frame: until then
        the status and the empty queue say sync is starting, not "local only"."""
        self.database_error: str | None = None
        """Set when the database turned out damaged; the CLI prints it after exit."""
        self._last_sync: str | None = None
        self.syncing = False
        """A sync pass is running (the empty queue says the first sync is under way)."""
        self._damage_reported = 0
        self._wake = asyncio.Event()
        self._integrity_stop = threading.Event()
        """Set when the app unmounts: the background integrity check stops at once."""
        self._integrity_at: datetime | None = None
        """When the due integrity check starts (None: not due, or started)."""
        self._integrity_timer: Timer | None = None
        self._quit_after_sync = False
        # Changes made here wait out the undo window before the engine may send them.
        ctx.store.undo_seconds = ctx.config.undo_seconds
        if ctx.demo:
            self.sub_title = "demo"
        self._state_problem: str | None = None
        self.theme = self._starting_theme()

    # ---- the theme ---------------------------------------------------------------------------

    def _starting_theme(self) -> str:
        """The theme last picked in the app, unless the config's ``theme`` changed since
        (then the config's); else the config's, else textual-dark."""
        from oncall_tui.settings.state import StateError, load_state
        from oncall_tui.ui.themes import DEFAULT_THEME

        configured = self.ctx.config.theme
        try:
            state = load_state(self.ctx.paths.state_dir)
        except StateError as exc:
            self._state_problem = str(exc)
            state = {}
        picked = state.get("theme")
        if picked in self.available_themes and state.get("config_theme", "") == (configured or ""):
            return picked
        return configured or DEFAULT_THEME

    def _theme_picked(self, name: str) -> None:
        """Remember a theme picked in the app (with the config's, to notice its changes)."""
        from oncall_tui.settings.state import StateError, save_state

        try:
            save_state(
                self.ctx.paths.state_dir,
                {"theme": name, "config_theme": self.ctx.config.theme or ""},
            )
        except StateError as exc:
            self.notify(f"The theme is not remembered: {exc}", severity="warning", markup=False)

    def get_css_variables(self) -> dict[str, str]:
        """The theme's variables and the app's own readable text colours for it."""
        from oncall_tui.ui.themes import readable_variables

        variables = super().get_css_variables()
        variables.update(readable_variables(variables))
        self.theme_variables = variables
        return variables

    def get_default_screen(self) -> Screen[Any]:
        """The queue is the app's first screen (no blank default screen under it)."""
        return QueueScreen(
            self.ctx.store, self.ctx.config, self.ctx.clock, templates=self._templates
        )

    def on_mount(self) -> None:
        if self.ctx.config.keys:
            self.set_keymap(dict(self.ctx.config.keys))
        self.watch(self, "theme", self._theme_picked, init=False)
        if self._state_problem is not None:
            self.notify(self._state_problem, severity="warning", timeout=10, markup=False)
        for notice in self.ctx.notices:
            self.notify(notice, timeout=10, markup=False)
        if self.ctx.engine_factory is not None:
            # The engine (httpx, the adapters, the keyring: ~180 modules, ~100 ms) is built
            # once the queue is on screen: its first pass could not show anything sooner.
            self.engine_pending = True
            self.call_after_refresh(self._start_engine)
        self._update_sync_status()
        self.call_after_refresh(self._report_damaged_rows)
        self._watch_terminal()
        if str(self.ctx.store.path) != ":memory:":
            self.call_after_refresh(self._schedule_integrity)

    def _start_engine(self) -> None:
        """Build the sync engine and start its loop (after the first frame)."""
        self.engine_pending = False
        if self._integrity_stop.is_set():  # quit before the first frame was shown
            return
        factory = self.ctx.engine_factory
        self.engine = factory(self) if factory is not None else None
        if self.engine is not None:  # its progress reaches the status line
            self.engine.progress = lambda text: self.post_message(SyncProgress(text))
            self.run_sync()
        self._update_sync_status()

    def _schedule_integrity(self) -> None:
        """Set when a due integrity check starts; after the first frame, as it reads the ticket
        store, which the queue does not need to show its first rows."""
        if self._integrity_stop.is_set() or not self._integrity_due():
            return
        from oncall_tui.store.integrity import START_DELAY

        self._integrity_at = self.ctx.clock() + START_DELAY
        self.start_integrity_when_due()

    def start_integrity_when_due(self) -> None:
        """Start the due integrity check once the clock reaches :attr:`_integrity_at` (a few
        minutes after the start: its largest step never shares a five-minute window with the
        work after the first paint); until then, look again when what is left has passed.

        A timer of the event loop, not a waiting worker: nothing runs meanwhile (and a test
        waiting for the workers is not held up by it)."""
        when = self._integrity_at
        if when is None or self._integrity_stop.is_set():
            return
        left = (when - self.ctx.clock()).total_seconds()
        if left > 0:
            self._integrity_timer = self.set_timer(left, self.start_integrity_when_due)
            return
        from oncall_tui.store.integrity import PROGRESS_KEY

        self._integrity_at = None
        self._integrity_timer = None
        self.check_integrity(self.ctx.store.tickets.meta(PROGRESS_KEY))

    def _watch_terminal(self) -> None:
        """Exit when the terminal hangs up without a signal (:mod:`oncall_tui.ui.hangup`)."""
        import sys

        from oncall_tui.ui.hangup import CHECK_SECONDS, terminal_gone

        stdin = sys.__stdin__
        if self.is_headless or stdin is None or not stdin.isatty():
            return
        fd = stdin.fileno()

        def check() -> None:
            if terminal_gone(fd):
                self.exit(return_code=129)  # as a hang-up signal would end it (128 + 1)

        self.set_interval(CHECK_SECONDS, check, name="terminal hang-up")

    # ---- a damaged database ------------------------------------------------------------------

    @work(
        thread=True,
        exclusive=True,
        group="integrity",
        exit_on_error=False,
        description="Database integrity check",
    )
    def check_integrity(self, after: str | None = None) -> None:
        """Read every table once, off the UI thread, a few minutes after the start
        (:meth:`start_integrity_when_due`), paced to 0.1 % of a core (store/integrity.py),
        from the table after ``after`` on (a round cut short by quitting goes on at the next
        start)."""
        from oncall_tui.store.integrity import check_paced

        # Not the worker's own cancel event: a check started as the app closes (a quit at the
        # first frame) is created after Textual cancelled its workers, and would keep the
        # process alive through its pauses.
        stop = self._integrity_stop

        def report(callback: Callable[..., object], *args: object) -> None:
            if not stop.is_set():  # the app is closing: its store may be closed already
                self.call_from_thread(callback, *args)

        problem = check_paced(
            self.ctx.store.path,
            after=after or None,
            stop=stop,
            sound=lambda name: report(self._integrity_progress, name),
        )
        if problem is not None:
            report(self._database_damaged, problem)
        else:
            report(self._integrity_passed)

    def on_unmount(self) -> None:
        self._integrity_stop.set()

    def _integrity_due(self) -> bool:
        """Once a day per database: reading every page costs ~4 s of CPU at a million tickets,
        too much for every start of an app that must idle below 1 % of a core, even paced
        (and SQLite reports damage on any query that reads a damaged page). ``oncall-tui
        doctor`` checks on demand."""
        last = self.ctx.store.tickets.meta(INTEGRITY_KEY)
        try:
            when = datetime.fromisoformat(last) if last else None
        except ValueError:
            when = None
        now = self.ctx.clock()
        return when is None or not (now - INTEGRITY_EVERY < when <= now)

    def _integrity_progress(self, table: str) -> None:
        from oncall_tui.store.integrity import PROGRESS_KEY

        try:
            self.ctx.store.tickets.set_meta(PROGRESS_KEY, table)
        except sqlite3.Error:  # a read-only file system: that table is checked again
            pass

    def _integrity_passed(self) -> None:
        from oncall_tui.store.integrity import PROGRESS_KEY

        try:
            self.ctx.store.tickets.set_meta(INTEGRITY_KEY, self.ctx.clock().isoformat())
            self.ctx.store.tickets.set_meta(PROGRESS_KEY, "")  # the next round starts from the top
        except sqlite3.Error:  # a read-only file system: checked again at the next start
            pass

    def _report_damaged_rows(self) -> None:
        """A toast for rows the store left out since the last one (each is in the sync log)."""
        notes = self.ctx.store.damage_notes
        new = notes[self._damage_reported :]
        if not new:
            return
        self._damage_reported = len(notes)
        more = f" (and {len(new) - 1} more)" if len(new) > 1 else ""
        self.notify(
            f"{new[0]}{more}. Details in the sync log (L).",
            title="Database",
            severity="warning",
            timeout=10,
            markup=False,
        )

    def _database_damaged(self, detail: str) -> None:
        from oncall_tui.store.checks import damage_message

        self.database_error = damage_message(self.ctx.store.path, detail)
        self.exit(return_code=1)

    def _handle_exception(self, error: Exception) -> None:
        # A page that cannot be read, or a table or column that is gone, surfaces as a query
        # error anywhere in the UI: say what it means and how to go on, not a traceback.
        if _damage(error):
            self._database_damaged(" ".join(str(error).split()))
            return
        super()._handle_exception(error)

    def _fatal_error(self) -> None:
        """The crash report: Python's plain traceback, without the frames' locals (a
        request's headers hold the plain token), redacted *before* it is laid out (a token
        wrapped over two lines would escape a search afterwards)."""
        import traceback

        from rich.text import Text

        from oncall_tui.settings.secrets import redact_text

        self.bell()
        error = sys.exc_info()[1] or self._exception
        if error is None:
            report = "the app stopped on an unexpected error\n"
        else:
            report = "".join(traceback.format_exception(error))
        self._exit_renderables.append(Text(redact_text(report)))
        self._close_messages_no_wait()

    def _print_error_renderables(self) -> None:
        """Print the crash report (the first one, as Textual does) with every secret the
        process knows, and anything shaped like a token, taken out."""
        from rich.console import Console

        from oncall_tui.settings.secrets import redact_text

        if not self._exit_renderables:
            return
        buffer = io.StringIO()
        width = max(self.error_console.width, 200)  # wide: fewer tokens split by wrapping
        console = Console(file=buffer, width=width, color_system=None, markup=False)
        console.print(self._exit_renderables[0])
        more = len(self._exit_renderables) - 1
        self._exit_renderables.clear()
        sys.stderr.write(redact_text(buffer.getvalue()))
        if more:
            sys.stderr.write(f"\n(and {more} more error{'s' if more > 1 else ''})\n")
        sys.stderr.flush()

    def on_key(self, event: Key) -> None:
        """A printable key that reaches the app while an input has the focus was typed in
        the same burst as the key that focused it (``/printer``: the rest was already on its
        way to the table): it belongs in the input, not lost (an input stops the keys it
        takes, so none arrives here twice)."""
        from textual.widgets import Input

        focused = self.focused
        if isinstance(focused, Input) and event.is_printable and event.character:
            event.stop()
            focused.insert_text_at_cursor(event.character)

    async def run_action(
        self,
        action: str | ActionParseResult,
        default_namespace: DOMNode | None = None,
        namespaces: Mapping[str, DOMNode] | None = None,
    ) -> bool:
        """Run an action, unless the app is already on its way out: keys typed in the same
        burst as ``q`` (``q`` then ``s``) would open dialogs on an app that is shutting down
        (a ``NoMatches`` traceback); they are dropped."""
        if self._exit:
            return True
        return await super().run_action(action, default_namespace, namespaces)

    # ---- background sync -------------------------------------------------------------------

    @work(exclusive=True, group="sync", exit_on_error=False, description="Background sync")
    async def run_sync(self) -> None:
        """Sync passes in the background: one now, then one per interval (None: just one).

        Between passes the loop also wakes when a change's undo window ends, so it goes out
        then, not at the next interval; a local edit wakes it at once only when the edit is
        due at once (``undo_seconds = 0``).
        """
        engine = self.engine
        if engine is None:
            return
        failures = 0
        while True:
            self._wake.clear()  # edits made during this pass wake the next one at once
            self.post_message(SyncStarted())
            try:
                report = await engine.run_once()
            except Exception as exc:  # noqa: BLE001 - the loop never dies (run_once reports
                # its own trouble; this is the last line of defence)
                from oncall_tui.sync.engine import describe_error

                failures += 1
                text = describe_error(exc)
                with contextlib.suppress(Exception):
                    self.ctx.store.sync_state.log("sync", "error", f"pass failed: {text}")
                self.post_message(
                    SyncFinished(frozenset(), f"sync failed: {text}", False, (("sync", text),))
                )
            else:
                failures = 0 if report.ok else failures + 1
                errors = tuple((o.name, o.error) for o in report.outcomes.values() if o.error)
                errors += tuple(("sync", text) for text in report.trouble)
                self.post_message(
                    SyncFinished(
                        frozenset(report.changed_ids), report.summary(), report.ok, errors
                    )
                )
                if report.more and report.ok:  # a first sync of 100,000 tickets: no wait
                    if self.ctx.config.sync_interval is not None and not self._quit_after_sync:
                        continue
            interval = self.ctx.config.sync_interval
            if interval is None or self._quit_after_sync:
                return
            try:
                await self._wait_for_next_pass(retry_wait(interval, failures))
            except Exception:  # noqa: BLE001 - e.g. the database is locked: just wait
                await asyncio.sleep(retry_wait(interval, failures))

    async def _wait_for_next_pass(self, interval: float) -> None:
        """Until the interval is over, a change is due (an undo window ended), or ctrl+r."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + interval
        while True:
            timeout = deadline - loop.time()
            store = self.ctx.store
            next_send = store.outbox.next_send_after(self.ctx.clock())
            by_window = False
            if next_send is not None:
                # Looked at again at least once a second: the window is on the wall clock,
                # which may jump (a laptop waking up) while the loop's own clock does not.
                until = min((next_send - self.ctx.clock()).total_seconds(), WINDOW_SLICE)
                if until < timeout:
                    timeout, by_window = max(until, MIN_WAKE_SECONDS), True
            if timeout <= 0:
                return
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=timeout)
            except TimeoutError:
                if not by_window or store.outbox.due_ops(self.ctx.clock(), limit=1):
                    return
                continue  # the window is not over by our clock yet (a frozen one): wait on
            self._wake.clear()
            if store.outbox.due_ops(self.ctx.clock(), limit=1):
                return  # an edit due at once, or ctrl+r
            # an edit that waits out its undo window: wake again when the window ends

    @work(
        exclusive=True,
        group="tracker-search",
        exit_on_error=False,
        description="Live tracker search",
    )
    async def search_tracker(self, query: str) -> None:
        """Search the tracker online (when a backend is there); results land in the cache."""
        if self.engine is None or not query:
            return
        changed = await self.engine.search_tracker(query)
        if changed:
            self.store_revision += 1

    def request_push(self) -> None:
        """A local edit was queued: wake the sync loop, which sends it when it is due (at
        once, or when its undo window ends)."""
        self._wake.set()

    def after_edit(self, message: str) -> None:
        """A local edit was made: every screen re-queries, the engine is told, a toast."""
        self.store_revision += 1
        self.request_push()
        self.notify(message, markup=False, timeout=3)

    def action_sync_now(self) -> None:
        """Sync now; changes waiting out their undo window may go now too (asked first)."""
        if self.engine is None:
            if self.engine_pending:  # the first frame is on screen; the engine follows it
                self.notify("Sync is starting.", timeout=3)
                return
            self.notify("No backend is configured: oncall-tui is working locally.", timeout=4)
            return
        waiting = self.ctx.store.outbox.waiting_count(self.ctx.clock())
        if not waiting:
            self.run_sync()
            return
        from oncall_tui.ui.screens.choice_screen import ChoiceScreen

        def chosen(choice: str | None) -> None:
            if choice == "send":
                self.ctx.store.outbox.send_waiting_now(self.ctx.clock())
                self.store_revision += 1
            if choice in ("send", "sync"):
                self.run_sync()

        self.push_screen(
            ChoiceScreen(
                f"Sync now: {plural(waiting, 'change')} waiting to be sent",
                [
                    ("send", f"Send {'it' if waiting == 1 else 'them'} now, then sync"),
                    ("sync", "Sync; send each when its undo window ends (u can still undo)"),
                ],
            ),
            chosen,
        )

    def on_sync_started(self, _: SyncStarted) -> None:
        self.syncing = True
        self._update_sync_status("syncing…")

    def on_sync_progress(self, message: SyncProgress) -> None:
        self._update_sync_status(message.text)

    def on_sync_finished(self, message: SyncFinished) -> None:
        self.syncing = False
        if self._quit_after_sync:
            self.exit()
            return
        if message.ok:
            self._last_sync = f"{self.ctx.clock().astimezone(self.ctx.config.tz):%H:%M}"
            self._update_sync_status()
        else:
            self._update_sync_status("offline · " + status_error(message))
        if message.changed_ids:
            self.store_revision += 1
            self.tell_watched(message.changed_ids)

    def tell_watched(self, changed_ids: Iterable[int]) -> None:
        """A toast (and a desktop notification, if configured) for each watched ticket the
        sync changed, saying what changed; each change once."""
        from oncall_tui.domain.tickets import ticket_title
        from oncall_tui.ui.screens.queue_screen import QueueScreen

        changes = self.ctx.store.watches.watch_changes(changed_ids)
        queue = next((s for s in self.screen_stack if isinstance(s, QueueScreen)), None)
        for ticket_id, what in changes:
            ticket = self.ctx.store.tickets.get_ticket(ticket_id)
            name = ticket_title(ticket.source, ticket.remote_id, ticket.subject, width=60)
            text = f"{name}: {', '.join(what)}"
            self.notify(text, title="Watched ticket changed", timeout=8, markup=False)
            if queue is not None and self.ctx.config.notifications.watched:
                queue.desktop.send(("watch", ticket_id, text), "Watched ticket changed", text)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "sync" and event.state == WorkerState.ERROR:
            self.syncing = False
            self._update_sync_status("sync failed")
            self.notify(f"Sync failed: {event.worker.error}", severity="error", markup=False)

    def _update_sync_status(self, activity: str | None = None) -> None:
        counts = self.ctx.store.outbox.outbox_counts()
        waiting = (
            self.ctx.store.outbox.waiting_count(self.ctx.clock()) if counts.get("pending") else 0
        )
        pending = counts.get("pending", 0) + counts.get("inflight", 0) - waiting
        failed = counts.get("failed", 0)
        if self.engine is None:
            parts = ["starting sync" if self.engine_pending else "local only"]
        elif activity:
            parts = [activity]
        else:
            parts = [f"online · synced {self._last_sync}" if self._last_sync else "online"]
        if waiting:
            parts.append(f"↶ {waiting} waiting (u undoes)")
        if pending:
            parts.append(f"↻ {pending} pending")
        if failed:
            parts.append(f"⚠ {failed} failed")
        self.sync_status = " · ".join(parts)

    def watch_store_revision(self) -> None:
        self._update_sync_status()
        self.call_after_refresh(self._report_damaged_rows)
        self._watch_terminal()

    def _templates(self) -> list[object]:
        """The shipped reply templates, with the config's ``[templates.*]`` merged in (a
        team template of the same id replaces the shipped one)."""
        from oncall_tui.data.resources import default_templates
        from oncall_tui.domain.templates import merge_templates, parse_templates

        team = parse_templates(self.ctx.config.templates, key="templates")  # checked at load
        return list(merge_templates(default_templates(), team))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand(
            "Browse runbooks", "Every runbook, without a ticket", self.action_runbooks
        )

    def action_runbooks(self) -> None:
        """Runbooks without a ticket (the palette's "Browse runbooks")."""
        from oncall_tui.ui.screens.runbook_screen import RunbookScreen

        if not isinstance(self.screen, RunbookScreen):
            self.push_screen(RunbookScreen.from_context(self.ctx))

    def action_sync_log(self) -> None:
        """Backends, unsent and failed changes, and the sync log."""
        from oncall_tui.ui.screens.sync_log_screen import SyncLogScreen

        if not isinstance(self.screen, SyncLogScreen):
            self.push_screen(SyncLogScreen(self.ctx.store, self.ctx.config.sla))

    def action_handoff(self) -> None:
        """The on-call week: charts, the summary to post, the retro, the breach forecast."""
        from oncall_tui.ui.screens.handoff_screen import HandoffScreen

        if not isinstance(self.screen, HandoffScreen):
            self.push_screen(HandoffScreen(self.ctx))
    def action_standup(self) -> None:
        """The daily stand-up over every bug under investigation."""
        from oncall_tui.ui.screens.standup_screen import open_standup

        open_standup(self)

    def action_drafts(self) -> None:
        from oncall_tui.ui.screens.drafts_screen import open_drafts

        open_drafts(self)

    def action_new_bug_report(self) -> None:
        from oncall_tui.ui.screens.bug_report_screen import open_bug_report

        open_bug_report(self, self.ctx.store, self.ctx.config, self.ctx.clock)

    def action_help(self) -> None:
        from oncall_tui.ui.screens.help_screen import HelpScreen, binding_rows, screen_title

        screen = self.screen
        if isinstance(screen, HelpScreen):
            return
        self.push_screen(HelpScreen(binding_rows(screen), screen_title(screen)))

    async def action_quit(self) -> None:
        """Quit from the queue (offering to send what waits); from any other screen, what
        its own back key does (the bug-report form saves its draft), else back."""
        if len(self.screen_stack) > 1:
            screen = self.screen
            for action in ("back", "leave", "cancel", "close"):
                if hasattr(screen, f"action_{action}"):
                    await self.run_action(action, screen)
                    return
            self.pop_screen()
            return
        waiting = (
            self.ctx.store.outbox.waiting_count(self.ctx.clock()) if self.engine is not None else 0
        )
        if not waiting:
            self.exit()
            return
        from oncall_tui.ui.screens.choice_screen import ChoiceScreen

        def chosen(choice: str | None) -> None:
            if choice == "send":
                self.ctx.store.outbox.send_waiting_now(self.ctx.clock())
                self._quit_after_sync = True
                self._update_sync_status("sending before quitting…")
                self.run_sync()  # exits when the pass is over (SyncFinished)
            elif choice == "later":
                self.exit()

        self.push_screen(
            ChoiceScreen(
                f"Quit: {plural(waiting, 'change')} not sent yet",
                [
                    ("send", "Send now, then quit"),
                    ("later", "Quit; send next time oncall-tui starts"),
                    ("stay", "Stay"),
                ],
            ),
            chosen,
        )
