"""Instructions per signed document of the service's whole work, counted by callgrind.

Run: ``.venv/bin/python bench/count_cycle.py [--docs K] [--base DIR]`` (needs valgrind)

One unit is ``bench_service.py``'s in-process cycle: ``POST /v1/documents`` (a
``direction``), ``POST …/signatures`` (server key, PAdES B-B), ``GET …/pdf`` through
Flask's test client on the embedded mode (SQLite, the local store), then the report job
that signing left. Why a count: the CPU time of ``bench_service.py --modes in-process``
drifts by tens of per cent with the machine's load; the instructions do not. Each child,
under ``valgrind --tool=callgrind``, sets up its own data folder, registers the client and
the key (command-line tools, not counted: valgrind does not follow them) and runs 2 or
``2 + K`` cycles; the difference divided by ``K`` is one document without start-up,
imports or first-use costs. User space only: the kernel's share (fsync, file writes) is
not counted. With ``--base DIR`` the same counts are made with that checkout's code too.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

from callgrind_count import compare

ROOT = Path(__file__).resolve().parent.parent


def child(trust_dir: str, p12: str, password_file: str, cycles: int) -> None:
    """``cycles`` in-process cycles on a new embedded service."""
    from signing import patches

    patches.apply()  # the service's start-up
    from bench_service import SIGNER, in_process_cycle

    pki = SimpleNamespace(p12={SIGNER: Path(p12)}, password_file=Path(password_file))
    with tempfile.TemporaryDirectory() as tmp:
        cycle, svc = in_process_cycle(pki, Path(trust_dir), Path(tmp))
        for _ in range(cycles):
            cycle()
        svc.db.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=6, help="K: the documents counted")
    parser.add_argument("--base", type=Path, help="a checkout of the code to compare with")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--run", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        child(*args.child, args.run)
        return 0

    sys.path.insert(0, str(ROOT))
    from bench_service import SIGNER, bench_pki

    with tempfile.TemporaryDirectory() as tmp, bench_pki(Path(tmp)) as (pki, trust_dir):
        child_args = [str(trust_dir), str(pki.p12[SIGNER]), str(pki.password_file)]
        compare(
            Path(__file__),
            lambda n: ["--child", *child_args, "--run", str(n)],
            args.docs,
            args.base,
            "signed document (create + sign + fetch + report job)",
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
