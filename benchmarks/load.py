"""A classroom against the lab: websocket visitors on 127.0.0.1, one process and N replicas behind nginx.

    python benchmarks/load.py                 # everything (make bench-load)
    python benchmarks/load.py --quick         # fewer visitors, one process only

Scenarios, each on freshly started servers (warmed as in production):
  one link      30 visitors (60 with replicas) open the default experiment at once
  distinct      30 visitors each open a different default-sized experiment (seeds 1..30)
  bad links     the costly links, all at once (also: when each one's note arrived)
Prints time-to-page p50/p95/max (connect to the page's finished script run), failed visitors,
/_stcore/health latency (polled every 0.25 s throughout), and the servers' memory (every replica
with its worker processes): peak during the scenario and settled 5 s after it. Every loop is
bounded by a count and a timeout; nothing leaves 127.0.0.1.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bnviz.ui.serve import Servers  # noqa: E402
from bnviz.ui.visit import visit  # noqa: E402

BAD_LINKS = (
    "dataset=moons&data_size=1e308&batch_size=0&epochs=1e308&hidden=16,16,16,16,16,16,16,16",
    "dataset=moons&data_size=5000&batch_size=1&epochs=500&hidden=16,16,16,16,16,16,16,16",
    "dataset=moons&data_size=5000&hidden=16,16,16,16,16,16,16,16&tab=Loss%20landscape",
    "batch_size=1&epochs=500&hidden=16,16,16,16,16,16,16,16",
)
VISIT_TIMEOUT = 180.0


def tree_rss(pids: list) -> int:
    """Resident bytes of these processes and all their descendants (read from /proc)."""
    children: dict = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except (OSError, ValueError, IndexError):
                continue
    total, todo, seen = 0, list(pids), set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        todo += children.get(pid, [])
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError):
            pass
    return total


class Watch:
    """Health latency and memory, sampled on threads while a scenario runs."""

    def __init__(self, health_urls: list, pids: list):
        self.health_urls, self.pids = health_urls, pids
        self.health: list = []
        self.health_failures = 0
        self.peak = 0
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._poll_health, daemon=True),
                         threading.Thread(target=self._poll_memory, daemon=True)]

    def __enter__(self):
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for t in self._threads:
            t.join(10)

    def _poll_health(self):
        while not self._stop.wait(0.25):
            for url in self.health_urls:
                started = time.perf_counter()
                try:
                    urllib.request.urlopen(url + "/_stcore/health", timeout=5).read()
                    self.health.append(time.perf_counter() - started)
                except OSError:
                    self.health_failures += 1
                    self.health.append(time.perf_counter() - started)

    def _poll_memory(self):
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, tree_rss(self.pids))


async def crowd(base: str, queries: list) -> tuple:
    """Everyone at once; returns (visits, seconds until the last page was ready)."""
    started = time.perf_counter()
    visits = await asyncio.gather(*(visit(base, q, VISIT_TIMEOUT) for q in queries))
    return visits, time.perf_counter() - started


def scenario(name: str, replicas: int, queries: list, port: int, check=None) -> dict:
    with Servers(replicas, port, "127.0.0.1") as servers:
        rest = tree_rss(servers.pids)
        with Watch(servers.replica_urls, servers.pids) as watch:
            visits, makespan = asyncio.run(crowd(servers.url, queries))
        time.sleep(5)
        settled = tree_rss(servers.pids)
    times = np.array([v.seconds for v in visits if v.ok])
    failed = [v for v in visits if not v.ok or (check and not check(v))]
    health = np.array(watch.health) if watch.health else np.array([np.nan])
    row = dict(name=name, replicas=replicas, visitors=len(queries), ok=len(times), failed=len(failed),
               p50=np.percentile(times, 50) if len(times) else np.nan,
               p95=np.percentile(times, 95) if len(times) else np.nan,
               max=times.max() if len(times) else np.nan, makespan=makespan,
               health_p95=np.percentile(health, 95), health_max=health.max(), health_failures=watch.health_failures,
               rest_mb=rest / 2**20, peak_mb=max(watch.peak, rest) / 2**20, settled_mb=settled / 2**20)
    print(f"{name:<28} {replicas:>2} {len(queries):>3} {row['p50']:6.2f} {row['p95']:6.2f} {row['max']:6.2f} "
          f"{makespan:7.2f} {row['failed']:>4} {row['health_p95']:7.3f} {row['health_max']:7.3f} "
          f"{row['rest_mb']:7.0f} {row['peak_mb']:7.0f} {row['settled_mb']:8.0f}", flush=True)
    if check is has_note:
        notes = [v.first_alert(NOTE) for v in visits]
        print(f"    the note arrived after {' '.join(f'{t:.2f}' for t in notes)} s (max {max(notes):.2f} s); "
              "the rest of the page is the bounded experiment training", flush=True)
    for v in failed[:3]:
        print(f"    failed: {v.query[:60]!r}: {v.failure or 'no note'}", flush=True)
    return row


NOTE = "nearest experiment"


def has_note(v) -> bool:
    return any(NOTE in text for text in v.texts("info"))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="load benchmark")
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--port", type=int, default=8750)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    load = os.getloadavg()
    print(f"{os.cpu_count()} cores; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the start")
    print(f"{'scenario':<28} {'N':>2} {'vis':>3} {'p50':>6} {'p95':>6} {'max':>6} {'all':>7} {'fail':>4} "
          f"{'hlth95':>7} {'hlthmax':>7} {'restMB':>7} {'peakMB':>7} {'settleMB':>8}")
    n = 10 if args.quick else 30
    distinct = [f"seed={i}" for i in range(1, n + 1)]
    rows = [scenario("one link", 1, [""] * n, args.port),
            scenario("distinct experiments", 1, distinct, args.port),
            scenario("bad links", 1, list(BAD_LINKS), args.port, has_note)]
    if not args.quick:
        rows.append(scenario("one link, 60 visitors", 1, [""] * 60, args.port))
        r = args.replicas
        rows += [scenario("one link, 60 visitors", r, [""] * 60, args.port),
                 scenario("distinct experiments", r, distinct, args.port),
                 scenario("bad links", r, list(BAD_LINKS), args.port, has_note)]
        one, many = rows[3]["makespan"], rows[4]["makespan"]
        print(f"60 visitors on one link: {one:.2f} s on one process, {many:.2f} s on {r} replicas "
              f"({one / many:.2f}x)")
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the end "
          "(other work on the machine slows every figure above)")


if __name__ == "__main__":
    main()
