"""A hostile HTTP server on loopback: it plays one misbehaviour per test (not requests-mock).

Each :class:`Hostile` server answers every request with a *play*, a function of the request that
writes whatever it likes to the socket: a redirect to another host, a body trickled a byte at a
time, a gzip bomb, JSON nested 100,000 deep, a ``Retry-After`` date. It records every request it
saw (method, path, headers), so a test can assert what reached it, and what never did.
"""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

TOKEN_BODY = b'{"access_token":"hostile-test-token","token_type":"Bearer","expires_in":1800,"scope":"iot.tim.r"}'


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""


@dataclass
class Hostile:
    """The state of one hostile server: its plays by path prefix and the requests it saw."""

    url: str = ""
    plays: dict[str, Callable[[Any, Seen], None]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def play(self, prefix: str) -> Callable[[Callable[[Any, Seen], None]], Callable[[Any, Seen], None]]:
        """Register the play for paths starting with ``prefix`` (the longest prefix wins)."""

        def register(func: Callable[[Any, Seen], None]) -> Callable[[Any, Seen], None]:
            self.plays[prefix] = func
            return func

        return register

    def count(self, prefix: str = "/") -> int:
        """How many requests for paths starting with ``prefix`` arrived."""
        with self.lock:
            return sum(1 for s in self.seen if s.path.startswith(prefix))

    @property
    def host(self) -> str:
        return self.url.split("://", 1)[1]


def answer(handler: Any, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
    """Send a complete answer."""
    handler.send_response(status)
    for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def token(handler: Any, seen: Seen) -> None:
    """A well-behaved token endpoint."""
    answer(handler, 200, TOKEN_BODY)


def trickle(handler: Any, body: bytes, every: float, stop: threading.Event) -> None:
    """Send headers, then the body one byte every ``every`` seconds (until the client goes away)."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    for byte in body:
        if stop.is_set():
            return
        try:
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
        except OSError:
            return
        time.sleep(every)


@contextmanager
def hostile_server() -> Iterator[Hostile]:
    """Run a :class:`Hostile` server on a free loopback port for the ``with`` block."""
    state = Hostile()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            seen = Seen(self.command, self.path, dict(self.headers.items()), self.rfile.read(length) if length else b"")
            with state.lock:
                state.seen.append(seen)
            path = self.path.split("?", 1)[0]
            matches = [p for p in state.plays if path.startswith(p)]
            if not matches:
                answer(self, 404, b'{"message":"no play"}')
                return
            state.plays[max(matches, key=len)](self, seen)

        do_GET = do_POST = do_PUT = do_DELETE = _handle

    class Server(http.server.ThreadingHTTPServer):
        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # the client hanging up mid-play is the point of most plays

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
