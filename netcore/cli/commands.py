"""``python -m netcore SUBCOMMAND``: every tab's work, headless. Exit 0 on success, non-zero with the hint."""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import re
import statistics
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO, cast

from netcore import __version__
from netcore.engines.filefetch import (
    FETCH_DEADLINE_S,
    IDLE_TIMEOUT_S,
    LENGTH_FORMATS,
    FetchClient,
    FileServer,
    check_key,
)
from netcore.engines.relay import ChunkPlan, RechunkRelay
from netcore.engines.serving import REPLY_BURST, REPLY_RATE, ReplyGuard, ReplyMode, ServerEngine
from netcore.engines.sticking import run_scenario
from netcore.engines.tcp_echo import (
    BUFFER_BUDGET,
    DEAD_PEER_TIMEOUT_S,
    FRAME_TIMEOUT_S,
    TcpEchoClient,
    TcpEchoServer,
)
from netcore.engines.time_service import TimeClient, TimeServer
from netcore.engines.udp_echo import MTU_PAYLOAD, RECV_SIZE, UdpEchoClient, UdpEchoServer
from netcore.errors import InputError, NetError, ProtocolError, SocketLabError
from netcore.io.platform import utf8_output
from netcore.model.events import (
    Answered,
    Closed,
    Connected,
    Event,
    Failed,
    FetchStatus,
    LargeDatagram,
    Listening,
    ProbeReply,
    Stopped,
    Traffic,
    Truncated,
    Unanswered,
    WriteShutdown,
)
from netcore.model.scenario import PRESETS, Cure, Scenario, ScenarioResult, preset, variable_output
from netcore.model.traffic import Chunk, Direction
from netcore.protocols.address import parse_port
from netcore.protocols.framing import FRAMING_CHOICES, Frame
from netcore.protocols.hexdump import format_rows
from netcore.protocols.payload import ENCODINGS, parse_payload
from netcore.protocols.probe import MIN_PROBE_SIZE
from netcore.protocols.timeproto import TimeProtocol, TimeResult, describe_sntp_fields, iso

EXIT_OK, EXIT_NET, EXIT_USAGE, EXIT_PROTOCOL = 0, 1, 2, 3


# -- shared output helpers ----------------------------------------------------------------------
REUSE_ADDR_HELP = (
    "set SO_REUSEADDR: listen again at once while old connections are in TIME_WAIT (Linux, macOS); "
    "ignored on Windows, where listeners use SO_EXCLUSIVEADDRUSE so no other program can take the port"
)


def chunk_json(chunk: Chunk, encoding: str = "utf-8") -> dict[str, Any]:
    return {
        "offset": chunk.offset,
        "length": len(chunk.data),
        "hex": chunk.data.hex(),
        "text": chunk.data.decode(encoding, errors="backslashreplace"),
        "time": chunk.wall,
    }


def frame_line(frame: Frame) -> str:
    parts = [f"frame #{frame.index + 1}:"]
    if frame.payload_start > frame.start:
        parts.append(f"header {frame.start}–{frame.payload_start} ({frame.header_length} B),")
    parts.append(f"payload {frame.payload_start}–{frame.payload_end} ({len(frame.payload)} B)")
    if frame.end > frame.payload_end:
        parts.append(f", delimiter {frame.payload_end}–{frame.end}")
    if frame.header is not None:
        parts.append(f" header={json.dumps(frame.header, ensure_ascii=False)}")
    return " ".join(parts).replace(" ,", ",")


def print_event(event: Event, out: TextIO, label: str = "") -> None:
    """Human output: one line per event, a hexdump per chunk with its frames under it."""
    who = f"[{label}] " if label else ""
    if isinstance(event, Traffic):
        c = event.chunk
        call = "send()" if c.direction is Direction.SENT else "recv()"
        print(
            f"{who}{c.direction.arrow} {call} {len(c.data)} bytes {'to' if call == 'send()' else 'from'}"
            f" {c.peer}  [#{c.conn}, stream offset {c.offset}–{c.end}]",
            file=out,
        )
        for row in format_rows(c.data, c.offset):
            print(f"    {row}", file=out)
        for frame in event.frames:
            print(f"    └ {frame_line(frame)}", file=out)
    elif isinstance(event, Listening):
        print(f"{who}listening on {event.address}", file=out)
    elif isinstance(event, Connected):
        print(f"{who}#{event.conn} connected: {event.local} ⇄ {event.peer}", file=out)
    elif isinstance(event, Answered):
        print(f"{who}reply to message {event.index + 1}: round trip {event.rtt_s * 1000:.3f} ms", file=out)
    elif isinstance(event, Unanswered):
        print(f"{who}no reply to message {event.index + 1} within {event.waited_s:.3f} s: given up", file=out)
    elif isinstance(event, WriteShutdown):
        print(f"{who}#{event.conn} write side shut down (FIN sent)", file=out)
    elif isinstance(event, Closed):
        text = f"{who}#{event.conn} {event.peer} closed: {event.reason.value}"
        print(text + (f" — {event.error.describe()}" if event.error else ""), file=out)
    elif isinstance(event, Failed):
        print(f"{who}error: {event.error.describe()}", file=out)
    elif isinstance(event, Truncated):
        print(
            f"{who}#{event.conn} datagram from {event.peer} truncated: kept {event.kept:,} of {event.size:,} "
            "bytes (the rest of a datagram is discarded, unlike TCP)",
            file=out,
        )
    elif isinstance(event, LargeDatagram):
        print(
            f"{who}note: {event.size:,} bytes is over {MTU_PAYLOAD:,}: IP fragments this datagram on a "
            "1,500-byte MTU path",
            file=out,
        )
    elif isinstance(event, ProbeReply):
        rtt = "" if event.rtt_ms is None else f" {event.rtt_ms:.3f} ms"
        print(f"{who}probe seq={event.seq} {event.status.value}{rtt}", file=out)
    elif isinstance(event, Stopped):
        print(f"{who}stopped", file=out)


_SHOWN_AS_ESCAPES = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


class TerminalSafe(io.TextIOBase):
    """Writes to *stream* with control and bidi characters shown as escapes (``\\x1b``): text from
    a peer (an error message, a DAYTIME reply) cannot move the cursor, recolour the terminal, set
    its title or reverse a line. New lines and tabs pass."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(_SHOWN_AS_ESCAPES.sub(lambda m: m.group().encode("unicode_escape").decode(), text))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()


def terminal_safe(stream: TextIO) -> TextIO:
    return cast(TextIO, TerminalSafe(stream))


def fail(error: SocketLabError, err: TextIO) -> int:
    print(f"error: {error.summary}", file=err)
    if error.hint:
        print(f"hint: {error.hint}", file=err)
    if isinstance(error, InputError):
        return EXIT_USAGE
    return EXIT_PROTOCOL if isinstance(error, ProtocolError) else EXIT_NET


MAX_UNPRINTED_EVENTS = 10_000  # events a server's output may lag behind by; later ones are skipped
MAX_UNPRINTED_BYTES = 4 * 1024 * 1024  # likewise in traffic bytes (each becomes ~4.5 times as much text)


@dataclasses.dataclass(frozen=True, slots=True)
class Skipped:
    """Events the output skipped at this point because it lagged too far behind."""

    events: int
    data: int


def traffic_bytes(event: Event) -> int:
    """The bytes an event holds: a chunk's data and its frames' payloads."""
    if not isinstance(event, Traffic):
        return 0
    return len(event.chunk.data) + sum(len(frame.payload) for frame in event.frames)


class PrintQueue:
    """Events from a server's thread waiting to be printed, bounded in count and bytes: when the
    output cannot keep up (a slow terminal, a pipe nobody reads), later events are skipped, counted,
    and said in their place. The server's failure and its stop are noted even when skipped."""

    def __init__(
        self, quiet: bool, max_events: int = MAX_UNPRINTED_EVENTS, max_bytes: int = MAX_UNPRINTED_BYTES
    ) -> None:
        self.quiet, self.max_events, self.max_bytes = quiet, max_events, max_bytes
        self._cond = threading.Condition()
        self._events: deque[Event | Skipped] = deque()
        self._bytes = 0
        self._skipped_events = self._skipped_bytes = 0
        self.failed: SocketLabError | None = None
        self.listening = False  # once it listens, failures are reported but a stop exits 0
        self.stopped = False

    def put(self, batch: Sequence[Event]) -> None:
        """The engine's sink (its thread): never waits for the output."""
        with self._cond:
            for event in batch:
                if isinstance(event, Failed) and event.conn is None and not self.listening:
                    self.failed = event.error  # the server could not start: the exit status says so
                elif isinstance(event, Listening):
                    self.listening = True
                elif isinstance(event, Stopped):
                    self.stopped = True
                if self.quiet and not isinstance(event, Listening | Failed):
                    continue
                size = traffic_bytes(event)
                full = len(self._events) >= self.max_events or self._bytes + size > self.max_bytes
                if full and not isinstance(event, Stopped):
                    self._skipped_events += 1
                    self._skipped_bytes += size
                    continue
                self._note_skipped()
                self._events.append(event)
                self._bytes += size
            self._cond.notify()

    def _note_skipped(self) -> None:
        if self._skipped_events:
            self._events.append(Skipped(self._skipped_events, self._skipped_bytes))
            self._skipped_events = self._skipped_bytes = 0

    def take(self, timeout: float) -> list[Event | Skipped]:
        """Everything waiting (after at most *timeout* s), a note of what was skipped last."""
        with self._cond:
            self._cond.wait_for(lambda: self._events or self._skipped_events or self.stopped, timeout)
            self._note_skipped()
            taken = list(self._events)
            self._events.clear()
            self._bytes = 0
            return taken


def serve_until_stopped(engine: ServerEngine, duration: float | None, quiet: bool, out: TextIO) -> int:
    """Run a server engine in a thread, print its events, stop on Ctrl+C or after *duration*."""
    waiting = PrintQueue(quiet)
    engine.start_thread(waiting.put, name="server")
    deadline = None if duration is None else time.monotonic() + duration
    try:
        while deadline is None or time.monotonic() < deadline:
            stopped = waiting.stopped
            for event in waiting.take(0.1):
                if isinstance(event, Skipped):
                    print(f"… {event.events:,} events / {event.data:,} bytes not shown", file=out)
                else:
                    print_event(event, out)
            out.flush()
            if stopped:
                break
    except KeyboardInterrupt:
        pass
    finally:
        engine.join()
    return fail(waiting.failed, terminal_safe(sys.stderr)) if waiting.failed else EXIT_OK


# -- payload and common options -----------------------------------------------------------------
def add_payload_options(p: argparse.ArgumentParser, required: bool = True) -> None:
    group = p.add_mutually_exclusive_group(required=required)
    group.add_argument("--message", "-m", help=r"text to send; escapes \r \n \t \0 \xHH work")
    group.add_argument("--hex", help="raw bytes in hex: '48 65 6c', '48656c' or '0x48,0x65'")
    p.add_argument("--encoding", choices=ENCODINGS, default="utf-8", help="text encoding (default utf-8)")


def payload_from(args: argparse.Namespace) -> bytes:
    if args.hex is not None:
        return parse_payload(args.hex, "hex")
    return parse_payload(args.message, "text", args.encoding)


def positive_int(text: str) -> int:
    """A count of at least 1 (``--count 0`` would send nothing and leave no round trip to report)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is less than 1")
    return value


def seconds_arg(text: str) -> float:
    """A time limit in seconds, more than 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} is not more than 0 seconds")
    return value


def optional_seconds_arg(text: str) -> float | None:
    """A time limit in seconds, or 0 for none."""
    return None if text.strip() in ("0", "0.0") else seconds_arg(text)


def port_arg(text: str) -> int:
    """``parse_port`` for argparse, which would hide the message of a ValueError."""
    try:
        return parse_port(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_endpoint(p: argparse.ArgumentParser, host: str, port: int | None) -> None:
    p.add_argument("--host", default=host, help=f"host name or address (default {host})")
    if port is None:
        p.add_argument("--port", "-p", type=port_arg, required=True, help="TCP/UDP port")
    else:
        p.add_argument(
            "--port", "-p", type=port_arg, default=port, help=f"port (default {port}; 0 = any free)"
        )


def add_framing(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--framing",
        default="raw",
        metavar="SPEC",
        help=f"message framing: {', '.join(FRAMING_CHOICES)}, delim:HEX, fixed:N (default raw)",
    )


def add_reply_guard(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--answer-service-ports",
        action="store_true",
        help="also answer datagrams from ports 7, 13, 19, 37 and 123 (services that answer anything: "
        "a reply could start a loop that never ends)",
    )
    p.add_argument(
        "--reply-rate",
        type=float,
        default=REPLY_RATE,
        metavar="N",
        help=f"answer each peer at most N times a second (default {REPLY_RATE:g})",
    )
    p.add_argument(
        "--reply-burst",
        type=positive_int,
        default=REPLY_BURST,
        metavar="N",
        help=f"answer each peer up to N times at once before the rate applies (default {REPLY_BURST})",
    )


def guard_from(args: argparse.Namespace) -> ReplyGuard:
    return ReplyGuard(args.answer_service_ports, args.reply_rate, args.reply_burst)


# -- tcp-echo-server ----------------------------------------------------------------------------
def cmd_tcp_echo_server(args: argparse.Namespace, out: TextIO) -> int:
    server = TcpEchoServer(
        args.host,
        args.port,
        args.mode,
        args.framing,
        parse_payload(args.prefix, "text", args.encoding),
        args.reuse_addr,
        args.frame_timeout,
        args.dead_peer_timeout,
        args.buffer_budget * 2**20,
    )
    server.bind()
    return serve_until_stopped(server, args.duration, args.quiet, out)


# -- tcp-echo -----------------------------------------------------------------------------------
def cmd_tcp_echo(args: argparse.Namespace, out: TextIO) -> int:
    payload = payload_from(args)
    client = TcpEchoClient(args.host, args.port, args.framing, args.timeout, args.nodelay)
    connected = client.connect()
    events: list[Event] = []
    try:
        for _ in range(args.count):
            _, new = client.request(payload)
            events += new
            if not args.json:
                for event in new:
                    print_event(event, out)
    finally:
        client.close()
    rtts = [e.rtt_s * 1000 for e in events if isinstance(e, Answered)]
    chunks = [e.chunk for e in events if isinstance(e, Traffic)]
    if args.json:
        doc = {
            "local": connected.local,
            "peer": connected.peer,
            "framing": args.framing,
            "sent": [chunk_json(c, args.encoding) for c in chunks if c.direction is Direction.SENT],
            "received": [chunk_json(c, args.encoding) for c in chunks if c.direction is Direction.RECEIVED],
            "frames_received": [
                f.payload.hex()
                for e in events
                if isinstance(e, Traffic) and e.chunk.direction is Direction.RECEIVED
                for f in e.frames
            ],
            "rtt_ms": rtts,
        }
        print(json.dumps(doc, ensure_ascii=False), file=out)
    else:
        print(
            f"{len(rtts)} of {args.count} replies; round trip min {min(rtts):.3f} / median "
            f"{statistics.median(rtts):.3f} / max {max(rtts):.3f} ms",
            file=out,
        )
    return EXIT_OK


# -- udp-echo-server / udp-echo ------------------------------------------------------------------
def cmd_udp_echo_server(args: argparse.Namespace, out: TextIO) -> int:
    prefix = parse_payload(args.prefix, "text", args.encoding)
    server = UdpEchoServer(
        args.host, args.port, args.mode, prefix, args.reuse_addr, args.recv_size, guard_from(args)
    )
    server.bind()
    return serve_until_stopped(server, args.duration, args.quiet, out)


def cmd_udp_echo(args: argparse.Namespace, out: TextIO) -> int:
    client = UdpEchoClient(args.host, args.port, args.timeout, args.connected, args.recv_size)
    try:
        if args.probe:
            return _udp_probe(client, args, out)
        if args.message is None and args.hex is None:
            raise InputError("give --message TEXT or --hex HEX (an empty datagram: --message '')")
        reply, events = client.request(payload_from(args))
    finally:
        client.close()
    if args.json:
        sent = [e.chunk for e in events if isinstance(e, Traffic) and e.chunk.direction is Direction.SENT]
        doc = {
            "local": client.local,
            "peer": reply.chunk.peer,
            "sent": [chunk_json(c, args.encoding) for c in sent],
            "received": chunk_json(reply.chunk, args.encoding),
            "truncated": [{"kept": e.kept, "size": e.size} for e in events if isinstance(e, Truncated)],
            "rtt_ms": (reply.chunk.mono_ns - sent[0].mono_ns) / 1e6,
        }
        print(json.dumps(doc, ensure_ascii=False), file=out)
    else:
        for event in events:
            print_event(event, out)
    return EXIT_OK


def _udp_probe(client: UdpEchoClient, args: argparse.Namespace, out: TextIO) -> int:
    stats, events = client.probe(args.probe, args.interval / 1000, args.size)
    if args.json:
        doc = dataclasses.asdict(stats) | {"loss_percent": stats.loss_percent}
        print(json.dumps(doc), file=out)
        return EXIT_OK
    for event in events:
        if isinstance(event, ProbeReply | Failed | LargeDatagram):
            print_event(event, out)

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f}"

    print(
        f"{stats.sent} sent, {stats.received} received, {stats.lost} lost ({stats.loss_percent:.1f} %), "
        f"{stats.late} late, {stats.duplicates} duplicated, {stats.reordered} reordered",
        file=out,
    )
    print(
        f"round trip min/avg/max = {ms(stats.rtt_min_ms)}/{ms(stats.rtt_avg_ms)}/{ms(stats.rtt_max_ms)} ms, "
        f"p50 {ms(stats.rtt_p50_ms)}, p99 {ms(stats.rtt_p99_ms)}, jitter {ms(stats.jitter_ms)} ms",
        file=out,
    )
    return EXIT_OK


# -- time-server / time -------------------------------------------------------------------------
def cmd_time_server(args: argparse.Namespace, out: TextIO) -> int:
    server = TimeServer(
        args.protocol,
        args.host,
        args.port,
        args.offset,
        args.stratum,
        args.refid,
        args.reuse_addr,
        guard_from(args),
    )
    server.bind()
    return serve_until_stopped(server, args.duration, args.quiet, out)


def time_json(result: TimeResult) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "protocol": result.protocol.value,
        "server": result.server,
        "server_time": iso(result.server_time),
        "local_time": iso(result.local_time),
        "offset_s": result.offset,
        "delay_s": result.delay,
        "text": result.text,
    }
    if result.sntp is not None:
        packet = result.sntp.packet
        doc["fields"] = {name: value for _, _, name, value in describe_sntp_fields(packet)}
        doc |= {
            "stratum": packet.stratum,
            "reference_id": packet.reference_text,
            "leap": packet.leap,
            "synchronised": result.sntp.synchronised,
            "t1": result.sntp.t1,
            "t2": result.sntp.t2,
            "t3": result.sntp.t3,
            "t4": result.sntp.t4,
        }
    return doc


def print_time_result(result: TimeResult, out: TextIO) -> None:
    if result.sntp is not None:
        for start, end, name, value in describe_sntp_fields(result.sntp.packet):
            print(f"    [{start:2}–{end:2}) {name:24} {value}", file=out)
        r = result.sntp
        print(f"  T1 {iso(r.t1)}  T2 {iso(r.t2)}  T3 {iso(r.t3)}  T4 {iso(r.t4)}", file=out)
        print("  offset = ((T2 − T1) + (T3 − T4)) / 2;  delay = (T4 − T1) − (T3 − T2)", file=out)
    print(f"  server says: {result.text}", file=out)
    print(f"  server time {iso(result.server_time)} · local time {iso(result.local_time)}", file=out)
    offset = "unknown (free-form text)" if result.offset is None else f"{result.offset:+.6f} s"
    print(f"  offset {offset} · delay {result.delay * 1000:.3f} ms", file=out)


def cmd_time(args: argparse.Namespace, out: TextIO) -> int:
    port = args.port if args.port is not None else TimeProtocol(args.protocol).default_port
    client = TimeClient(args.protocol, args.host, port, args.timeout)
    results: list[TimeResult] = []
    try:
        for index in range(args.count):
            if index:
                time.sleep(args.interval)
            result = client.query()
            results.append(result)
            events = client.take_events()
            if not args.json:
                for event in events:
                    print_event(event, out)
                print_time_result(result, out)
    finally:
        client.close()
    if args.json:
        doc = time_json(results[-1])
        if len(results) > 1:
            doc["queries"] = [time_json(r) for r in results]
        print(json.dumps(doc, ensure_ascii=False), file=out)
    return EXIT_OK


# -- sticking / relay -----------------------------------------------------------------------------
def scenario_from(args: argparse.Namespace) -> Scenario:
    base = preset(args.preset) if args.preset else Scenario((b"Hello", b"World"))
    changes: dict[str, Any] = {}
    if args.message:
        changes["messages"] = tuple(parse_payload(m, "text") for m in args.message)
    elif args.variable:
        changes["messages"] = variable_output(args.variable)
    elif args.count:
        changes["messages"] = tuple(bytes([65 + i % 26]) * args.size for i in range(args.count))
    for name, value in (("sendall", args.sendall), ("nodelay", args.nodelay)):
        if value is not None:
            changes[name] = value
    for name in ("gap", "recv_delay", "recv_gap"):
        if getattr(args, name) is not None:
            changes[f"{name}_s"] = getattr(args, name) / 1000
    if args.framing is not None:
        changes["cure"] = Cure(args.framing)
    if args.recv_size is not None:
        changes["recv_size"] = args.recv_size
        changes["recv_sizes"] = ()
    if args.max_recvs is not None:
        changes["max_recvs"] = args.max_recvs
    return dataclasses.replace(base, **changes)


def print_lanes(result: ScenarioResult, out: TextIO) -> None:
    """The three lanes as text: send calls, recv chunks, decoded frames, each with offsets."""
    for title, calls in (("send() calls", result.sends), ("recv() chunks", result.recvs)):
        print(f"{title}:", file=out)
        for c in calls:
            waiting = "" if c.waiting is None else f"  ({c.waiting:,} bytes were waiting)"
            print(
                f"  {c.time * 1000:9.3f} ms  offset {c.offset:6,}–{c.offset + c.length:<6,} "
                f"{c.length:6,} B  {preview_bytes(c.data)}{waiting}",
                file=out,
            )
    if result.scenario.cure is not Cure.NONE:
        print("decoded frames:", file=out)
        for f in result.frames:
            print(
                f"  frame #{f.index + 1}: header {f.start}–{f.payload_start}, payload "
                f"{f.payload_start}–{f.payload_end} ({len(f.payload):,} B)  {preview_bytes(f.payload)}",
                file=out,
            )
    print(result.segments_note, file=out)
    if result.announce_rtt_ms is not None:
        print(f"announce-and-wait costs one extra round trip: {result.announce_rtt_ms:.3f} ms", file=out)
    print(f"verdict: {result.verdict}", file=out)


def preview_bytes(data: bytes, limit: int = 32) -> str:
    return repr(data[:limit]) + ("…" if len(data) > limit else "")


def cmd_sticking(args: argparse.Namespace, out: TextIO) -> int:
    result = run_scenario(scenario_from(args))
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False), file=out)
    else:
        print_lanes(result, out)
    return EXIT_OK


def cmd_relay(args: argparse.Namespace, out: TextIO) -> int:
    plan = ChunkPlan.parse(args.chunks, args.seed, args.delay / 1000, args.max_chunk)
    relay = RechunkRelay(args.to, plan, args.host, args.listen, args.reuse_addr)
    relay.bind()
    return serve_until_stopped(relay, args.duration, args.quiet, out)


# -- file-server / fetch -------------------------------------------------------------------------
def read_key(path: str | None) -> bytes | None:
    """The shared key from a file (its bytes, without a trailing newline; at least 16), or None."""
    if path is None:
        return None
    try:
        key = Path(path).read_bytes().rstrip(b"\r\n")
    except OSError as exc:
        raise InputError(f"cannot read the key file '{path}': {exc.strerror}") from None
    if not key:
        raise InputError(f"the key file '{path}' is empty")
    return check_key(key)


def cmd_file_server(args: argparse.Namespace, out: TextIO) -> int:
    server = FileServer(
        args.root,
        args.host,
        args.port,
        args.length_format,
        read_key(args.key_file),
        args.reuse_addr,
        args.idle_timeout,
    )
    server.bind()
    return serve_until_stopped(server, args.duration, args.quiet, out)


def cmd_fetch(args: argparse.Namespace, out: TextIO) -> int:
    client = FetchClient(
        args.host,
        args.port,
        args.out,
        args.length_format,
        read_key(args.key_file),
        args.timeout,
        args.overwrite,
        deadline=args.deadline,
    )
    printer = _ProgressPrinter(out) if not args.json and out.isatty() else None
    if printer is not None:  # "the server is hashing …: 40 %", then the body's progress
        client.on_status = printer.status
    try:
        client.connect()
        if args.list:
            files = client.list_files()
            print(
                json.dumps({"files": files}, ensure_ascii=False) if args.json else "\n".join(files), file=out
            )
            return EXIT_OK
        if not args.name:
            raise InputError("name a file to fetch, or use --list")
        result = client.fetch(args.name, None if printer is None else printer.progress)
    finally:
        client.close()
    if args.json:
        print(
            json.dumps(
                {
                    "file_name": result.name,
                    "server_name": result.server_name,
                    "path": str(result.path),
                    "size": result.size,
                    "md5": result.md5,
                    "verified": result.verified,
                    "seconds": result.seconds,
                    "mb_per_s": result.mb_per_s,
                    "length_format": result.length_format,
                    "header": result.header,
                },
                ensure_ascii=False,
            ),
            file=out,
        )
    else:
        check = "md5 verified" if result.verified else "no md5 in the header: not verified"
        print(
            f"saved {result.path} ({result.size:,} bytes, {check}: {result.md5}) in {result.seconds:.3f} s, "
            f"{result.mb_per_s:.1f} MB/s; header length sent as '{result.length_format}'",
            file=out,
        )
        if result.server_name != result.name:
            print(f"the server calls it {result.server_name!r} (not used: saved as asked)", file=out)
    return EXIT_OK


class _ProgressPrinter:
    """One line on a terminal, rewritten: what the fetch waits for, then bytes received."""

    def __init__(self, out: TextIO) -> None:
        self.out, self.width = out, 0

    def _line(self, text: str, end: bool = False) -> None:
        print(f"\r{text.ljust(self.width)}", end="\n" if end else "", file=self.out, flush=True)
        self.width = 0 if end else max(self.width, len(text))

    def status(self, status: FetchStatus) -> None:
        self._line(status.text)

    def progress(self, done: int, total: int) -> None:
        percent = 100 * done / total if total else 100
        self._line(f"{done:,} / {total:,} bytes ({percent:.0f} %)", end=done == total)


# -- parser -------------------------------------------------------------------------------------
Handler = Callable[[argparse.Namespace, TextIO], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="socketlab-cli", description="Socket Lab on the command line.")
    parser.add_argument("--version", action="version", version=f"Socket Lab {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("tcp-echo-server", help="run a TCP echo server")
    add_endpoint(p, "127.0.0.1", 9000)
    p.add_argument(
        "--mode", choices=[m.value for m in ReplyMode if m is not ReplyMode.MANUAL], default="echo"
    )
    p.add_argument("--prefix", default="echo: ", help="text put before each reply in prefix mode")
    p.add_argument("--encoding", choices=ENCODINGS, default="utf-8")
    add_framing(p)
    p.add_argument(
        "--frame-timeout",
        type=optional_seconds_arg,
        default=FRAME_TIMEOUT_S,
        metavar="S",
        help=f"close a client whose frame is still incomplete S s after its first byte "
        f"(default {FRAME_TIMEOUT_S:g}; 0 = never; raw framing has no incomplete frames)",
    )
    p.add_argument(
        "--dead-peer-timeout",
        type=optional_seconds_arg,
        default=DEAD_PEER_TIMEOUT_S,
        metavar="S",
        help=f"drop a client that vanished without closing about S s after it last answered "
        f"(TCP keepalive; default {DEAD_PEER_TIMEOUT_S:g}; 0 = never)",
    )
    p.add_argument(
        "--buffer-budget",
        type=positive_int,
        default=BUFFER_BUDGET // 2**20,
        metavar="MIB",
        help=f"close the client whose incomplete frames and unread replies would take all clients' "
        f"over MIB MiB held in the server (default {BUFFER_BUDGET // 2**20})",
    )
    p.add_argument("--reuse-addr", action="store_true", help=REUSE_ADDR_HELP)
    p.add_argument("--duration", type=float, help="stop after this many seconds (default: until Ctrl+C)")
    p.add_argument("--quiet", "-q", action="store_true", help="do not print traffic")
    p.set_defaults(handler=cmd_tcp_echo_server)

    p = sub.add_parser("tcp-echo", help="send messages to a TCP echo server and time the replies")
    add_endpoint(p, "127.0.0.1", None)
    add_payload_options(p)
    add_framing(p)
    p.add_argument("--count", "-n", type=positive_int, default=1, help="how many times to send the message")
    p.add_argument("--timeout", type=float, default=5.0, help="connect/reply timeout in seconds (default 5)")
    p.add_argument("--nodelay", action="store_true", help="set TCP_NODELAY (turn Nagle's algorithm off)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of hexdumps")
    p.set_defaults(handler=cmd_tcp_echo)

    p = sub.add_parser("udp-echo-server", help="run a UDP echo server")
    add_endpoint(p, "127.0.0.1", 9000)
    p.add_argument(
        "--mode", choices=[m.value for m in ReplyMode if m is not ReplyMode.MANUAL], default="echo"
    )
    p.add_argument("--prefix", default="echo: ", help="text put before each reply in prefix mode")
    p.add_argument("--encoding", choices=ENCODINGS, default="utf-8")
    p.add_argument(
        "--recv-size",
        type=positive_int,
        default=RECV_SIZE,
        help=f"receive buffer per datagram (default {RECV_SIZE:,}; smaller truncates)",
    )
    add_reply_guard(p)
    p.add_argument("--reuse-addr", action="store_true", help=REUSE_ADDR_HELP)
    p.add_argument("--duration", type=float, help="stop after this many seconds (default: until Ctrl+C)")
    p.add_argument("--quiet", "-q", action="store_true", help="do not print traffic")
    p.set_defaults(handler=cmd_udp_echo_server)

    p = sub.add_parser("udp-echo", help="send a datagram and show the reply, or probe loss and round trips")
    add_endpoint(p, "127.0.0.1", None)
    add_payload_options(p, required=False)
    p.add_argument("--timeout", type=float, default=2.0, help="seconds to wait for a reply (default 2)")
    p.add_argument(
        "--connected",
        action="store_true",
        help="connect() the UDP socket: 'port unreachable' is reported instead of a timeout",
    )
    p.add_argument("--recv-size", type=positive_int, default=RECV_SIZE, help="receive buffer per datagram")
    p.add_argument(
        "--probe", type=positive_int, metavar="N", help="send N numbered datagrams, print statistics"
    )
    p.add_argument(
        "--interval", type=float, default=100.0, metavar="MS", help="probe interval (default 100 ms)"
    )
    p.add_argument(
        "--size", type=int, default=MIN_PROBE_SIZE, help=f"probe datagram size (min {MIN_PROBE_SIZE})"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=cmd_udp_echo)

    protocols = [p.value for p in TimeProtocol]
    p = sub.add_parser("time-server", help="serve the time (SNTP, TIME, DAYTIME or the course's protocol)")
    p.add_argument("--protocol", choices=protocols, default="sntp")
    add_endpoint(p, "127.0.0.1", 8123)
    p.add_argument("--offset", type=float, default=0.0, help="deliberate clock offset in seconds, e.g. 3.5")
    p.add_argument("--stratum", type=int, default=1, help="SNTP stratum to announce (1-15, default 1)")
    p.add_argument("--refid", default="LOCL", help="SNTP reference ID (4 ASCII characters, default LOCL)")
    add_reply_guard(p)
    p.add_argument("--reuse-addr", action="store_true", help=REUSE_ADDR_HELP)
    p.add_argument("--duration", type=float, help="stop after this many seconds (default: until Ctrl+C)")
    p.add_argument("--quiet", "-q", action="store_true", help="do not print traffic")
    p.set_defaults(handler=cmd_time_server)

    p = sub.add_parser("time", help="ask a time server for the time; offset and delay")
    p.add_argument("--protocol", choices=protocols, default="sntp")
    p.add_argument("--host", default="127.0.0.1", help="time server (default 127.0.0.1)")
    p.add_argument("--port", "-p", type=port_arg, help="port (default: the protocol's: 123, 37, 13 or 8090)")
    p.add_argument("--count", "-n", type=positive_int, default=1, help="how many queries")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between queries (default 1)")
    p.add_argument("--timeout", type=float, default=2.0, help="seconds to wait for each reply (default 2)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=cmd_time)

    p = sub.add_parser("sticking", help="reproduce TCP packet sticking (粘包) and its cures on loopback")
    p.add_argument("--preset", choices=list(PRESETS), help="start from one of the course's cases")
    p.add_argument("--message", "-m", action="append", help="a message to send (repeat for several)")
    p.add_argument("--count", type=int, help="generate N messages of --size bytes")
    p.add_argument("--size", type=positive_int, default=8, help="size of generated messages")
    p.add_argument("--variable", type=positive_int, metavar="N", help="N variable-length outputs")
    p.add_argument("--framing", choices=[c.value for c in Cure], help="none or one of the cures")
    p.add_argument("--gap", type=float, metavar="MS", help="pause between the sender's send() calls")
    p.add_argument(
        "--sendall", action=argparse.BooleanOptionalAction, default=None, help="all messages in one sendall()"
    )
    p.add_argument("--nodelay", action=argparse.BooleanOptionalAction, default=None, help="TCP_NODELAY")
    p.add_argument("--recv-delay", type=float, metavar="MS", help="receiver waits before its first recv()")
    p.add_argument("--recv-size", type=positive_int, help="bytes asked of each recv()")
    p.add_argument("--recv-gap", type=float, metavar="MS", help="receiver pause between recv() calls")
    p.add_argument("--max-recvs", type=positive_int, help="stop after this many recv() calls")
    p.add_argument(
        "--json", action="store_true", help="print one JSON object (sends, recvs, frames, verdict)"
    )
    p.set_defaults(handler=cmd_sticking)

    p = sub.add_parser("relay", help="relay TCP to a server, re-chunking the stream (1 byte, N, random)")
    p.add_argument("--listen", type=port_arg, required=True, metavar="PORT", help="port to listen on")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--to", required=True, metavar="HOST:PORT", help="the server to relay to")
    p.add_argument("--chunks", default="1", help="chunk size in bytes, or 'random' (default 1)")
    p.add_argument("--seed", type=int, default=0, help="seed for random chunk sizes (replayable)")
    p.add_argument("--max-chunk", type=positive_int, default=64, help="largest random chunk (default 64)")
    p.add_argument("--delay", type=float, default=0.0, metavar="MS", help="pause between chunks")
    p.add_argument("--reuse-addr", action="store_true", help=REUSE_ADDR_HELP)
    p.add_argument("--duration", type=float, help="stop after this many seconds (default: until Ctrl+C)")
    p.add_argument("--quiet", "-q", action="store_true", help="do not print traffic")
    p.set_defaults(handler=cmd_relay)

    p = sub.add_parser("file-server", help="serve the files of one folder with the course's framed protocol")
    p.add_argument("--root", required=True, help="the folder to serve (never anything outside it)")
    add_endpoint(p, "127.0.0.1", 8080)
    p.add_argument(
        "--length-format",
        choices=list(LENGTH_FORMATS),
        default="!I",
        help="header length as network order '!I' (default) or the course's struct.pack('i') '<i'",
    )
    p.add_argument(
        "--key-file", help="require clients to prove this shared key (16+ bytes; HMAC-SHA256 both ways)"
    )
    p.add_argument(
        "--idle-timeout",
        type=seconds_arg,
        default=IDLE_TIMEOUT_S,
        metavar="S",
        help=f"close a client that sends no request (or no whole key answer) for S s "
        f"(default {IDLE_TIMEOUT_S:g})",
    )
    p.add_argument("--reuse-addr", action="store_true", help=REUSE_ADDR_HELP)
    p.add_argument("--duration", type=float, help="stop after this many seconds (default: until Ctrl+C)")
    p.add_argument("--quiet", "-q", action="store_true", help="do not print traffic")
    p.set_defaults(handler=cmd_file_server)

    p = sub.add_parser("fetch", help="fetch a file from a file server, verified with md5")
    p.add_argument("name", nargs="?", help="the file to fetch ('hello' also finds hello.png)")
    add_endpoint(p, "127.0.0.1", 8080)
    p.add_argument("--out", default=".", help="destination folder (default: here)")
    p.add_argument(
        "--length-format",
        choices=["auto", *LENGTH_FORMATS],
        default="auto",
        help="header length byte order (default: detect)",
    )
    p.add_argument("--key-file", help="the shared key, if the server asks for one")
    p.add_argument("--overwrite", action="store_true", help="replace an existing file of the same name")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds without data before giving up")
    p.add_argument(
        "--deadline",
        type=seconds_arg,
        default=FETCH_DEADLINE_S,
        metavar="S",
        help=f"give up on a request (its reply's body included) after S s in all, however the "
        f"server drips its bytes (default {FETCH_DEADLINE_S:g})",
    )
    p.add_argument("--list", action="store_true", help="list the server's files")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=cmd_fetch)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    utf8_output()  # a Chinese Windows console encodes in GBK, which has no ⇄ or −
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args, terminal_safe(out or sys.stdout))
    except SocketLabError as exc:
        return fail(exc, terminal_safe(sys.stderr))
    except KeyboardInterrupt:
        return 130


__all__ = ["EXIT_NET", "EXIT_OK", "EXIT_PROTOCOL", "EXIT_USAGE", "NetError", "main"]
