"""Enveloped XMLDSig, several signers, verified with signxml pinned to the test root."""

from __future__ import annotations

import pytest
from lxml import etree

from docservice.pki.anchors import TrustAnchors
from signing.errors import DocumentError, SignatureValueError
from signing.xmldsig import DS_NS, sign_xml, verify_xml
from tests.pki import OFFICIALS


@pytest.fixture(scope="module")
def two_signed(rendered, officials) -> bytes:
    data = rendered.xml
    for label in OFFICIALS[:2]:
        data = sign_xml(data, officials[label])
    return data


def test_signatures_are_enveloped_rsa_sha256_exc_c14n(two_signed) -> None:
    root = etree.fromstring(two_signed)
    sigs = root.findall(f"{{{DS_NS}}}Signature")
    assert len(sigs) == 2
    for sig in sigs:
        info = sig.find(f"{{{DS_NS}}}SignedInfo")
        assert info.find(f"{{{DS_NS}}}SignatureMethod").get("Algorithm").endswith("rsa-sha256")
        assert info.find(f"{{{DS_NS}}}CanonicalizationMethod").get("Algorithm") == (
            "http://www.w3.org/2001/10/xml-exc-c14n#"
        )
        (ref,) = info.findall(f"{{{DS_NS}}}Reference")
        assert ref.get("URI") == ""


def test_each_signature_verifies_against_the_pinned_root(two_signed, trust, officials) -> None:
    results = verify_xml(two_signed, trust)
    assert [r.certificate_der for r in results] == [
        officials[label].certificate.dump() for label in OFFICIALS[:2]
    ]


def test_tampered_content_fails(two_signed, trust) -> None:
    root = etree.fromstring(two_signed)
    text_node = next(
        el
        for el in root.iter()
        if el.text and el.text.strip() and not el.tag.startswith(f"{{{DS_NS}}}")
    )
    text_node.text = text_node.text + "x"
    with pytest.raises(SignatureValueError):
        verify_xml(etree.tostring(root), trust)


def test_other_root_is_not_trusted(two_signed, pki) -> None:
    # The issuing CA as the only "root" is not the chain's anchor: no system store fallback.
    with pytest.raises(SignatureValueError):
        verify_xml(two_signed, TrustAnchors((pki.cert("ocsp"),)))


def test_xades_variant(rendered, officials, trust) -> None:
    data = sign_xml(rendered.xml, officials["hr"], xades=True)
    assert b"SignedProperties" in data and "Кадр".encode() in data
    assert len(verify_xml(data, trust, xades=True)) == 1


def test_dtd_is_refused(officials) -> None:
    evil = b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>'
    with pytest.raises(DocumentError):
        sign_xml(evil, officials["hr"])
