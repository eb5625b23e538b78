"""The one rule for which ``ds:Signature`` is checked, RSA (signxml) and GOST, and the canary
for the one private signxml hook it relies on."""

from __future__ import annotations

import pytest
import signxml.exceptions
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from lxml import etree
from signxml import SignatureConfiguration, SignatureMethod, XMLSigner, XMLVerifier

import signing.gost as gost
from docservice import xml_signature
from signing.gost import curves
from signing.gost import xmldsig as gost_xmldsig

DOC = b'<doc xmlns="urn:test"><a>\xd0\xa1\xd3\x99\xd0\xbb\xd0\xb5\xd0\xbc</a></doc>'


@pytest.fixture(scope="module")
def signers(pki) -> list[tuple[rsa.RSAPrivateKey, x509.Certificate]]:  # type: ignore[no-untyped-def]
    """Two officials of the suite's test PKI, each with their own key."""
    out = []
    for label in ("career", "head"):
        key, cert, _chain = pkcs12.load_key_and_certificates(
            pki.p12(label).read_bytes(), pki.password.encode()
        )
        assert isinstance(key, rsa.RSAPrivateKey) and cert is not None
        out.append((key, cert))
    return out


def _append_signature(
    root: etree._Element, key: rsa.RSAPrivateKey, cert: x509.Certificate
) -> etree._Element:
    """One more enveloped signature over the whole document, appended to the root."""
    signed = XMLSigner(c14n_algorithm="http://www.w3.org/2001/10/xml-exc-c14n#").sign(
        etree.fromstring(etree.tostring(root)),
        key=key,
        cert=cert.public_bytes(serialization.Encoding.PEM).decode(),
    )
    root.append(xml_signature.root_signatures(signed)[-1])
    return root


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _config() -> SignatureConfiguration:
    return SignatureConfiguration(
        location="./",
        expect_references=1,
        signature_methods=frozenset({SignatureMethod.RSA_SHA256}),
    )


def _displayed(root: etree._Element) -> bytes:
    copy = etree.fromstring(etree.tostring(root))
    for signature in xml_signature.root_signatures(copy):
        copy.remove(signature)
    return etree.tostring(copy, method="c14n", exclusive=True)


def test_each_signature_is_checked_on_the_document_as_it_was_made(signers) -> None:  # type: ignore[no-untyped-def]
    root = etree.fromstring(DOC)
    for key, cert in signers:
        _append_signature(root, key, cert)
    assert len(xml_signature.root_signatures(root)) == 2
    first = xml_signature.as_made(root, 0)
    assert len(xml_signature.root_signatures(first)) == 1
    parts = xml_signature.check_last(first, _asn1(signers[0][1]), _config())
    assert [etree.tostring(p.element, method="c14n", exclusive=True) for p in parts] == [
        _displayed(root)
    ]
    second = xml_signature.as_made(root, 1)
    assert xml_signature.check_last(second, _asn1(signers[1][1]), _config())
    # The last signature is the one checked: the first signer's key does not verify it.
    with pytest.raises(xml_signature.XmlSignatureError):
        xml_signature.check_last(second, _asn1(signers[0][1]), _config())


def test_a_decoy_below_the_root_is_never_chosen(signers) -> None:  # type: ignore[no-untyped-def]
    key, cert = signers[0]
    decoy_holder = etree.fromstring(DOC)
    _append_signature(decoy_holder, key, cert)
    root = etree.fromstring(b'<doc xmlns="urn:test"><a>other</a><w/></doc>')
    root[1].append(xml_signature.root_signatures(decoy_holder)[0])
    assert xml_signature.root_signatures(root) == []
    with pytest.raises(xml_signature.XmlFormatError, match="pinned location"):
        xml_signature.check_last(root, _asn1(cert), _config())


def test_a_changed_document_is_a_digest_failure(signers) -> None:  # type: ignore[no-untyped-def]
    key, cert = signers[0]
    root = _append_signature(etree.fromstring(DOC), key, cert)
    root[0].text = "changed"
    with pytest.raises(xml_signature.XmlDigestError):
        xml_signature.check_last(root, _asn1(cert), _config())


def test_a_comment_added_after_signing_is_not_a_digest_failure(signers) -> None:  # type: ignore[no-untyped-def]
    """XMLDSig drops comments under ``URI=""`` (Santuario does; signxml does not)."""
    key, cert = signers[0]
    signed = XMLSigner(c14n_algorithm="http://www.w3.org/2001/10/xml-exc-c14n#WithComments").sign(
        etree.fromstring(DOC), key=key, cert=cert.public_bytes(serialization.Encoding.PEM).decode()
    )
    signed[0].addprevious(etree.Comment(" added "))
    assert xml_signature.check_last(signed, _asn1(cert), _config())


def test_gost_signatures_go_through_the_same_selection() -> None:
    from tests.gost.nca import cert
    from tests.gost.test_verification import _nca_key

    name = "gost2015_individual_Aa123456.p12"
    root = etree.fromstring(DOC)
    gost_xmldsig.sign(
        root, curves.TC26_512_A, _nca_key(name), [cert(name).dump()], gost.SIG_2015_512
    )
    parts = xml_signature.check_last(root, cert(name), None)
    assert [etree.tostring(p.element, method="c14n", exclusive=True) for p in parts] == [
        _displayed(root)
    ]
    root[0].text = "changed"
    with pytest.raises(xml_signature.XmlDigestError):
        xml_signature.check_last(root, cert(name), None)
    unknown = etree.fromstring(etree.tostring(root))
    method = unknown.find("ds:Signature/ds:SignedInfo/ds:SignatureMethod", xml_signature.NS)
    method.set("Algorithm", "urn:example:gost-unknown")  # type: ignore[union-attr]
    with pytest.raises(xml_signature.XmlFormatError, match="unknown GOST"):
        xml_signature.check_last(unknown, cert(name), None)


def test_canary_signxml_still_chooses_the_signature_through_get_signature(signers) -> None:  # type: ignore[no-untyped-def]
    """The one private signxml hook: fails loudly if an upgrade stops calling it (stock
    signxml checks the *first* signature, the pinned verifier the last)."""
    assert callable(getattr(XMLVerifier, "_get_signature", None))
    root = etree.fromstring(DOC)
    for key, cert in signers:
        _append_signature(root, key, cert)
    second = xml_signature.root_signatures(root)[1]
    # Checked on the document as the second signer signed it: both signatures present.
    second_cert = x509.load_der_x509_certificate(
        signers[1][1].public_bytes(serialization.Encoding.DER)
    )
    with pytest.raises(signxml.exceptions.InvalidSignature):
        XMLVerifier().verify(root, x509_cert=second_cert, expect_config=_config())
    calls: list[etree._Element] = []

    class Counting(xml_signature.PinnedVerifier):
        def _get_signature(self, root: etree._Element) -> etree._Element:
            chosen = super()._get_signature(root)
            calls.append(chosen)
            return chosen

    Counting().verify(root, x509_cert=second_cert, expect_config=_config())
    assert calls
    value = second.findtext("ds:SignatureValue", namespaces=xml_signature.NS)
    assert all(c.findtext("ds:SignatureValue", namespaces=xml_signature.NS) == value for c in calls)
