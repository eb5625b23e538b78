"""Detached CAdES per signer: time-stamp, OCSP evidence, encodings, merging."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.x509 import load_der_x509_certificate

from signing import cms_util
from signing.cades import CadesOptions, embedded_ocsp, merge, sign_detached
from signing.errors import SignatureValueError
from tests.pyhanko_oracle import all_valid, pyhanko_cms_statuses

DATA = "Өтініш / Заявление №42".encode()


@pytest.fixture(scope="module")
def cms_by_signer(officials, pki, trust):
    options = CadesOptions(tsa_url=pki.tsa_url, trust=trust)
    return {label: sign_detached(DATA, key, options) for label, key in officials.items()}


def test_detached_cms_verifies_with_explicit_roots(cms_by_signer, trust) -> None:
    statuses = pyhanko_cms_statuses(DATA, cms_by_signer["career"], trust)
    assert all_valid(statuses)
    assert statuses[0].timestamp_validity.valid and statuses[0].timestamp_validity.trusted


def test_detached_cms_fails_on_other_data(cms_by_signer, trust) -> None:
    assert not all_valid(pyhanko_cms_statuses(DATA + b" ", cms_by_signer["career"], trust))


def test_signature_checks_with_cryptography_alone(cms_by_signer, officials) -> None:
    signed = cms_by_signer["hr"]
    info = signed["signer_infos"][0]
    assert signed["encap_content_info"]["content"].native is None  # detached
    assert cms_util.signer_info_digest(info) == __import__("hashlib").sha256(DATA).digest()
    cert = load_der_x509_certificate(officials["hr"].certificate.dump())
    signed_attrs = info["signed_attrs"].untag().dump()
    cert.public_key().verify(
        info["signature"].native, signed_attrs, padding.PKCS1v15(), hashes.SHA256()
    )
    names = {a["type"].native for a in info["signed_attrs"]}
    assert {"signing_time", "signing_certificate_v2", "message_digest"} <= names


def test_time_stamp_and_ocsp_captured_at_signing(cms_by_signer, officials) -> None:
    info = cms_by_signer["head"]["signer_infos"][0]
    tst = cms_util.timestamp_info(info)
    assert tst["policy"].dotted == "1.2.398.3.3.2.6.2"
    (ocsp_resp,) = [
        r
        for r in embedded_ocsp(info)
        if r["tbs_response_data"]["responses"][0]["cert_id"]["serial_number"].native
        == officials["head"].certificate.serial_number
    ]
    single = ocsp_resp["tbs_response_data"]["responses"][0]
    assert single["cert_status"].name == "good"
    gap = abs(single["this_update"].native - tst["gen_time"].native)
    assert gap < dt.timedelta(minutes=5)  # SIGEX's rule for OCSP vs time-stamp


@pytest.mark.parametrize("encode", [cms_util.to_der, cms_util.to_pem, cms_util.to_base64])
def test_encodings_round_trip(cms_by_signer, trust, encode) -> None:
    encoded = encode(cms_by_signer["akimat"])
    assert cms_util.load_cms(encoded).dump() == cms_by_signer["akimat"].dump()
    assert all_valid(pyhanko_cms_statuses(DATA, encoded, trust))


def test_garbage_is_not_a_cms() -> None:
    with pytest.raises(SignatureValueError):
        cms_util.load_cms("bm90IGEgY21z")


def test_merged_cms_holds_every_signer(cms_by_signer, trust) -> None:
    merged = merge(list(cms_by_signer.values()))
    assert len(merged["signer_infos"]) == 4
    statuses = pyhanko_cms_statuses(DATA, merged, trust)
    assert len(statuses) == 4 and all_valid(statuses)
