"""``oncall-tui bug file --from FILE``: the bug-report form, from a TOML or JSON file.

The file holds the form's values by field id (the ``[bug_report]`` schema the app's form is
built from: ``title``, ``codename``, ``server_version``…). Every field is checked with the
form's own rules and messages, the confidentiality guard reads what would be public, and the
similar issues of the local cache are printed first, as the form's "search first" shows them.
Nothing is filed without ``--yes``; with it, the report is queued as the form queues it (a
draft marked submitted and one ``create_issue`` outbox entry, in one transaction).

The form's settings and its similar-issue search live beside the form (``ui/screens``); they
are imported from there when this command runs (they import Textual; the rest of the CLI
does not).
"""

from __future__ import annotations

import argparse
import json
import tomllib
import uuid
from pathlib import Path
from typing import Any, TextIO

from oncall_tui.cli.output import EXIT_OK, EXIT_USAGE, CliProblem, inert, ref_of
from oncall_tui.cli.refs import find_ref
from oncall_tui.domain.text import clean_line

EXIT_GUARD = 3
MAX_FILE_BYTES = 1024 * 1024


def add_bug_subparsers(sub: Any) -> None:
    bug = sub.add_parser(
        "bug",
        help="file a customer bug report from a file (the form's fields)",
        description="Bug reports from scripts, with the app's form rules.",
        epilog="examples:\n  oncall-tui bug file --from report.toml --ticket zendesk:41165 --yes",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verbs = bug.add_subparsers(dest="bug_command", metavar="ACTION", required=True)
    file = verbs.add_parser(
        "file",
        help="check a report, print similar issues, and with --yes queue it",
        description="Read the form's values (field id = value) from a TOML or JSON file; "
        "check them as the form does; print the similar tracker issues (search first); with "
        "--yes queue the report for filing. Exit status: 0 checked or queued, 2 a field is "
        "wrong (each message as the form shows it), 3 refused by the confidentiality guard.",
        epilog="examples:\n"
        "  oncall-tui bug file --from report.toml\n"
        "  oncall-tui bug file --from report.toml --ticket zendesk:41165 --yes\n"
        "  oncall-tui bug file --from report.json --yes --override 'customer agreed'\n\n"
        "report.toml:\n"
        '  title = "Live query returns 500 on more than 10k hosts"\n'
        '  codename = "vesta"\n'
        '  server_version = "4.57.1"\n'
        '  steps = """1. Run a live query\\n2. Target all hosts"""',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    file.add_argument("--from", dest="source", required=True, metavar="FILE", help="TOML/JSON")
    file.add_argument("--ticket", metavar="REF", help="the support ticket it comes from")
    file.add_argument("--yes", action="store_true", help="queue it for filing")
    file.add_argument("--override", metavar="REASON", help="file despite the guard, with why")
    file.add_argument("--json", action="store_true", help="print the outcome as JSON")


def _values(path: str) -> dict[str, str]:
    file = Path(path).expanduser()
    try:
        if file.stat().st_size > MAX_FILE_BYTES:
            raise CliProblem(f"{path}: larger than {MAX_FILE_BYTES} bytes; not a bug report")
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CliProblem(f"{path}: {exc}") from None
    try:
        data = json.loads(text) if file.suffix.lower() == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise CliProblem(f"{path}: not valid {file.suffix.lstrip('.') or 'TOML'}: {exc}") from None
    if not isinstance(data, dict):
        raise CliProblem(f"{path}: expected a table of field = value")
    values: dict[str, str] = {}
    for key, value in data.items():
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise CliProblem(f"{path}: {key}: expected text or a number")
        values[str(key)] = str(value)
    return values


def run_bug(args: argparse.Namespace, ctx: Any, out: TextIO, err: TextIO) -> int:
    from oncall_tui.domain import guard
    from oncall_tui.domain.bug_form import TICKET_URL_KEY, FieldRole
    from oncall_tui.domain.bug_report import (
        BugReportDraft,
        create_issue_payload,
        public_text,
        render_issue,
        validate,
    )
    from oncall_tui.domain.ops import Op, OpKind
    from oncall_tui.domain.tickets import Source
    from oncall_tui.ui.screens.bug_report_data import (
        DRAFT_KIND,
        LOCAL_REPO,
        bug_report_settings,
        find_similar,
    )
    from oncall_tui.ui.screens.drafting import override_to_meta

    store = ctx.store
    settings = bug_report_settings(ctx.config)
    for problem in settings.problems:
        err.write(f"warning: {clean_line(problem)}\n")
    schema = settings.schema
    values = _values(args.source)
    known = {f.id for f in schema.fields}
    unknown = sorted(set(values) - known - {TICKET_URL_KEY})
    if unknown:
        raise CliProblem(
            f"{args.source}: unknown field {', '.join(unknown)} (the form has "
            f"{', '.join(f.id for f in schema.fields)})"
        )
    ticket = find_ref(store, args.ticket) if args.ticket else None
    if ticket is not None and ticket.url and TICKET_URL_KEY not in values:
        values[TICKET_URL_KEY] = ticket.url
    errors = validate(schema, values)
    if errors:
        for error in errors:
            label = next((f.label for f in schema.fields if f.id == error.field_id), error.field_id)
            err.write(f"{clean_line(label)} ({error.field_id}): {clean_line(error.message)}\n")
        return EXIT_USAGE
    customer = store.tickets.get_customer(ticket.customer_id) if ticket is not None else None
    codename_field = schema.by_role(FieldRole.CODENAME)
    if customer is None and codename_field is not None:
        typed = values.get(codename_field.id, "").strip().casefold()
        customer = next(
            (
                c
                for c in store.tickets.customers()
                if typed and (c.codename or "").casefold() == typed
            ),
            None,
        )
    hits = guard.check_public(public_text(schema, values), store.tickets.customers(), own=customer)
    override = (
        guard.override_for(hits, args.override.strip(), ctx.clock())
        if hits and args.override and args.override.strip()
        else None
    )
    blocking = guard.unresolved(hits, override)
    similar = find_similar(store, values, schema)
    result: dict[str, Any] = {
        "similar": [
            {
                "ref": m.ref,
                "title": m.title,
                "url": m.url,
                "status": m.status,
                "score": round(m.score, 3),
            }
            for m in similar
        ],
        "guard": [{"field": h.field_id, "term": h.term, "customer": h.customer} for h in blocking],
        "queued": False,
        "outbox": None,
        "repo": settings.repo,
    }
    if not args.json:
        if similar:
            out.write("search first: these issues look like the same bug\n")
            for m in similar:
                out.write(
                    f"  {m.score:.2f}  {clean_line(m.ref)}  {clean_line(m.title)}"
                    f"{'  ' + clean_line(m.url) if m.url else ''}\n"
                )
        else:
            out.write("search first: no similar issue in the local cache\n")
    if blocking:
        for hit in blocking:
            err.write(
                f"refused: {clean_line(hit.field_id)} names {clean_line(hit.customer)} "
                f"(“{clean_line(hit.term)}”) in a public issue\n"
            )
        err.write("use the codename, or --override REASON\n")
        if args.json:
            out.write(json.dumps(inert(result), ensure_ascii=False, indent=2) + "\n")
        return EXIT_GUARD
    if args.yes:
        draft = BugReportDraft(
            values=values,
            ticket_id=ticket.id if ticket else None,
            codename=customer.codename if customer else None,
            override=override,
        )
        preview = render_issue(schema, values, settings.scheme)
        op = Op(
            kind=OpKind.CREATE_ISSUE,
            source=Source.TRACKER,
            payload=create_issue_payload(preview, draft, settings.repo),
            idempotency_key=str(uuid.uuid4()),
            ticket_id=draft.ticket_id,
        )
        meta = {
            "codename": draft.codename,
            "override": override_to_meta(override),
            "repo": settings.repo,
        }
        with store.db.atomic():
            draft_id = store.drafts.create_draft(DRAFT_KIND, draft.ticket_id, dict(values), meta)
            op_id = store.outbox.enqueue(op)
            store.drafts.set_draft_state(draft_id, "submitted", op_id)
        if override is not None:
            store.sync_state.log("guard", "warning", f"override on a bug report: {override.reason}")
        result.update(queued=True, outbox=op_id)
        if not args.json:
            where = (
                "no tracker is configured yet: it is filed once one is"
                if settings.repo == LOCAL_REPO
                else f"it is filed in {settings.repo} on the next sync"
            )
            origin = f" from {ref_of(ticket)}" if ticket else ""
            out.write(f"bug report{origin} queued (outbox {op_id}); {where}\n")
    elif not args.json:
        out.write("checked: not filed (run again with --yes to queue it)\n")
    if args.json:
        out.write(json.dumps(inert(result), ensure_ascii=False, indent=2) + "\n")
    return EXIT_OK
