"""Fixtures shared by the hostile-input tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.hostile.support import FakeTcpServer


@pytest.fixture(scope="module")
def fake_tcp() -> Iterator[FakeTcpServer]:
    """A scripted TCP server for the module's client tests (each queues its own handler)."""
    server = FakeTcpServer()
    try:
        yield server
    finally:
        server.close()
