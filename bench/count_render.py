"""Instructions per document that ``render_checked`` renders and checks, counted by callgrind.

Run: ``.venv/bin/python bench/count_render.py [--docs K] [--lang kk] [--base DIR]``
(needs valgrind)

One unit is what ``POST /v1/documents`` spends on the document itself:
:func:`docservice.service.documents.render_checked` of one of ``bench_service.py``'s
direction documents (the example with other names and another number each time: no
cache of a name's glyphs can make the figure look better than the service is). Each child,
under ``valgrind --tool=callgrind``, renders 2 or ``2 + K`` of them; the difference divided
by ``K`` is one document without start-up, imports or first-use costs (the first full
PDF/A validation of the shape included). With ``--base DIR`` the same counts are made with
that checkout's code too; the children run in parallel.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from callgrind_count import compare


def child(lang: str, documents: int) -> None:
    """Render and check ``documents`` of the service benchmark's direction documents."""
    # docservice first: bench_service puts this script's checkout first on sys.path, and
    # the base's code must be the one counted.
    from docservice.service.documents import render_checked

    from bench_service import KIND, _Documents  # isort: skip

    source = _Documents()
    for _ in range(documents):
        assert render_checked(KIND, source.next(), lang).pdf


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=6, help="K: the documents counted")
    parser.add_argument("--lang", default="kk", help="kk, ru or kk+ru (the service's default: kk)")
    parser.add_argument("--base", type=Path, help="a checkout of the code to compare with")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        child(args.lang, args.child)
        return 0
    compare(
        Path(__file__),
        lambda n: ["--lang", args.lang, "--child", str(n)],
        args.docs,
        args.base,
        "rendered document (render_checked)",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
