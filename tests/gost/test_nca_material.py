"""Every real NCA artefact in ../shared/nca-test verified with the outcome it must have.

These prove the Kazakh OID -> curve mapping and NCA's byte orders on signatures NCA's own
software made (certificates, OCSP responses, CRLs, a 2004 time-stamp token); one flipped byte
in the signed data or in the signature value must make each of them fail.
"""

from __future__ import annotations

import pytest
from asn1crypto import cms, crl, ocsp, tsp

import signing.gost as gost
from tests.gost.nca import cert, flip, raw, signed_by

GOST2015_CA = "nca_gost2015_test.cer"
GOST2004_CA = "nca_gost_test.crt"
RSA_CA = "nca_rsa_test.crt"

# leaf -> (its CA, its signature algorithm)
LEAVES = {
    "gost2015_individual_Aa123456.p12": (GOST2015_CA, gost.SIG_2015_512),
    "gost2015_ceo_revoked_Aa123456.p12": (GOST2015_CA, gost.SIG_2015_512),
    "ceo_valid_sign_2004_gost.cer": (GOST2004_CA, gost.SIG_2004),
    "individual_valid_sign_2004_rsa.cer": (RSA_CA, "1.2.840.113549.1.1.11"),
    "rsa2004_individual_Qwerty12.p12": (RSA_CA, "1.2.840.113549.1.1.11"),
    "rsa2004_individual_sign_revoked_Qwerty12.p12": (RSA_CA, "1.2.840.113549.1.1.11"),
}


@pytest.mark.parametrize("leaf", list(LEAVES))
def test_leaf_certificate_signed_by_its_ca(leaf: str) -> None:
    ca_name, algorithm = LEAVES[leaf]
    c, ca = cert(leaf), cert(ca_name)
    assert c["signature_algorithm"]["algorithm"].dotted == algorithm
    tbs, value = c["tbs_certificate"].dump(), c["signature_value"].native
    assert signed_by(ca, algorithm, tbs, value)
    assert not signed_by(ca, algorithm, flip(tbs, len(tbs) // 2), value)
    assert not signed_by(ca, algorithm, tbs, flip(value, 3))
    others = {GOST2015_CA, GOST2004_CA, RSA_CA} - {ca_name}
    for other in others:
        assert not signed_by(cert(other), algorithm, tbs, value)


@pytest.mark.parametrize("name", [GOST2015_CA, GOST2004_CA])
def test_issuing_cas_are_not_self_signed(name: str) -> None:
    """NCA's issuing CAs are signed by roots not in nca-test: not by their own key."""
    c = cert(name)
    assert c.issuer != c.subject
    assert not signed_by(
        c,
        c["signature_algorithm"]["algorithm"].dotted,
        c["tbs_certificate"].dump(),
        c["signature_value"].native,
    )


def test_kazakh_parameter_sets_are_the_measured_curves() -> None:
    key2015 = gost.parse_public_key(
        cert(GOST2015_CA)["tbs_certificate"]["subject_public_key_info"].dump()
    )
    key2004 = gost.parse_public_key(
        cert(GOST2004_CA)["tbs_certificate"]["subject_public_key_info"].dump()
    )
    assert key2015.curve.name == "id-tc26-gost-3410-12-512-paramSetA"
    assert key2004.curve.name == "id-GostR3410-2001-CryptoPro-A-ParamSet"
    assert gost.ALGORITHMS[gost.SIG_2015_512].label == "ГОСТ 34.10-2015, 512 бит"


# response -> (CA of the responder certificate, subject of the response, its status)
OCSP = {
    "ocsp_response_individual_2015.bin": (
        GOST2015_CA,
        "gost2015_individual_Aa123456.p12",
        "revoked",
    ),
    "ocsp_response_ceo_2015_revoked.bin": (
        GOST2015_CA,
        "gost2015_ceo_revoked_Aa123456.p12",
        "revoked",
    ),
    "ocsp_response_ceo_sign_2004_revoked.bin": (GOST2004_CA, None, "revoked"),
    "ocsp_response_individual_sign_2004.bin": (RSA_CA, "rsa2004_individual_Qwerty12.p12", "good"),
}


@pytest.mark.parametrize("name", list(OCSP))
def test_ocsp_response(name: str) -> None:
    ca_name, subject, status = OCSP[name]
    basic = ocsp.OCSPResponse.load(raw(name))["response_bytes"]["response"].parsed
    responder = basic["certs"][0]
    algorithm = basic["signature_algorithm"]["algorithm"].dotted
    tbs, value = basic["tbs_response_data"].dump(), basic["signature"].native
    assert signed_by(responder, algorithm, tbs, value)
    assert not signed_by(responder, algorithm, flip(tbs, len(tbs) - 40), value)
    assert not signed_by(responder, algorithm, tbs, flip(value, 0))
    # the responder's certificate is the CA's
    assert signed_by(
        cert(ca_name),
        responder["signature_algorithm"]["algorithm"].dotted,
        responder["tbs_certificate"].dump(),
        responder["signature_value"].native,
    )
    single = basic["tbs_response_data"]["responses"][0]
    assert single["cert_status"].name == status
    if subject:
        assert single["cert_id"]["serial_number"].native == cert(subject).serial_number


@pytest.mark.parametrize(
    ("name", "ca_name"),
    [
        ("nca_gost2022_test.crl", GOST2015_CA),
        ("nca_gost_test.crl", GOST2004_CA),
        ("nca_rsa_test.crl", RSA_CA),
    ],
)
def test_crl_signed_by_its_ca(name: str, ca_name: str) -> None:
    c = crl.CertificateList.load(raw(name))
    algorithm = c["signature_algorithm"]["algorithm"].dotted
    tbs, value = c["tbs_cert_list"].dump(), c["signature"].native
    assert c.issuer == cert(ca_name).subject
    assert signed_by(cert(ca_name), algorithm, tbs, value)
    assert not signed_by(cert(ca_name), algorithm, flip(tbs, len(tbs) - 30), value)
    assert not signed_by(cert(ca_name), algorithm, tbs, flip(value, 10))


def _token(name: str) -> cms.ContentInfo:
    if name == "tsp_response.bin":
        resp = tsp.TimeStampResp.load(raw(name))
        assert resp["status"]["status"].native == "granted"
        return resp["time_stamp_token"]
    return cms.ContentInfo.load(raw(name))


def _check_token(sd: cms.SignedData, content: bytes, attrs: bytes, value: bytes) -> bool:
    """The 2004 token's two checks: message digest of the TSTInfo, signature on the attrs."""
    si = sd["signer_infos"][0]
    md = next(
        a["values"][0].native for a in si["signed_attrs"] if a["type"].native == "message_digest"
    )
    tsa = sd["certificates"][0].chosen
    return gost.digest(gost.GOST34311, content) == md and signed_by(
        tsa, si["signature_algorithm"]["algorithm"].dotted, attrs, value
    )


@pytest.mark.parametrize("name", ["tsp_token.bin", "tsp_response.bin"])
def test_time_stamp_token_2004(name: str) -> None:
    sd = _token(name)["content"]
    si = sd["signer_infos"][0]
    assert si["digest_algorithm"]["algorithm"].dotted == gost.GOST34311
    assert si["signature_algorithm"]["algorithm"].dotted == gost.SIG_2004
    content = sd["encap_content_info"]["content"].contents
    attrs = b"\x31" + si["signed_attrs"].dump()[1:]  # signed as a SET (RFC 5652 5.4)
    value = si["signature"].native
    assert _check_token(sd, content, attrs, value)
    assert not _check_token(sd, flip(content, 20), attrs, value)  # the content
    assert not _check_token(sd, content, flip(attrs, 25), value)  # a signed attribute
    assert not _check_token(sd, content, attrs, flip(value, 7))  # the signature value
    tst = sd["encap_content_info"]["content"].parsed
    assert tst["policy"].dotted == "1.2.398.3.3.2.6.1"  # NCA's GOST 2004 TSA policy
    tsa = sd["certificates"][0].chosen
    assert signed_by(
        cert(GOST2004_CA),
        tsa["signature_algorithm"]["algorithm"].dotted,
        tsa["tbs_certificate"].dump(),
        tsa["signature_value"].native,
    )
