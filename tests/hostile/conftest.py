"""Fixtures shared by the hostile-input tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis.statistics import collector

from tests.hostile.support import FakeTcpServer


@pytest.fixture(scope="module")
def fake_tcp() -> Iterator[FakeTcpServer]:
    """A scripted TCP server for the module's client tests (each queues its own handler)."""
    server = FakeTcpServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(autouse=True)
def count_examples(record_property: Callable[[str, object], None]) -> Iterator[None]:
    """Record how many examples the test's inner ``@given`` functions ran (for docs/RELIABILITY.md).

    A test decorated with ``@given`` itself has Hypothesis' pytest plugin collect its statistics
    instead (``bench/reliability.py`` reads them from the JUnit report)."""
    passing: list[int] = []

    def note(statistics: dict[str, Any]) -> None:
        for phase in statistics.values():
            if isinstance(phase, dict):
                passing.append(sum(case["status"] == "valid" for case in phase.get("test-cases", [])))

    with collector.with_value(note):
        yield
    if passing:
        record_property("hypothesis examples", f"{sum(passing):,}")
