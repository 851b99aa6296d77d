"""Acting on a ticket from scripts: ``ticket assign|status|priority|label|reply|note REF …``.

Each action is the store operation the app's key runs (one local transaction: the row
changed, the outbox entry queued), so it waits the config's undo window like a key's change
(the app's ``u`` takes it back) and the app or ``sync --once`` sends it, exactly once.
``--send-now`` skips the window and pushes at once. Text the public or other customers will
read passes the same confidentiality guard as the compose dialog; a known placeholder left in
a reply refuses it, as ctrl+s does.

Exit status: 0 queued (or sent), 1 failed (the database, or a send that did not go out),
2 bad input, 3 refused by the confidentiality guard, 4 refused: a placeholder is unfilled.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from oncall_tui.cli.output import EXIT_FAILED, EXIT_OK, CliProblem, ref_of
from oncall_tui.cli.refs import find_ref
from oncall_tui.domain.text import clean_line
from oncall_tui.domain.tickets import Priority, Source, Status, Ticket

EXIT_GUARD = 3
EXIT_PLACEHOLDER = 4
ACTIONS = ("assign", "status", "priority", "label", "reply", "note")


def add_action_parsers(verbs: Any, examples: Callable[..., str]) -> None:
    """The ``ticket`` actions, under ``verbs`` (``ticket``'s subparsers)."""
    raw = argparse.RawDescriptionHelpFormatter

    def action(name: str, help_text: str, *lines: str) -> Any:
        parser = verbs.add_parser(
            name,
            help=help_text,
            description=help_text[0].upper() + help_text[1:] + ": queued in the outbox like the "
            "app's key (the undo window applies; --send-now pushes at once). Exit status: 0 "
            "queued, 1 failed, 2 bad input, 3 refused by the confidentiality guard, 4 refused: "
            "a placeholder is unfilled.",
            epilog=examples(*lines),
            formatter_class=raw,
        )
        parser.add_argument("ref", metavar="REF", help="zendesk:41165, acme/product#1204, …")
        parser.add_argument(
            "--send-now",
            action="store_true",
            help="no undo window: push to the backend at once (not --now, the test clock)",
        )
        return parser

    assign = action(
        "assign",
        "assign the ticket",
        "oncall-tui ticket assign zendesk:41165 me",
        "oncall-tui ticket assign zendesk:41165 none",
    )
    assign.add_argument("who", metavar="WHO", help="an e-mail, me, or none (unassign)")
    status = action(
        "status",
        "change the status (pending / hold pause the SLA clock)",
        "oncall-tui ticket status zendesk:41165 pending",
    )
    status.add_argument("status", metavar="STATUS", help="new, open, pending, hold, solved, closed")
    priority = action(
        "priority", "change the priority", "oncall-tui ticket priority zendesk:41165 P1"
    )
    priority.add_argument("priority", metavar="P", help="P0, P1, P2 or P3")
    label = action(
        "label",
        "add (or --remove) labels",
        "oncall-tui ticket label acme/product#1204 ~investigate",
        "oncall-tui ticket label zendesk:41165 '+more info please'",
        "oncall-tui ticket label zendesk:41165 --remove '+more info please'",
    )
    label.add_argument("labels", nargs="+", metavar="LABEL")
    label.add_argument("--remove", action="store_true", help="remove them instead")
    label.add_argument("--override", metavar="REASON", help="publish despite the guard, with why")
    for kind in ("reply", "note"):
        what = "a public reply" if kind == "reply" else "an internal note"
        parser = action(
            kind,
            f"queue {what}",
            *(
                (
                    "oncall-tui ticket reply zendesk:41165 need-logs",
                    "oncall-tui ticket reply zendesk:41165 need-logs --edit",
                    "echo 'Fixed in 4.2.1.' | oncall-tui ticket reply acme/product#1204 --file -",
                )
                if kind == "reply"
                else ("oncall-tui ticket note zendesk:41165 --text 'Repro on 4.2, see logs'",)
            ),
        )
        if kind == "reply":
            parser.add_argument("template", nargs="?", metavar="TEMPLATE", help="template id")
            parser.add_argument(
                "--override", metavar="REASON", help="publish despite the guard, with why"
            )
            parser.add_argument(
                "--keep-references",
                action="store_true",
                help="keep @mentions and #123 live in public text (default: made inert)",
            )
        parser.add_argument("--text", metavar="TEXT", help="the text (after any template)")
        parser.add_argument("--file", metavar="FILE", help="read the text from FILE (- stdin)")
        parser.add_argument("--edit", action="store_true", help="edit it in $EDITOR first")


# ---- running ---------------------------------------------------------------------------------


def _say(out: TextIO, text: str) -> None:
    out.write(clean_line(text) + "\n")


def run_action(args: argparse.Namespace, ctx: Any, out: TextIO, err: TextIO) -> int:
    """Run one ``ticket`` action; returns the exit status."""
    from oncall_tui.domain.ops import OpKind, is_supported

    store = ctx.store
    ticket = find_ref(store, args.ref)
    name = ref_of(ticket)
    verb = args.ticket_command
    op_id: int | None
    if verb in ("reply", "note"):
        code, op_id = _comment(args, ctx, ticket, err)
        if code != EXIT_OK:
            return code
        kind = OpKind.REPLY if verb == "reply" else OpKind.NOTE
        what = "reply" if verb == "reply" else "internal note"
    else:
        kind, what, edit = _edit(args, ctx, ticket, err)
        if edit is None:
            return EXIT_GUARD
        try:
            op_id = _queued(store, ticket.id, edit)
        except (ValueError, LookupError) as exc:
            raise CliProblem(str(exc)) from None
        except sqlite3.OperationalError as exc:
            raise CliProblem(
                f"the database is busy ({exc}): nothing changed", EXIT_FAILED
            ) from None
        if op_id is None:
            if is_supported(ticket.source, kind):
                _say(out, f"{name}: nothing to change ({what})")
            else:
                _say(out, f"{name}: {what}, changed locally ({ticket.source} items keep none)")
            return EXIT_OK
    return _after_queue(args, ctx, op_id, name, what, out, err)


def _queued(store: Any, ticket_id: int, edit: Callable[[], Any]) -> int | None:
    """Run ``edit`` and return the outbox entry it queued (None: it queued none), atomically."""
    with store.db.atomic():
        before = {op.id for op in store.outbox.ops(ticket_id=ticket_id)}
        edit()
        new = [op.id for op in store.outbox.ops(ticket_id=ticket_id) if op.id not in before]
    return new[-1] if new else None


def _edit(args: argparse.Namespace, ctx: Any, ticket: Ticket, err: TextIO) -> Any:
    """(kind, what, the edit to run) for assign / status / priority / label; edit None when
    the guard refused it (already said on ``err``)."""
    from oncall_tui.domain.ops import OpKind
    from oncall_tui.domain.query import STATUS_WORDS

    store, tid = ctx.store, ticket.id
    verb = args.ticket_command
    if verb == "assign":
        who = args.who.strip()
        person = None if who.lower() == "none" else ctx.config.user if who.lower() == "me" else who
        if person is not None and (not person or any(c.isspace() for c in person)):
            raise CliProblem(f"{args.who!r}: expected an e-mail, me or none")
        return (
            OpKind.ASSIGN,
            f"assigned to {person or 'nobody'}",
            lambda: store.tickets.assign(tid, person),
        )
    if verb == "status":
        status = STATUS_WORDS.get(args.status.strip().lower())
        if status is None:
            raise CliProblem(
                f"{args.status!r}: expected new, open, pending, hold, solved or closed"
            )
        return (
            OpKind.SET_STATUS,
            f"status {status}",
            lambda: store.tickets.set_status(tid, Status(status)),
        )
    if verb == "priority":
        text = args.priority.strip().upper()
        text = text if text.startswith("P") else f"P{text}"
        if text not in ("P0", "P1", "P2", "P3"):
            raise CliProblem(f"{args.priority!r}: expected P0, P1, P2 or P3")
        return (
            OpKind.SET_PRIORITY,
            f"priority {text}",
            lambda: store.tickets.set_priority(tid, Priority(text)),
        )
    labels = list(dict.fromkeys(x.strip() for x in args.labels if x.strip()))
    if not labels:
        raise CliProblem("no label given")
    if args.remove:
        return (
            OpKind.REMOVE_LABELS,
            "labels removed: " + ", ".join(labels),
            lambda: store.tickets.remove_labels(tid, labels),
        )
    if not _labels_pass_guard(ctx, ticket, labels, args.override, err):
        return OpKind.ADD_LABELS, "", None
    return (
        OpKind.ADD_LABELS,
        "labels added: " + ", ".join(labels),
        lambda: store.tickets.add_labels(tid, labels),
    )


def _labels_pass_guard(
    ctx: Any, ticket: Ticket, labels: list[str], override: str | None, err: TextIO
) -> bool:
    """The UI's rule: a label going on a public issue must not name a customer, unless the
    engineer overrides it with a reason (recorded in the sync log)."""
    from oncall_tui.domain import guard
    from oncall_tui.domain.ops import OpKind

    if not guard.needs_guard(ticket.source, OpKind.ADD_LABELS):
        return True
    store = ctx.store
    customer = store.tickets.get_customer(ticket.customer_id)
    hits = guard.check_public({x: x for x in labels}, store.tickets.customers(), own=customer)
    if not hits:
        return True
    if override and override.strip():
        store.sync_state.log(
            "guard",
            "warning",
            f"override on {ref_of(ticket)}: labels {', '.join(labels)}; reason: {override.strip()}",
        )
        return True
    for hit in hits:
        _say(err, f"refused: the label “{hit.field_id}” names {hit.customer} on a public issue")
    _say(err, "use the codename label (customer-<codename>), or --override REASON")
    return False


# ---- replies and notes -----------------------------------------------------------------------


def template_context(store: Any, ticket: Ticket, user: str) -> dict[str, str]:
    """Values for a template's placeholders, as the app's reply key fills them (what is not
    known stays unfilled, and blocks the reply)."""
    from oncall_tui.domain import guard
    from oncall_tui.domain.ops import OpKind
    from oncall_tui.domain.templates import display_name

    customer = store.tickets.get_customer(ticket.customer_id)
    public = guard.needs_guard(ticket.source, OpKind.REPLY)
    context = {
        "ticket_id": ticket.remote_id or "",
        "ticket_url": ticket.url or "",
        "requester": display_name(ticket.requester, customer.contacts if customer else ()) or "",
        "agent": user,
        "subject": ticket.subject,
    }
    if customer:
        if not public:  # the real name goes to the customer only, never in public
            context["customer"] = customer.name
        context["codename"] = customer.codename or ""
    links = store.tickets.links(ticket.id)
    if links:
        context["issue_url"] = links[-1][0]
    return {k: v for k, v in context.items() if v}


def _templates(config: Any) -> dict[str, Any]:
    from oncall_tui.data.resources import default_templates
    from oncall_tui.domain.templates import merge_templates, parse_templates

    team = parse_templates(config.templates, key="templates")
    return {t.id: t for t in merge_templates(default_templates(), team)}


def _text(args: argparse.Namespace, ctx: Any, ticket: Ticket) -> str:
    from oncall_tui.domain.templates import render

    parts: list[str] = []
    if getattr(args, "template", None):
        templates = _templates(ctx.config)
        chosen = templates.get(args.template)
        if chosen is None:
            raise CliProblem(
                f"{args.template!r}: no such template ({', '.join(sorted(templates))})"
            )
        parts.append(render(chosen, template_context(ctx.store, ticket, ctx.config.user)).text)
    if args.text:
        parts.append(args.text)
    if args.file:
        try:
            parts.append(sys.stdin.read() if args.file == "-" else Path(args.file).read_text())
        except (OSError, UnicodeDecodeError) as exc:
            raise CliProblem(f"--file {args.file}: {exc}") from None
    text = "\n\n".join(p.strip("\n") for p in parts if p.strip())
    if args.edit:
        text = _edited(text)
    return text


def _edited(text: str) -> str:
    """``text`` after the user's $VISUAL / $EDITOR (vi) saved it."""
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    with tempfile.NamedTemporaryFile("w", suffix=".md", delete=False, encoding="utf-8") as f:
        f.write(text + "\n" if text and not text.endswith("\n") else text)
        path = f.name
    try:
        try:
            done = subprocess.run([*shlex.split(editor), path], check=False)
        except OSError as exc:
            raise CliProblem(f"cannot run the editor {editor!r}: {exc}") from None
        if done.returncode != 0:
            raise CliProblem(f"the editor {editor!r} exited with {done.returncode}: nothing queued")
        return Path(path).read_text(encoding="utf-8")
    finally:
        Path(path).unlink(missing_ok=True)


def first_line(text: str, width: int = 60) -> str:
    """A draft's title, as the compose dialog gives it: its first non-blank line, cut."""
    line = next((x.strip() for x in text.splitlines() if x.strip()), "")
    return line if len(line) <= width else line[: width - 1] + "…"


def _comment(args: argparse.Namespace, ctx: Any, ticket: Ticket, err: TextIO) -> tuple[int, int]:
    """Queue the reply / note: (0, its outbox id), or (the refusal's status, 0)."""
    from oncall_tui.domain import guard
    from oncall_tui.domain.ops import OpKind, is_supported
    from oncall_tui.domain.templates import unfilled

    store = ctx.store
    public = args.ticket_command == "reply"
    if not public and not is_supported(ticket.source, OpKind.NOTE):
        raise CliProblem(
            f"{ref_of(ticket)} is public: internal notes are not possible there (anything "
            "written is public); use `ticket reply`"
        )
    text = _text(args, ctx, ticket).strip()
    if not text:
        raise CliProblem(
            "nothing to send: the text is empty (a template, --text, --file or --edit)"
        )
    kind = OpKind.REPLY if public else OpKind.NOTE
    shown = guard.needs_guard(ticket.source, kind)

    def keep_draft() -> None:
        if args.edit:  # what was typed is not lost: r in the app (or --edit again) resumes it
            store.drafts.create_draft(
                args.ticket_command, ticket.id, {"body": text, "title": first_line(text)}
            )
            _say(err, "your text is kept as a draft (`oncall-tui drafts`; r in the app resumes it)")

    left = unfilled(text)
    if left:
        names = ", ".join("{" + n + "}" for n in left)
        _say(err, f"refused: fill in {names} before sending (not known for {ref_of(ticket)})")
        keep_draft()
        return EXIT_PLACEHOLDER, 0
    if shown:
        customer = store.tickets.get_customer(ticket.customer_id)
        audience = customer if ticket.source is Source.CHAT else None
        hits = guard.check_public(
            {"body": text}, store.tickets.customers(), own=customer, audience=audience
        )
        override = (
            guard.override_for(hits, args.override, ctx.clock())
            if hits and getattr(args, "override", None) and args.override.strip()
            else None
        )
        blocking = guard.unresolved(hits, override)
        if blocking:
            _say(err, "refused: this is public and names a customer:")
            for hit in blocking:
                _say(err, f"  “{hit.term}” ({hit.customer}): …{hit.context}…")
            _say(err, "use the codename, or --override REASON")
            keep_draft()
            return EXIT_GUARD, 0
        if not getattr(args, "keep_references", False):
            text = guard.neutralise(text)
    else:
        override = None
    try:
        op_id = _queued(
            store,
            ticket.id,
            lambda: store.tickets.add_comment(
                ticket.id, text, public=public, author=ctx.config.user
            ),
        )
    except (ValueError, LookupError) as exc:
        raise CliProblem(str(exc)) from None
    except sqlite3.OperationalError as exc:
        raise CliProblem(f"the database is busy ({exc}): nothing queued", EXIT_FAILED) from None
    if override is not None:
        store.sync_state.log(
            "guard",
            "warning",
            f"override on {ref_of(ticket)}: {', '.join(override.terms)}; reason: {override.reason}",
        )
    assert op_id is not None  # a reply or note is always queued
    return EXIT_OK, op_id


# ---- after queueing --------------------------------------------------------------------------


def _after_queue(
    args: argparse.Namespace, ctx: Any, op_id: int, name: str, what: str, out: TextIO, err: TextIO
) -> int:
    if not args.send_now:
        seconds = ctx.config.undo_seconds
        window = f"; sent after {seconds:g} s (u in the app undoes it)" if seconds else ""
        _say(out, f"{name}: {what} queued (outbox {op_id}){window}")
        return EXIT_OK
    ended = ctx.store.outbox.send_ticket_now(ctx.store.outbox.get_op(op_id).ticket_id, op_id)
    if ended > 1:  # a ticket's entries go out in order
        _say(err, f"{name}: {ended - 1} earlier change(s) in their undo window go first, now")
    problem = _send(ctx, err)
    from oncall_tui.domain.ops import OpState

    op = ctx.store.outbox.get_op(op_id)
    if op is not None and op.state is OpState.DONE:
        _say(out, f"{name}: {what} sent (outbox {op_id})")
        return EXIT_OK
    detail = problem or (op.error if op is not None and op.error else "the backend did not take it")
    _say(
        err,
        f"{name}: {what} queued (outbox {op_id}) but not sent: {detail}; the app or "
        "`oncall-tui sync --once` sends it",
    )
    return EXIT_FAILED


class _Notices:
    """What an engine factory reports to the app, on stderr instead."""

    def __init__(self, err: TextIO) -> None:
        self.err = err

    def notify(self, message: str, **_: Any) -> None:
        _say(self.err, f"warning: {message}")


def _send(ctx: Any, err: TextIO) -> str | None:
    """Push the due outbox entries once (the demo's fakes, or the configured backends).
    Returns why nothing could be sent, if so."""
    from oncall_tui.sync.engine import SyncEngine

    if ctx.demo:
        engine = ctx.engine_factory(_Notices(err)) if ctx.engine_factory else None
        if engine is None:
            return "this demo database has no backends to send to"
        report = asyncio.run(engine.push_once())
        engine.store.close()
        errors = [o.error for o in report.outcomes.values() if o.error]
        return "; ".join(errors) or None
    if ctx.config.team is not None:
        return "team mode: the relay sends it (run `oncall-tui sync --once`)"
    from oncall_tui.domain.errors import ConfigValueError
    from oncall_tui.sync.factory import build_backends

    try:
        built = build_backends(ctx.config, ctx.secrets, ctx.clock)
    except ConfigValueError as exc:
        return f"{ctx.paths.config}: {exc}"
    for problem in built.problems:
        _say(err, f"warning: {problem}")
    if not built.backends:
        return "no backend is configured and signed in"

    async def go() -> Any:
        try:
            return await SyncEngine(ctx.store, built.backends, ctx.clock).push_once()
        finally:
            await built.aclose()

    report = asyncio.run(go())
    errors = [o.error for o in report.outcomes.values() if o.error]
    return "; ".join(errors) or None
