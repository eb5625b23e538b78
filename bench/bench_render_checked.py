"""CPU time of one document as the service renders it (``render_checked``), this tree
against a baseline tree, alternating in fresh processes.

Run: ``python bench/bench_render_checked.py --baseline DIR [--kinds direction application]
[--docs 300] [--rounds 3]`` where DIR is a checkout (e.g. a ``git worktree`` of the base
commit) run with this interpreter.

Prints, per kind and round, the CPU milliseconds per document of each tree for the example
input repeated ("same") and for the example with other names in every document ("names"),
so that caches keyed by what a document prints are not all the figure shows, and the
median ratio. CPU time, not wall time: the machine may be shared.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import copy, json, random, sys, time
from docservice.service.documents import render_checked
kind, count, vary = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "names"
base = json.load(open(f"examples/{kind}.json", encoding="utf-8"))
upper, lower = "АӘБВГҒДЕЖЗИЙКҚЛМНҢОӨПРСТУҰҮФХҺЦЧШЫІЭЮЯ", "аәбвгғдежзийкқлмнңоөпрстуұүфхһцчшыіэюя"
rng = random.Random(7)
def name():
    words = (rng.choice(upper) + "".join(rng.choices(lower, k=rng.randint(4, 9))) for _ in range(3))
    return " ".join(words)
def renamed(value):
    if isinstance(value, dict):
        return {k: name() if k == "full_name" else renamed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [renamed(v) for v in value]
    return value
docs = [renamed(base) if vary else copy.deepcopy(base) for _ in range(count + 5)]
for data in docs[:5]:
    render_checked(kind, data, "kk")
start = time.process_time()
for data in docs[5:]:
    render_checked(kind, data, "kk")
print((time.process_time() - start) / count * 1000)
"""


def _cpu_ms(tree: Path, kind: str, count: int, mode: str) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, kind, str(count), mode],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=900,
    )
    return float(done.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", type=Path, required=True, help="the tree to compare with")
    parser.add_argument("--kinds", nargs="+", default=["direction", "application"])
    parser.add_argument("--docs", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for kind in args.kinds:
        for mode in ("same", "names"):
            ratios = []
            for _ in range(args.rounds):
                old = _cpu_ms(args.baseline.resolve(), kind, args.docs, mode)
                new = _cpu_ms(ROOT, kind, args.docs, mode)
                ratios.append(new / old)
                print(f"{kind:20} {mode:5} baseline {old:6.2f} ms  this tree {new:6.2f} ms CPU/doc")
            print(f"{kind:20} {mode:5} median ratio {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
