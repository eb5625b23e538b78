"""One trust-anchor type and one trust folder for signing and verification."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from asn1crypto import pem

from docservice.pki.anchors import TrustAnchors, TrustAnchorsError
from docservice.service.documents import signing_trust
from docservice.verification import Verifier, VerifierConfig
from docservice.verification.report import Indication
from signing.keys import Pkcs12Key
from signing.pdf import Level, PdfOptions, sign_pdf
from signing.trust import check_status
from tests.pki import TestPki, stranger_root
from tests.verification.fixtures import base_pdf


def _folder(tmp_path: Path, **certs) -> Path:  # type: ignore[no-untyped-def]
    for name, cert in certs.items():
        (tmp_path / f"{name}.pem").write_bytes(pem.armor("CERTIFICATE", cert.dump()))
    return tmp_path


def test_root_and_issuing_ca(pki: TestPki, tmp_path: Path) -> None:
    (tmp_path / "README.txt").write_text("not read", encoding="utf-8")
    anchors = TrustAnchors.from_directory(_folder(tmp_path, root=pki.root, ca=pki.ca))
    assert [c.dump() for c in anchors.roots] == [pki.root.dump()]
    assert [c.dump() for c in anchors.intermediates] == [pki.ca.dump()]
    assert anchors.id == TrustAnchors.from_certificates([pki.ca, pki.root]).id
    assert anchors.id != TrustAnchors.from_certificates([pki.root]).id


def test_issuing_ca_alone_is_an_anchor(pki: TestPki) -> None:
    """RFC 5280 section 6.1: the relying party may trust a CA that is not self-signed."""
    anchors = TrustAnchors.from_certificates([pki.ca])
    assert [c.dump() for c in anchors.roots] == [pki.ca.dump()]
    asyncio.run(check_status(pki.cert("career"), [], anchors))


def test_refusals(tmp_path: Path) -> None:
    with pytest.raises(TrustAnchorsError, match="does not exist"):
        TrustAnchors.from_directory(tmp_path / "missing")
    with pytest.raises(TrustAnchorsError, match="no CA certificate"):
        TrustAnchors.from_directory(tmp_path)
    (tmp_path / "broken.pem").write_bytes(
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    )
    with pytest.raises(TrustAnchorsError, match="not a certificate"):
        TrustAnchors.from_directory(tmp_path)


def test_signing_and_verification_read_one_folder(pki: TestPki, tmp_path: Path) -> None:
    folder = _folder(tmp_path, ca=pki.ca)  # the issuing CA pinned alone
    trust = signing_trust(str(folder))
    assert trust is not None and trust.id == TrustAnchors.from_directory(folder).id
    key = Pkcs12Key.load(pki.p12("career"), pki.password)
    signed = sign_pdf(
        base_pdf(), key, PdfOptions(level=Level.B_T, tsa_url=pki.tsa_url, trust=trust)
    )
    report = Verifier(VerifierConfig(trust_dir=folder)).verify(signed)
    assert report.trust_anchors == trust.labels
    [sig] = report.signatures
    assert (sig.indication, sig.sub_indication) == (Indication.TOTAL_PASSED, None)
    (tmp_path / "stranger").mkdir()
    stranger = _folder(tmp_path / "stranger", stranger=stranger_root())
    [other] = Verifier(VerifierConfig(trust_dir=stranger)).verify(signed).signatures
    assert other.sub_indication == "NO_CERTIFICATE_CHAIN_FOUND"
