"""Server CPU of a new experiment: what one more student's slider costs the server.

    python benchmarks/experiment.py [count]

Starts one warmed replica (as in production, bnviz.ui.serve), then opens `count`
default-sized experiments the server has not seen (seeds 1, 2, ...), one after
another, each on the page's first screen (the training view and the Lessons tab,
runs A and B: BN on and off). For each it reads the CPU time (user + system) of
the server process and its worker processes from /proc before and after, so
the figure counts everything the server does for that visitor: both trainings,
the derived per-step numbers, the view's frames, the charts, pickling between
processes and Streamlit's own work. Prints the figures and the load average
(other work on the machine stretches wall times, not CPU times); nothing here is a test.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bnviz.ui.serve import Servers  # noqa: E402
from bnviz.ui.visit import visit_sync  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def tree_cpu(pid: int) -> dict:
    """{pid: CPU seconds (user + system, its own threads)} of pid and every descendant."""
    children: dict = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                children.setdefault(int(fields[1]), []).append(int(entry))
            except (OSError, ValueError, IndexError):
                continue
    out, todo = {}, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            out[p] = (int(fields[11]) + int(fields[12])) / TICK
        except (OSError, ValueError, IndexError):
            continue
        todo += children.get(p, [])
    return out


def new_experiment(base: str, pid: int, query: str) -> tuple:
    """(server CPU seconds, workers' CPU seconds, wall seconds) of one visit, once the processes are idle."""
    before = tree_cpu(pid)
    started = time.perf_counter()
    seen = visit_sync(base, query)
    wall = time.perf_counter() - started
    if not seen.ok:
        raise RuntimeError(f"{query}: {seen.failure}")
    time.sleep(0.3)                      # let the workers' progress readers and collectors settle
    after = tree_cpu(pid)
    server = after.get(pid, 0) - before.get(pid, 0)
    workers = sum(after[p] - before.get(p, 0) for p in after if p != pid)
    return server, workers, wall


def server_cpu(base: str, pid: int, seeds, idle_seconds: float = 5.0) -> dict:
    """CPU seconds per new experiment, from the process tree's clock ticks (1/100 s) summed over
    every visit and divided by their number (one visit alone is barely ten ticks), less what the
    idle server spends in the same time (Streamlit polls its config files). Returns per-visit rows
    [(server, workers, wall)], the mean per visit and the idle rate (CPU seconds per second)."""
    before, started = tree_cpu(pid), time.perf_counter()
    time.sleep(idle_seconds)
    after = tree_cpu(pid)
    idle = (sum(after.values()) - sum(before.get(p, 0) for p in after)) / (time.perf_counter() - started)
    rows, first, started = [], tree_cpu(pid), time.perf_counter()
    for seed in seeds:
        rows.append(new_experiment(base, pid, f"seed={seed}"))
    last = tree_cpu(pid)
    total = sum(last.values()) - sum(first.get(p, 0) for p in last) - idle * (time.perf_counter() - started)
    return {"rows": rows, "mean": total / len(rows), "idle": idle}


def main(argv=None) -> None:
    count = int((argv or sys.argv[1:] or ["8"])[0])
    with Servers(1, 8790, "127.0.0.1") as servers:
        pid = servers.pids[0]
        load = os.getloadavg()
        print(f"{os.cpu_count()} cores; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
              f"(server warmed in {servers.warm_seconds[0]:.1f} s)")
        measured = server_cpu(servers.url, pid, range(1, count + 1))
        print(f"{'link':<12} {'server s':>9} {'workers s':>9} {'total s':>8} {'wall s':>7}")
        for seed, (server, workers, wall) in zip(range(1, count + 1), measured["rows"]):
            print(f"{'seed=' + str(seed):<12} {server:9.2f} {workers:9.2f} {server + workers:8.2f} {wall:7.2f}")
        load = os.getloadavg()
        print(f"new default experiment, server CPU: {measured['mean']:.3f} s a visit (all {count} visits' clock "
              f"ticks, less the idle server's {measured['idle'] * 1e3:.1f} ms a second); "
              f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the end")


if __name__ == "__main__":
    main()
