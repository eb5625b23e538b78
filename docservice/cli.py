"""The ``docservice`` command line.

Every failure the caller can fix prints one clear message per problem and exits
with status 2; nothing is written in that case. Logging is set up once, here
(:mod:`docservice.logging_setup`): no library record, and no traceback, reaches the
terminal; an unexpected failure is one line and exit status 70.

Each command imports what it needs in its handler, not here: every run of ``docservice``
(and every ``--help``) builds the whole parser first, and a module-level import of the
forms, the renderer, pyHanko or the verifier would make all of them pay for all of it.
:func:`main` applies :func:`signing.patches.apply` before any handler runs, so whatever a
handler imports or loads already sees the patched libraries.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from docservice import cli_errors, logging_setup
from docservice.cli_errors import fail
from docservice.errors import DocserviceError, InputError
from docservice.languages import LANG_CHOICES

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"
#: Exit status of a failure the caller cannot fix (sysexits' EX_SOFTWARE).
EXIT_INTERNAL = cli_errors.EXIT_INTERNAL
log = logging.getLogger(__name__)


def _read_input(path: Path) -> bytes:
    """The bytes of ``path``, reading at most one byte past the input limit."""
    from docservice.forms.json_input import MAX_INPUT_BYTES

    try:
        with path.open("rb") as fh:
            return fh.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        raise DocserviceError(f"{path}: {exc.strerror}") from None


def _read_json(path: Path, kind: str) -> Any:
    from docservice.forms.json_input import decode_json

    return decode_json(_read_input(path), kind)


def _print_input_error(exc: InputError, lang: str) -> None:
    for item in exc.messages(lang):
        print(item["message"], file=sys.stderr)


def cmd_kinds(args: argparse.Namespace) -> int:
    from docservice.forms import all_kinds

    for kind in all_kinds().values():
        own = " (layout: the service's own design)" if kind.own_layout else ""
        print(f"{kind.name:22} {kind.source}{own}")
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    from docservice.forms import get_kind
    from docservice.forms.json_input import parse_input
    from docservice.render import render_valid, write

    kind = get_kind(args.kind)
    cleaned = parse_input(kind.name, _read_input(Path(args.data)))
    rendered = render_valid(kind, cleaned, args.lang)
    for path in write(rendered, Path(args.out)):
        print(path)
    return 0


def cmd_render_examples(args: argparse.Namespace) -> int:
    """Render every example in every language: the service's smoke run."""
    from docservice.forms import all_kinds
    from docservice.render import render, write

    examples = Path(args.examples)
    for kind in all_kinds().values():
        data = _read_json(examples / f"{kind.name}.json", kind.name)
        for lang in LANG_CHOICES:
            for path in write(render(kind.name, data, lang), Path(args.out)):
                print(path)
    return 0


def cmd_xsd(args: argparse.Namespace) -> int:
    from docservice.forms import all_kinds
    from docservice.rendering.xsd import published_files
    from docservice.resources import data_dir

    target = data_dir("xsd")
    stale = []
    for name, content in published_files(list(all_kinds().values())).items():
        path = target / name
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != content:
            stale.append(name)
            if args.write:
                path.write_text(content, encoding="utf-8")
    for name in stale:
        print(("written " if args.write else "out of date ") + str(target / name))
    return 0 if args.write or not stale else 1


def cmd_report_a3(args: argparse.Namespace) -> int:
    """The month's Appendix 3 report of a region, from a folder of activity reports."""
    from docservice import a3_from_activities as a3
    from docservice.render import render, write

    try:
        data = a3.build(
            a3.load_reports(Path(args.reports)),
            region=args.region,
            month=args.month,
            issue_date=args.issue_date,
            prepared_by={"full_name": args.prepared_by, "position": args.position},
            career_center=args.career_center,
        )
    except a3.ActivityReportError as exc:
        print(f"docservice: {exc.source}:", file=sys.stderr)
        _print_input_error(exc.error, args.lang)
        return 2
    if args.data_only:
        print(json.dumps(data, ensure_ascii=False, indent=1))
        return 0
    for path in write(render("report_a3", data, args.lang), Path(args.out)):
        print(path)
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from docservice.forms import get_kind

    print(json.dumps(get_kind(args.kind).json_schema(), ensure_ascii=False, indent=2))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """The service (API, verification page, operations) under gunicorn."""
    from docservice.service.cli import cmd_serve as serve

    return serve(args)


def build_parser() -> argparse.ArgumentParser:
    from docservice.service import cli as service_cli

    parser = argparse.ArgumentParser(prog="docservice", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("kinds", help="list the document kinds").set_defaults(handler=cmd_kinds)

    p = sub.add_parser("render", help="render one document to PDF/A-3b and XML")
    p.add_argument("kind")
    p.add_argument("--lang", choices=LANG_CHOICES, default="kk")
    p.add_argument("--data", required=True, help="the document's JSON input")
    p.add_argument("--out", required=True, help="folder to write the PDF and the XML into")
    p.set_defaults(handler=cmd_render)

    p = sub.add_parser(
        "render-examples", help="render examples/KIND.json for every kind and language"
    )
    p.add_argument("--examples", default=str(EXAMPLES_DIR))
    p.add_argument("--out", default="out")
    p.set_defaults(handler=cmd_render_examples)

    p = sub.add_parser("xsd", help="check (or --write) the published XSDs against the kinds")
    p.add_argument("--write", action="store_true")
    p.set_defaults(handler=cmd_xsd)

    p = sub.add_parser(
        "report-a3",
        help="build a region's monthly Appendix 3 report from its activity reports and render it",
    )
    p.add_argument("--reports", required=True, help="folder of activity_report JSON files")
    p.add_argument("--region", required=True)
    p.add_argument("--month", required=True, help="YYYY-MM")
    p.add_argument(
        "--career-center", help="needed when the region's reports come from several career centres"
    )
    p.add_argument("--prepared-by", required=True, help="full name of who prepares the report")
    p.add_argument("--position", required=True, help="their position")
    p.add_argument("--issue-date", required=True, help="YYYY-MM-DD")
    p.add_argument("--lang", choices=LANG_CHOICES, default="kk")
    p.add_argument("--out", default="out")
    p.add_argument(
        "--data-only", action="store_true", help="print the report_a3 JSON instead of rendering it"
    )
    p.set_defaults(handler=cmd_report_a3)

    p = sub.add_parser("schema", help="print the JSON Schema of a kind's input")
    p.add_argument("kind")
    p.set_defaults(handler=cmd_schema)

    p = sub.add_parser("serve", help="serve the API, the verification page and POST /v1/verify")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    p.add_argument(
        "--trust",
        help="folder of trusted root/CA certificates "
        "(default: $DOCSERVICE_TRUST_DIR or /etc/docservice/trust)",
    )
    p.add_argument(
        "--offline", action="store_true", help="use only revocation data inside the files"
    )
    service_cli.add_serve_arguments(p)
    p.set_defaults(handler=cmd_serve)

    from docservice.verification import cli as verification_cli
    from signing import cli as signing_cli

    signing_cli.add_cli(sub)
    verification_cli.add_cli(sub)
    service_cli.add_cli(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging_setup.configure("server" if args.command == "serve" else "cli")
    from signing import patches  # pyHanko and co.: only once a command is to run

    patches.apply()
    try:
        return args.handler(args)
    except (Exception, KeyboardInterrupt) as exc:  # one mapping: docservice.cli_errors
        # e.g. --out names a file, a full disk: the path and why; a bug: one line, and its
        # type and place in the log.
        return fail("docservice", exc, getattr(args, "lang", "kk"), command=args.command)


if __name__ == "__main__":
    sys.exit(main())
