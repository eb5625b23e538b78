"""The external-signer hook (part B plugs NCALayer in here): two phases, CMS from outside."""

from __future__ import annotations

import asyncio
import base64
import hashlib

import pytest
from asn1crypto import cms

from signing import cms_util
from signing.cades import (
    CadesOptions,
    async_complete_external_cms,
    complete_external_cms,
    embedded_ocsp,
)
from signing.errors import (
    DigestMismatchError,
    InvalidSignatureValueError,
    SignatureValueError,
    SignerCountError,
    SignerMismatchError,
)
from signing.keys import ExternalKey
from signing.pdf import Level, PdfOptions, finish_pdf, prepare_pdf
from tests.pyhanko_oracle import all_valid, pyhanko_cms_statuses, pyhanko_pdf_statuses


def _outside_cms(key, digest: bytes) -> bytes:
    """Stands in for NCALayer's createCAdESFromBase64Hash: a CMS over a given digest."""
    signer = key.pyhanko_signer()
    content = asyncio.run(signer.async_sign(digest, "sha256", use_pades=True))
    return content.dump()


@pytest.mark.parametrize("encoding", ["pem", "base64"])
def test_two_phase_pdf_signature(rendered, officials, pki, trust, encoding) -> None:
    official = officials["akimat"]
    external = ExternalKey(official.certificate, official.chain)
    prepared = prepare_pdf(
        rendered.pdf,
        external,
        PdfOptions(level=Level.B_LT, certify=True, tsa_url=pki.tsa_url, trust=trust),
    )
    assert len(prepared.digest) == 32
    assert prepared.byte_range_digest == prepared.digest
    start, end = prepared.reserved_region
    placeholder = prepared.prepared_bytes[start:end]
    assert placeholder == b"<" + b"0" * (end - start - 2) + b">"
    covered = prepared.prepared_bytes[:start] + prepared.prepared_bytes[end:]
    assert hashlib.sha256(covered).digest() == prepared.byte_range_digest
    signed = cms_util.load_cms(_outside_cms(official, prepared.digest))
    wire = cms_util.to_pem(signed) if encoding == "pem" else cms_util.to_base64(signed)
    result = finish_pdf(prepared, wire)
    (status,) = pyhanko_pdf_statuses(result, trust)
    assert status.bottom_line and status.timestamp_validity.valid
    assert all_valid(pyhanko_pdf_statuses(result, trust, long_term=True))


def _edit(der: bytes, change) -> bytes:  # type: ignore[no-untyped-def]
    """A copy of the CMS with ``change(signed_data, signer_info)`` applied (re-encoded)."""
    signed = cms_util.copy_signed(cms_util.load_cms(der))
    change(signed, signed["signer_infos"][0])
    return cms_util.to_der(signed)


def _forge_value(signed: cms.SignedData, info: cms.SignerInfo) -> None:
    value = bytearray(info["signature"].native)
    value[len(value) // 2] ^= 0x01
    info["signature"] = bytes(value)


def _other_issuer(pki):  # type: ignore[no-untyped-def]
    """Same serial number, issuer = the root's name: names a certificate of another CA."""

    def change(signed: cms.SignedData, info: cms.SignerInfo) -> None:
        serial = info["sid"].chosen["serial_number"].native
        info["sid"] = cms.SignerIdentifier(
            {"issuer_and_serial_number": {"issuer": pki.root.subject, "serial_number": serial}}
        )

    return change


def _two_signers(signed: cms.SignedData, info: cms.SignerInfo) -> None:
    signed["signer_infos"] = [info, cms.SignerInfo.load(info.dump())]


def _by_ski(signed: cms.SignedData, info: cms.SignerInfo) -> None:
    cert = next(
        c.chosen
        for c in signed["certificates"]
        if c.name == "certificate"
        and c.chosen.serial_number == info["sid"].chosen["serial_number"].native
    )
    info["version"] = "v3"
    info["sid"] = cms.SignerIdentifier({"subject_key_identifier": cert.key_identifier})


@pytest.fixture
def prepared_akimat(rendered, officials):  # type: ignore[no-untyped-def]
    official = officials["akimat"]
    return official, prepare_pdf(rendered.pdf, ExternalKey(official.certificate, official.chain))


@pytest.mark.parametrize(
    "case", ["forged value", "other issuer", "wrong digest", "other signer", "two signers"]
)
def test_bad_external_cms_is_refused_and_nothing_written(
    prepared_akimat, officials, pki, trust, case
) -> None:  # type: ignore[no-untyped-def]
    official, prepared = prepared_akimat
    good = _outside_cms(official, prepared.digest)
    bad, expected = {
        "forged value": (lambda: _edit(good, _forge_value), InvalidSignatureValueError),
        "other issuer": (lambda: _edit(good, _other_issuer(pki)), SignerMismatchError),
        "wrong digest": (lambda: _outside_cms(official, b"\x00" * 32), DigestMismatchError),
        "other signer": (
            lambda: _outside_cms(officials["hr"], prepared.digest),
            SignerMismatchError,
        ),
        "two signers": (lambda: _edit(good, _two_signers), SignerCountError),
    }[case]
    before = prepared.prepared_bytes
    with pytest.raises(expected) as caught:
        finish_pdf(prepared, bad())
    assert isinstance(caught.value, SignatureValueError)
    assert caught.value.message_kk and caught.value.message_ru
    assert caught.value.message_kk != SignatureValueError.kk
    assert prepared.prepared_bytes == before  # the placeholder is still empty
    # The same prepared revision still accepts the genuine CMS afterwards.
    (status,) = pyhanko_pdf_statuses(finish_pdf(prepared, good), trust)
    assert status.bottom_line


def test_signer_identified_by_key_identifier_is_accepted(prepared_akimat, trust) -> None:
    official, prepared = prepared_akimat
    assert official.certificate.key_identifier  # the test PKI sets SKI
    by_ski = _edit(_outside_cms(official, prepared.digest), _by_ski)
    assert cms_util.load_cms(by_ski)["signer_infos"][0]["sid"].name == "subject_key_identifier"
    (status,) = pyhanko_pdf_statuses(finish_pdf(prepared, by_ski), trust)
    assert status.bottom_line and status.intact and status.valid


def test_key_identifier_of_another_certificate_is_refused(prepared_akimat, officials) -> None:
    official, prepared = prepared_akimat
    other = officials["hr"].certificate.key_identifier

    def change(signed: cms.SignedData, info: cms.SignerInfo) -> None:
        info["version"] = "v3"
        info["sid"] = cms.SignerIdentifier({"subject_key_identifier": other})

    with pytest.raises(SignerMismatchError):
        finish_pdf(prepared, _edit(_outside_cms(official, prepared.digest), change))


def test_external_detached_cms_gets_time_stamp_and_ocsp(officials, pki, trust) -> None:
    official = officials["hr"]
    data = b"payload"
    content = asyncio.run(
        official.pyhanko_signer().async_sign_general_data(data, "sha256", detached=True)
    )
    completed = complete_external_cms(
        cms_util.to_pem(content["content"]),
        ExternalKey(official.certificate, official.chain),
        CadesOptions(tsa_url=pki.tsa_url, trust=trust),
    )
    info = completed["signer_infos"][0]
    assert cms_util.timestamp_info(info) is not None and embedded_ocsp(info)
    assert all_valid(pyhanko_cms_statuses(data, completed, trust))


def test_external_detached_cms_completes_inside_an_event_loop(officials, pki, trust) -> None:
    official = officials["hr"]
    data = b"payload from an async handler"
    external = ExternalKey(official.certificate, official.chain)
    options = CadesOptions(tsa_url=pki.tsa_url, trust=trust)

    async def handler() -> cms.SignedData:
        content = await official.pyhanko_signer().async_sign_general_data(
            data, "sha256", detached=True
        )
        wire = cms_util.to_base64(content["content"])
        with pytest.raises(RuntimeError, match="async_"):
            complete_external_cms(wire, external, options)  # would block the loop
        return await async_complete_external_cms(wire, external, options)

    completed = asyncio.run(handler())
    info = completed["signer_infos"][0]
    assert cms_util.timestamp_info(info) is not None and embedded_ocsp(info)
    assert all_valid(pyhanko_cms_statuses(data, completed, trust))


@pytest.mark.parametrize("path", ["finish_pdf", "twophase"])
def test_both_pdf_completions_check_the_certificate_again(rendered, pki, trust, path) -> None:  # type: ignore[no-untyped-def]
    """A certificate revoked between the two phases is refused at completion, by
    :func:`signing.pdf.finish_pdf` as by :class:`signing.twophase.TwoPhase` (one
    completion, :func:`signing.pdf.async_complete_prepared`). Revocation is not checked at
    preparation here (no trust roots then), so only the completion can catch it."""
    import dataclasses

    from signing.errors import CertificateRevokedError
    from signing.keys import Pkcs12Key
    from signing.twophase import TwoPhase

    revoked = Pkcs12Key.load(pki.p12("revoked"), pki.password)
    external = ExternalKey(revoked.certificate, revoked.chain)
    if path == "finish_pdf":
        prepared = prepare_pdf(rendered.pdf, external, PdfOptions())
        wire = _outside_cms(revoked, prepared.digest)
        later = dataclasses.replace(
            prepared, options=dataclasses.replace(prepared.options, trust=trust)
        )
        with pytest.raises(CertificateRevokedError):
            finish_pdf(later, wire)
        assert all_valid(pyhanko_pdf_statuses(finish_pdf(prepared, wire), trust)) is False
    else:
        service = TwoPhase()
        request = service.prepare_pdf(rendered.pdf, revoked.certificate, revoked.chain)
        wire = _outside_cms(revoked, base64.b64decode(request.extra["digest"]))
        service.trust = trust
        with pytest.raises(CertificateRevokedError):
            service.complete_pdf(request.session_id, wire)
