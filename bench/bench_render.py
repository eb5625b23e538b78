"""Rendering throughput: documents per second on one core, and a 5,000-row report.

Run: ``python bench/bench_render.py [--seconds N] [--rows N]``

Prints, in one run:
- a baseline: a plain one-page ReportLab canvas with the same font (no PDF/A, no XML);
- per single-page kind: validation + XML + XSD check + PDF + PDF/A-3b pass, with and
  without re-validating the written PDF/A bytes, and the CPU time of one document as the
  service renders it (``render_checked``: the PDF/A check by document shape);
- a ``report_a3`` of ``--rows`` rows: wall time and peak memory (measured in a child
  process so the figures are its own).
Targets (issue 2): >= 50 documents/s; 5,000-row report <= 10 s and <= 300 MB.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SINGLE_PAGE = ("application", "center_application", "direction", "employment_direction", "e_appeal")
MAX_ITERATIONS = 10_000


def _rate(fn, seconds: float) -> float:
    fn()  # warm-up: fonts, schemas, templates
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds and count < MAX_ITERATIONS:
        fn()
        count += 1
    return count / (time.perf_counter() - start)


def _cpu_ms(fn, seconds: float) -> float:
    """CPU milliseconds per call (the machine may be shared: wall time is not the cost)."""
    fn()
    count, start, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds and count < MAX_ITERATIONS:
        fn()
        count += 1
    return (time.process_time() - cpu) / count * 1000


def _baseline() -> None:
    from reportlab.pdfgen.canvas import Canvas

    from docservice.rendering import fonts

    fonts.register()
    c = Canvas(io.BytesIO(), initialFontName=fonts.REGULAR)
    c.setFont(fonts.REGULAR, 12)
    for i in range(40):
        c.drawString(72, 800 - i * 18, "Қандастар мен олардың отбасы мүшелеріне өтініш")
    c.showPage()
    c.save()


def report_rows(rows: int) -> dict:
    """A synthetic Appendix 3 report with ``rows`` distinct, valid IINs."""
    from docservice.identifiers import check_digit

    data = json.loads((ROOT / "examples" / "report_a3.json").read_text(encoding="utf-8"))
    out, serial = [], 0
    while len(out) < rows:
        first = f"8503143{serial:04d}"
        serial += 1
        digit = check_digit(first)
        if digit is None:
            continue
        codes = [(len(out) + k * 7) % 25 + 1 for k in range(6)]
        out.append(
            {
                "iin": f"{first}{digit}",
                "services": [
                    {"code": c, "date": f"2026-10-{(c % 28) + 1:02d}"} for c in sorted(set(codes))
                ],
            }
        )
    data["rows"] = out
    return data


def _report_child(rows: int, lang: str) -> None:
    from docservice.render import render

    data = report_rows(rows)
    start = time.perf_counter()
    rendered = render("report_a3", data, lang)
    elapsed = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": elapsed, "peak_mb": peak_mb, "pdf_mb": len(rendered.pdf) / 2**20}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--child-report", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--lang", default="kk")
    parser.add_argument("--no-report", action="store_true", help="skip the report_a3 runs")
    args = parser.parse_args()
    if args.child_report:
        _report_child(args.rows, args.lang)
        return

    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    from pypdf import PdfReader

    from docservice.forms import all_kinds
    from docservice.render import render
    from docservice.service.documents import render_checked

    base = _rate(_baseline, args.seconds)
    print(f"baseline  plain ReportLab page            {base:8.1f} pages/s")
    for name in SINGLE_PAGE:
        if name not in all_kinds():
            continue
        data = json.loads((ROOT / "examples" / f"{name}.json").read_text(encoding="utf-8"))
        pages = len(PdfReader(io.BytesIO(render(name, data, "kk").pdf)).pages)
        full = _rate(lambda d=data, n=name: render(n, d, "kk"), args.seconds)
        fast = _rate(lambda d=data, n=name: render(n, d, "kk", validate_pdfa=False), args.seconds)
        checked = _cpu_ms(lambda d=data, n=name: render_checked(n, d, "kk"), args.seconds)
        print(
            f"{name:22} {pages} p. {fast:6.1f} docs/s ({fast / base:4.2f}x the baseline's rate);"
            f" re-validating the written PDF/A too: {full:6.1f} docs/s;"
            f" render_checked {checked:5.2f} ms CPU/doc"
        )
    for lang in () if args.no_report else ("kk", "kk+ru"):
        proc = subprocess.run(
            [sys.executable, __file__, "--child-report", "--rows", str(args.rows), "--lang", lang],
            capture_output=True,
            text=True,
            check=True,
            timeout=600,
        )
        result = json.loads(proc.stdout)
        print(
            f"report_a3 {args.rows} rows {lang:5}      {result['seconds']:6.2f} s, peak "
            f"{result['peak_mb']:6.1f} MB, PDF {result['pdf_mb']:.1f} MB"
        )


if __name__ == "__main__":
    main()
