"""How `conceptgraph serve` holds up against runaway queries (issue 30): memory and fairness.

    python benchmarks/serve_bounds.py [--notes 1000] [--rss-cap 6144] [-- SERVE-OPTIONS...]

Generates (or reuses) a synthetic vault and runs two rounds, each against a fresh
``conceptgraph serve`` on a free loopback port (its workers included, in one process group):

1. memory: two ``SELECT ?a ?d {?a ?b ?c . ?d ?e ?f} ORDER BY ?c ?f`` at once. Prints the peak
   resident memory of the server and all its processes, sampled from ``/proc`` every 50 ms,
   and what each query was answered. Past ``--rss-cap`` MiB the server is killed, so an
   unbounded server cannot take the machine down.
2. fairness: ``--clients`` clients send a simple query back to back; after ``--before``
   seconds, 10 runaway queries (a four-way cross join) are sent at once, and the simple
   queries answered in the next ``--during`` seconds are counted.
3. attack (``--round attack``, issue 29): ``--clients`` clients back to back for ``--during``
   seconds while ``--slow`` sockets send headers a byte a second (slowloris) and
   ``--runaways`` runaway queries run; prints queries per second, p50/p99 latency, the
   answers that were not 200, and when the server let the slow sockets go.

Only 127.0.0.1 is ever contacted; every loop is bounded in time. Options after ``--`` go to
``serve`` (``-- --workers 4 --worker-memory 512``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from generate_vault import generate_vault

ORDERED = "SELECT ?a ?d {?a ?b ?c . ?d ?e ?f} ORDER BY ?c ?f"
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
SIMPLE = "ASK { ?c skos:prefLabel ?l }"


@contextlib.contextmanager
def serving(vault: Path, extra: list[str]) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """A server in its own process group, and its /sparql URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "conceptgraph", "serve", str(vault), "--port", "0", *extra],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    assert process.stderr is not None
    url = ""
    for line in process.stderr:
        match = re.search(r"at (http://\S+/sparql)", line)
        if match:
            url = match.group(1)
            break
    try:
        if not url:
            raise SystemExit("serve did not start")
        threading.Thread(target=lambda: [None for _ in process.stderr or []], daemon=True).start()
        yield process, url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def group_rss(leader: int) -> int:
    """Resident bytes of a process and every process below it, read from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    family, grew = {leader}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in family} - family
        family |= more
        grew = bool(more)
    total = 0
    for pid in family:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
    return total


def ask(url: str, query: str, timeout: float = 120) -> tuple[int, str]:
    """The status of one POSTed query and the first line of its body (or the error)."""
    body = urllib.parse.urlencode({"query": query}).encode()
    request = urllib.request.Request(url, data=body, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read(200).decode("utf-8", "replace")[:60]
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace").strip()[:120]
    except OSError as exc:
        return 0, str(exc)[:120]


def memory_round(vault: Path, extra: list[str], cap: int) -> None:
    with serving(vault, extra) as (process, url):
        idle = group_rss(process.pid)
        answers: list[tuple[int, str]] = []
        threads = [
            threading.Thread(target=lambda: answers.append(ask(url, ORDERED))) for _ in range(2)
        ]
        began = time.monotonic()
        for thread in threads:
            thread.start()
        peak, capped = idle, False
        while any(thread.is_alive() for thread in threads) and time.monotonic() - began < 120:
            peak = max(peak, group_rss(process.pid))
            if peak > cap:
                capped = True
                os.killpg(process.pid, signal.SIGKILL)
                break
            time.sleep(0.05)
        for thread in threads:
            thread.join(timeout=30)
        elapsed = time.monotonic() - began
        after = ask(url, SIMPLE, timeout=30) if not capped else (0, "server killed")
    print(f"memory: idle {idle / 2**20:.0f} MiB, peak {peak / 2**20:.0f} MiB in {elapsed:.1f} s")
    if capped:
        print(f"  killed at the {cap / 2**20:.0f} MiB cap")
    for status, text in answers:
        print(f"  ORDER BY query: {status} {text}")
    print(f"  a simple query afterwards: {after[0]} {after[1]}")


def fairness_round(vault: Path, extra: list[str], clients: int, before: float, during: float):
    with serving(vault, extra) as (_, url):
        answered: list[tuple[float, float, int]] = []  # (sent, latency, status)
        began = time.monotonic()
        stop = began + before + during

        def simple() -> None:
            while time.monotonic() < stop:
                sent = time.monotonic()
                status, _ = ask(url, SIMPLE, timeout=60)
                answered.append((sent - began, time.monotonic() - sent, status))

        runaways: list[tuple[int, str]] = []
        loops = [threading.Thread(target=simple, daemon=True) for _ in range(clients)]
        for thread in loops:
            thread.start()
        time.sleep(before)
        burst = [
            threading.Thread(target=lambda: runaways.append(ask(url, RUNAWAY)), daemon=True)
            for _ in range(10)
        ]
        for thread in burst:
            thread.start()
        for thread in loops:
            thread.join(timeout=before + during + 90)
        for thread in burst:
            thread.join(timeout=90)

    def done(start: float, end: float) -> list[tuple[float, float, int]]:
        return [a for a in answered if start <= a[0] + a[1] < end and a[2] == 200]

    first, second = done(0, before), done(before, before + during)
    waits = [latency for sent, latency, _ in answered if sent >= before]
    print(f"fairness: {clients} simple clients, 10 runaway queries sent at {before:g} s")
    print(f"  simple queries answered: {len(first) / before:.1f}/s before")
    print(f"  during the next {during:g} s: {len(second)} ({len(second) / during:.1f}/s)")
    if waits:
        print(f"  longest wait of a simple query sent after the burst: {max(waits):.2f} s")
    statuses: dict[int, int] = {}
    for status, _ in runaways:
        statuses[status] = statuses.get(status, 0) + 1
    print(f"  runaway answers by status: {dict(sorted(statuses.items()))}")
    for status, text in sorted(set(runaways))[:3]:
        print(f"    {status} {text}")


def attack_round(
    vault: Path, extra: list[str], clients: int, slow: int, runaways: int, during: float
) -> None:
    """``clients`` back-to-back clients while ``slow`` slowloris sockets and runaways run."""
    with serving(vault, extra) as (_, url):
        parts = urllib.parse.urlsplit(url)
        address = (parts.hostname or "127.0.0.1", parts.port or 80)
        began = time.monotonic()
        stop = began + during
        answered: list[tuple[float, int]] = []  # (latency, status)
        held: list[float] = []  # seconds the server held each slow socket

        def simple() -> None:
            while time.monotonic() < stop:
                sent = time.monotonic()
                status, _ = ask(url, SIMPLE, timeout=60)
                answered.append((time.monotonic() - sent, status))

        def slowloris() -> None:
            # Headers a byte a second, until the server lets go or the round ends.
            opened = time.monotonic()
            line = b"GET /sparql?query=ASK%20%7B%7D HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
            try:
                with socket.create_connection(address, timeout=5) as sock:
                    for byte in line + b"y" * 10_000:
                        if time.monotonic() > stop:
                            return
                        sock.send(bytes([byte]))
                        time.sleep(1.0)
            except OSError:
                held.append(time.monotonic() - opened)

        threads = [threading.Thread(target=slowloris, daemon=True) for _ in range(slow)]
        threads += [
            threading.Thread(target=lambda: ask(url, RUNAWAY), daemon=True) for _ in range(runaways)
        ]
        threads += [threading.Thread(target=simple, daemon=True) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=during + 90)
    latencies = sorted(latency for latency, status in answered if status == 200)
    errors: dict[int, int] = {}
    for _, status in answered:
        if status != 200:
            errors[status] = errors.get(status, 0) + 1
    print(
        f"attack: {clients} clients back to back for {during:g} s, {slow} slowloris sockets,"
        f" {runaways} runaway queries"
    )
    if latencies:
        p50 = latencies[len(latencies) // 2]
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        rate = len(latencies) / during
        print(
            f"  answered: {len(latencies)} ({rate:.1f}/s), p50 {p50 * 1000:.0f} ms,"
            f" p99 {p99 * 1000:.0f} ms"
        )
    print(f"  not answered 200, by status (0: no answer): {dict(sorted(errors.items()))}")
    if held:
        print(
            f"  slow sockets let go: {len(held)} of {slow}, after {min(held):.1f}-{max(held):.1f} s"
        )
    else:
        print(f"  slow sockets let go: 0 of {slow} (held for the whole round)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=1000)
    parser.add_argument("--rss-cap", type=int, default=6144, help="MiB; the server is killed past")
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--before", type=float, default=5.0)
    parser.add_argument("--during", type=float, default=10.0)
    parser.add_argument("--slow", type=int, default=100, help="slowloris sockets (attack)")
    parser.add_argument("--runaways", type=int, default=10, help="runaway queries (attack)")
    parser.add_argument("--round", choices=("memory", "fairness", "attack", "both"), default="both")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "cgbench")
    parser.add_argument("serve", nargs="*", help="options for serve, after --")
    args = parser.parse_args()

    vault = args.workdir / f"vault-{args.notes}-seed0"
    if not vault.exists():
        args.workdir.mkdir(parents=True, exist_ok=True)
        generate_vault(vault, args.notes, seed=0)
    print(f"vault: {args.notes} notes; serve {' '.join(args.serve) or '(defaults)'}")
    if args.round in ("memory", "both"):
        memory_round(vault, args.serve, args.rss_cap << 20)
    if args.round in ("fairness", "both"):
        fairness_round(vault, args.serve, args.clients, args.before, args.during)
    if args.round == "attack":
        attack_round(vault, args.serve, args.clients, args.slow, args.runaways, args.during)


if __name__ == "__main__":
    main()
