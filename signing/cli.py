"""``docservice sign``: PDF (PAdES), XML (XMLDSig) or, with ``--detached``, CMS (CAdES).

The password comes from ``--password-file`` or ``$DOCSERVICE_KEY_PASSWORD``, never from
the command line (other local users can read argv). Any failure is one line on stderr
and exit code 2; the output is written to a temporary file and renamed, so a failed run
leaves no partial file behind.

``docservice/cli.py`` registers the command with :func:`add_cli`; ``python -m
signing.cli sign ...`` works on its own through :func:`main`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from docservice.atomic import write_atomically
from docservice.cli_errors import fail
from docservice.pki.roles import Role
from docservice.sniff import sniff
from signing.errors import SigningError
from signing.levels import Level

if TYPE_CHECKING:  # imported where used: the CLI starts without the CMS and key modules
    from asn1crypto import cms

    from signing.keys import RevocationLookup

EXIT_ERROR = 2


def add_cli(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Register ``sign`` on an argparse subparsers object; the handler is :func:`run`."""
    p = subparsers.add_parser(
        "sign",
        help="sign a PDF (PAdES), an XML (XMLDSig) or any file (--detached CMS)",
        description="Sign with an NCA RK PKCS#12 key. Password: --password-file or "
        "$DOCSERVICE_KEY_PASSWORD.",
    )
    p.add_argument("file", type=Path, help="PDF, XML, or any file with --detached")
    p.add_argument("--key", type=Path, required=True, help="PKCS#12 key container (.p12)")
    p.add_argument("--password-file", type=Path, help="file whose first line is the password")
    p.add_argument(
        "--level",
        choices=[lv.value for lv in Level],
        default=Level.B_B.value,
        help="PAdES level (PDF); for CMS, B-T adds the signature time-stamp",
    )
    p.add_argument(
        "--role",
        choices=sorted(r.value for r in Role),
        help="role the official signs in; must be in the certificate",
    )
    p.add_argument(
        "--certify", action="store_true", help="first signature certifies: later signatures only"
    )
    p.add_argument("--tsa-url", help="RFC 3161 time-stamp service")
    p.add_argument(
        "--trust",
        type=Path,
        action="append",
        default=[],
        help="trusted root certificate (PEM/DER); enables the OCSP/CRL check",
    )
    p.add_argument(
        "--intermediate",
        type=Path,
        action="append",
        default=[],
        help="extra CA certificate for path building",
    )
    p.add_argument(
        "--ocsp",
        type=Path,
        action="append",
        default=[],
        help="OCSP response (DER) about the key's certificate, checked against "
        "--trust/--intermediate: a revocation it proves is reported",
    )
    p.add_argument("--detached", action="store_true", help="write a detached CAdES CMS")
    p.add_argument(
        "--cms-format",
        choices=("der", "pem", "base64"),
        default="der",
        help="encoding of the detached CMS",
    )
    p.add_argument("--xades", action="store_true", help="XML: add XAdES-B properties")
    p.add_argument("--invisible", action="store_true", help="PDF: no visible stamp")
    p.add_argument(
        "--verify-base-url",
        help="base of the verification URL in the stamp's QR code (default: "
        "$DOCSERVICE_PUBLIC_URL; without either, the stamp has no QR code)",
    )
    p.add_argument("--out", type=Path, required=True, help="output file")
    p.set_defaults(handler=run)
    return p


def _kind(data: bytes, detached: bool) -> str:
    if detached:
        return "cms"
    kind = sniff(data)
    if kind in ("pdf", "xml"):
        return kind
    raise SigningError("not a PDF or XML file (use --detached for a CMS signature)")


def _sign(args: argparse.Namespace) -> bytes:
    from docservice.pki.anchors import TrustAnchors
    from signing.keys import Pkcs12Key, read_password

    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise SigningError(f"{args.file}: {exc.strerror}") from None
    kind = _kind(data, args.detached)
    trust = TrustAnchors.from_files(args.trust, args.intermediate) if args.trust else None
    key = Pkcs12Key.load(
        args.key, read_password(args.password_file), revocation=_revocation_lookup(args)
    )
    level = Level(args.level)
    if kind == "pdf":
        from signing.pdf import PdfOptions, configured_public_url, sign_pdf

        base = args.verify_base_url or configured_public_url()
        if base is None and not args.invisible:
            args.notes.append(
                "note: DOCSERVICE_PUBLIC_URL is not set, so the stamp has no "
                "QR code (set it, or give --verify-base-url)"
            )
        return sign_pdf(
            data,
            key,
            PdfOptions(
                level=level,
                certify=args.certify,
                role=args.role,
                tsa_url=args.tsa_url,
                trust=trust,
                visible=not args.invisible,
                verify_base_url=base,
            ),
        )
    if kind == "xml":
        from signing.xmldsig import sign_xml

        return sign_xml(data, key, role=args.role, xades=args.xades)
    from signing import cms_util
    from signing.cades import CadesOptions, sign_detached

    tsa = args.tsa_url if level.rank >= Level.B_T.rank else None
    signed = sign_detached(data, key, CadesOptions(tsa_url=tsa, trust=trust, role=args.role))
    encode: dict[str, Callable[[cms.SignedData], bytes]] = {
        "der": cms_util.to_der,
        "pem": cms_util.to_pem,
        "base64": lambda s: cms_util.to_base64(s).encode("ascii"),
    }
    return encode[args.cms_format](signed)


def _revocation_lookup(args: argparse.Namespace) -> RevocationLookup | None:
    """What the given OCSP responses prove about a certificate (None without any)."""
    if not args.ocsp:
        return None
    from asn1crypto import ocsp

    from docservice.pki.anchors import read_certificates
    from signing.trust import ocsp_revocation

    try:
        responses = [ocsp.OCSPResponse.load(path.read_bytes()) for path in args.ocsp]
        issuers = [c for path in [*args.trust, *args.intermediate] for c in read_certificates(path)]
    except (OSError, ValueError) as exc:
        raise SigningError(f"--ocsp/--trust: {exc}") from None
    return lambda cert: ocsp_revocation(cert, responses, issuers)


def run(args: argparse.Namespace) -> int:
    """Handler of ``sign``: 0 on success, 2 with one line on stderr otherwise."""
    args.notes = []
    try:
        payload = _sign(args)
        write_atomically(args.out, payload)
    except (SigningError, OSError) as exc:  # refusals in both languages: kk / ru
        return fail("sign", exc, "kk+ru")
    for note in args.notes:  # once per run, after the document is written
        print(f"sign: {note}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="signing")
    add_cli(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    from signing import patches  # pyHanko and co.: only once the command is to run

    patches.apply()
    return int(args.handler(args))


if __name__ == "__main__":
    raise SystemExit(main())
