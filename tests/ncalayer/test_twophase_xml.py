"""XML two-phase signing with each shape real NCALayer produces, and what "covers the
prepared document" refuses.

NCALayer (its recorded answers in ``ncalayer-js-client``'s test data) signs with inclusive
C14N SignedInfo, ``enveloped-signature`` + ``REC-xml-c14n-20010315#WithComments``, a
``standalone="no"`` declaration and line breaks inside the Signature; the emulator signs
exactly so. signxml (an implementation other than the emulator's) signs the other shapes.
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from lxml import etree
from signxml import SignatureConstructionMethod, XMLSigner, XMLVerifier

from docservice.pki.anchors import TrustAnchors
from docservice.render import render
from docservice.verification import Verifier, VerifierConfig
from docservice_testing.ncalayer import C14N, C14N_WITH_COMMENTS, XML_DECLARATION
from signing.errors import SignatureValueError
from signing.ncalayer import protocol as p
from signing.twophase import TwoPhase
from tests.conftest import example
from tests.ncalayer.conftest import call1, with_key

DS = "{http://www.w3.org/2000/09/xmldsig#}"
COMMENTED = (
    "<?xml version='1.0' encoding='UTF-8'?>\n<Direction xmlns='urn:kz:docservice:test'>"
    "<Day>2025-03-01</Day><!-- checked by the career centre --><Sum>100</Sum>"
    "</Direction>"
)
UNUSED_NS = (
    "<Direction xmlns='urn:kz:docservice:test' xmlns:unused='urn:kz:unused'>"
    "<Day>2025-03-01</Day></Direction>"
)


def _sign(emulator, message):  # type: ignore[no-untyped-def]
    answer = call1(emulator, message)
    if message["module"] == p.BASICS:
        result = p.parse_basics_response(answer)
        assert isinstance(result, list) and len(result) == 1  # basics XML: always a list
        return result[0]
    return p.parse_common_response(answer)


@pytest.fixture(scope="module")
def application_xml() -> str:
    return render("application", example("application"), "kk").xml.decode("utf-8")


@pytest.mark.parametrize("document", ["application", "commented", "unused_ns"])
@pytest.mark.parametrize("route", ["basics", "common_utils"])
def test_real_ncalayer_shapes_complete(
    emulator,
    twophase: TwoPhase,
    keys,
    application_xml,  # type: ignore[no-untyped-def]
    pki,
    document: str,
    route: str,
) -> None:
    trust = TrustAnchors.from_certificates([pki.root, pki.ca], source="test PKI")
    xml = {"application": application_xml, "commented": COMMENTED, "unused_ns": UNUSED_NS}[document]
    emulator.choose = with_key(keys, "career")
    request = twophase.prepare_xml(xml, certificate=keys["career"].certificate)
    signed = _sign(emulator, getattr(request, route))
    # The shape of real NCALayer's answer.
    assert signed.startswith(XML_DECLARATION + "<")
    assert ("\r\n<ds:SignedInfo>" in signed) is (route == "common_utils")
    root = etree.fromstring(signed.encode())
    assert root[-1].find(f"{DS}SignedInfo/{DS}CanonicalizationMethod").get("Algorithm") == C14N
    transforms = [t.get("Algorithm") for t in root[-1].iter(f"{DS}Transform")]
    assert transforms == [
        "http://www.w3.org/2000/09/xmldsig#enveloped-signature",
        C14N_WITH_COMMENTS,
    ]
    out = twophase.complete_xml(request.session_id, signed)
    assert out == signed.encode()
    # The service's own verifier agrees (comments dropped under URI="", as XMLDSig says).
    report = _verifier(trust).verify(out)
    assert [s.indication.value for s in report.signatures] == ["TOTAL_PASSED"], report


def test_second_signer_on_the_application_xml(emulator, twophase, keys, application_xml) -> None:  # type: ignore[no-untyped-def]
    emulator.choose = with_key(keys, "career")
    first = twophase.prepare_xml(application_xml, certificate=keys["career"].certificate)
    once = twophase.complete_xml(first.session_id, _sign(emulator, first.common_utils))
    emulator.choose = with_key(keys, "head")
    second = twophase.prepare_xml(once, certificate=keys["head"].certificate)
    twice = twophase.complete_xml(second.session_id, _sign(emulator, second.basics))
    assert len(etree.fromstring(twice).findall(f"{DS}Signature")) == 2


def test_a_comment_cannot_smuggle_text(emulator, twophase, keys) -> None:  # type: ignore[no-untyped-def]
    """Under ``URI=""`` comments are not digested, so a comment added after signing keeps
    the signature valid: the service must still refuse it."""
    cert = keys["career"].certificate
    request = twophase.prepare_xml(COMMENTED, certificate=cert)
    signed = _sign(emulator, request.common_utils)
    doctype = "<!DOCTYPE Direction [<!ENTITY sum '1000'>]>"
    for forged in (
        signed.replace("<Sum>", "<!-- the sum is 1000 --><Sum>"),
        signed.replace("checked by the career centre", "not checked"),
        signed.replace("?><Direction", f"?>{doctype}<Direction"),
    ):
        # The attack is real: the signature still verifies without the comments ...
        stripped = etree.fromstring(forged.encode())
        for comment in list(stripped.iter(etree.Comment)):
            comment.getparent().remove(comment)  # type: ignore[union-attr]
        XMLVerifier().verify(
            etree.tostring(stripped), x509_cert=_pem(cert), expect_config=_config()
        )
        # ... yet the service refuses the document.
        again = twophase.prepare_xml(COMMENTED, certificate=cert)
        with pytest.raises(SignatureValueError, match="differs from the prepared"):
            twophase.complete_xml(again.session_id, forged)
    assert twophase.complete_xml(request.session_id, signed) == signed.encode()


@pytest.mark.parametrize(
    "c14n",
    [
        "http://www.w3.org/2001/10/xml-exc-c14n#",
        "http://www.w3.org/2001/10/xml-exc-c14n#WithComments",
        C14N_WITH_COMMENTS,
    ],
)
def test_other_signers_transform_chains_complete(twophase, keys, c14n: str) -> None:  # type: ignore[no-untyped-def]
    """signxml digests comments for ``#WithComments`` even under ``URI=""``: accepted too,
    as is exclusive C14N (the emulator's former shape)."""
    key = keys["career"]
    request = twophase.prepare_xml(COMMENTED, certificate=key.certificate)
    signed = _signxml(key, COMMENTED, c14n)
    assert twophase.complete_xml(request.session_id, signed) == signed


def test_references_other_than_the_whole_document_are_refused(emulator, twophase, keys) -> None:  # type: ignore[no-untyped-def]
    xml = "<Direction xmlns='urn:kz:docservice:test'><Day Id='d'>2025-03-01</Day></Direction>"
    request = twophase.prepare_xml(xml, certificate=keys["career"].certificate)
    part = _sign(emulator, p.sign_xml(xml, tbs_xpath="//*[@Id='d']").to_message())
    with pytest.raises(SignatureValueError, match="whole document"):
        twophase.complete_xml(request.session_id, part)


def _verifier(trust: TrustAnchors) -> Verifier:
    return Verifier(VerifierConfig(trust=trust))


def _pem(cert) -> bytes:  # type: ignore[no-untyped-def]
    from cryptography import x509 as pyca_x509

    return pyca_x509.load_der_x509_certificate(cert.dump()).public_bytes(serialization.Encoding.PEM)


def _config():  # type: ignore[no-untyped-def]
    from signxml import SignatureConfiguration

    return SignatureConfiguration(location="./", expect_references=1)


def _signxml(key, xml: str, c14n: str) -> bytes:  # type: ignore[no-untyped-def]
    pem_key = key.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    root = etree.fromstring(xml.encode())
    signed = XMLSigner(
        method=SignatureConstructionMethod.enveloped,
        signature_algorithm="rsa-sha256",
        digest_algorithm="sha256",
        c14n_algorithm=c14n,
    ).sign(root, key=pem_key, cert=[_pem(key.certificate)])
    return etree.tostring(signed)
