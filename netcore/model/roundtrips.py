"""Round-trip times as they arrive: count, last, min and max of every reply, and the exact median of
the newest ``WINDOW`` replies, each reply added in O(log n) comparisons — bounded in memory and time
however long a repeat runs (a sorted copy of every time so far per reply froze the window)."""

from __future__ import annotations

import bisect
from collections import deque

WINDOW = 10_000  # replies the median is taken over: the newest ones


class RoundTrips:
    """The round trips so far (any unit). ``median`` is over the newest ``window`` of them,
    ``median_of`` says how many that is."""

    def __init__(self, window: int = WINDOW) -> None:
        self.window = window
        self.clear()

    def clear(self) -> None:
        self.count = 0
        self.last = self.min = self.max = 0.0
        self._recent: deque[float] = deque()  # in arrival order
        self._sorted: list[float] = []  # the same values, sorted

    def __len__(self) -> int:
        return self.count

    def add(self, value: float) -> None:
        self.count += 1
        self.last = value
        self.min = value if self.count == 1 else min(self.min, value)
        self.max = value if self.count == 1 else max(self.max, value)
        self._recent.append(value)
        bisect.insort(self._sorted, value)
        if len(self._recent) > self.window:
            oldest = self._recent.popleft()
            del self._sorted[bisect.bisect_left(self._sorted, oldest)]

    @property
    def median_of(self) -> int:
        """How many replies the median is taken over."""
        return len(self._sorted)

    @property
    def median(self) -> float:
        """As ``statistics.median`` of the newest replies: the middle value, or the mean of the two
        middle ones (0.0 when there is none)."""
        n = len(self._sorted)
        if n == 0:
            return 0.0
        middle = n // 2
        return self._sorted[middle] if n % 2 else (self._sorted[middle - 1] + self._sorted[middle]) / 2
