"""The NCALayer emulator with GOST keys, over a real wss:// connection: it signs the
Streebog ByteRange digest the service prepared (two-phase PDF) and GOST XMLDSig."""

from __future__ import annotations

import base64
import hashlib

import pytest
from asn1crypto import cms

from docservice.verification import TrustAnchors, Verifier, VerifierConfig
from docservice.verification.report import Indication
from docservice_testing.ncalayer import XML_DECLARATION, running_emulator
from docservice_testing.ncalayer.keystore import EmulatorKey
from signing.cms_util import signer_info_digest
from signing.ncalayer import protocol as p
from signing.twophase import TwoPhase
from tests.ncalayer.conftest import TEST_KEYS, call1
from tests.verification.fixtures import base_pdf


@pytest.fixture(scope="module")
def gost_keys(gpki) -> dict[str, EmulatorKey]:  # type: ignore[no-untyped-def]
    return {
        label: EmulatorKey.from_p12(gpki.p12(label), gpki.password, alias=label)
        for label in ("gost_career", "gost256_career")
    }


@pytest.fixture(scope="module")
def emulator(gost_keys):  # type: ignore[no-untyped-def]
    with running_emulator(list(gost_keys.values()), port=0) as running:
        yield running


@pytest.fixture(scope="module")
def verifier(gpki) -> Verifier:  # type: ignore[no-untyped-def]
    return Verifier(VerifierConfig(trust=TrustAnchors.from_certificates([gpki.root, gpki.ca])))


@pytest.mark.parametrize(("label", "bits"), [("gost_career", 512), ("gost256_career", 256)])
def test_two_phase_pdf_through_the_emulator(
    emulator,
    gost_keys,
    gpki,
    verifier,  # type: ignore[no-untyped-def]
    label: str,
    bits: int,
) -> None:
    key = gost_keys[label]
    assert key.key_info()["algorithm"] == "ECGOST34310"
    service = TwoPhase(ncalayer_chain=[])
    request = service.prepare_pdf(base_pdf(), key.certificate, [gpki.ca])
    assert len(base64.b64decode(request.extra["digest"])) == bits // 8  # Streebog
    answer = p.parse_basics_response(call1(emulator, request.basics))
    pdf = service.complete_pdf(request.session_id, answer)
    (sig,) = verifier.verify(pdf).signatures
    assert (sig.indication, sig.sub_indication) == (Indication.TOTAL_PASSED, None)
    assert sig.algorithm == f"ГОСТ 34.10-2015, {bits} бит"


def test_a_sha256_hash_signed_by_a_gost_key_does_not_verify(emulator, verifier) -> None:  # type: ignore[no-untyped-def]
    """NCALayer signs whatever it is given as the hash (#14's fidelity tests): a SHA-256
    given to a GOST key is signed as is, and it is the verifier that refuses the result."""
    data = "Өтініш / Заявление".encode()
    digest = hashlib.sha256(data).digest()
    message = p.basics_sign_cms(base64.b64encode(digest).decode(), digested=True, signer=TEST_KEYS)
    signed = cms.ContentInfo.load(
        p.normalize_cms(p.parse_basics_response(call1(emulator, message.to_message())))
    )
    (info,) = signed["content"]["signer_infos"]
    assert signer_info_digest(info) == digest
    assert info["signature_algorithm"]["algorithm"].dotted.startswith("1.2.398.3.10.1.1")
    (sig,) = verifier.verify(signed.dump(), data).signatures
    assert (sig.indication, sig.sub_indication) == (Indication.TOTAL_FAILED, "HASH_FAILURE")


def test_gost_keys_of_the_test_ca_are_offered_only_with_chain(emulator) -> None:  # type: ignore[no-untyped-def]
    message = p.basics_sign_xml("<doc/>").to_message()
    with pytest.raises(p.NCALayerCancelledError):
        p.parse_basics_response(call1(emulator, message))


def test_gost_xmldsig_from_the_emulator(emulator, verifier) -> None:  # type: ignore[no-untyped-def]
    message = p.basics_sign_xml("<doc><a>Сәлем</a></doc>", signer=TEST_KEYS).to_message()
    answer = p.parse_basics_response(call1(emulator, message))
    assert isinstance(answer, list) and len(answer) == 1  # basics XML: always a list
    (xml,) = answer
    assert xml.startswith(XML_DECLARATION + "<doc>")
    assert "pkigovkz" in xml
    (sig,) = verifier.verify(xml.encode("utf-8")).signatures
    assert (sig.indication, sig.algorithm) == (Indication.TOTAL_PASSED, "ГОСТ 34.10-2015, 512 бит")


def test_two_phase_cms_and_xml_through_the_emulator(emulator, gost_keys, verifier) -> None:  # type: ignore[no-untyped-def]
    key = gost_keys["gost_career"]
    service = TwoPhase(ncalayer_chain=[])
    data = "Өтініш / Заявление".encode()
    request = service.prepare_cms(data, certificate=key.certificate)  # digested: Streebog
    signed = service.complete_cms(
        request.session_id, p.parse_basics_response(call1(emulator, request.basics))
    )
    der = cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump()
    (sig,) = verifier.verify(der, data).signatures
    assert (sig.indication, sig.algorithm) == (Indication.TOTAL_PASSED, "ГОСТ 34.10-2015, 512 бит")
    request = service.prepare_xml("<doc><a>Сәлем</a></doc>", certificate=key.certificate)
    (answer,) = p.parse_basics_response(call1(emulator, request.basics))  # a one-element list
    xml = service.complete_xml(request.session_id, answer)
    (sig,) = verifier.verify(xml).signatures
    assert sig.indication is Indication.TOTAL_PASSED
