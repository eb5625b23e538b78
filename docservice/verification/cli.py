"""``docservice verify FILE [--original F] [--trust DIR] [--json] [--lang kk|ru]``.

Exit codes let scripts act without parsing: 0 every signature passed, 1 any failed,
2 any indeterminate - and 2 with one clear line on stderr when the input cannot be
verified at all (unreadable, not a document, no trust anchors).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from docservice.cli_errors import fail
from docservice.verification.messages import INDICATIONS, input_error_text, ui

EXIT_UNUSABLE = 2


def add_cli(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Register the ``verify`` sub-command on ``docservice``'s argparse sub-parsers."""
    parser = subparsers.add_parser(
        "verify",
        help="verify the signatures of a PDF, XML or CMS file",
        description="Verify every signature of a signed PDF, XML or CMS file.",
    )
    configure_parser(parser)
    return parser


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="signed PDF, XML or CMS (DER, PEM or Base64)")
    parser.add_argument("--original", type=Path, help="the signed original, for a detached CMS")
    parser.add_argument(
        "--trust",
        type=Path,
        help="directory of trusted root/CA certificates (default: "
        "$DOCSERVICE_TRUST_DIR or /etc/docservice/trust)",
    )
    parser.add_argument("--json", action="store_true", help="print the JSON report")
    parser.add_argument("--lang", choices=("kk", "ru"), default="kk", help="language of the text")
    parser.add_argument(
        "--offline", action="store_true", help="use only revocation data embedded in the file"
    )
    parser.set_defaults(handler=run)


def _read(path: Path, field: str, lang: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SystemExit(
            _fail(f"{path}: {input_error_text('missing', lang, field)} ({exc.strerror})")
        ) from None


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return EXIT_UNUSABLE


def run(args: argparse.Namespace) -> int:
    """The handler: verify, print text or JSON, return the exit code."""
    from docservice.verification import (
        TrustAnchorsError,
        VerificationInputError,
        Verifier,
        VerifierConfig,
    )

    lang = args.lang
    data = _read(args.file, "file", lang)
    original = _read(args.original, "original", lang) if args.original else None
    try:
        verifier = Verifier(VerifierConfig(trust_dir=args.trust, fetch_revocation=not args.offline))
    except TrustAnchorsError as exc:
        return _fail(f"trust: {exc}")
    try:
        report = verifier.verify(data, original, file_name=args.file.name)
    except VerificationInputError as exc:
        return fail(str(args.file), exc, lang)
    if args.json:
        print(report.to_json())
    else:
        print(render_text(report, lang))
    return report.exit_code


def render_text(report: object, lang: str) -> str:
    """A short readable summary, one block per signature."""
    from docservice.verification.report import Report

    assert isinstance(report, Report)
    pick = 0 if lang == "kk" else 1
    lines = [
        f"{report.document.file_name or ''} [{report.document.format}] "
        f"{INDICATIONS[report.verdict][pick]}: {report.verdict_reason.text(lang)}"
    ]
    for sig in report.signatures:
        who = sig.signer.full_name if sig.signer else "?"
        lines.append(
            f"  #{sig.index} {who}: {INDICATIONS[sig.indication][pick]}"
            f"{' / ' + sig.sub_indication if sig.sub_indication else ''}"
        )
        if report.document.format == "card" and sig.field_name:
            lines.append(f"     {ui('card_file', lang)}: {sig.field_name}")
        if sig.signer and sig.signer.organisation:
            lines.append(f"     {sig.signer.organisation} BIN {sig.signer.bin or '-'}")
        if sig.signer and sig.signer.roles:
            lines.append(
                "     " + ", ".join(r.kk if lang == "kk" else r.ru for r in sig.signer.roles)
            )
        for reason in sig.reasons:
            lines.append(f"     - {reason.text(lang)}")
        for warning in sig.warnings:
            lines.append(f"     * {warning.text(lang)}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    from docservice import logging_setup
    from signing import patches

    parser = argparse.ArgumentParser(prog="docservice verify")
    configure_parser(parser)
    args = parser.parse_args(argv)
    logging_setup.configure("cli")
    patches.apply()
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
