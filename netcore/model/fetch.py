"""What a finished file fetch reports."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

# What a fetch waits for (``events.FetchStatus``): English templates the GUI translates (context
# "FetchStatus"), filled with the event's params.
HASHING: Final = "the server is hashing '{name}': {percent:.0f} % of {size:,} bytes"
WAITING_FOR_HEADER: Final = (
    "waiting for the header of '{name}': the server sent its length (in the course's mode it says "
    "no more while it hashes a large file)"
)
STATUS_TEMPLATES: Final = (HASHING, WAITING_FOR_HEADER)


@dataclass(frozen=True, slots=True)
class FetchResult:
    """A saved file: *name* is the one the user asked for (with the server's extension at most)."""

    name: str
    path: Path
    size: int
    md5: str
    verified: bool  # the header carried an md5 and it matched
    seconds: float
    header: dict[str, Any]
    length_format: str  # the header length's byte order as received ('!I' or '<i')
    server_name: str  # the name the server gave the file: information only, never the saved name

    @property
    def mb_per_s(self) -> float:
        return self.size / 1e6 / self.seconds if self.seconds > 0 else 0.0
