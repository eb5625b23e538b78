"""Signatures the service makes with a GOST key (NCA's real 2015 test key, at a moment it
was valid): CAdES, XMLDSig, PAdES; each checked by OpenSSL + BouncyCastle, not only by us."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from asn1crypto import cms
from lxml import etree

from docservice.verification import TrustAnchors, Verifier, VerifierConfig
from docservice.verification.report import Indication
from signing import _aio
from signing.cades import CadesOptions, async_sign_detached
from signing.keys import Pkcs12Key
from signing.pdf import PdfOptions, sign_pdf
from signing.xmldsig import sign_xml
from tests.gost.nca import NCA, cert
from tests.gost.oracles import bc_verifies, check_gost_signer_info, openssl_streebog
from tests.verification.fixtures import base_pdf

UTC = dt.UTC
WHILE_VALID = dt.datetime(2022, 9, 2, 17, 0, tzinfo=UTC)
KEY = "gost2015_individual_Aa123456.p12"


@pytest.fixture(scope="module")
def key() -> Pkcs12Key:
    return Pkcs12Key.load(NCA / KEY, "Aa123456", at=WHILE_VALID)


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    trust = TrustAnchors.from_certificates([cert("nca_gost2015_test.cer")], source="nca-test")
    return Verifier(VerifierConfig(trust=trust, fetch_revocation=False))


def _crypto_ok(sig) -> bool:  # type: ignore[no-untyped-def]
    """Integrity and signature passed (only revocation, unreachable offline, is open)."""
    return (sig.indication, sig.sub_indication) == (Indication.INDETERMINATE, "TRY_LATER")


def test_cades_detached(key: Pkcs12Key, verifier: Verifier, bc, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(key, "check", lambda *a, **k: None)  # NCA's key expired in 2023
    data = "Өтініш / Заявление".encode() * 100
    signed = _aio.run(async_sign_detached(data, key, CadesOptions()))
    info = signed["signer_infos"][0]
    check_gost_signer_info(bc, info, key.certificate, data)
    der = cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump()
    (sig,) = verifier.verify(der, data, now=WHILE_VALID).signatures
    assert _crypto_ok(sig) and sig.algorithm == "ГОСТ 34.10-2015, 512 бит"
    (bad,) = verifier.verify(der, data + b".", now=WHILE_VALID).signatures
    assert bad.sub_indication == "HASH_FAILURE"


def test_xmldsig(key: Pkcs12Key, verifier: Verifier, bc, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(key, "check", lambda *a, **k: None)
    xml = sign_xml('<doc xmlns="urn:t"><a>Сәлем</a></doc>'.encode(), key)
    root = etree.fromstring(xml)
    ns = {"ds": "http://www.w3.org/2000/09/xmldsig#"}
    signature = root.find("ds:Signature", ns)
    assert signature is not None
    method = signature.find("ds:SignedInfo/ds:SignatureMethod", ns)
    assert method.get("Algorithm") == (
        "urn:ietf:params:xml:ns:pkigovkz:xmlsec:algorithms:gostr34102015-gostr34112015-512"
    )
    # independently: OpenSSL's Streebog of the c14n bytes and BouncyCastle's verdict
    doc = etree.fromstring(xml)
    doc.remove(doc.find("ds:Signature", ns))
    c14n = etree.tostring(doc, method="c14n", exclusive=True)
    digest_value = signature.find("ds:SignedInfo/ds:Reference/ds:DigestValue", ns).text
    assert base64.b64decode(digest_value) == openssl_streebog(c14n)
    info = etree.tostring(signature.find("ds:SignedInfo", ns), method="c14n", exclusive=True)
    value = base64.b64decode(signature.find("ds:SignatureValue", ns).text)
    import signing.gost as gost

    pub = gost.parse_public_key(
        key.certificate["tbs_certificate"]["subject_public_key_info"].dump()
    )
    assert bc_verifies(bc, pub.key, pub.curve.bouncycastle, 64, openssl_streebog(info), value)
    (sig,) = verifier.verify(xml, now=WHILE_VALID).signatures
    assert _crypto_ok(sig) and sig.algorithm == "ГОСТ 34.10-2015, 512 бит"


def test_pades(key: Pkcs12Key, verifier: Verifier, bc) -> None:  # type: ignore[no-untyped-def]
    pdf = sign_pdf(base_pdf(), key, PdfOptions(), now=WHILE_VALID)
    import io

    from pyhanko.pdf_utils.reader import PdfFileReader

    embedded = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0]
    start1, len1, start2, len2 = (int(v) for v in embedded.byte_range)
    covered = pdf[start1 : start1 + len1] + pdf[start2 : start2 + len2]
    check_gost_signer_info(bc, embedded.signer_info, key.certificate, covered)
    (sig,) = verifier.verify(pdf, now=WHILE_VALID).signatures
    assert _crypto_ok(sig) and sig.coverage is not None
    assert sig.coverage.kind == "entire_file"
    tampered = bytearray(pdf)
    at = pdf.index(b"/Type /Catalog") if b"/Type /Catalog" in pdf else 200
    tampered[at + 1] ^= 0x01
    (bad,) = verifier.verify(bytes(tampered), now=WHILE_VALID).signatures
    assert bad.indication is not Indication.TOTAL_PASSED and bad.sub_indication != "TRY_LATER"
