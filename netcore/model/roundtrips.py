"""Round-trip times as they arrive: count, last, min, median and max, each reply added in O(log n).

The TCP client shows these after every reply of a repeat that may run for hours; a sorted copy of
every time so far per reply (``statistics.median``) grew until the window froze."""

from __future__ import annotations

import heapq


class RoundTrips:
    """The round trips so far (any unit): the median is exact, kept by two heaps (the lower half as
    a max-heap of negated values, the upper half as a min-heap)."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.count = 0
        self.last = self.min = self.max = 0.0
        self._lower: list[float] = []  # negated: -_lower[0] is the largest of the lower half
        self._upper: list[float] = []

    def __len__(self) -> int:
        return self.count

    def add(self, value: float) -> None:
        self.count += 1
        self.last = value
        self.min = value if self.count == 1 else min(self.min, value)
        self.max = value if self.count == 1 else max(self.max, value)
        if not self._lower or value <= -self._lower[0]:
            heapq.heappush(self._lower, -value)
        else:
            heapq.heappush(self._upper, value)
        if len(self._lower) > len(self._upper) + 1:
            heapq.heappush(self._upper, -heapq.heappop(self._lower))
        elif len(self._upper) > len(self._lower):
            heapq.heappush(self._lower, -heapq.heappop(self._upper))

    @property
    def median(self) -> float:
        """As ``statistics.median``: the middle value, or the mean of the two middle ones (0.0 when
        there is none)."""
        if not self._lower:
            return 0.0
        if len(self._lower) > len(self._upper):
            return -self._lower[0]
        return (-self._lower[0] + self._upper[0]) / 2
