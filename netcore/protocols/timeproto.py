"""Time protocols on the wire, sans I/O: SNTP v4 (RFC 4330/5905), TIME (RFC 868), DAYTIME (RFC 867)
and the course's 4-byte ``!I`` Unix time.

NTP and TIME carry seconds since 1900 in 32 bits, which wrap on 2036-02-07 06:28:16 UTC. As RFC 4330
says, a value with the top bit set is in 1968–2036 (era 0) and one without it in 2036–2104 (era 1),
so every timestamp in 1968–2104 decodes correctly.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final

from netcore.errors import RemoteProtocolError

NTP_UNIX_DELTA: Final = 2_208_988_800  # seconds from 1900-01-01 to 1970-01-01
ERA_SECONDS: Final = 1 << 32
SNTP_PACKET_SIZE: Final = 48
_NTP = struct.Struct("!BBbbII4sQQQQ")


class TimeProtocol(StrEnum):
    SNTP = "sntp"
    TIME_TCP = "time-tcp"
    TIME_UDP = "time-udp"
    DAYTIME_TCP = "daytime-tcp"
    DAYTIME_UDP = "daytime-udp"
    SIMPLE = "simple"  # the course's: empty UDP datagram → struct.pack("!I", int(time.time()))

    @property
    def is_tcp(self) -> bool:
        return self in (TimeProtocol.TIME_TCP, TimeProtocol.DAYTIME_TCP)

    @property
    def default_port(self) -> int:
        return {TimeProtocol.SNTP: 123, TimeProtocol.SIMPLE: 8090}.get(
            self, 37 if self in (TimeProtocol.TIME_TCP, TimeProtocol.TIME_UDP) else 13
        )


# -- 32-bit seconds since 1900 (NTP seconds, RFC 868 TIME) ---------------------------------------
def seconds1900_to_unix(value: int) -> int:
    """32-bit seconds since 1900 → Unix seconds, using the era rule (1968–2104)."""
    era = 0 if value & 0x8000_0000 else 1
    return value + era * ERA_SECONDS - NTP_UNIX_DELTA


def unix_to_seconds1900(unix_seconds: int) -> int:
    return (unix_seconds + NTP_UNIX_DELTA) % ERA_SECONDS


def ntp_to_unix(stamp: int) -> float:
    """A 64-bit NTP timestamp (32.32 fixed point) → Unix seconds (float)."""
    return seconds1900_to_unix(stamp >> 32) + (stamp & 0xFFFF_FFFF) / ERA_SECONDS


def unix_to_ntp(unix_seconds: float) -> int:
    whole = int(unix_seconds // 1)
    fraction = min(int((unix_seconds - whole) * ERA_SECONDS), ERA_SECONDS - 1)
    return (unix_to_seconds1900(whole) << 32) | fraction


def iso(unix_seconds: float) -> str:
    """ISO 8601 in UTC with milliseconds."""
    return datetime.fromtimestamp(unix_seconds, UTC).isoformat(timespec="milliseconds")


# -- SNTP ---------------------------------------------------------------------------------------
KISS_CODES: Final = {
    "DENY": "access denied: the server refuses to serve this client",
    "RSTR": "access restricted by the server",
    "RATE": "rate exceeded: query less often",
    "INIT": "the server has not synchronised yet",
    "STEP": "the server is stepping its clock",
    "AUTH": "authentication failed",
}


class KissOfDeath(RemoteProtocolError):
    """An SNTP server answered with stratum 0: a kiss-of-death code instead of the time."""

    hint_template = "The server told us not to use this reply ({code}): {meaning}."

    def __init__(self, code: str) -> None:
        RemoteProtocolError.__init__(self, f"kiss-of-death from the server: {code}")
        self.params.update(code=code, meaning=KISS_CODES.get(code, "unknown code"))


class ServerUnsynchronised(RemoteProtocolError):
    """An SNTP server answered with stratum 0 and no kiss code: it has no synchronised time to give
    (chronyd does this, with leap indicator 3, until it has a source)."""

    hint_template = (
        "The server's clock is not synchronised (stratum 0, leap indicator {leap}): do not trust its "
        "time — wait until it has synchronised, or ask another server."
    )

    def __init__(self, leap: int) -> None:
        RemoteProtocolError.__init__(
            self,
            f"the server is not synchronised: stratum 0 (unspecified) without a kiss code, "
            f"leap indicator {leap} ({LEAP_NAMES[leap]})",
        )
        self.params.update(leap=leap)


@dataclass(frozen=True, slots=True)
class SntpPacket:
    """Every field of a 48-byte NTP/SNTP packet; timestamps as raw 64-bit NTP values."""

    leap: int
    version: int
    mode: int
    stratum: int
    poll: int
    precision: int
    root_delay: int  # 16.16 fixed point seconds
    root_dispersion: int  # 16.16 fixed point seconds
    reference_id: bytes
    reference: int
    origin: int
    receive: int
    transmit: int

    def encode(self) -> bytes:
        return _NTP.pack(
            (self.leap << 6) | (self.version << 3) | self.mode,
            self.stratum,
            self.poll,
            self.precision,
            self.root_delay,
            self.root_dispersion,
            self.reference_id,
            self.reference,
            self.origin,
            self.receive,
            self.transmit,
        )

    @classmethod
    def decode(cls, data: bytes) -> SntpPacket:
        if len(data) < SNTP_PACKET_SIZE:
            raise RemoteProtocolError(f"an SNTP reply has at least 48 bytes, this one has {len(data)}")
        first, stratum, poll, precision, rdelay, rdisp, refid, ref, org, rec, xmt = _NTP.unpack_from(data)
        return cls(
            first >> 6,
            (first >> 3) & 7,
            first & 7,
            stratum,
            poll,
            precision,
            rdelay,
            rdisp,
            refid,
            ref,
            org,
            rec,
            xmt,
        )

    @property
    def reference_text(self) -> str:
        """The reference ID as RFC 5905 reads it: a code (stratum 0), a source name (1), an address."""
        if self.stratum <= 1:
            return self.reference_id.rstrip(b"\0").decode("ascii", errors="replace")
        return str(ipaddress.IPv4Address(self.reference_id))


MODE_NAMES: Final = {
    0: "reserved",
    1: "symmetric active",
    2: "symmetric passive",
    3: "client",
    4: "server",
    5: "broadcast",
    6: "control",
    7: "private",
}
LEAP_NAMES: Final = {
    0: "no warning",
    1: "last minute has 61 s",
    2: "last minute has 59 s",
    3: "unsynchronised",
}


def sntp_request(t1: float) -> SntpPacket:
    """A client request (LI 0, VN 4, mode 3) whose transmit timestamp is *t1*."""
    return SntpPacket(0, 4, 3, 0, 0, 0, 0, 0, b"\0\0\0\0", 0, 0, 0, unix_to_ntp(t1))


@dataclass(frozen=True, slots=True)
class SntpResult:
    packet: SntpPacket
    t1: float  # client transmit (Unix s)
    t2: float  # server receive
    t3: float  # server transmit
    t4: float  # client receive

    @property
    def offset(self) -> float:
        """((T2 − T1) + (T3 − T4)) / 2: how far the server's clock is ahead of ours."""
        return ((self.t2 - self.t1) + (self.t3 - self.t4)) / 2

    @property
    def delay(self) -> float:
        """(T4 − T1) − (T3 − T2): the round trip minus the server's processing time."""
        return (self.t4 - self.t1) - (self.t3 - self.t2)

    @property
    def synchronised(self) -> bool:
        return self.packet.leap != 3


def check_sntp_reply(data: bytes, request: SntpPacket, t4: float) -> SntpResult:
    """Validate a reply against our request and compute offset and delay, or raise a clear error."""
    reply = SntpPacket.decode(data)
    if reply.mode != 4:
        raise RemoteProtocolError(
            f"the reply's mode is {reply.mode} ({MODE_NAMES[reply.mode]}), not 4 (server)"
        )
    if reply.stratum == 0:
        if not reply.reference_text:  # no code: stratum 0 as RFC 5905's "unspecified", not a kiss
            raise ServerUnsynchronised(reply.leap)
        raise KissOfDeath(reply.reference_text)
    if reply.origin != request.transmit:
        raise RemoteProtocolError(
            f"the reply's origin timestamp {reply.origin:016x} is not our transmit timestamp "
            f"{request.transmit:016x}: it answers some other request"
        )
    if reply.transmit == 0:
        raise RemoteProtocolError("the reply's transmit timestamp is zero: the server did not fill it in")
    return SntpResult(
        reply, ntp_to_unix(request.transmit), ntp_to_unix(reply.receive), ntp_to_unix(reply.transmit), t4
    )


SNTP_FIELDS: Final = (  # (start, end, name) of every field, for annotated hexdumps
    (0, 1, "LI / version / mode"),
    (1, 2, "stratum"),
    (2, 3, "poll"),
    (3, 4, "precision"),
    (4, 8, "root delay"),
    (8, 12, "root dispersion"),
    (12, 16, "reference ID"),
    (16, 24, "reference timestamp"),
    (24, 32, "origin timestamp (T1)"),
    (32, 40, "receive timestamp (T2)"),
    (40, 48, "transmit timestamp (T3)"),
)


def describe_sntp_fields(packet: SntpPacket) -> list[tuple[int, int, str, str]]:
    """(start, end, field name, decoded value) for every field of *packet*."""

    def stamp(value: int) -> str:
        return "0 (not set)" if value == 0 else f"{iso(ntp_to_unix(value))}"

    values = [
        f"LI {packet.leap} ({LEAP_NAMES[packet.leap]}), version {packet.version}, "
        f"mode {packet.mode} ({MODE_NAMES[packet.mode]})",
        str(packet.stratum),
        f"{packet.poll} (2^{packet.poll} s)",
        f"{packet.precision} (2^{packet.precision} s ≈ {2.0**packet.precision:.2e} s)",
        f"{packet.root_delay / 65536:.6f} s",
        f"{packet.root_dispersion / 65536:.6f} s",
        packet.reference_text,
        stamp(packet.reference),
        stamp(packet.origin),
        stamp(packet.receive),
        stamp(packet.transmit),
    ]
    return [(a, b, name, value) for (a, b, name), value in zip(SNTP_FIELDS, values, strict=True)]


@dataclass(frozen=True, slots=True)
class TimeResult:
    """One answered query. Times are Unix seconds; offset > 0 means the server's clock is ahead."""

    protocol: TimeProtocol
    server: str
    server_time: float
    local_time: float  # our clock when the reply arrived (T4)
    offset: float | None  # None where the protocol cannot tell (DAYTIME: free-form text)
    delay: float
    text: str  # what the server said, as a person reads it
    sntp: SntpResult | None = None


# -- TIME, DAYTIME, simple ----------------------------------------------------------------------
def decode_time_reply(data: bytes) -> int:
    """RFC 868: exactly 4 bytes, seconds since 1900 → Unix seconds."""
    if len(data) != 4:
        raise RemoteProtocolError(f"a TIME reply is exactly 4 bytes (seconds since 1900), not {len(data)}")
    return seconds1900_to_unix(int.from_bytes(data, "big"))


def encode_time_reply(unix_seconds: float) -> bytes:
    return unix_to_seconds1900(int(unix_seconds)).to_bytes(4, "big")


def decode_simple_reply(data: bytes) -> int:
    """The course's protocol: exactly 4 bytes, ``!I`` Unix seconds."""
    if len(data) != 4:
        raise RemoteProtocolError(
            f"the course's time reply is exactly 4 bytes ('!I' Unix time), not {len(data)}"
        )
    return int(struct.unpack("!I", data)[0])


def encode_simple_reply(unix_seconds: float) -> bytes:
    return struct.pack("!I", int(unix_seconds) & 0xFFFF_FFFF)


def decode_daytime_reply(data: bytes) -> str:
    """RFC 867: a human-readable line (any format); shown as received."""
    if not data:
        raise RemoteProtocolError("the DAYTIME reply is empty")
    return data.decode("ascii", errors="backslashreplace").rstrip("\r\n")


def encode_daytime_reply(unix_seconds: float) -> bytes:
    return datetime.fromtimestamp(unix_seconds, UTC).strftime("%A, %B %d, %Y %H:%M:%S-UTC\r\n").encode()
