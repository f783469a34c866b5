"""Visitors through compose.yaml's nginx, with the containers' memory read from the engine.

    python scripts/compose_visits.py http://127.0.0.1:8500 --engine podman --containers ID1 ID2 [--quick]

Run by scripts/check_compose.sh once both replicas are healthy. Checks, each printed as ok/FAILED:
  the default page and the Training tab load through nginx (its charts drawn, no exception);
  one link gives byte-identical charts from both replicas (fresh visitors until both served it);
  classrooms: 30 visitors on one link, 30 on distinct experiments (seeds 1..30), the costly links
  (each must get its note), with time to page p50/p95/max, nginx's /_stcore/health latency and
  every container's memory (the engine's `stats`: peak during the scenario, and settled 5 s after;
  at the end each container's true peak from its cgroup, where readable);
  no container was restarted or killed for memory.
Exits 1 when a check failed. Every loop is bounded by a count and a timeout.
"""
from __future__ import annotations

import argparse
import asyncio
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.load import BAD_LINKS, Watch, crowd, has_note
from bnviz.ui.visit import visit_sync

SAME_LINK = "lr=0.3&hidden=4,2&epochs=12&compare=off&tab=Training"
UNITS = {"b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "kib": 2**10, "mib": 2**20, "gib": 2**30}


def to_bytes(text: str) -> float:
    """'484.9MB' or '1.5GiB' (podman and docker print either) -> bytes."""
    number, unit = re.fullmatch(r"\s*([\d.]+)\s*([a-zA-Z]+)\s*", text).groups()
    return float(number) * UNITS[unit.lower()]


class Engine:
    def __init__(self, command: str, containers: list):
        self.command, self.containers = command, containers

    def memory(self) -> dict:
        """{container name: bytes in use} from one `stats --no-stream`."""
        out = subprocess.run([self.command, "stats", "--no-stream", "--format", "{{.Name}}\t{{.MemUsage}}",
                              *self.containers], capture_output=True, text=True, timeout=60, check=True).stdout
        usage = {}
        for line in out.splitlines():
            name, mem = line.split("\t")
            usage[name] = to_bytes(mem.split("/")[0])
        return usage

    def restarts(self) -> dict:
        """{container name: (restart count, killed for memory)}."""
        out = subprocess.run([self.command, "inspect", "--format", "{{.Name}}\t{{.RestartCount}}\t{{.State.OOMKilled}}",
                              *self.containers], capture_output=True, text=True, timeout=60, check=True).stdout
        rows = [line.split("\t") for line in out.splitlines()]
        return {name.lstrip("/"): (int(count), oom == "true") for name, count, oom in rows}


    def peaks(self) -> dict:
        """{container name: most memory it ever used, page cache included}, from its cgroup (cgroup v1
        memory.max_usage_in_bytes or v2 memory.peak; empty where the engine's cgroups are not readable
        from here, as with a remote engine)."""
        out = subprocess.run([self.command, "inspect", "--format", "{{.Name}}\t{{.State.Pid}}", *self.containers],
                             capture_output=True, text=True, timeout=60, check=True).stdout
        found = {}
        for name, pid in (line.split("\t") for line in out.splitlines()):
            try:
                for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
                    _, controllers, path = line.split(":", 2)
                    v1 = Path(f"/sys/fs/cgroup/memory{path}/memory.max_usage_in_bytes")
                    v2 = Path(f"/sys/fs/cgroup{path}/memory.peak")
                    if "memory" in controllers.split(",") and v1.exists():
                        found[name.lstrip("/")] = int(v1.read_text())
                    elif controllers == "" and v2.exists():
                        found[name.lstrip("/")] = int(v2.read_text())
            except (OSError, ValueError):
                continue
        return found


class ContainerWatch(Watch):
    """nginx's health latency, and each container's memory as the engine reports it (peak: {name: bytes})."""

    def __init__(self, base: str, engine: Engine):
        super().__init__([base], [])
        self.engine, self.peak = engine, {}

    def _poll_memory(self):
        while not self._stop.wait(0.5):
            for name, used in self.engine.memory().items():
                self.peak[name] = max(self.peak.get(name, 0), used)


def check(name: str, ok: bool, detail: str = "") -> bool:
    print(f"{'ok' if ok else 'FAILED':>6}  {name}{': ' + detail if detail else ''}", flush=True)
    return ok


def same_numbers(base: str) -> bool:
    seen: dict = {}
    for _ in range(24):         # a fresh visitor (no cookie) lands on either replica
        v = visit_sync(base, SAME_LINK, keep_specs=True)
        if v.upstream and "," in v.upstream:    # nginx tried an address where no replica answered
            return check("one link, both replicas", False, f"nginx had to try {v.upstream}")
        if v.ok and v.upstream:
            seen.setdefault(v.upstream, v)
        if len(seen) == 2:
            break
    if len(seen) < 2:
        return check("one link, both replicas", False, f"only {list(seen)} served it in 24 visits")
    first, second = seen.values()
    return check("one link, both replicas", first.charts > 0 and first.specs == second.specs,
                 f"{first.charts} charts from {' and '.join(seen)}, "
                 f"{'identical' if first.specs == second.specs else 'DIFFERENT'}")


def scenario(name: str, base: str, engine: Engine, queries: list, note=None) -> bool:
    rest = engine.memory()
    with ContainerWatch(base, engine) as watch:
        visits, makespan = asyncio.run(crowd(base, queries))
    time.sleep(5)
    settled = engine.memory()
    times = np.array([v.seconds for v in visits if v.ok])
    failed = [v for v in visits if not v.ok or (note and not note(v))]
    health = np.array(watch.health or [np.nan])
    mb = {n: f"{rest[n] / 2**20:.0f}/{max(watch.peak.get(n, 0), rest[n]) / 2**20:.0f}/{settled[n] / 2**20:.0f}"
          for n in sorted(rest)}
    pct = (f"p50 {np.percentile(times, 50):.2f} p95 {np.percentile(times, 95):.2f} max {times.max():.2f} s"
           if len(times) else "no page finished")
    detail = (f"{len(queries)} visitors, {pct}, all in {makespan:.1f} s; health p95 {np.percentile(health, 95):.3f} "
              f"max {health.max():.3f} s ({watch.health_failures} unanswered); MB rest/peak/settled "
              + ", ".join(f"{n} {m}" for n, m in mb.items()))
    for v in failed[:3]:
        detail += f"\n          failed: {v.query[:60]!r}: {v.failure or 'no note'}"
    return check(name, not failed and watch.health_failures == 0, detail)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base")
    parser.add_argument("--engine", default="podman")
    parser.add_argument("--containers", nargs="+", required=True, help="every container of the stack")
    parser.add_argument("--quick", action="store_true", help="10 visitors a scenario, no costly links")
    parser.add_argument("--same-only", action="store_true", help="only: one link, same charts from both replicas")
    args = parser.parse_args(argv)
    engine, base = Engine(args.engine, args.containers), args.base.rstrip("/")
    if args.same_only:
        sys.exit(0 if same_numbers(base) else 1)
    n = 10 if args.quick else 30
    first, training = visit_sync(base, ""), visit_sync(base, "tab=Training")
    results = [check("default page through nginx", first.ok,
                     f"{first.seconds:.2f} s from {first.upstream}" if first.ok else first.failure or ""),
               check("Training tab through nginx", training.ok and training.charts > 0,
                     f"{training.charts} charts in {training.seconds:.2f} s from {training.upstream}"
                     if training.ok else training.failure or ""),
               same_numbers(base),
               scenario("one link", base, engine, [""] * n),
               scenario("distinct experiments", base, engine, [f"seed={i}" for i in range(1, n + 1)])]
    if not args.quick:
        results.append(scenario("costly links", base, engine, list(BAD_LINKS), has_note))
    peaks = engine.peaks()
    if peaks:
        print("        memory peak since the start (cgroup): "
              + ", ".join(f"{n} {b / 2**20:.0f} MB" for n, b in sorted(peaks.items())), flush=True)
    restarts = engine.restarts()
    results.append(check("no restarts, nothing killed for memory",
                         all(count == 0 and not oom for count, oom in restarts.values()), str(restarts)))
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
