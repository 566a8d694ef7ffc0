"""Human-readable sizes and rates."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from widgets.units import rate, size


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (0, "0 B"),
        (999, "999 B"),
        (999.6, "1.00 KB"),
        (1500, "1.50 KB"),
        (12_345, "12.3 KB"),
        (660_000_000, "660 MB"),
        (1_250_000_000, "1.25 GB"),
        (10**18, "1000000 TB"),
    ],
)
def test_size_picks_the_unit_that_keeps_a_few_digits(count, text):
    """The unit steps at 1000, and past 1 KB three significant digits are shown."""
    assert size(count) == text


def test_rate_is_a_size_per_second():
    """A rate reads as a size with /s."""
    assert rate(593.4) == "593 B/s"
    assert rate(629e6) == "629 MB/s"


@given(st.floats(min_value=0, max_value=999.4e12))
def test_size_always_has_at_most_three_digits_before_the_point_below_a_petabyte(count):
    """Whatever the count, the number shown is below 1000 in its unit (under a petabyte)."""
    number, unit = size(count).split()
    assert float(number) < 1000 and unit in {"B", "KB", "MB", "GB", "TB"}
