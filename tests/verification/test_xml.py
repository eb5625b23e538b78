"""XMLDSig: pinned location, signed data only, several signers, wrapping, comments, DTDs."""

from __future__ import annotations

import pytest
from lxml import etree

from docservice.verification import VerificationInputError
from docservice.verification.report import Indication
from tests.verification.conftest import Docs
from tests.verification.fixtures import SAMPLE_XML, Signers

DS = "{http://www.w3.org/2000/09/xmldsig#}"


def test_signed_xml_passes(check, docs: Docs) -> None:
    report = check(docs.xml())
    (sig,) = report.signatures
    assert report.verdict is Indication.TOTAL_PASSED
    assert sig.signer.iin == "850301300121"
    assert sig.coverage.kind == "entire_document" and sig.coverage.elements == ["application#A-1"]
    assert sig.algorithm == "rsa-sha256"


def test_two_signers(check, signers: Signers, docs: Docs) -> None:
    both = signers.sign_xml(docs.xml(), "head")
    report = check(both)
    assert [s.signer.surname for s in report.signatures] == ["ӘБІЛҚАСЫМОВА", "ЖҰМАБЕКОВ"]
    assert report.verdict is Indication.TOTAL_PASSED


def test_changed_value_fails(check, docs: Docs) -> None:
    tampered = docs.xml().replace(b"<amount>100000</amount>", b"<amount>900000</amount>")
    sig = check(tampered).signatures[0]
    assert (sig.indication, sig.sub_indication) == (Indication.TOTAL_FAILED, "HASH_FAILURE")


def test_comment_tricks(check, docs: Docs) -> None:
    # A comment that hides part of the value changes the text: caught.
    hidden = docs.xml().replace(b"<amount>100000</amount>", b"<amount>1<!--00000--></amount>")
    assert check(hidden).signatures[0].indication is Indication.TOTAL_FAILED
    # A comment that splits the text changes nothing signed; the verdict rests on the
    # canonical signed data (no comments), so a reader of the report sees 100000 signed.
    split = docs.xml().replace(b"<amount>100000</amount>", b"<amount>1<!---->00000</amount>")
    report = check(split)
    assert report.verdict is Indication.TOTAL_PASSED


def test_signature_wrapping_fails(check, docs: Docs) -> None:
    """Move the signed element into the signature and show a forged one in its place."""
    root = etree.fromstring(docs.xml())
    signature = root.find(f"{DS}Signature")
    original = etree.fromstring(etree.tostring(root))
    original.remove(original.find(f"{DS}Signature"))
    obj = etree.SubElement(signature, f"{DS}Object")
    obj.append(original)
    root.find("{urn:kz:docservice:application:v1}amount").text = "900000"
    sig = check(etree.tostring(root)).signatures[0]
    assert sig.indication is Indication.TOTAL_FAILED


def test_id_reference_wrapping_fails(check, signers: Signers, pki) -> None:  # type: ignore[no-untyped-def]
    """Signature by Id; the attacker adds a second element with the same Id."""
    from cryptography.hazmat.primitives.serialization import pkcs12
    from signxml import XMLSigner

    key, _c, _ch = pkcs12.load_key_and_certificates(
        pki.p12("career").read_bytes(), pki.password.encode()
    )
    doc = etree.fromstring(b"<doc><data Id='x'><amount>100</amount></data></doc>")
    from asn1crypto import pem

    cert = pem.armor("CERTIFICATE", pki.cert("career").dump()).decode()
    signed = XMLSigner().sign(doc, key=key, cert=cert, reference_uri="#x")
    evil = etree.fromstring(etree.tostring(signed))
    forged = etree.fromstring(b"<data Id='x'><amount>999</amount></data>")
    evil.insert(0, forged)
    sig = check(etree.tostring(evil)).signatures[0]
    assert sig.indication is Indication.TOTAL_FAILED


def test_signature_outside_pinned_place_is_not_used(verifier, docs: Docs) -> None:  # type: ignore[no-untyped-def]
    root = etree.fromstring(docs.xml())
    wrapper = etree.Element("wrapper")
    wrapper.append(root)
    with pytest.raises(VerificationInputError) as err:
        verifier.verify(etree.tostring(wrapper))
    assert err.value.code == "xml_no_signature"


@pytest.mark.parametrize(
    "payload",
    [
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 '
        b'"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 '
        b'"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><lolz>&lol3;</lolz>',
        b'<!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd"><r/>',
        "<?xml version='1.0' encoding='UTF-16'?><!DOCTYPE r []><r/>".encode("utf-16"),
    ],
)
def test_dtd_and_entities_refused(verifier, payload: bytes) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(VerificationInputError) as err:
        verifier.verify(payload)
    assert err.value.code == "xml_dtd" and err.value.status == 422
    assert "DTD" in err.value.message("kk") and "DTD" in err.value.message("ru")


def test_deep_xml_refused(verifier) -> None:  # type: ignore[no-untyped-def]
    deep = b"<a>" * 5000 + b"</a>" * 5000
    with pytest.raises(VerificationInputError) as err:
        verifier.verify(deep)
    assert err.value.code in ("xml_too_big", "xml_unreadable")


def test_unsigned_xml(verifier) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(VerificationInputError) as err:
        verifier.verify(SAMPLE_XML)
    assert err.value.code == "xml_no_signature"


def test_xml_without_time_is_judged_now_with_a_note(check, docs: Docs) -> None:
    sig = check(docs.xml()).signatures[0]
    assert sig.validation_time_source == "now"
    assert "NO_SIGNING_TIME" in {w.code for w in sig.warnings}
