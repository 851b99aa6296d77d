"""Forward-only schema migrations. A shipped migration is never edited: add a new one.

``PRAGMA user_version`` mirrors the number of applied migrations, so a database written by a
newer oncall-tui (a higher number than :data:`SCHEMA_VERSION`) is recognised and refused before
anything is written to it.

Past 500 lines on purpose: it is the append-only history of the schema, one function per
shipped migration in order, and grows by one with each new migration.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("oncall-tui")


@migrations(name="0001_initial")
def m0001_initial(db: Database) -> None:
    """Customers, tickets, comments, drafts, outbox, sync state, runbook progress, FTS."""
    statements = [
        """CREATE TABLE customers (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL DEFAULT 'local',
            remote_id TEXT,
            name TEXT NOT NULL,
            plan TEXT NOT NULL DEFAULT 'free',
            codename TEXT,
            domains TEXT NOT NULL DEFAULT '[]',
            contacts TEXT NOT NULL DEFAULT '[]',
            UNIQUE (source, remote_id)
        )""",
        "CREATE INDEX customers_codename ON customers (codename)",
        """CREATE TABLE tickets (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,
            remote_id TEXT,
            channel TEXT NOT NULL DEFAULT 'email',
            subject TEXT NOT NULL DEFAULT '',
            body TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL,
            priority TEXT NOT NULL,
            labels TEXT NOT NULL DEFAULT '[]',
            assignee TEXT,
            requester TEXT,
            customer_id INTEGER REFERENCES customers (id),
            url TEXT,
            opened_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            first_response_at TEXT,
            pauses TEXT NOT NULL DEFAULT '[]',
            paused INTEGER NOT NULL DEFAULT 0,
            is_open INTEGER NOT NULL DEFAULT 1,
            sla_bucket INTEGER NOT NULL DEFAULT 2,
            sla_due TEXT,
            sla_warn_at TEXT,
            sla_target TEXT,
            version TEXT,
            remote_updated_at TEXT,
            pending_ops INTEGER NOT NULL DEFAULT 0,
            conflict TEXT,
            UNIQUE (source, remote_id)
        )""",
        # The queue's default order (breached first, then soonest due; paused and no-target
        # last) is an index scan: sla_bucket 0 = running clock, 1 = paused, 2 = no target.
        "CREATE INDEX tickets_urgency ON tickets (sla_bucket, sla_due, id)",
        "CREATE INDEX tickets_open_urgency ON tickets (is_open, sla_bucket, sla_due, id)",
        "CREATE INDEX tickets_customer ON tickets (customer_id)",
        "CREATE INDEX tickets_assignee ON tickets (assignee, is_open)",
        """CREATE TABLE comments (
            id INTEGER PRIMARY KEY,
            ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
            remote_id TEXT,
            author TEXT NOT NULL DEFAULT '',
            body TEXT NOT NULL DEFAULT '',
            public INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL,
            outbox_id INTEGER,
            UNIQUE (ticket_id, remote_id)
        )""",
        "CREATE INDEX comments_ticket ON comments (ticket_id, created_at)",
        """CREATE TABLE ticket_links (
            ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
            linked_id INTEGER REFERENCES tickets (id) ON DELETE CASCADE,
            url TEXT,
            title TEXT,
            created_at TEXT NOT NULL,
            PRIMARY KEY (ticket_id, url)
        )""",
        """CREATE TABLE drafts (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            ticket_id INTEGER REFERENCES tickets (id) ON DELETE SET NULL,
            title TEXT NOT NULL DEFAULT '',
            fields TEXT NOT NULL DEFAULT '{}',
            meta TEXT NOT NULL DEFAULT '{}',
            state TEXT NOT NULL DEFAULT 'draft',
            outbox_id INTEGER,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        """CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            source TEXT NOT NULL,
            ticket_id INTEGER,
            remote_id TEXT,
            payload TEXT NOT NULL,
            idempotency_key TEXT NOT NULL UNIQUE,
            base_version TEXT,
            undo TEXT NOT NULL DEFAULT '{}',
            state TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            error TEXT,
            next_attempt_at TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        "CREATE INDEX outbox_state ON outbox (state, id)",
        "CREATE INDEX outbox_ticket ON outbox (ticket_id, state)",
        """CREATE TABLE sync_state (
            backend TEXT PRIMARY KEY,
            cursor TEXT,
            last_attempt_at TEXT,
            last_success_at TEXT,
            last_error TEXT
        )""",
        """CREATE TABLE sync_log (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            backend TEXT NOT NULL,
            level TEXT NOT NULL,
            message TEXT NOT NULL
        )""",
        """CREATE TABLE runbook_progress (
            ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
            slug TEXT NOT NULL,
            item INTEGER NOT NULL,
            done_at TEXT NOT NULL,
            PRIMARY KEY (ticket_id, slug, item)
        )""",
        """CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        )""",
        # Indexed per page by the store (not by triggers: a trigger per row costs an order
        # of magnitude in upsert rate). rowid = tickets.id.
        """CREATE VIRTUAL TABLE ticket_fts USING fts5(
            subject, body, comments, customer,
            tokenize = 'unicode61 remove_diacritics 2'
        )""",
    ]
    for sql in statements:
        db.execute(sql)


@migrations(name="0002_label_since")
def m0002_label_since(db: Database) -> None:
    """When each current label went on a ticket (for "still investigating on day two")."""
    db.execute("ALTER TABLE tickets ADD COLUMN label_since TEXT NOT NULL DEFAULT '{}'")
    # Best knowledge for existing rows: the labels have been there since the last update.
    db.execute(
        "UPDATE tickets SET label_since = (SELECT json_group_object(value, tickets.updated_at) "
        "FROM json_each(tickets.labels)) WHERE labels != '[]'"
    )


@migrations(name="0003_fts_prefix_index")
def m0003_fts_prefix_index(db: Database) -> None:
    """Prefix indexes for one- and two-letter search terms (typing "l" matches most tickets:
    without them every keystroke merges thousands of doclists)."""
    db.execute("DROP TABLE ticket_fts")
    db.execute(
        """CREATE VIRTUAL TABLE ticket_fts USING fts5(
            subject, body, comments, customer,
            tokenize = 'unicode61 remove_diacritics 2',
            prefix = '1 2'
        )"""
    )
    db.execute(
        "INSERT INTO ticket_fts (rowid, subject, body, comments, customer) "
        "SELECT t.id, t.subject, t.body, "
        "coalesce((SELECT group_concat(body, char(10)) FROM comments WHERE ticket_id = t.id), ''), "
        "coalesce(c.name, '') || ' ' || coalesce(c.codename, '') "
        "FROM tickets t LEFT JOIN customers c ON c.id = t.customer_id"
    )


@migrations(name="0004_pending_comments")
def m0004_pending_comments(db: Database) -> None:
    """Comments that arrived before their ticket (the help desk exports comments and tickets
    as two streams); each moves into ``comments`` when its ticket arrives."""
    db.execute(
        """CREATE TABLE pending_comments (
            source TEXT NOT NULL,
            ticket_remote_id TEXT NOT NULL,
            remote_id TEXT NOT NULL,
            author TEXT NOT NULL DEFAULT '',
            author_handle TEXT,
            body TEXT NOT NULL DEFAULT '',
            public INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL,
            PRIMARY KEY (source, ticket_remote_id, remote_id)
        )"""
    )


@migrations(name="0005_fts_stale")
def m0005_fts_stale(db: Database) -> None:
    """Tickets whose thread grew while a stream of comment pages was still being read: their
    full-text entry is rewritten once, when the stream ends, instead of after every page."""
    db.execute("CREATE TABLE fts_stale (ticket_id INTEGER PRIMARY KEY)")


@migrations(name="0011_team")
def m0011_team(db: Database) -> None:
    """Team mode's relay: what it has put in the stream, what it has still to publish, the
    comments waiting for their ticket's group, and the chat messages its out-of-hours reply
    has to answer."""
    statements = [
        # One row per stream subject: the record it holds now (as published) and its digest,
        # so an unchanged record is not published again and a ticket that moves to another
        # group can leave its old subjects.
        """CREATE TABLE team_index (
            subject TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            source TEXT NOT NULL,
            grp TEXT NOT NULL,
            record_id TEXT NOT NULL,
            ticket_id TEXT,
            digest TEXT NOT NULL,
            payload TEXT NOT NULL,
            seq INTEGER
        )""",
        "CREATE INDEX team_index_record ON team_index (source, kind, record_id)",
        "CREATE INDEX team_index_ticket ON team_index (source, ticket_id)",
        # Written in the transaction of the page they came with; deleted once the stream
        # acknowledged them. payload NULL: purge the subject.
        """CREATE TABLE team_outgoing (
            id INTEGER PRIMARY KEY,
            subject TEXT NOT NULL,
            payload TEXT,
            digest TEXT
        )""",
        """CREATE TABLE team_held (
            source TEXT NOT NULL,
            ticket_id TEXT NOT NULL,
            record_id TEXT NOT NULL,
            payload TEXT NOT NULL,
            PRIMARY KEY (source, ticket_id, record_id)
        )""",
        """CREATE TABLE team_chat (
            key TEXT PRIMARY KEY,
            thread TEXT NOT NULL,
            author TEXT NOT NULL,
            body TEXT NOT NULL,
            at TEXT NOT NULL,
            files INTEGER NOT NULL DEFAULT 0,
            state TEXT NOT NULL DEFAULT 'new'
        )""",
        "CREATE INDEX team_chat_state ON team_chat (state, at)",
    ]
    for sql in statements:
        db.execute(sql)


@migrations(name="0012_outbox_send_after")
def m0012_outbox_send_after(db: Database) -> None:
    """When an outbox entry may be sent: a change waits out the undo window first (NULL:
    at once, as every entry queued before this version)."""
    db.execute("ALTER TABLE outbox ADD COLUMN send_after TEXT")


@migrations(name="0013_number_requester_indexes")
def m0013_number_requester_indexes(db: Database) -> None:
    """Indexes for the filter's ticket numbers, requester e-mails and unsent changes
    (``#41165``, ``rita@globex.io``, ``is:unsent``): typed per keystroke, they must not read
    every ticket.

    A ticket's number is its remote id after any ``#`` (the help desk's ``41165``, the
    tracker's ``acme/product#123``); the store's queries spell the same expression.
    """
    db.execute(
        "CREATE INDEX tickets_number ON tickets (substr(remote_id, instr(remote_id, '#') + 1))"
    )
    db.execute("CREATE INDEX tickets_requester ON tickets (requester COLLATE NOCASE)")
    # ``is:unsent``: the few tickets with a local change not yet confirmed.
    db.execute("CREATE INDEX tickets_unsent ON tickets (id) WHERE pending_ops > 0")


@migrations(name="0014_outbox_claims")
def m0014_outbox_claims(db: Database) -> None:
    """Who is sending an outbox entry, and until when (a claim with a lease).

    Several processes (the app, ``sync --loop``, a second instance) drain one outbox: an
    entry is claimed in one transaction (pending or unclear, no live lease) before anything
    is sent, so no two of them send it. A lease that ran out means its claimer died
    mid-send: the entry is looked up at the backend before it is sent again.
    """
    db.execute("ALTER TABLE outbox ADD COLUMN claimed_by TEXT")
    db.execute("ALTER TABLE outbox ADD COLUMN lease_until TEXT")


@migrations(name="0015_sla_clocks")
def m0015_sla_clocks(db: Database) -> None:
    """Reply clocks (issue 13): each comment's author role and each ticket's SLA history.

    ``comments.author_role`` is ``staff``, ``customer``, ``automation`` or empty (not known:
    never staff). ``tickets.sla_events`` is what the clocks replay (see
    ``domain/sla_history.py``). Cached tickets get theirs from what is stored: the pause
    spans, the current status and labels, and the comments with the best role known (the
    requester is the customer; an author that is only a number was never resolved; a
    change of ours is staff; another named author was taken as our answer before, and still
    is). The stored clock columns are recomputed with the configured policy when the store
    opens (``meta.sla_recompute``).
    """
    import json as _json

    from oncall_tui.domain.sla_history import events_to_json, migrated_events
    from oncall_tui.store.base import ticket_from_row
    from oncall_tui.store.db import parse_iso

    db.execute("ALTER TABLE comments ADD COLUMN author_role TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE pending_comments ADD COLUMN author_role TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE tickets ADD COLUMN sla_events TEXT NOT NULL DEFAULT '[]'")
    conn = db.conn
    columns = (
        "id, source, remote_id, channel, subject, body, status, priority, labels, assignee, "
        "requester, customer_id, url, opened_at, updated_at, first_response_at, pauses, "
        "sla_due, sla_warn_at, sla_target, version, pending_ops, conflict, label_since, "
        "'[]' AS sla_events"
    )
    by_ticket: dict[int, list[tuple[int, str, str, int, str | None]]] = {}
    for cid, tid, author, public, created, outbox_id in conn.execute(
        "SELECT id, ticket_id, author, public, created_at, outbox_id FROM comments"
    ):
        by_ticket.setdefault(tid, []).append((cid, author, created, public, outbox_id))
    role_updates: list[tuple[str, int]] = []
    event_updates: list[tuple[str, int]] = []
    for row in conn.execute(f"SELECT {columns} FROM tickets").fetchall():
        try:
            ticket = ticket_from_row(row)
        except Exception:  # a damaged row keeps no history; it is reported where it is read
            continue
        known = []
        for cid, author, created, public, outbox_id in by_ticket.get(ticket.id, []):
            name = (author or "").strip()
            if outbox_id is not None:
                role = "staff"
            elif ticket.requester and name == ticket.requester:
                role = "customer"
            elif not name or name.isdigit() or name == "unknown":
                role = ""
            else:
                role = "staff"
            role_updates.append((role, cid))
            at = parse_iso(created)
            if at is not None:
                known.append((at, role, bool(public)))
        event_updates.append((events_to_json(migrated_events(ticket, known)), ticket.id))
    conn.executemany("UPDATE comments SET author_role = ? WHERE id = ?", role_updates)
    conn.executemany("UPDATE tickets SET sla_events = ? WHERE id = ?", event_updates)
    conn.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('sla_recompute', ?)", [_json.dumps(1)]
    )


@migrations(name="0016_not_refreshed")
def m0016_not_refreshed(db: Database) -> None:
    """When a cached ticket stopped being kept fresh (NULL: it is): an agent's pull reads only
    the tickets the user works (issue 16), and one that leaves that scope stays cached,
    marked, instead of being dropped or silently going stale."""
    db.execute("ALTER TABLE tickets ADD COLUMN not_refreshed_since TEXT")


@migrations(name="0017_escalation")
def m0017_escalation(db: Database) -> None:
    """The escalation loop's state, kept across restarts.

    ``escalation_timers``: investigation time-boxes (kind ``timebox``, one running per ticket)
    and suspected-outage reminders (kind ``outage``, with the issue's title and the outbox
    entry that files it). ``standup_acks``: the support manager's acknowledgement per issue and
    stand-up day (one per day: a second key press posts nothing). ``link_notices``: the last
    state of a linked issue each ticket's customer was offered an update for.
    """
    statements = [
        """CREATE TABLE escalation_timers (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            ticket_id INTEGER REFERENCES tickets (id) ON DELETE CASCADE,
            title TEXT NOT NULL DEFAULT '',
            outbox_id INTEGER,
            started_at TEXT NOT NULL,
            due_at TEXT NOT NULL,
            interval_seconds INTEGER,
            state TEXT NOT NULL DEFAULT 'running',
            meta TEXT NOT NULL DEFAULT '{}'
        )""",
        "CREATE INDEX escalation_timers_due ON escalation_timers (state, due_at)",
        "CREATE UNIQUE INDEX escalation_timebox_one ON escalation_timers (ticket_id) "
        "WHERE kind = 'timebox' AND state = 'running'",
        """CREATE TABLE standup_acks (
            ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
            day TEXT NOT NULL,
            at TEXT NOT NULL,
            outbox_id INTEGER,
            PRIMARY KEY (ticket_id, day)
        )""",
        """CREATE TABLE link_notices (
            ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
            url TEXT NOT NULL,
            state TEXT NOT NULL,
            at TEXT NOT NULL,
            PRIMARY KEY (ticket_id, url)
        )""",
        # Links made before this version were shared by hand, if at all: no link-back
        # draft for each of them on the first start; later state changes are offered.
        "INSERT OR IGNORE INTO link_notices (ticket_id, url, state, at) SELECT ticket_id, "
        "url, 'linked', created_at FROM ticket_links WHERE url IS NOT NULL AND url != ''",
    ]
    for sql in statements:
        db.execute(sql)


@migrations(name="0018_sort_indexes_watches")
def m0018_sort_indexes_watches(db: Database) -> None:
    """Indexes for sorting the queue by a column (``O``): the column's value, then the
    urgency order, so a window of a million tickets sorted by subject, priority, status,
    assignee, source or last update is an index walk (backwards when descending), not a
    sort of every row. The store's ``SORT_SQL`` spells the same expressions. And the watched
    tickets (``w``) with what was last seen of each."""
    for name, expression in (
        ("priority", "priority"),
        ("subject", "lower(subject)"),
        ("status", "status"),
        ("assignee", "lower(coalesce(assignee, ''))"),
        ("source", "source"),
        ("updated", "updated_at"),
    ):
        db.execute(
            f"CREATE INDEX tickets_sort_{name} ON tickets ({expression}, sla_bucket, sla_due, id)"
        )
    # Watched tickets (`w`): what was last seen of each (JSON), to tell a change once.
    db.execute(
        "CREATE TABLE watches (ticket_id INTEGER PRIMARY KEY "
        "REFERENCES tickets(id) ON DELETE CASCADE, seen TEXT NOT NULL, since TEXT NOT NULL)"
    )


_LABELS_OF_NEW = (
    "SELECT NEW.id, lower(CAST(value AS TEXT)) FROM json_each(CASE WHEN json_valid(NEW.labels) "
    "AND json_type(NEW.labels) = 'array' THEN NEW.labels ELSE '[]' END)"
)


@migrations(name="0021_count_indexes")
def m0021_count_indexes(db: Database) -> None:
    """What the views' counts need at a million tickets (each view is counted after every
    data change and "Breaching soon" once a minute): "Waiting on customer" (``is:paused``) read
    every ticket (0.7–1 s), "Bugs under investigation" (``label:~investigate``) parsed every
    ticket's labels (1.1 s).

    ``ticket_labels`` holds each ticket's current labels, lowercased, kept by triggers on
    ``tickets`` whichever way a row is written (an insert, an update, a REPLACE — whose
    delete fires no trigger, hence the delete before each insert). A row whose labels are not
    a JSON array has none here, as the queue's own reading of it.
    """
    db.execute("CREATE INDEX tickets_paused ON tickets (paused, is_open)")
    db.execute(
        "CREATE TABLE ticket_labels (label TEXT NOT NULL, ticket_id INTEGER NOT NULL, "
        "PRIMARY KEY (label, ticket_id)) WITHOUT ROWID"
    )
    db.execute("CREATE INDEX ticket_labels_ticket ON ticket_labels (ticket_id)")
    db.execute(
        "CREATE TRIGGER tickets_labels_insert AFTER INSERT ON tickets BEGIN "
        "DELETE FROM ticket_labels WHERE ticket_id = NEW.id; "
        f"INSERT OR IGNORE INTO ticket_labels (ticket_id, label) {_LABELS_OF_NEW}; END"
    )
    db.execute(
        "CREATE TRIGGER tickets_labels_update AFTER UPDATE OF labels, id ON tickets BEGIN "
        "DELETE FROM ticket_labels WHERE ticket_id = OLD.id; "
        f"INSERT OR IGNORE INTO ticket_labels (ticket_id, label) {_LABELS_OF_NEW}; END"
    )
    db.execute(
        "CREATE TRIGGER tickets_labels_delete AFTER DELETE ON tickets BEGIN "
        "DELETE FROM ticket_labels WHERE ticket_id = OLD.id; END"
    )
    db.execute(
        "INSERT OR IGNORE INTO ticket_labels (ticket_id, label) "
        "SELECT t.id, lower(CAST(j.value AS TEXT)) FROM tickets t, json_each(CASE WHEN "
        "json_valid(t.labels) AND json_type(t.labels) = 'array' THEN t.labels ELSE '[]' END) j"
    )


@migrations(name="0022_status_since")
def m0022_status_since(db: Database) -> None:
    """When each ticket's status was last set, as far as we know (issue 13): a customer's
    message ends the waiting only on a status set before it (a user's newer "pending", or a
    backend copy that already shows the customer's reply, is not undone). ``label_since``
    says the same of labels. Cached tickets take their last update, the latest they can have
    been set at."""
    db.execute("ALTER TABLE tickets ADD COLUMN status_since TEXT")
    db.execute("UPDATE tickets SET status_since = updated_at")


_RECORD_ASSIGNEE = (
    "INSERT INTO assignments (ticket_id, since, assignee) "
    "SELECT NEW.id, CASE WHEN last.since IS NULL THEN NEW.opened_at "
    "ELSE max(coalesce(NEW.updated_at, last.since), last.since) END, NEW.assignee "
    "FROM (SELECT (SELECT since FROM assignments WHERE ticket_id = NEW.id "
    "ORDER BY since DESC, seq DESC LIMIT 1) AS since, "
    "(SELECT assignee FROM assignments WHERE ticket_id = NEW.id "
    "ORDER BY since DESC, seq DESC LIMIT 1) AS who) AS last "
    "WHERE last.since IS NULL OR last.who IS NOT NEW.assignee"
)


@migrations(name="0024_assignments")
def m0024_assignments(db: Database) -> None:
    """Who held each ticket since when (issue 18: a breach is attributed to who held the
    ticket at the breach instant, not to today's assignee).

    Kept by triggers on ``tickets`` whichever way a row is written (a sync pull, a local
    edit, its undo, the team relay): a ticket first seen was held by its assignee since it
    opened (nothing earlier is known); a change of assignee is recorded at the row's
    ``updated_at`` (the local edit's instant, or the backend's time of the change), never
    before the last recorded change (an undo comes after what it undoes). ``seq`` orders
    changes at the same instant. Existing tickets start with their current assignee.
    """
    db.execute(
        "CREATE TABLE assignments (seq INTEGER PRIMARY KEY, ticket_id INTEGER NOT NULL, "
        "since TEXT NOT NULL, assignee TEXT)"
    )
    db.execute("CREATE INDEX assignments_ticket ON assignments (ticket_id, since, seq)")
    db.execute(
        "INSERT INTO assignments (ticket_id, since, assignee) "
        "SELECT id, opened_at, assignee FROM tickets ORDER BY id"
    )
    db.execute(
        f"CREATE TRIGGER tickets_assignee_insert AFTER INSERT ON tickets BEGIN "
        f"{_RECORD_ASSIGNEE}; END"
    )
    db.execute(
        "CREATE TRIGGER tickets_assignee_update AFTER UPDATE OF assignee ON tickets "
        f"WHEN OLD.assignee IS NOT NEW.assignee BEGIN {_RECORD_ASSIGNEE}; END"
    )
    db.execute(
        "CREATE TRIGGER tickets_assignee_delete AFTER DELETE ON tickets BEGIN "
        "DELETE FROM assignments WHERE ticket_id = OLD.id; END"
    )


#: The schema version this build writes; a database with a higher one is refused.
SCHEMA_VERSION = len(migrations._migrations)
