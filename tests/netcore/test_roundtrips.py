"""RoundTrips: the running figures equal what the whole list gives, whatever the order; the median
is over the newest replies only, so its memory stays bounded."""

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


@given(
    st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=200),
    st.integers(min_value=1, max_value=20),
)
def test_the_median_is_of_the_newest_window_and_the_rest_of_everything(values, window):
    trips = RoundTrips(window)
    for i, value in enumerate(values, 1):
        trips.add(value)
        so_far = values[:i]
        assert trips.median_of == min(i, window)
        assert trips.median == statistics.median(so_far[-window:])
        assert (len(trips), trips.min, trips.max) == (i, min(so_far), max(so_far))


def test_memory_is_bounded_however_many_replies_come():
    trips = RoundTrips(100)
    for i in range(10_000):
        trips.add(float(i % 977))
    assert len(trips) == 10_000 and trips.median_of == 100
    assert len(trips._recent) == len(trips._sorted) == 100


def test_clear_starts_again():
    trips = RoundTrips()
    for value in (3.0, 1.0, 2.0):
        trips.add(value)
    trips.clear()
    assert len(trips) == 0 and trips.median == 0.0
    trips.add(7.5)
    assert (trips.min, trips.median, trips.max, trips.last) == (7.5, 7.5, 7.5, 7.5)
