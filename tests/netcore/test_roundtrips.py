"""RoundTrips: the running figures equal what the whole list gives, whatever the order."""

from __future__ import annotations

import statistics

from hypothesis import given
from hypothesis import strategies as st

from netcore.model.roundtrips import RoundTrips


@given(st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=300))
def test_figures_equal_those_of_the_whole_list(values):
    trips = RoundTrips()
    for i, value in enumerate(values, 1):
        trips.add(value)
        so_far = values[:i]
        assert len(trips) == i and trips.last == value
        assert trips.min == min(so_far) and trips.max == max(so_far)
        assert trips.median == statistics.median(so_far)


def test_clear_starts_again():
    trips = RoundTrips()
    for value in (3.0, 1.0, 2.0):
        trips.add(value)
    trips.clear()
    assert len(trips) == 0 and trips.median == 0.0
    trips.add(7.5)
    assert (trips.min, trips.median, trips.max, trips.last) == (7.5, 7.5, 7.5, 7.5)
