"""The time codecs of netcore.protocols.timeproto, byte for byte and without a socket.

Expected packets are built by hand with ``struct`` from the RFC 5905 layout, never with the codec
under test, so an error in the codec's own layout cannot cancel itself out.
"""

from __future__ import annotations

import math
import struct
from datetime import UTC, datetime
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netcore.errors import RemoteProtocolError
from netcore.protocols.timeproto import (
    KISS_CODES,
    NTP_UNIX_DELTA,
    SNTP_FIELDS,
    SNTP_PACKET_SIZE,
    KissOfDeath,
    ServerUnsynchronised,
    SntpPacket,
    SntpResult,
    TimeProtocol,
    check_sntp_reply,
    decode_daytime_reply,
    decode_simple_reply,
    decode_time_reply,
    describe_sntp_fields,
    encode_daytime_reply,
    encode_simple_reply,
    encode_time_reply,
    iso,
    ntp_to_unix,
    seconds1900_to_unix,
    sntp_request,
    unix_to_ntp,
    unix_to_seconds1900,
)


def unix(year: int, month: int = 1, day: int = 1, hour: int = 0, minute: int = 0, second: int = 0) -> int:
    """Unix seconds of a UTC date and time."""
    return int(datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp())


def utc(unix_seconds: float) -> datetime:
    return datetime.fromtimestamp(unix_seconds, UTC)


# Known NTP seconds (since 1900-01-01, 32 bits) worked out by hand, not by the code under test.
NTP_1970 = 0x83AA7E80  # 2,208,988,800: 70 years of which 17 leap years
NTP_2000 = 3_155_673_600  # 0xBC17C200
# 1970→2040 is again 70 years with 17 leap days, so 2040-01-01 is 2 × 2,208,988,800 s after 1900,
# which wraps the 32-bit field once: 4,417,977,600 − 2^32.
NTP_2040 = 4_417_977_600 - (1 << 32)
assert NTP_2040 == 123_010_304
FRACTION_QUARTER = 0x4000_0000  # 0.25 s in 32.32 fixed point


def stamp(seconds: int, fraction: int = 0) -> bytes:
    return struct.pack("!II", seconds, fraction)


def server_reply_bytes(
    *,
    first: int = 0x24,  # LI 0, VN 4, mode 4
    stratum: int = 2,
    poll: int = 6,
    precision: int = -20,
    root_delay: int = 0x0001_8000,  # 1.5 s
    root_dispersion: int = 0x0000_0CCD,  # ≈ 0.05 s
    refid: bytes = bytes([192, 168, 1, 1]),
    reference: bytes = stamp(NTP_2040 - 64),
    origin: bytes = stamp(NTP_2040, FRACTION_QUARTER),
    receive: bytes = stamp(NTP_2040 + 1),
    transmit: bytes = stamp(NTP_2040 + 1, FRACTION_QUARTER),
) -> bytes:
    """A 48-byte reply laid out field by field as RFC 5905 figure 8 draws it."""
    data = (
        bytes([first, stratum])
        + struct.pack("!b", poll)
        + struct.pack("!b", precision)
        + struct.pack("!I", root_delay)
        + struct.pack("!I", root_dispersion)
        + refid
        + reference
        + origin
        + receive
        + transmit
    )
    assert len(data) == 48
    return data


# -- era rule -----------------------------------------------------------------------------------
def test_seconds1900_wraps_on_2036_02_07_at_06_28_16() -> None:
    assert utc(seconds1900_to_unix(0xFFFF_FFFF)) == datetime(2036, 2, 7, 6, 28, 15, tzinfo=UTC)
    assert utc(seconds1900_to_unix(0)) == datetime(2036, 2, 7, 6, 28, 16, tzinfo=UTC)
    assert utc(seconds1900_to_unix(1)) == datetime(2036, 2, 7, 6, 28, 17, tzinfo=UTC)
    # the era boundary in the other direction: the top bit decides, so 0x80000000 is in 1968
    assert utc(seconds1900_to_unix(0x8000_0000)) == datetime(1968, 1, 20, 3, 14, 8, tzinfo=UTC)
    assert utc(seconds1900_to_unix(0x7FFF_FFFF)) == datetime(2104, 2, 26, 9, 42, 23, tzinfo=UTC)


@pytest.mark.parametrize(
    ("ntp_seconds", "when"),
    [
        (NTP_1970, datetime(1970, 1, 1, tzinfo=UTC)),
        (NTP_2000, datetime(2000, 1, 1, tzinfo=UTC)),
        (4_260_211_200, datetime(2035, 1, 1, tzinfo=UTC)),  # 2035-01-01 = 2000 + 35 y (9 leap days)
        (NTP_2040, datetime(2040, 1, 1, tzinfo=UTC)),
    ],
)
def test_known_dates_both_ways(ntp_seconds: int, when: datetime) -> None:
    assert seconds1900_to_unix(ntp_seconds) == when.timestamp()
    assert unix_to_seconds1900(int(when.timestamp())) == ntp_seconds
    assert ntp_to_unix(ntp_seconds << 32) == when.timestamp()
    assert unix_to_ntp(when.timestamp()) == ntp_seconds << 32


def test_unix_to_seconds1900_covers_exactly_1968_to_2104() -> None:
    first, last = 0x8000_0000 - NTP_UNIX_DELTA, 0x8000_0000 + 0xFFFF_FFFF - NTP_UNIX_DELTA
    assert utc(first) == datetime(1968, 1, 20, 3, 14, 8, tzinfo=UTC)
    assert utc(last) == datetime(2104, 2, 26, 9, 42, 23, tzinfo=UTC)
    for u in (first, first + 1, 0, NTP_UNIX_DELTA, last - 1, last):
        assert seconds1900_to_unix(unix_to_seconds1900(u)) == u
    # one second outside the window lands 2^32 s away, in the other era: the documented limit
    assert seconds1900_to_unix(unix_to_seconds1900(first - 1)) == first - 1 + (1 << 32)
    assert seconds1900_to_unix(unix_to_seconds1900(last + 1)) == last + 1 - (1 << 32)


def test_fractions_and_times_before_1970() -> None:
    assert unix_to_ntp(0.25) == (NTP_1970 << 32) | FRACTION_QUARTER
    assert unix_to_ntp(0.5) == (NTP_1970 << 32) | 0x8000_0000
    # -0.25 is 1969-12-31 23:59:59.75: the whole part rounds down, the fraction stays positive
    assert unix_to_ntp(-0.25) == ((NTP_1970 - 1) << 32) | 0xC000_0000
    assert ntp_to_unix(((NTP_1970 - 1) << 32) | 0xC000_0000) == -0.25
    assert ntp_to_unix((NTP_2040 << 32) | 0xFFFF_FFFF) == pytest.approx(unix(2040, 1, 1) + 1, abs=1e-6)
    assert iso(unix(2040, 1, 1) + 0.25) == "2040-01-01T00:00:00.250+00:00"


# -- SNTP packets, byte exact -------------------------------------------------------------------
def test_client_request_bytes() -> None:
    t1 = unix(2023, 11, 14, 22, 13, 20) + 0.25  # 1,700,000,000.25
    assert t1 == 1_700_000_000.25
    expected = (
        bytes([0b00_100_011])  # LI 0, VN 4, mode 3 (client)
        + bytes(3)  # stratum, poll, precision
        + bytes(4)  # root delay
        + bytes(4)  # root dispersion
        + bytes(4)  # reference ID
        + bytes(8)  # reference timestamp
        + bytes(8)  # origin
        + bytes(8)  # receive
        + struct.pack("!II", 1_700_000_000 + 2_208_988_800, FRACTION_QUARTER)
    )
    request = sntp_request(t1)
    assert request.encode() == expected
    assert len(expected) == SNTP_PACKET_SIZE
    assert (request.leap, request.version, request.mode) == (0, 4, 3)
    assert ntp_to_unix(request.transmit) == t1
    assert SntpPacket.decode(expected) == request


def test_server_reply_decodes_every_field_and_encodes_back() -> None:
    data = server_reply_bytes()
    packet = SntpPacket.decode(data)
    assert packet.leap == 0
    assert packet.version == 4
    assert packet.mode == 4
    assert packet.stratum == 2
    assert packet.poll == 6
    assert packet.precision == -20
    assert packet.root_delay == 0x0001_8000
    assert packet.root_dispersion == 0x0000_0CCD
    assert packet.reference_id == b"\xc0\xa8\x01\x01"
    assert packet.reference_text == "192.168.1.1"
    assert packet.reference == (NTP_2040 - 64) << 32
    assert packet.origin == (NTP_2040 << 32) | FRACTION_QUARTER
    assert packet.receive == (NTP_2040 + 1) << 32
    assert packet.transmit == ((NTP_2040 + 1) << 32) | FRACTION_QUARTER
    assert packet.encode() == data
    # timestamps after the 2036 wrap decode to 2040, not to 1904
    assert utc(ntp_to_unix(packet.transmit)) == datetime(2040, 1, 1, 0, 0, 1, 250_000, tzinfo=UTC)
    assert utc(ntp_to_unix(packet.reference)) == datetime(2039, 12, 31, 23, 58, 56, tzinfo=UTC)


def test_leap_version_mode_bits() -> None:
    packet = SntpPacket.decode(server_reply_bytes(first=0b11_011_100))  # LI 3, VN 3, mode 4
    assert (packet.leap, packet.version, packet.mode) == (3, 3, 4)
    assert packet.encode()[0] == 0b11_011_100
    packet = SntpPacket.decode(server_reply_bytes(first=0b01_100_101))  # LI 1, VN 4, mode 5
    assert (packet.leap, packet.version, packet.mode) == (1, 4, 5)


def test_extension_fields_after_48_bytes_are_ignored() -> None:
    data = server_reply_bytes()
    assert SntpPacket.decode(data + b"\x00\x01" * 10) == SntpPacket.decode(data)


@pytest.mark.parametrize("size", [0, 1, 47])
def test_too_short_is_rejected(size: int) -> None:
    with pytest.raises(RemoteProtocolError, match=f"at least 48 bytes, this one has {size}$"):
        SntpPacket.decode(server_reply_bytes()[:size])


@pytest.mark.parametrize(
    ("stratum", "refid", "text"),
    [
        (1, b"GPS\0", "GPS"),
        (1, b"LOCL", "LOCL"),
        (1, b"PPS\0", "PPS"),
        (2, b"\xc0\xa8\x01\x01", "192.168.1.1"),
        (7, b"\x7f\x7f\x01\x01", "127.127.1.1"),  # chronyd's 'local' reference
        (15, b"LOCL", "76.79.67.76"),  # above stratum 1 the same bytes are an IPv4 address
        (0, b"RATE", "RATE"),
        (0, b"\0\0\0\0", ""),
    ],
)
def test_reference_id_text(stratum: int, refid: bytes, text: str) -> None:
    assert SntpPacket.decode(server_reply_bytes(stratum=stratum, refid=refid)).reference_text == text


def test_describe_fields_names_every_byte() -> None:
    packet = SntpPacket.decode(server_reply_bytes(origin=bytes(8)))
    rows = describe_sntp_fields(packet)
    assert [(a, b) for a, b, _, _ in rows] == [(a, b) for a, b, _ in SNTP_FIELDS]
    covered = [i for a, b, _, _ in rows for i in range(a, b)]
    assert covered == list(range(48))
    values = {name: value for _, _, name, value in rows}
    assert values == {
        "LI / version / mode": "LI 0 (no warning), version 4, mode 4 (server)",
        "stratum": "2",
        "poll": "6 (2^6 s)",
        "precision": "-20 (2^-20 s ≈ 9.54e-07 s)",
        "root delay": "1.500000 s",
        "root dispersion": "0.050003 s",
        "reference ID": "192.168.1.1",
        "reference timestamp": "2039-12-31T23:58:56.000+00:00",
        "origin timestamp (T1)": "0 (not set)",
        "receive timestamp (T2)": "2040-01-01T00:00:01.000+00:00",
        "transmit timestamp (T3)": "2040-01-01T00:00:01.250+00:00",
    }
    unsynced = SntpPacket.decode(server_reply_bytes(first=0b11_100_100))
    assert describe_sntp_fields(unsynced)[0][3].startswith("LI 3 (unsynchronised)")


# -- check_sntp_reply: offset, delay and every rejection ----------------------------------------
def request_at(t1: float) -> SntpPacket:
    return sntp_request(t1)


def reply_to(request: SntpPacket, t2: float, t3: float, **fields: object) -> bytes:
    values: dict[str, object] = {
        "origin": struct.pack("!Q", request.transmit),
        "receive": struct.pack("!Q", unix_to_ntp(t2)),
        "transmit": struct.pack("!Q", unix_to_ntp(t3)),
    }
    values.update(fields)
    return server_reply_bytes(**values)  # type: ignore[arg-type]


def test_offset_and_delay_formulas() -> None:
    # T1 = 100.0, T2 = 105.5, T3 = 105.625, T4 = 100.375 (client clock 5.375 s behind, 0.25 s round trip)
    result = SntpResult(SntpPacket.decode(server_reply_bytes()), 100.0, 105.5, 105.625, 100.375)
    assert result.offset == ((105.5 - 100.0) + (105.625 - 100.375)) / 2 == 5.375
    assert result.delay == (100.375 - 100.0) - (105.625 - 105.5) == 0.25
    assert result.synchronised
    # a server behind us gives a negative offset
    behind = SntpResult(result.packet, 1000.0, 990.0, 990.0, 1000.5)
    assert behind.offset == -10.25
    assert behind.delay == 0.5


def test_check_sntp_reply_computes_from_the_packet() -> None:
    t1 = unix(2040, 1, 1) + 0.5
    request = request_at(t1)
    data = reply_to(request, t1 + 3.5 + 0.125, t1 + 3.5 + 0.25)
    result = check_sntp_reply(data, request, t1 + 0.25)
    assert result.t1 == t1
    assert result.t2 == pytest.approx(t1 + 3.625, abs=1e-6)
    assert result.t3 == pytest.approx(t1 + 3.75, abs=1e-6)
    assert result.t4 == t1 + 0.25
    assert result.offset == pytest.approx(3.5 + 0.0625, abs=1e-6)  # ((3.625) + (3.5)) / 2
    assert result.delay == pytest.approx(0.125, abs=1e-6)  # 0.25 round trip − 0.125 in the server
    assert result.packet.stratum == 2


def test_unsynchronised_leap_indicator_is_flagged() -> None:
    t1 = 1_700_000_000.0
    request = request_at(t1)
    result = check_sntp_reply(reply_to(request, t1, t1, first=0b11_100_100), request, t1)
    assert not result.synchronised


@pytest.mark.parametrize(("mode", "name"), [(3, "client"), (1, "symmetric active"), (5, "broadcast")])
def test_reply_with_wrong_mode_names_the_mode(mode: int, name: str) -> None:
    request = request_at(1_700_000_000.0)
    data = reply_to(request, 1_700_000_000.0, 1_700_000_000.0, first=(4 << 3) | mode)
    with pytest.raises(RemoteProtocolError, match=rf"mode is {mode} \({name}\), not 4 \(server\)"):
        check_sntp_reply(data, request, 1_700_000_000.0)


def test_own_request_echoed_back_is_rejected_for_its_mode() -> None:
    request = request_at(1_700_000_000.0)
    with pytest.raises(RemoteProtocolError, match=r"mode is 3 \(client\)"):
        check_sntp_reply(request.encode(), request, 1_700_000_000.0)


def test_reply_to_another_request_is_rejected() -> None:
    request = request_at(1_700_000_000.0)
    other = request_at(1_700_000_000.5)
    data = reply_to(other, 1_700_000_000.0, 1_700_000_000.0)
    with pytest.raises(
        RemoteProtocolError, match=r"origin timestamp [0-9a-f]{16} is not our transmit timestamp"
    ) as info:
        check_sntp_reply(data, request, 1_700_000_000.0)
    assert f"{request.transmit:016x}" in str(info.value)
    assert f"{other.transmit:016x}" in str(info.value)


def test_zero_transmit_timestamp_is_rejected() -> None:
    request = request_at(1_700_000_000.0)
    data = reply_to(request, 1_700_000_000.0, 1_700_000_000.0, transmit=bytes(8))
    with pytest.raises(RemoteProtocolError, match="transmit timestamp is zero"):
        check_sntp_reply(data, request, 1_700_000_000.0)


@pytest.mark.parametrize("code", ["RATE", "DENY", "RSTR", "INIT"])
def test_kiss_of_death_explains_its_code(code: str) -> None:
    request = request_at(1_700_000_000.0)
    data = reply_to(request, 1_700_000_000.0, 1_700_000_000.0, stratum=0, refid=code.encode())
    with pytest.raises(KissOfDeath) as info:
        check_sntp_reply(data, request, 1_700_000_000.0)
    error = info.value
    assert isinstance(error, RemoteProtocolError)
    assert error.params["code"] == code
    assert error.summary == f"kiss-of-death from the server: {code}"
    assert error.hint == f"The server told us not to use this reply ({code}): {KISS_CODES[code]}."
    if code == "RATE":
        assert "query less often" in error.hint
    if code == "DENY":
        assert "access denied" in error.hint


def test_unknown_kiss_code_says_so() -> None:
    request = request_at(1_700_000_000.0)
    data = reply_to(request, 1_700_000_000.0, 1_700_000_000.0, stratum=0, refid=b"XYZW")
    with pytest.raises(KissOfDeath) as info:
        check_sntp_reply(data, request, 1_700_000_000.0)
    assert "(XYZW): unknown code" in info.value.hint


def test_stratum_0_without_a_code_is_an_unsynchronised_server_not_a_kiss() -> None:
    # what chronyd sends before it has a source: LI 3, stratum 0, reference ID 0
    request = request_at(1_700_000_000.0)
    data = reply_to(request, 1_700_000_000.0, 1_700_000_000.0, first=0b11_100_100, stratum=0, refid=bytes(4))
    with pytest.raises(ServerUnsynchronised) as info:
        check_sntp_reply(data, request, 1_700_000_000.0)
    assert not isinstance(info.value, KissOfDeath)
    assert "not synchronised" in info.value.summary
    assert "leap indicator 3 (unsynchronised)" in info.value.summary
    assert "do not trust" in info.value.hint


def test_too_short_reply_is_rejected_by_check() -> None:
    request = request_at(1_700_000_000.0)
    with pytest.raises(RemoteProtocolError, match="at least 48 bytes, this one has 4"):
        check_sntp_reply(b"\0\0\0\0", request, 1_700_000_000.0)


# -- TIME, DAYTIME and the course's protocol ----------------------------------------------------
def test_time_reply_bytes_across_the_2036_wrap() -> None:
    assert encode_time_reply(unix(2000, 1, 1)) == struct.pack("!I", NTP_2000)
    assert encode_time_reply(unix(2040, 1, 1) + 0.9) == struct.pack("!I", NTP_2040)
    assert decode_time_reply(struct.pack("!I", NTP_2040)) == unix(2040, 1, 1)
    assert decode_time_reply(b"\xff\xff\xff\xff") == unix(2036, 2, 7, 6, 28, 15)
    assert decode_time_reply(b"\x00\x00\x00\x00") == unix(2036, 2, 7, 6, 28, 16)
    assert decode_time_reply(struct.pack("!I", NTP_1970)) == 0


@pytest.mark.parametrize("size", [0, 3, 5, 8])
def test_time_reply_of_wrong_length(size: int) -> None:
    with pytest.raises(RemoteProtocolError, match=f"TIME reply is exactly 4 bytes .*, not {size}$"):
        decode_time_reply(bytes(size))


def test_simple_reply_bytes() -> None:
    assert encode_simple_reply(1_700_000_000.9) == struct.pack("!I", 1_700_000_000)
    assert decode_simple_reply(struct.pack("!I", 1_700_000_000)) == 1_700_000_000
    assert decode_simple_reply(b"\xff\xff\xff\xff") == 0xFFFF_FFFF  # 2106-02-07, no era rule here


@pytest.mark.parametrize("size", [0, 2, 8])
def test_simple_reply_of_wrong_length(size: int) -> None:
    with pytest.raises(RemoteProtocolError, match=rf"exactly 4 bytes \('!I' Unix time\), not {size}$"):
        decode_simple_reply(bytes(size))


def test_daytime_reply() -> None:
    data = encode_daytime_reply(unix(2040, 1, 1, 12, 30, 5))
    assert data == b"Sunday, January 01, 2040 12:30:05-UTC\r\n"
    assert decode_daytime_reply(data) == "Sunday, January 01, 2040 12:30:05-UTC"
    assert decode_daytime_reply(b"22 NOV 2026 05:58:30 UTC\n") == "22 NOV 2026 05:58:30 UTC"
    assert decode_daytime_reply(b"\xff time\r\n") == "\\xff time"
    with pytest.raises(RemoteProtocolError, match="DAYTIME reply is empty"):
        decode_daytime_reply(b"")


def test_protocol_names_ports_and_transport() -> None:
    assert [p.value for p in TimeProtocol] == [
        "sntp",
        "time-tcp",
        "time-udp",
        "daytime-tcp",
        "daytime-udp",
        "simple",
    ]
    assert {p.value: p.default_port for p in TimeProtocol} == {
        "sntp": 123,
        "time-tcp": 37,
        "time-udp": 37,
        "daytime-tcp": 13,
        "daytime-udp": 13,
        "simple": 8090,
    }
    assert {p.value for p in TimeProtocol if p.is_tcp} == {"time-tcp", "daytime-tcp"}


# -- properties ---------------------------------------------------------------------------------
ERA_FIRST = 0x8000_0000 - NTP_UNIX_DELTA  # 1968-01-20 03:14:08
ERA_LAST = 0x8000_0000 + 0xFFFF_FFFF - NTP_UNIX_DELTA  # 2104-02-26 09:42:23


@given(st.floats(min_value=ERA_FIRST, max_value=ERA_LAST, allow_nan=False, allow_infinity=False))
def test_unix_ntp_round_trip(x: float) -> None:
    back = ntp_to_unix(unix_to_ntp(x))
    # the 32.32 format truncates below 2^-32 s (0.23 ns); a float near 4e9 s then rounds to its ulp
    assert abs(back - x) <= 2**-32 + math.ulp(x)


@given(st.integers(min_value=ERA_FIRST << 32, max_value=(ERA_LAST << 32) | 0xFFFF_FFFF))
def test_ntp_to_unix_is_exact_to_the_float(unix_fixed: int) -> None:
    """Any 32.32 Unix time in 1968–2104 → NTP stamp → Unix float, compared with exact arithmetic."""
    seconds, fraction = unix_fixed >> 32, unix_fixed & 0xFFFF_FFFF
    ntp_stamp = (unix_to_seconds1900(seconds) << 32) | fraction
    exact = Fraction(seconds) + Fraction(fraction, 1 << 32)
    got = ntp_to_unix(ntp_stamp)
    assert abs(Fraction(got) - exact) <= Fraction(math.ulp(float(exact)))
    assert unix_to_ntp(float(seconds)) == ntp_stamp & ~0xFFFF_FFFF


u8 = st.integers(0, 255)
i8 = st.integers(-128, 127)
u32 = st.integers(0, 0xFFFF_FFFF)
u64 = st.integers(0, (1 << 64) - 1)


@given(
    st.builds(
        SntpPacket,
        leap=st.integers(0, 3),
        version=st.integers(0, 7),
        mode=st.integers(0, 7),
        stratum=u8,
        poll=i8,
        precision=i8,
        root_delay=u32,
        root_dispersion=u32,
        reference_id=st.binary(min_size=4, max_size=4),
        reference=u64,
        origin=u64,
        receive=u64,
        transmit=u64,
    )
)
def test_packet_round_trip(packet: SntpPacket) -> None:
    data = packet.encode()
    assert len(data) == SNTP_PACKET_SIZE
    assert data[0] == (packet.leap << 6) | (packet.version << 3) | packet.mode
    assert SntpPacket.decode(data) == packet
    assert len(describe_sntp_fields(packet)) == len(SNTP_FIELDS)


@given(st.binary(min_size=48, max_size=96))
def test_any_48_bytes_decode_and_re_encode(data: bytes) -> None:
    assert SntpPacket.decode(data).encode() == data[:48]
