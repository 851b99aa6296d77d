"""Child process: the generated tickets served over loopback sockets, in Zendesk's wire format.

``python -m bench.zdserver DIR fake`` loads the cached export pages and comments of DIR (see
:func:`bench.generate.cached_pages`) into the product's wire-format fake
(``oncall_tui.demo.fakes.zendesk.ZendeskFake``) and serves it with its ``serve_on_loopback``;
``python -m bench.zdserver DIR static`` serves the very same page bytes from a minimal server
(the floor's fallback when the fake is missing). Prints ``INFO {"url": …}``, then serves until
its stdin closes.

It runs in its own process so the server's CPU and memory are not charged to the client being
measured. For the benchmark the fake's export limit is off (``export_rate_per_minute=None``) and
its account limit, which every answer's ``X-Rate-Limit`` header tells, is far beyond what a
first sync asks (without the header the product assumes Zendesk's smallest account, 200 a
minute, of which it takes 20 %: 40 requests a minute, and a first sync of 100,000 tickets
stopped after 39 export pages, the bench's loop taking the pass that waited out the budget for
the end), its clock is frozen an hour after the data's "now" (so the export's one-minute lag
keeps nothing back), its request log (every request and parsed answer, for tests) is switched
off, and ``TCP_NODELAY`` is set on its sockets (see :func:`serve_fake`).
"""

from __future__ import annotations

import json
import sys
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from bench.common import NOW
from bench.generate import load_pages

TOKEN = "bench-token"
#: The fake's account-wide limit (requests a minute, told in X-Rate-Limit): no first sync nears it.
ACCOUNT_RATE = 1_000_000


def serve_fake(folder: Path) -> tuple[str, Any, dict[str, Any]]:
    import http.server

    # serve_on_loopback writes the headers and the body in two send() calls; with Nagle's
    # algorithm on, the client's delayed ACK then holds every answer ~40 ms (measured: 44 ms
    # a request instead of 1.3 ms). That is the fake's cost, not the product's: turn it off.
    http.server.BaseHTTPRequestHandler.disable_nagle_algorithm = True
    from oncall_tui.demo.fakes.loopback import serve_on_loopback
    from oncall_tui.demo.fakes.zendesk import ZendeskFake
    from oncall_tui.domain.clock import FrozenClock

    fake = ZendeskFake(
        tokens=(TOKEN,),
        clock=FrozenClock(NOW + timedelta(hours=1)),
        export_rate_per_minute=None,
        account_rate_per_minute=ACCOUNT_RATE,
    )
    fake._log = lambda *args, **kwargs: None  # type: ignore[method-assign]
    tickets = users = orgs = comments = 0
    seen_users: set[int] = set()
    seen_orgs: set[int] = set()
    for raw in load_pages(folder):
        page = json.loads(raw)
        for org in page.get("organizations", []):
            if org["id"] not in seen_orgs:
                seen_orgs.add(org["id"])
                fake.add_organization(org)
                orgs += 1
        for user in page.get("users", []):
            if user["id"] not in seen_users:
                seen_users.add(user["id"])
                fake.add_user(user)
                users += 1
        for ticket in page["tickets"]:
            fake.add_ticket(ticket)
            tickets += 1
    with (folder / "comments.jsonl").open("rb") as fh:
        for line in fh:
            ticket_id, _, body = line.partition(b"\t")
            for comment in json.loads(body)["comments"][1:]:  # the first is the description
                fake.add_comment({**comment, "ticket_id": int(ticket_id)})
                comments += 1
    fake.exports.event_index()  # the fake's own sorting of 300,000 events: not the client's time
    url, stop = serve_on_loopback(fake)
    return (
        url,
        stop,
        {"tickets": tickets, "users": users, "organizations": orgs, "comments": comments},
    )


def serve_static(folder: Path) -> tuple[str, Any, dict[str, Any]]:
    pages = load_pages(folder)
    by_cursor = {None: 0, **{f"bench-cursor-{i}": i for i in range(1, len(pages))}}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

        def do_GET(self) -> None:  # noqa: N802 - stdlib name
            url = urlparse(self.path)
            cursor = parse_qs(url.query).get("cursor", [None])[0]
            index = by_cursor.get(cursor)
            if not url.path.startswith("/api/v2/incremental/tickets/cursor") or index is None:
                body, status = b'{"error":"not found"}', 404
            else:
                body, status = pages[index], 200
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return f"http://127.0.0.1:{server.server_address[1]}", stop, {"pages": len(pages)}


def main(argv: list[str]) -> int:
    folder, kind = Path(argv[0]), argv[1]
    url, stop, info = serve_fake(folder) if kind == "fake" else serve_static(folder)
    print("INFO " + json.dumps({"url": url, "token": TOKEN, "kind": kind, **info}), flush=True)
    try:
        sys.stdin.read()  # serve until the parent closes our stdin
    finally:
        stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
