"""Fixtures for the playground's tests (they need the ``playground`` extra)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from playground_helpers import Channel
from starlette.testclient import TestClient

from gradfit.playground.server import create_app


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app()) as c:
        yield c


@pytest.fixture
def channel(client: TestClient) -> Iterator[Channel]:
    """A connected session, past its ``hello``."""
    with client.websocket_connect("/ws") as ws:
        ch = Channel(ws)
        assert ch.receive()["type"] == "hello"
        yield ch
