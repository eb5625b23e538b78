"""The two phases end to end: the service prepares, the emulator signs over wss://,
the service completes (or refuses)."""

from __future__ import annotations

import base64
import hashlib
import io
import itertools

import pikepdf
import pytest
from asn1crypto import cms
from lxml import etree

from signing.cms_util import load_cms, to_der
from signing.errors import KeyUsageError, SignatureValueError
from signing.ncalayer import protocol as p
from signing.pdf import Level, PdfOptions
from signing.twophase import Kind, MemoryStore, Pending, SessionError, TwoPhase
from tests.ncalayer.conftest import TEST_KEYS, call1, detached, with_key
from tests.pyhanko_oracle import all_valid, pyhanko_cms_statuses, pyhanko_pdf_statuses

DATA = "Жолдама / Направление".encode()
XML = (
    "<?xml version='1.0' encoding='UTF-8'?>\n<Application xmlns='urn:kz:docservice:test'>"
    "<Applicant iin='900715400236'>ТӨЛЕГЕНОВ АЙБЕК</Applicant><Day>2025-03-01</Day>"
    "</Application>"
)


def _answer(emulator, request_message):  # type: ignore[no-untyped-def]
    """Deliver a service-made message to NCALayer and parse its answer."""
    answer = call1(emulator, request_message)
    if request_message["module"] == p.BASICS:
        result = p.parse_basics_response(answer)
        # basics answers XML as a list even for one document (the page unwraps it).
        single = isinstance(request_message["args"]["data"], str)
        return result[0] if single and isinstance(result, list) else result
    return p.parse_common_response(answer)


def _prepare_pdf(twophase, pdf, keys, label, pki, **options):  # type: ignore[no-untyped-def]
    return twophase.prepare_pdf(
        pdf, keys[label].certificate, [pki.ca], PdfOptions(tsa_url=pki.tsa_url, **options)
    )


# ---------------------------------------------------------------- PDF


def test_pdf_two_officials_in_a_row(
    emulator,
    twophase,
    keys,
    pki,
    trust,  # type: ignore[no-untyped-def]
    application_pdf,
) -> None:
    # First official: certifies, B-T, through basics (PEM answer).
    emulator.choose = with_key(keys, "career")
    first = _prepare_pdf(
        twophase,
        application_pdf,
        keys,
        "career",
        pki,
        level=Level.B_T,
        certify=True,
        role="employee",
    )
    args = first.basics["args"]
    assert args["signingParams"]["digested"] is True
    assert base64.b64decode(args["data"]) == base64.b64decode(first.extra["digest"])
    assert args["signerParams"]["serialNumber"] == format(
        keys["career"].certificate.serial_number, "x"
    )
    once = twophase.complete_pdf(first.session_id, _answer(emulator, first.basics))
    assert once.startswith(application_pdf[:1024])

    # Second official: B-B, through the legacy createCAdESFromBase64Hash (Base64 answer).
    emulator.choose = with_key(keys, "head")
    second = _prepare_pdf(twophase, once, keys, "head", pki)
    assert second.common_utils["method"] == "createCAdESFromBase64Hash"
    twice = twophase.complete_pdf(second.session_id, _answer(emulator, second.common_utils))
    assert twice[: len(once)] == once  # incremental: the first revision is untouched

    statuses = pyhanko_pdf_statuses(twice, trust)
    assert len(statuses) == 2 and all_valid(statuses)
    signers = [s.signing_cert.serial_number for s in statuses]
    assert signers == [
        keys["career"].certificate.serial_number,
        keys["head"].certificate.serial_number,
    ]
    assert statuses[0].timestamp_validity is not None  # B-T: signature time-stamp
    assert_still_pdfa(application_pdf, twice)


def assert_still_pdfa(original: bytes, signed: bytes) -> None:
    """PDF/A-3b kept: no violation; pikepdf only *skips* what a signature adds."""
    assert pikepdf.pdfa.validate_written(io.BytesIO(original), "3b").passed
    report = pikepdf.pdfa.validate_written(io.BytesIO(signed), "3b")
    assert report.violations == (), report.summary()
    skipped = {(f.rule, f.where.rsplit(" ", 1)[-1]) for f in report.unsupported}
    assert {rule for rule, _ in skipped} <= {"pikepdf:schema-Catalog", "pikepdf:embedded-file"}
    assert {where for rule, where in skipped if rule == "pikepdf:schema-Catalog"} <= {
        "/AcroForm",
        "/Perms",
    }


def test_pdf_refuses_a_cms_over_another_digest(
    emulator,
    twophase,
    keys,
    pki,  # type: ignore[no-untyped-def]
    application_pdf,
) -> None:
    request = _prepare_pdf(twophase, application_pdf, keys, "career", pki)
    wrong = hashlib.sha256(b"some other revision").digest()
    cms_b64 = _answer(
        emulator, p.create_cades_from_base64_hash(base64.b64encode(wrong).decode()).to_message()
    )
    with pytest.raises(SignatureValueError, match="prepared digest"):
        twophase.complete_pdf(request.session_id, cms_b64)


def test_pdf_refuses_another_signer(
    emulator,
    twophase,
    keys,
    pki,  # type: ignore[no-untyped-def]
    application_pdf,
) -> None:
    request = _prepare_pdf(twophase, application_pdf, keys, "career", pki)
    emulator.choose = with_key(keys, "head")  # the legacy call has no signerParams filter
    cms_b64 = _answer(emulator, request.common_utils)
    with pytest.raises(SignatureValueError, match="another certificate"):
        twophase.complete_pdf(request.session_id, cms_b64)


def test_pdf_refuses_a_forged_signature_value(
    emulator,
    twophase,
    keys,
    pki,  # type: ignore[no-untyped-def]
    application_pdf,
) -> None:
    request = _prepare_pdf(twophase, application_pdf, keys, "career", pki)
    signed = load_cms(_answer(emulator, request.basics))
    info = signed["signer_infos"][0]
    value = bytearray(info["signature"].native)
    value[10] ^= 0xFF
    info["signature"] = bytes(value)
    with pytest.raises(SignatureValueError, match="does not verify"):
        twophase.complete_pdf(request.session_id, to_der(signed))


def test_pdf_refuses_an_authentication_certificate_before_asking(  # type: ignore[no-untyped-def]
    twophase, keys, pki, application_pdf
) -> None:
    with pytest.raises(KeyUsageError):
        _prepare_pdf(twophase, application_pdf, keys, "authonly", pki)


# ---------------------------------------------------------------- CMS


def test_cms_detached_pem_and_base64(emulator, twophase, keys, trust) -> None:  # type: ignore[no-untyped-def]
    cert = keys["career"].certificate
    hashed = twophase.prepare_cms(DATA, certificate=cert, tsa=True)
    assert hashed.basics["args"]["signingParams"]["tsaProfile"] == {}
    pem_answer = _answer(emulator, hashed.basics)
    assert pem_answer.startswith("-----BEGIN CMS-----")
    signed = twophase.complete_cms(hashed.session_id, pem_answer)
    assert all_valid(pyhanko_cms_statuses(DATA, signed, trust))

    whole = twophase.prepare_cms(DATA, certificate=cert, digested=False)
    assert whole.common_utils["args"][2] == base64.b64encode(DATA).decode()
    b64_answer = _answer(emulator, whole.common_utils)
    assert not b64_answer.startswith("-----")
    assert all_valid(
        pyhanko_cms_statuses(DATA, twophase.complete_cms(whole.session_id, b64_answer), trust)
    )


def test_cms_second_signer_on_an_existing_cms(emulator, twophase, keys, trust) -> None:  # type: ignore[no-untyped-def]
    emulator.choose = with_key(keys, "career")
    first = twophase.prepare_cms(
        DATA, certificate=keys["career"].certificate, digested=False, attach=True
    )
    one = twophase.complete_cms(first.session_id, _answer(emulator, first.common_utils))
    emulator.choose = with_key(keys, "head")
    second = twophase.prepare_cms(DATA, certificate=keys["head"].certificate, existing=to_der(one))
    assert base64.b64decode(second.common_utils["args"][2]) == to_der(one)
    both = twophase.complete_cms(second.session_id, _answer(emulator, second.common_utils))
    assert len(both["signer_infos"]) == 2
    assert one["signer_infos"][0].dump() in [i.dump() for i in both["signer_infos"]]
    statuses = pyhanko_cms_statuses(DATA, detached(both), trust)
    assert len(statuses) == 2 and all_valid(statuses)


def test_cms_refuses_other_data_and_dropped_signers(emulator, twophase, keys) -> None:  # type: ignore[no-untyped-def]
    cert = keys["career"].certificate
    request = twophase.prepare_cms(DATA, certificate=cert)
    other = _answer(
        emulator,
        p.basics_sign_cms(
            base64.b64encode(hashlib.sha256(b"other").digest()).decode(),
            digested=True,
            signer=TEST_KEYS,
        ).to_message(),
    )
    with pytest.raises(SignatureValueError, match="prepared digest"):
        twophase.complete_cms(request.session_id, other)

    first = twophase.prepare_cms(DATA, certificate=cert, digested=False, attach=True)
    one = twophase.complete_cms(first.session_id, _answer(emulator, first.common_utils))
    second = twophase.prepare_cms(DATA, existing=to_der(one))
    emulator.choose = with_key(keys, "head")
    fresh = _answer(
        emulator,
        p.create_cades_from_base64(base64.b64encode(DATA).decode(), attach=True).to_message(),
    )  # first signer dropped
    with pytest.raises(SignatureValueError, match="existing signers"):
        twophase.complete_cms(second.session_id, fresh)
    # Sending the old CMS back unchanged adds nobody.
    third = twophase.prepare_cms(DATA, existing=to_der(one))
    with pytest.raises(SignatureValueError, match="one new signer, got 0"):
        twophase.complete_cms(third.session_id, to_der(one))


@pytest.mark.parametrize("count", [2, 3])
def test_cms_co_signing_in_every_order(emulator, twophase, keys, trust, count) -> None:  # type: ignore[no-untyped-def]
    """DER sorts the SignerInfos (a SET OF): the new signer may come back first or in the
    middle; every order of two and of three officials must complete."""
    new_not_last = 0
    for order in itertools.permutations(("career", "head", "hr"), count):
        signed: cms.SignedData | None = None
        for label in order:
            emulator.choose = with_key(keys, label)
            cert = keys[label].certificate
            request = (
                twophase.prepare_cms(DATA, certificate=cert, digested=False, attach=True)
                if signed is None
                else twophase.prepare_cms(DATA, certificate=cert, existing=to_der(signed))
            )
            answer = _answer(emulator, request.common_utils)
            serials = [
                i["sid"].chosen["serial_number"].native for i in load_cms(answer)["signer_infos"]
            ]
            new_not_last += serials[-1] != cert.serial_number
            signed = twophase.complete_cms(request.session_id, answer)
        assert signed is not None
        statuses = pyhanko_cms_statuses(DATA, detached(signed), trust)
        assert len(statuses) == count and all_valid(statuses)
        assert sorted(s.signing_cert.serial_number for s in statuses) == sorted(
            keys[label].certificate.serial_number for label in order
        )
    assert new_not_last > 0  # the case that used to be refused did occur


# ---------------------------------------------------------------- XML


def test_xml_two_signers(emulator, twophase, keys) -> None:  # type: ignore[no-untyped-def]
    emulator.choose = with_key(keys, "career")
    first = twophase.prepare_xml(XML, certificate=keys["career"].certificate)
    assert first.basics["args"]["format"] == "xml"
    once = twophase.complete_xml(first.session_id, _answer(emulator, first.basics))
    emulator.choose = with_key(keys, "hr")
    second = twophase.prepare_xml(once, certificate=keys["hr"].certificate)
    assert second.common_utils["method"] == "signXml"
    twice = twophase.complete_xml(second.session_id, _answer(emulator, second.common_utils))
    root = etree.fromstring(twice)
    sigs = root.findall("{http://www.w3.org/2000/09/xmldsig#}Signature")
    assert len(sigs) == 2
    methods = {
        m.get("Algorithm")
        for m in root.iter(
            "{http://www.w3.org/2000/09/xmldsig#}SignatureMethod",
            "{http://www.w3.org/2000/09/xmldsig#}CanonicalizationMethod",
        )
    }
    assert methods == {
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
    }


def test_xml_refuses_changed_content_and_other_signer(emulator, twophase, keys) -> None:  # type: ignore[no-untyped-def]
    request = twophase.prepare_xml(XML, certificate=keys["career"].certificate)
    signed = _answer(emulator, request.basics)
    forged = signed.replace("2025-03-01", "2025-03-09")
    with pytest.raises(SignatureValueError):
        twophase.complete_xml(request.session_id, forged)

    # A valid signature, but over a document other than the one prepared.
    request = twophase.prepare_xml(XML, certificate=keys["career"].certificate)
    other = _answer(emulator, p.sign_xml(XML.replace("2025-03-01", "2025-03-09")).to_message())
    with pytest.raises(SignatureValueError, match="prepared"):
        twophase.complete_xml(request.session_id, other)

    request = twophase.prepare_xml(XML, certificate=keys["career"].certificate)
    emulator.choose = with_key(keys, "head")
    with pytest.raises(SignatureValueError, match="another certificate"):
        twophase.complete_xml(request.session_id, _answer(emulator, request.common_utils))


# ---------------------------------------------------------------- sessions


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_sessions_expire_and_complete_once(emulator, keys, trust) -> None:  # type: ignore[no-untyped-def]
    clock = _Clock()
    service = TwoPhase(ttl=60, trust=trust, ncalayer_chain=[], clock=clock)
    cert = keys["career"].certificate
    late = service.prepare_cms(DATA, certificate=cert)
    answer = _answer(emulator, late.basics)
    clock.now += 61
    with pytest.raises(SessionError):
        service.complete_cms(late.session_id, answer)

    once = service.prepare_cms(DATA, certificate=cert)
    answer = _answer(emulator, once.basics)
    service.complete_cms(once.session_id, answer)
    with pytest.raises(SessionError):
        service.complete_cms(once.session_id, answer)  # replay
    with pytest.raises(SessionError):
        service.complete_cms("no-such-session", answer)

    xml_session = service.prepare_xml(XML, certificate=cert)
    with pytest.raises(SessionError, match="xml"):
        service.complete_cms(xml_session.session_id, answer)  # wrong kind


def test_memory_store_is_bounded_and_drops_expired() -> None:
    clock = _Clock()
    store = MemoryStore(max_sessions=2, clock=clock)
    for n in range(2):
        store.put(Pending(id=str(n), kind=Kind.CMS, expires_at=clock.now + 10, payload=b""))
    with pytest.raises(Exception, match="too many"):
        store.put(Pending(id="x", kind=Kind.CMS, expires_at=clock.now + 10, payload=b""))
    clock.now += 11
    assert len(store) == 0


class _JsonStore:
    """A store that keeps only JSON text, as Redis or a database column would."""

    def __init__(self) -> None:
        self.rows: dict[str, str] = {}

    def put(self, pending: Pending) -> None:
        self.rows[pending.id] = pending.to_json()

    def take(self, session_id: str) -> Pending | None:
        text = self.rows.pop(session_id, None)
        return Pending.from_json(text) if text is not None else None


def test_pending_state_is_plain_data(
    emulator,
    keys,
    pki,
    trust,  # type: ignore[no-untyped-def]
    application_pdf,
) -> None:
    store = _JsonStore()
    preparing = TwoPhase(store, trust=trust, ncalayer_chain=[])
    request = _prepare_pdf(preparing, application_pdf, keys, "career", pki)
    row = store.rows[request.session_id]
    assert '"kind": "pdf"' in row and application_pdf[:8] != row[:8]
    # Another worker (new TwoPhase, same store) completes it.
    completing = TwoPhase(store, trust=trust, ncalayer_chain=[])
    out = completing.complete_pdf(request.session_id, _answer(emulator, request.basics))
    assert all_valid(pyhanko_pdf_statuses(out, trust))
    assert isinstance(load_cms(_answer(emulator, request.basics)), cms.SignedData)
