"""The README's team setup, as processes: ``demo serve`` (the fakes on loopback, an access
log line per request), two ``relay`` processes on one nats-server, members running
``sync --once``; then the leader is killed and the standby takes over within 30 s without
publishing anything twice."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.team.conftest import NatsNode
from tests.team.helpers import cli, env

pytestmark = pytest.mark.slow


def three_free_ports() -> int:
    for base in range(21000, 60000, 97):
        sockets = []
        try:
            for offset in range(3):
                s = socket.socket()
                s.bind(("127.0.0.1", base + offset))
                sockets.append(s)
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no three free ports")


def wait_for(path: Path, text: str, timeout: float, after: int = 0) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text()[after:]:
            return time.monotonic()
        time.sleep(0.1)
    raise AssertionError(
        f"{text!r} not in {path.name} within {timeout}s:\n{path.read_text()[-2000:]}"
    )


def stream_last_seq(url: str) -> int:
    import nats

    async def go() -> int:
        nc = await nats.connect(url)
        try:
            info = await nc.jetstream().stream_info("ONCALL")
            return int(info.state.last_seq)
        finally:
            await nc.close()

    return asyncio.run(go())


def test_demo_serve_relays_members_and_failover(tmp_path: Path, nats_server: NatsNode) -> None:
    port = three_free_ports()
    environ = env(tmp_path)
    fakes_log = tmp_path / "fakes.log"
    procs: list[subprocess.Popen[bytes]] = []

    def start(args: list[str], log: Path) -> subprocess.Popen[bytes]:
        out = log.open("wb")
        proc = subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, env=environ, cwd=tmp_path
        )
        out.close()
        procs.append(proc)
        return proc

    try:
        start(cli("demo", "serve", "--port", str(port), "--quiet-activity"), fakes_log)
        wait_for(fakes_log, "[backends.slack]", 20)
        time.sleep(0.3)
        printed = fakes_log.read_text()
        backends = printed[printed.index("[backends.zendesk]") :].strip() + "\n"
        assert f'url = "http://127.0.0.1:{port}"' in backends
        assert f'url = "http://127.0.0.1:{port + 1}"' in backends
        assert f'url = "http://127.0.0.1:{port + 2}/api"' in backends
        config = tmp_path / "team.toml"
        config.write_text(
            backends + f'\n[team]\nurl = "{nats_server.url}"\n\n[relay]\ninterval = 2\n'
        )
        logs = [tmp_path / "relay-a.log", tmp_path / "relay-b.log"]
        relays = [
            start(cli("--config", str(config), "--db", str(tmp_path / "a.db"), "relay"), logs[0]),
        ]
        wait_for(logs[0], "(leader)", 60)
        relays.append(
            start(cli("--config", str(config), "--db", str(tmp_path / "b.db"), "relay"), logs[1])
        )
        wait_for(logs[1], "(standby)", 60)
        assert "zendesk pulled" in logs[0].read_text()
        assert "GET /api/v2/incremental/tickets/cursor.json 200" in fakes_log.read_text()

        # Members read the stream; the fakes' access log does not grow by one line for them.
        requests = fakes_log.read_text().count("\n")
        time.sleep(2.5)  # let the leader's pass in progress end
        for name in ("m1", "m2"):
            member_env = {k: v for k, v in environ.items() if not k.endswith("_TOKEN")}
            before = fakes_log.read_text().count("\n")
            result = subprocess.run(
                cli(
                    "--config", str(config), "--db", str(tmp_path / f"{name}.db"), "sync", "--once"
                ),
                env=member_env,
                capture_output=True,
                text=True,
                timeout=120,
                cwd=tmp_path,
            )
            assert result.returncode == 0, result.stdout + result.stderr
            assert "zendesk: ok (team stream); pulled" in result.stdout
            member_lines = [
                line
                for line in fakes_log.read_text().splitlines()[before:]
                if "incremental" not in line
                and "conversations" not in line
                and "/issues" not in line
                and "/users" not in line
            ]
            assert member_lines == []  # whatever arrived meanwhile is the leader's polling
        assert requests > 0

        # Kill the leader: the standby leads within 30 s and republishes nothing.
        time.sleep(1.0)
        seq = stream_last_seq(nats_server.url)
        standby_log = logs[1].read_text()
        killed = time.monotonic()
        relays[0].send_signal(signal.SIGKILL)
        relays[0].wait(timeout=10)
        took_over = wait_for(logs[1], "(leader)", 40, after=len(standby_log))
        assert took_over - killed < 30
        wait_for(logs[1], "relay pass", 20, after=logs[1].read_text().index("(leader)"))
        time.sleep(2.5)  # another pass or two as leader
        assert "leading (term 2)" in logs[1].read_text()
        assert stream_last_seq(nats_server.url) == seq  # nothing published twice
        leader_lines = [x for x in logs[1].read_text().splitlines() if "(leader)" in x]
        assert leader_lines and all("published 0," in x for x in leader_lines), leader_lines
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
