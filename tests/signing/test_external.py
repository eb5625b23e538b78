"""The external-signer hook (part B plugs NCALayer in here): two phases, CMS from outside."""

from __future__ import annotations

import asyncio

import pytest

from signing import cms_util
from signing.cades import CadesOptions, complete_external_cms, embedded_ocsp
from signing.errors import SignatureValueError
from signing.keys import ExternalKey
from signing.pdf import Level, PdfOptions, finish_pdf, prepare_pdf
from signing.verify import all_valid, verify_detached, verify_pdf


def _outside_cms(key, digest: bytes) -> bytes:
    """Stands in for NCALayer's createCAdESFromBase64Hash: a CMS over a given digest."""
    signer = key.pyhanko_signer()
    content = asyncio.run(signer.async_sign(digest, "sha256", use_pades=True))
    return content.dump()


@pytest.mark.parametrize("encoding", ["pem", "base64"])
def test_two_phase_pdf_signature(rendered, officials, pki, trust, encoding) -> None:
    official = officials["akimat"]
    external = ExternalKey(official.certificate, official.chain)
    prepared = prepare_pdf(rendered.pdf, external, PdfOptions(
        level=Level.B_LT, certify=True, tsa_url=pki.tsa_url, trust=trust))
    assert len(prepared.digest) == 32
    signed = cms_util.load_cms(_outside_cms(official, prepared.digest))
    wire = cms_util.to_pem(signed) if encoding == "pem" else cms_util.to_base64(signed)
    result = finish_pdf(prepared, wire)
    (status,) = verify_pdf(result, trust)
    assert status.bottom_line and status.timestamp_validity.valid
    assert all_valid(verify_pdf(result, trust, long_term=True))


def test_cms_over_another_digest_is_refused(rendered, officials) -> None:
    official = officials["akimat"]
    prepared = prepare_pdf(rendered.pdf, ExternalKey(official.certificate, official.chain))
    with pytest.raises(SignatureValueError):
        finish_pdf(prepared, _outside_cms(official, b"\x00" * 32))


def test_external_detached_cms_gets_time_stamp_and_ocsp(officials, pki, trust) -> None:
    official = officials["hr"]
    data = b"payload"
    content = asyncio.run(official.pyhanko_signer().async_sign_general_data(
        data, "sha256", detached=True))
    completed = complete_external_cms(cms_util.to_pem(content["content"]),
                                      ExternalKey(official.certificate, official.chain),
                                      CadesOptions(tsa_url=pki.tsa_url, trust=trust))
    info = completed["signer_infos"][0]
    assert cms_util.timestamp_info(info) is not None and embedded_ocsp(info)
    assert all_valid(verify_detached(data, completed, trust))
