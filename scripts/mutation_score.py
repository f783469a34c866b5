"""Mutation score of the last `mutmut run`, per module: killed / all mutants.

A mutant counts as killed when a test failed or timed out on it. Mutants no
selected test reaches ("no tests") count against the score. Prints the
survivors and exits with 1 when the score is under the bar (default 90 %).
"""
from __future__ import annotations

import subprocess
import sys
from collections import Counter, defaultdict

BAR = float(sys.argv[1]) if len(sys.argv) > 1 else 90.0


def main() -> int:
    lines = subprocess.run([sys.executable, "-m", "mutmut", "results", "--all", "true"],
                           capture_output=True, text=True, check=True).stdout.splitlines()
    by_module: dict = defaultdict(Counter)
    left = []
    for line in lines:
        name, _, status = line.strip().rpartition(": ")
        if not name:
            continue
        module = name.split(".x")[0]
        by_module[module][status] += 1
        if status not in ("killed", "timeout"):
            left.append(f"{status:>10}  {name}")
    total = killed = 0
    for module, counts in sorted(by_module.items()):
        n, k = sum(counts.values()), counts["killed"] + counts["timeout"]
        total, killed = total + n, killed + k
        print(f"{module:<22} {k:>5} of {n:>5} killed ({100 * k / n:5.1f} %)   {dict(counts)}")
    score = 100 * killed / max(total, 1)
    print(f"{'all':<22} {killed:>5} of {total:>5} killed ({score:5.1f} %)")
    print("\nnot killed:\n" + "\n".join(left))
    return 0 if score >= BAR else 1


if __name__ == "__main__":
    sys.exit(main())
