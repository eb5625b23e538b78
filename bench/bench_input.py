"""What input hardening and the fallback fonts cost (issue 13).

Run: ``python bench/bench_input.py [--seconds N] [--rows N]``

Prints, in one run:
- parsing a ``report_a3`` of ``--rows`` rows: plain ``json.loads`` (the baseline)
  against :func:`~docservice.forms.json_input.decode_json` (limits, duplicate
  keys, surrogates) and the whole :func:`parse_input` (plus the kind's validation);
- rendering an e-appeal whose content is Kazakh only (the baseline) against the
  same length of mixed Kazakh, Arabic-script, CJK and symbols text, which loads
  and subsets three more faces.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from docservice.forms import get_kind  # noqa: E402
from docservice.forms.json_input import decode_json, parse_input  # noqa: E402
from docservice.identifiers import check_digit  # noqa: E402
from docservice.render import render_valid  # noqa: E402
from tests.conftest import example  # noqa: E402

MAX_ITERATIONS = 10_000
MIXED = (
    "Сәлеметсіз бе! قازاق ءتىلى مەن قىتايدان كەلدىم. 我从中国新疆来，想办身份证。 → ✓ ☎ € № α β γ "
)


def _per_call(fn, seconds: float) -> float:
    fn()  # warm-up: fonts, schemas, templates
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds and count < MAX_ITERATIONS:
        fn()
        count += 1
    return (time.perf_counter() - start) / count


def _iins(count: int) -> list[str]:
    """``count`` distinct valid IINs (born 1 January 1985, men of the 20th century)."""
    out = []
    for serial in range(10 * count):
        first11 = f"8501013{serial:04d}"
        digit = check_digit(first11)
        if digit is not None:
            out.append(f"{first11}{digit}")
        if len(out) == count:
            return out
    raise ValueError(count)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--rows", type=int, default=5000)
    args = parser.parse_args()

    report = example("report_a3")
    template = report["rows"][0]
    report["rows"] = [{**template, "iin": iin} for iin in _iins(args.rows)]
    raw = json.dumps(report, ensure_ascii=False).encode()
    base = _per_call(lambda: json.loads(raw), args.seconds)
    decoded = _per_call(lambda: decode_json(raw, "report_a3"), args.seconds)
    print(
        f"report_a3 {args.rows} rows ({len(raw) / 1e6:.1f} MB): json.loads {base * 1e3:.1f} ms, "
        f"decode_json {decoded * 1e3:.1f} ms ({decoded / base:.2f}x)"
    )
    validated = _per_call(lambda: parse_input("report_a3", raw), args.seconds)
    print(f"  parse_input (with the kind's validation) {validated * 1e3:.1f} ms")

    appeal = get_kind("e_appeal")
    plain, mixed = example("e_appeal"), example("e_appeal")
    length = 3000
    plain["content"] = ("Сәлеметсіз бе! Қарағанды облысына көшіп келдік, анықтама беріңіз. " * 100)[
        :length
    ].strip()
    mixed["content"] = (MIXED * 100)[:length].strip()
    rates = {}
    for name, data in (("kazakh only", plain), ("mixed scripts", mixed)):
        cleaned = appeal.validate(data)
        rates[name] = _per_call(lambda c=cleaned: render_valid(appeal, c, "kk"), args.seconds)
    kazakh, other = rates["kazakh only"], rates["mixed scripts"]
    print(
        f"e_appeal, {length} characters of content: kazakh only {kazakh * 1e3:.0f} ms, "
        f"mixed scripts {other * 1e3:.0f} ms ({other / kazakh:.2f}x)"
    )


if __name__ == "__main__":
    main()
