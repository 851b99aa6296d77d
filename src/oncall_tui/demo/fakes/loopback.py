"""A fake backend on a real socket: an HTTP server on ``127.0.0.1`` for end-to-end runs, where
timeouts, dropped connections and hostile bodies happen as on a real network."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from oncall_tui.demo.fakes import CHUNK, FakeServer, Prepared
from oncall_tui.demo.fakes.faults import STREAMING, Fault, hostile_body, hostile_headers


def serve_on_loopback(
    fake: FakeServer,
    port: int = 0,
    access_log: Callable[[str, str, int], None] | None = None,
) -> tuple[str, Callable[[], None]]:
    """Serve ``fake`` over HTTP on 127.0.0.1 (``port``, or a free one) in a background thread.

    Returns the base URL (with the fake's prefix) and a function that stops the server.
    Faults behave as on a real network: a drop closes the socket without an answer, a slow body
    trickles in chunks, latency delays the status line. ``access_log`` is told each request's
    method, path (without the query) and status (0: no answer was sent).
    """

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else ~40 ms of delayed ACK on every request

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
            return  # keep test output clean

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            content = self.rfile.read(length) if length else b""
            host = f"127.0.0.1:{port}"
            request = httpx.Request(
                self.command,
                f"http://{host}{self.path}",
                headers=[(k, v) for k, v in self.headers.items()],
                content=content,
            )
            try:
                prepared = fake._prepare(request)
            except httpx.TransportError:
                self.close_connection = True
                if access_log is not None:
                    access_log(self.command, self.path.split("?", 1)[0], 0)
                return
            if access_log is not None:
                status = 0 if prepared.after is not None else prepared.response.status_code
                access_log(self.command, self.path.split("?", 1)[0], status)
            if prepared.after is not None:  # applied, then the answer is lost
                self.close_connection = True
                return
            if prepared.fault is Fault.LATENCY:
                time.sleep(fake.faults.latency)
            response = prepared.response
            if prepared.fault in STREAMING:
                self._hostile(prepared)
                return
            self.send_response(response.status_code)
            for key, value in response.headers.items():
                if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(prepared.body)))
            self.end_headers()
            if prepared.fault is Fault.SLOW_BODY:
                for chunk in _chunks(prepared.body):
                    time.sleep(fake.faults.slow_chunk_delay)
                    self.wfile.write(chunk)
                    self.wfile.flush()
            else:
                self.wfile.write(prepared.body)

        def _hostile(self, prepared: Prepared) -> None:
            """Stream a hostile answer until it ends, the client hangs up or we stop."""
            assert prepared.fault is not None
            fault, plan = prepared.fault, fake.faults
            headers = hostile_headers(fault, prepared.response, len(prepared.body), plan)
            chunked = "content-length" not in headers
            self.close_connection = True
            self.send_response(prepared.response.status_code)
            for key, value in headers.items():
                self.send_header(key, value)
            if chunked:
                self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            sent = 0
            try:
                for delay, piece in hostile_body(fault, prepared.body, plan):
                    if delay and stopping.wait(delay):
                        break
                    if stopping.is_set():
                        break
                    frame = b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece
                    self.wfile.write(frame)
                    self.wfile.flush()
                    sent += len(piece)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client hung up: what a bounded client does
            finally:
                plan.record_stream(self.path.split("?", 1)[0], fault, sent)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    stopping = threading.Event()
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name=f"{fake.name}-loopback")
    thread.daemon = True
    thread.start()
    port = server.server_address[1]

    def stop() -> None:
        stopping.set()  # streams that never end do now
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return f"http://127.0.0.1:{port}{fake.prefix}", stop


def _chunks(body: bytes) -> Iterator[bytes]:
    for start in range(0, len(body), CHUNK):
        yield body[start : start + CHUNK]


__all__ = ["serve_on_loopback"]
