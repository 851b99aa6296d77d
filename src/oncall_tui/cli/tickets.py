"""Reading the queue from scripts: ``tickets``, ``ticket show``, ``drafts`` and ``export``.

The same filter language and views as the app (:mod:`oncall_tui.domain.query` parsed, the
store's queue queries run), the same urgency order, the same SLA states. What is printed,
and how it is made inert, is :mod:`oncall_tui.cli.output`.

The actions (``ticket assign|status|priority|label|reply|note``) are in
:mod:`oncall_tui.cli.actions`, the bug report in :mod:`oncall_tui.cli.bug`; this module
registers them and runs them on the context :func:`open_context` opens. They share
:func:`~oncall_tui.cli.refs.find_ref` and (:mod:`oncall_tui.cli.output`) ``sla_clocks``, the
one place SLA values are read, and import nothing of this module.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from oncall_tui.cli.output import (
    CSV_FIELDS,
    DEFAULT_TABLE,
    EXIT_OK,
    FLAT_FIELDS,
    PREFIX,
    TICKET_KEYS,
    CliProblem,
    dump_json,
    inert,
    pick_fields,
    ref_of,
    ticket_object,
    utc_text,
    write_csv,
    write_table,
)
from oncall_tui.cli.refs import find_ref
from oncall_tui.domain.text import clean_line
from oncall_tui.domain.tickets import Ticket

#: Commands this module (and cli_actions, cli_bug) runs.
COMMANDS = ("tickets", "ticket", "drafts", "export", "bug")

# ---- what every command shares ---------------------------------------------------------------


def open_context(args: argparse.Namespace) -> Any:
    """The app's own context (the user's config and database, or the demo's), without the UI.

    The store carries the config's undo window, as the app's does: a change made here waits
    ``undo_seconds`` in the outbox like one made with a key.
    """
    from oncall_tui.compose import open_app_context

    ctx = open_app_context(args)
    ctx.store.undo_seconds = ctx.config.undo_seconds
    return ctx


# ---- tickets ---------------------------------------------------------------------------------

SORTS = {
    "urgency": None,
    "updated": (lambda t: t.updated_at, True),
    "opened": (lambda t: t.opened_at, False),
    "priority": (lambda t: (str(t.priority), t.sla_due or t.updated_at), False),
}


def _query(args: argparse.Namespace, config: Any) -> Any:
    from oncall_tui.domain.query import Query, parse_query

    query = Query()
    if args.view:
        views = list(config.views)
        chosen = None
        if args.view.isdigit() and 1 <= int(args.view) <= len(views):
            chosen = views[int(args.view) - 1]
        else:
            chosen = next((v for v in views if v.name.casefold() == args.view.casefold()), None)
        if chosen is None:
            names = "; ".join(f"{i}: {v.name}" for i, v in enumerate(views, 1))
            raise CliProblem(f"--view {args.view!r}: no such view ({names})")
        query = parse_query(chosen.query)
    typed = parse_query(" ".join(args.query or ()))
    if typed.problems:
        raise CliProblem("; ".join(typed.problems))
    return query & typed


def select_tickets(
    ctx: Any, query: Any, *, limit: int | None, sort: str = "urgency"
) -> list[Ticket]:
    """The tickets ``query`` matches, in urgency order (the queue's) or by ``sort``."""
    store, now = ctx.store, ctx.clock()
    me = ctx.config.user
    page = 500
    wanted = limit if SORTS.get(sort) is None and limit is not None else None
    rows: list[Any] = []
    offset = 0
    while wanted is None or len(rows) < wanted:
        size = page if wanted is None else min(page, wanted - len(rows))
        window = store.queue.open_queue(query, offset=offset, limit=size, me=me, now=now)
        rows += window
        offset += len(window)
        if len(window) < size:
            break
    tickets = [store.tickets.get_ticket(r.id) for r in rows]
    how = SORTS.get(sort)
    if how is not None:
        key, reverse = how
        tickets.sort(key=key, reverse=reverse)
    return tickets if limit is None else tickets[:limit]


def run_tickets(args: argparse.Namespace, ctx: Any, out: TextIO) -> int:
    query = _query(args, ctx.config)
    now = ctx.clock()
    tickets = select_tickets(ctx, query, limit=args.limit, sort=args.sort)
    objects = [ticket_object(ctx.store, t, now) for t in tickets]
    if args.json:
        if args.fields:
            keys = pick_fields(args.fields, (), objects[0].keys() if objects else TICKET_KEYS)
            objects = [{k: o[k] for k in keys} for o in objects]
        dump_json(objects, out)
    elif args.csv:
        write_csv(objects, pick_fields(args.fields, CSV_FIELDS, FLAT_FIELDS), out)
    else:
        width = shutil.get_terminal_size((100, 24)).columns
        if not objects:
            out.write("no tickets match\n")
            return EXIT_OK
        write_table(objects, pick_fields(args.fields, DEFAULT_TABLE, FLAT_FIELDS), out, width)
    return EXIT_OK


# ---- ticket show -----------------------------------------------------------------------------


def _op_object(op: Any, waiting: set[int]) -> dict[str, Any]:
    return {
        "id": op.id,
        "kind": str(op.kind),
        "state": str(op.state),
        "in_undo_window": op.id in waiting,
        "attempts": op.attempts,
        "error": op.error,
        "created_at": utc_text(op.created_at),
        "payload": op.payload,
    }


def _draft_object(store: Any, draft: Any) -> dict[str, Any]:
    ticket = None
    if draft.ticket_id is not None:
        try:
            ticket = ref_of(store.tickets.get_ticket(draft.ticket_id))
        except LookupError:
            ticket = None
    return {
        "id": draft.id,
        "kind": draft.kind,
        "ticket": ticket,
        "title": draft.title,
        "state": draft.state,
        "updated_at": utc_text(draft.updated_at),
        "fields": draft.fields,
    }


def show_object(ctx: Any, ticket: Ticket) -> dict[str, Any]:
    """``ticket show --json``: the ticket object, its thread, links, drafts and outbox."""
    from oncall_tui.domain.ops import OpState

    store, now = ctx.store, ctx.clock()
    result = ticket_object(store, ticket, now)
    result["body"] = ticket.body
    result["thread"] = [
        {
            "author": c.author,
            "created_at": utc_text(c.created_at),
            "public": c.public,
            "body": c.body,
            "sent": c.remote_id is not None,
        }
        for c in store.tickets.comments(ticket.id)
    ]
    result["links"] = [{"url": u, "title": t} for u, t in store.tickets.links(ticket.id)]
    result["drafts"] = [
        _draft_object(store, d) for d in store.drafts.all() if d.ticket_id == ticket.id
    ]
    waiting = store.outbox.waiting_op_ids(now)
    result["outbox"] = [
        _op_object(op, waiting) for op in store.outbox.ops(tuple(OpState), ticket_id=ticket.id)
    ]
    return result


def run_show(args: argparse.Namespace, ctx: Any, out: TextIO) -> int:
    ticket = find_ref(ctx.store, args.ref)
    data = show_object(ctx, ticket)
    if args.json:
        dump_json(data, out)
        return EXIT_OK
    data = inert(data)
    line = clean_line
    out.write(f"{data['ref']}  {line(data['subject'])}\n")
    out.write(
        f"  {data['status']} · {data['priority']} · {data['source']} · assignee "
        f"{data['assignee'] or 'none'} · customer "
        f"{' '.join(x for x in (data['codename'], data['customer']) if x) or 'none'}"
        f"{' (' + data['plan'] + ')' if data['plan'] else ''}\n"
    )
    if data["url"]:
        out.write(f"  {data['url']}\n")
    out.write(f"  labels: {', '.join(map(line, data['labels'])) or 'none'}\n")
    for clock in data["clocks"]:
        out.write(
            f"  SLA {clock['name']}: {clock['state']} ({clock['countdown']}); "
            f"target {clock['target'] or 'none'}; due {clock['due'] or '—'}\n"
        )
    if data["links"]:
        out.write("linked issues:\n")
        for link in data["links"]:
            out.write(f"  {line(link['title'])}  {link['url']}\n")
    out.write("thread:\n")
    if data["body"]:
        out.write(_indent(data["body"]))
    for c in data["thread"]:
        tag = "reply" if c["public"] else "note"
        unsent = "" if c["sent"] else ", not sent yet"
        out.write(f"  — {line(c['author'])}, {c['created_at']} ({tag}{unsent})\n")
        out.write(_indent(c["body"]))
    for d in data["drafts"]:
        out.write(f"draft {d['id']} ({d['kind']}, {d['updated_at']}): {line(d['title'])}\n")
    for op in data["outbox"]:
        if op["state"] in ("done", "cancelled"):
            continue
        window = ", in its undo window" if op["in_undo_window"] else ""
        error = f": {line(op['error'])}" if op["error"] else ""
        out.write(f"outbox {op['id']}: {op['kind']} {op['state']}{window}{error}\n")
    return EXIT_OK


def _indent(text: str) -> str:
    return "".join(f"    {x}\n" for x in text.splitlines()) or "\n"


# ---- drafts and export -----------------------------------------------------------------------


def run_drafts(args: argparse.Namespace, ctx: Any, out: TextIO) -> int:
    drafts = [_draft_object(ctx.store, d) for d in ctx.store.drafts.all()]
    if args.json:
        dump_json(drafts, out)
        return EXIT_OK
    if not drafts:
        out.write("no drafts\n")
    for d in drafts:
        where = d["ticket"] or "no ticket"
        out.write(
            f"{d['id']:>4}  {d['kind']:<10} {d['state']:<9} {d['updated_at']}  {where}  "
            f"{clean_line(d['title'])}\n"
        )
    return EXIT_OK


def _since(text: str) -> datetime:
    try:
        at = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise CliProblem(
            f"--since: expected a date (2026-11-01) or an instant, got {text!r}"
        ) from None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def run_export(args: argparse.Namespace, ctx: Any, out: TextIO) -> int:
    from oncall_tui.domain.query import parse_query

    since = _since(args.since)
    now = ctx.clock()
    tickets = [t for t in select_tickets(ctx, parse_query(""), limit=None) if t.updated_at >= since]
    tickets.sort(key=lambda t: (t.updated_at, t.id))
    objects = [ticket_object(ctx.store, t, now) for t in tickets]
    if args.format == "csv":
        write_csv(objects, list(CSV_FIELDS), out)
    else:
        for o in objects:
            dump_json(o, out, indent=None)
    return EXIT_OK


# ---- the parsers -----------------------------------------------------------------------------


def _examples(*lines: str) -> str:
    return "examples:\n" + "\n".join(f"  {x}" for x in lines)


def add_ticket_subparsers(sub: Any) -> None:
    """Register ``tickets``, ``ticket`` (show and the actions), ``drafts`` and ``export``."""
    from oncall_tui.cli.actions import add_action_parsers
    from oncall_tui.cli.bug import add_bug_subparsers

    raw = argparse.RawDescriptionHelpFormatter
    tickets = sub.add_parser(
        "tickets",
        help="list tickets: the app's filter language and views (table, --json, --csv)",
        description="List the cached tickets a query matches, most urgent first, as the "
        "queue shows them. QUERY is the `/` filter's language; --view starts from a saved view.",
        epilog=_examples(
            "oncall-tui tickets",
            "oncall-tui tickets --view 'Breaching soon' --json",
            "oncall-tui tickets priority:P0,P1 plan:premium --limit 20",
            "oncall-tui tickets is:open assignee:me --csv --fields ref,sla_state,subject",
            "oncall-tui tickets --sort updated -- printer jam -acme",
        ),
        formatter_class=raw,
    )
    tickets.add_argument(
        "query", nargs="*", metavar="QUERY", help="filter, e.g. is:open sla:breached"
    )
    tickets.add_argument("--view", metavar="NAME", help="a saved view, by name or number (1-9)")
    tickets.add_argument("--limit", type=_positive, default=50, metavar="N", help="at most N (50)")
    tickets.add_argument("--all", dest="limit", action="store_const", const=None, help="no limit")
    tickets.add_argument("--sort", choices=tuple(SORTS), default="urgency", help="order (urgency)")
    form = tickets.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="a JSON array of ticket objects")
    form.add_argument("--csv", action="store_true", help="CSV with a header row")
    tickets.add_argument("--fields", metavar="A,B", help="columns (table/CSV) or keys (JSON)")

    ticket = sub.add_parser(
        "ticket",
        help="one ticket: show it, or act on it as the keys do",
        description="Show one ticket, or change it through the outbox as the app's keys do.",
        epilog=_examples(
            "oncall-tui ticket show zendesk:41165",
            "oncall-tui ticket assign zendesk:41165 me",
            "oncall-tui ticket reply zendesk:41165 more-info --edit",
            "oncall-tui ticket label acme/product#1204 ~investigate --send-now",
        ),
        formatter_class=raw,
    )
    verbs = ticket.add_subparsers(dest="ticket_command", metavar="ACTION", required=True)
    show = verbs.add_parser(
        "show",
        help="the ticket, its SLA clocks, thread, linked issues, drafts and outbox",
        description="Print one ticket: its SLA clocks, thread, linked issues, drafts and "
        "outbox entries. REF is how the app names it.",
        epilog=_examples(
            "oncall-tui ticket show zendesk:41165",
            "oncall-tui ticket show acme/product#1204 --json",
            "oncall-tui ticket show slack:C0123:1700000000.000100",
        ),
        formatter_class=raw,
    )
    show.add_argument("ref", metavar="REF", help="zendesk:41165, acme/product#1204, slack:C:TS")
    show.add_argument("--json", action="store_true", help="one JSON object")
    add_action_parsers(verbs, _examples)

    drafts = sub.add_parser(
        "drafts",
        help="your unsent replies, notes and bug reports",
        description="List the drafts kept in the database (most recent first).",
        epilog=_examples("oncall-tui drafts", "oncall-tui drafts --json | jq '.[].title'"),
        formatter_class=raw,
    )
    drafts.add_argument("--json", action="store_true", help="a JSON array of draft objects")

    export = sub.add_parser(
        "export",
        help="tickets with their SLA clocks since a date, as JSON lines or CSV",
        description="Every cached ticket updated since --since, oldest change first, with "
        "its SLA clocks: JSON lines (one ticket object a line) or CSV for spreadsheets.",
        epilog=_examples(
            "oncall-tui export --since 2026-11-01 --format csv > november.csv",
            "oncall-tui export --since 2026-11-30T00:00:00Z --format jsonl",
        ),
        formatter_class=raw,
    )
    export.add_argument("--since", required=True, metavar="DATE", help="a date or an instant")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    add_bug_subparsers(sub)


def _positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {n}")
    return n


def run_ticket_command(
    args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr
) -> int:
    """Run ``tickets``, ``ticket …``, ``drafts`` or ``export``; returns the exit status."""
    ctx = open_context(args)
    try:
        if args.command == "tickets":
            return run_tickets(args, ctx, out)
        if args.command == "drafts":
            return run_drafts(args, ctx, out)
        if args.command == "export":
            return run_export(args, ctx, out)
        if args.command == "bug":
            from oncall_tui.cli.bug import run_bug

            return run_bug(args, ctx, out, err)
        if args.ticket_command == "show":
            return run_show(args, ctx, out)
        from oncall_tui.cli.actions import run_action

        return run_action(args, ctx, out, err)
    except CliProblem as exc:
        err.write(f"{PREFIX}{exc}\n")
        return exc.code
    except BrokenPipeError:  # `| head`
        return EXIT_OK
    finally:
        ctx.store.close()
