"""Helpers for the playground's tests: a channel over Starlette's TestClient, a live server."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

Message = dict[str, Any]


class Channel:
    """The page's side of a session: send dicts, read messages until one matches."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.seen: list[Message] = []

    def send(self, message: Message | str) -> None:
        self.ws.send_text(message if isinstance(message, str) else json.dumps(message))

    def receive(self) -> Message:
        message: Message = json.loads(self.ws.receive_text())
        self.seen.append(message)
        return message

    def until(self, match: Callable[[Message], bool], limit: int = 100_000) -> list[Message]:
        """Messages up to and including the first that ``match`` accepts."""
        got = []
        for _ in range(limit):
            got.append(self.receive())
            if match(got[-1]):
                return got
        raise AssertionError(f"no matching message in {limit}")

    def until_type(self, kind: str) -> list[Message]:
        return self.until(lambda m: m["type"] == kind)

    def configure(self, **settings: Any) -> list[Message]:
        """Send ``configure``; return ``data``, the epoch-0 ``update`` and the ``status``."""
        self.send({"type": "configure", "settings": settings})
        got = self.until(lambda m: m["type"] in ("status", "error"))
        assert got[-1]["type"] == "status", got[-1]
        return got

    def play_to(self, epoch: int) -> list[Message]:
        """Play until ``epoch``; the messages up to the run's pause there."""
        self.send({"type": "play", "until": epoch})
        return self.until(
            lambda m: m["type"] == "status" and m["state"] == "paused" and m["epoch"] == epoch
        )

    def error(self, message: Message | str) -> Message:
        """Send ``message``, expect an ``error`` back; then check the session still answers."""
        self.send(message)
        reply = self.receive()
        assert reply["type"] == "error", reply
        self.send({"type": "ping", "id": 7})
        pong = self.until(lambda m: m["type"] == "pong")[-1]
        assert pong["id"] == 7
        return reply


def run_threads() -> list[threading.Thread]:
    """The training threads alive now."""
    return [t for t in threading.enumerate() if t.name == "gradfit-playground-run"]


@contextmanager
def live_server(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port in a thread; yield its base URL."""
    import uvicorn

    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
