"""UDP probe statistics over an impaired link: 10 % loss and about 20 ms delay each way.

Two network namespaces made by this test (names unique per run) are joined by a veth pair whose
10.77.0.0/24 addresses exist only inside them. Our UDP echo server runs in one namespace and the
probe client (``python -m netcore udp-echo --probe``) in the other, both through the real CLI.

The impairment: ``tc netem`` when the kernel has it. This class of machine has no netem, so then
loss is made by nftables inside each namespace (``numgen random mod 10 == 0 drop`` on what arrives
over the veth) and delay by a small userspace relay in the client's namespace (this file, run as a
script) that holds each datagram 20 ms in each direction. With nftables counters the test knows
exactly which datagrams were dropped, so the probe's loss count must match them exactly, and each
drop rate must fall in a binomial band around 10 %.

Needs root and ``ip netns``; skips (with the reason) when they or both netem and nft are missing.
The namespaces, and every process in them, are removed in a finally whatever happens.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import math
import os
import re
import secrets
import selectors
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBES = 200
INTERVAL_MS = 5
LOSS = 0.10  # each way
DELAY_MS = 20  # each way
TIMEOUT_S = 1.0  # probe reply timeout: far above the 40 ms round trip, so nothing is late
ALPHA = 1e-6  # chance that a correct run falls outside a statistical band, per side
WAIT_S = 10.0
CLIENT_IP, SERVER_IP = "10.77.0.1", "10.77.0.2"


# -- statistics ---------------------------------------------------------------------------------
def binomial_band(n: int, p: float, alpha: float = ALPHA) -> tuple[int, int]:
    """[lo, hi] such that a Binomial(n, p) count falls below lo, or above hi, each with
    probability at most *alpha*."""
    pmf = [math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(n + 1)]
    below, lo = 0.0, 0
    while lo < n and below + pmf[lo] <= alpha:
        below += pmf[lo]
        lo += 1
    above, hi = 0.0, n
    while hi > 0 and above + pmf[hi] <= alpha:
        above += pmf[hi]
        hi -= 1
    return lo, hi


def test_binomial_band_is_sane():
    lo, hi = binomial_band(200, 0.19)
    assert lo < 38 < hi  # the expected 38 of 200 lies inside
    assert binomial_band(10, 0.5, 0.0) == (0, 10)
    assert binomial_band(100, 0.0) == (0, 0)


# -- the delay relay (run in the client's namespace as: python THIS_FILE relay ...) -------------
def relay_main(argv: Sequence[str]) -> None:
    """Forward datagrams between one client and an upstream server, each held *delay* ms."""
    parser = argparse.ArgumentParser(prog="udp-delay-relay")
    parser.add_argument("--listen", default="127.0.0.1")
    parser.add_argument("--upstream", required=True, help="HOST:PORT")
    parser.add_argument("--delay-ms", type=float, required=True)
    parser.add_argument("--duration", type=float, default=60.0, help="exit after this many seconds")
    args = parser.parse_args(argv)
    host, port = args.upstream.rsplit(":", 1)
    delay = args.delay_ms / 1000
    front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    front.bind((args.listen, 0))
    back.connect((host, int(port)))
    front.setblocking(False)
    back.setblocking(False)
    print(f"relay on {args.listen}:{front.getsockname()[1]}", flush=True)
    # The delay is the same for every datagram, so a FIFO is in order of due time.
    held: collections.deque[tuple[float, bool, bytes]] = collections.deque()  # (due, to upstream, data)
    client: tuple[str, int] | None = None
    deadline = time.monotonic() + args.duration
    with selectors.DefaultSelector() as sel:
        sel.register(front, selectors.EVENT_READ, True)
        sel.register(back, selectors.EVENT_READ, False)
        while (now := time.monotonic()) < deadline:
            wait = min(0.05, max(0.0, held[0][0] - now)) if held else 0.05
            for key, _ in sel.select(wait):
                sock: socket.socket = key.fileobj  # type: ignore[assignment]
                for _ in range(256):
                    try:
                        data, addr = sock.recvfrom(65_535)
                    except (BlockingIOError, ConnectionRefusedError):
                        break
                    if key.data:
                        client = addr
                    held.append((time.monotonic() + delay, key.data, data))
            now = time.monotonic()
            while held and held[0][0] <= now:
                _, upstream, data = held.popleft()
                with contextlib.suppress(OSError):
                    if upstream:
                        back.send(data)
                    elif client is not None:
                        front.sendto(data, client)
    front.close()
    back.close()


# -- the lab: two namespaces and a veth pair ----------------------------------------------------
def sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=WAIT_S, check=check)


@dataclass
class Lab:
    client_ns: str
    server_ns: str
    client_if: str
    server_if: str
    procs: list[subprocess.Popen[str]] = field(default_factory=list)

    def exec_argv(self, ns: str, *argv: str) -> list[str]:
        return ["ip", "netns", "exec", ns, *argv]

    def nsexec(self, ns: str, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return sh(*self.exec_argv(ns, *argv), check=check)

    def start(self, ns: str, *argv: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            self.exec_argv(ns, *argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        self.procs.append(proc)
        return proc


def stop_process_keep_pipes(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def stop_process(proc: subprocess.Popen[str]) -> None:
    stop_process_keep_pipes(proc)
    for pipe in (proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()


def first_line(proc: subprocess.Popen[str], pattern: str, timeout: float = WAIT_S) -> re.Match[str]:
    """Wait (bounded) for *proc* to print a line matching *pattern*."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while (left := deadline - time.monotonic()) > 0:
            if not sel.select(left):
                break
            line = proc.stdout.readline()
            if not line:
                break
            seen.append(line)
            if match := re.search(pattern, line):
                return match
    stop_process_keep_pipes(proc)
    err = proc.stderr.read() if proc.stderr else ""
    raise AssertionError(f"no line matching {pattern!r} within {timeout} s: {seen}; stderr: {err}")


@pytest.fixture
def lab() -> Iterator[Lab]:
    from tests.requires import need_root  # here: this file also runs as a script, outside the package

    need_root("a network namespace")
    if shutil.which("ip") is None:
        pytest.skip("iproute2 ('ip') is not installed")
    tag = f"{os.getpid() % 100_000}{secrets.token_hex(2)}"  # veth names have at most 15 characters
    lab = Lab(f"slab-{tag}-c", f"slab-{tag}-s", f"slc{tag}", f"sls{tag}")
    created: list[str] = []
    try:
        for ns in (lab.client_ns, lab.server_ns):
            result = sh("ip", "netns", "add", ns, check=False)
            if result.returncode != 0:
                pytest.skip(f"'ip netns add' does not work here: {result.stderr.strip()}")
            created.append(ns)
        sh(
            "ip", "link", "add", lab.client_if, "netns", lab.client_ns,
            "type", "veth", "peer", "name", lab.server_if, "netns", lab.server_ns,
        )  # fmt: skip
        ends = ((lab.client_ns, lab.client_if, CLIENT_IP), (lab.server_ns, lab.server_if, SERVER_IP))
        for ns, dev, ip in ends:
            sh("ip", "-n", ns, "addr", "add", f"{ip}/24", "dev", dev)
            sh("ip", "-n", ns, "link", "set", dev, "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        yield lab
    finally:
        for proc in lab.procs:
            stop_process(proc)
        for ns in created:  # deleting a namespace deletes its end of the veth, and so the pair
            sh("ip", "netns", "del", ns, check=False)
        left = sh("ip", "netns", "list", check=False).stdout
        assert lab.client_ns not in left and lab.server_ns not in left, f"namespaces left: {left}"


def netem_works(lab: Lab) -> tuple[bool, str]:
    dev = lab.client_if
    result = lab.nsexec(
        lab.client_ns, "tc", "qdisc", "add", "dev", dev, "root", "netem", "delay", "1ms", check=False
    )
    if result.returncode == 0:
        lab.nsexec(lab.client_ns, "tc", "qdisc", "del", "dev", dev, "root")
        return True, ""
    return False, result.stderr.strip() or f"tc exited with {result.returncode}"


def add_loss_rules(lab: Lab, ns: str, dev: str, port_match: str) -> None:
    """Count what arrives over *dev* for our server's port, then drop a random tenth of it."""
    script = f"""
table inet slab {{
  chain input {{
    type filter hook input priority 0; policy accept;
    iifname "{dev}" {port_match} counter
    iifname "{dev}" {port_match} numgen random mod 10 == 0 counter drop
  }}
}}
"""
    result = subprocess.run(
        lab.exec_argv(ns, "nft", "-f", "-"), input=script, capture_output=True, text=True, timeout=WAIT_S
    )
    assert result.returncode == 0, f"nft refused the rules: {result.stderr}"


def loss_counters(lab: Lab, ns: str) -> tuple[int, int]:
    """(datagrams that arrived over the veth, datagrams the rule dropped) in *ns*."""
    doc = json.loads(lab.nsexec(ns, "nft", "-j", "list", "table", "inet", "slab").stdout)
    counted: list[tuple[bool, int]] = []
    for item in doc["nftables"]:
        rule = item.get("rule")
        if rule is None:
            continue
        packets = next(e["counter"]["packets"] for e in rule["expr"] if "counter" in e)
        counted.append((any("drop" in e for e in rule["expr"]), packets))
    [arrived] = [n for drop, n in counted if not drop]
    [dropped] = [n for drop, n in counted if drop]
    return arrived, dropped


def run_probe(lab: Lab, host: str, port: int) -> dict[str, object]:
    argv = [
        sys.executable, "-m", "netcore", "udp-echo", "--host", host, "--port", str(port),
        "--probe", str(PROBES), "--interval", str(INTERVAL_MS), "--timeout", str(TIMEOUT_S), "--json",
    ]  # fmt: skip
    result = subprocess.run(
        lab.exec_argv(lab.client_ns, *argv), capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert result.returncode == 0, f"probe failed ({result.returncode}): {result.stderr}"
    stats: dict[str, object] = json.loads(result.stdout)
    return stats


# -- the test -----------------------------------------------------------------------------------
def test_probe_over_a_lossy_delayed_link(lab: Lab) -> None:
    use_netem, why_not = netem_works(lab)
    if not use_netem and shutil.which("nft") is None:
        pytest.skip(f"no netem ({why_not}) and no nft to build the impairment (make system-deps)")

    server = lab.start(
        lab.server_ns,
        sys.executable, "-m", "netcore", "udp-echo-server", "--host", SERVER_IP, "--port", "0",
        "--quiet", "--duration", "60",
    )  # fmt: skip
    port = int(first_line(server, r"listening on [\d.]+:(\d+)").group(1))

    if use_netem:
        for ns, dev in ((lab.client_ns, lab.client_if), (lab.server_ns, lab.server_if)):
            lab.nsexec(
                ns, "tc", "qdisc", "add", "dev", dev, "root", "netem",
                "delay", f"{DELAY_MS}ms", "loss", f"{LOSS * 100:g}%",
            )  # fmt: skip
        target = (SERVER_IP, port)
    else:
        add_loss_rules(lab, lab.server_ns, lab.server_if, f"udp dport {port}")
        add_loss_rules(lab, lab.client_ns, lab.client_if, f"udp sport {port}")
        relay = lab.start(
            lab.client_ns,
            sys.executable, __file__, "relay", "--upstream", f"{SERVER_IP}:{port}",
            "--delay-ms", str(DELAY_MS), "--duration", "60",
        )  # fmt: skip
        target = ("127.0.0.1", int(first_line(relay, r"relay on [\d.]+:(\d+)").group(1)))

    t0 = time.monotonic()
    stats = run_probe(lab, *target)
    took = time.monotonic() - t0
    sent, received, lost = stats["sent"], stats["received"], stats["lost"]
    assert isinstance(sent, int) and isinstance(received, int) and isinstance(lost, int)
    print(
        f"\nimpairment by {'netem' if use_netem else 'nftables + delay relay'}: {sent} sent, "
        f"{received} received, {lost} lost ({stats['loss_percent']:.1f} %), round trip "
        f"min/p50/p99/max {stats['rtt_min_ms']:.1f}/{stats['rtt_p50_ms']:.1f}/{stats['rtt_p99_ms']:.1f}/"
        f"{stats['rtt_max_ms']:.1f} ms, probe took {took:.1f} s"
    )

    assert sent == PROBES
    assert stats["pending"] == 0 and stats["late"] == 0
    assert stats["duplicates"] == 0 and stats["unknown"] == 0
    assert received + lost == sent
    # A probe is lost if its request or its reply is dropped: P = 1 − (1 − 0.1)² = 0.19,
    # so about 38 of 200 (standard deviation about 5.5).
    p_lost = 1 - (1 - LOSS) ** 2
    lo, hi = binomial_band(PROBES, p_lost)
    assert lo <= lost <= hi, f"{lost} of {PROBES} lost; expected {PROBES * p_lost:.0f} (band {lo}–{hi})"

    if not use_netem:
        arrived_s, dropped_s = loss_counters(lab, lab.server_ns)
        arrived_c, dropped_c = loss_counters(lab, lab.client_ns)
        print(
            f"requests: {arrived_s} arrived, {dropped_s} dropped; replies: {arrived_c}, {dropped_c} dropped"
        )
        # Every request crossed the veth; the server answered each one that got through.
        assert arrived_s == PROBES
        assert arrived_c == arrived_s - dropped_s
        # Each way, the drops are Binomial(n, 0.1) of what arrived.
        for n, dropped in ((arrived_s, dropped_s), (arrived_c, dropped_c)):
            lo, hi = binomial_band(n, LOSS)
            assert lo <= dropped <= hi, f"{dropped} of {n} dropped (band {lo}–{hi})"
        # Exactly the dropped datagrams are missing: the probe counts what the firewall did.
        assert lost == dropped_s + dropped_c
        assert len(stats["lost_seqs"]) == lost  # type: ignore[arg-type]
        assert stats["reordered"] == 0  # the relay holds every datagram the same time: order is kept

    # About 20 ms each way, and the relay never forwards early.
    rtt_min, rtt_p50 = stats["rtt_min_ms"], stats["rtt_p50_ms"]
    assert isinstance(rtt_min, float) and isinstance(rtt_p50, float)
    assert rtt_min >= 2 * DELAY_MS - 0.5
    assert rtt_p50 < 2 * DELAY_MS + 15


if __name__ == "__main__" and sys.argv[1:2] == ["relay"]:
    relay_main(sys.argv[2:])
