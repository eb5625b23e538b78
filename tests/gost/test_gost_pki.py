"""The GOST test PKI (tests/pki/gost.py) in use: its keys sign, mixed with RSA signers, and
the verifier judges them with the CRL it serves; BouncyCastle checks every GOST signature."""

from __future__ import annotations

import io

import pytest
from asn1crypto import cms
from pyhanko.pdf_utils.reader import PdfFileReader

import signing.gost as gost
from docservice.verification import TrustAnchors, Verifier, VerifierConfig
from docservice.verification.report import Indication
from signing import errors
from signing.cades import CadesOptions, sign_detached
from signing.keys import Pkcs12Key
from signing.pdf import Level, PdfOptions, sign_pdf
from signing.xmldsig import sign_xml
from tests.gost.oracles import bc_verifies, check_gost_signer_info
from tests.verification.fixtures import base_pdf


@pytest.fixture(scope="module")
def verifier(gpki, pki) -> Verifier:  # type: ignore[no-untyped-def]
    trust = TrustAnchors.from_certificates([pki.root, pki.ca, gpki.root, gpki.ca])
    return Verifier(VerifierConfig(trust=trust))


def _key(gpki, label: str, password: str | None = None) -> Pkcs12Key:  # type: ignore[no-untyped-def]
    return Pkcs12Key.load(gpki.p12(label), password or gpki.password)


@pytest.mark.parametrize(
    "label",
    ["gost_career", "gost_head", "gost256_career", "gost_revoked", "gost_expired", "gost_authonly"],
)
def test_certificates_verify_with_bouncycastle(gpki, bc, label: str) -> None:  # type: ignore[no-untyped-def]
    cert = gpki.cert(label)
    ca = gost.parse_public_key(gpki.ca["tbs_certificate"]["subject_public_key_info"].dump())
    digest = gost.digest(gost.STREEBOG512, cert["tbs_certificate"].dump())
    assert bc_verifies(
        bc, ca.key, ca.curve.bouncycastle, 64, digest, cert["signature_value"].native
    )


@pytest.mark.parametrize(
    ("label", "error", "kk", "ru"),
    [
        ("gost_expired", errors.CertificateExpiredError, "мерзімі өтті", "истёк"),
        ("gost_authonly", errors.KeyUsageError, "қол қоюға арналмаған", "не предназначен"),
    ],
)
def test_unusable_gost_keys_are_named(gpki, label, error, kk, ru) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error) as info:
        _key(gpki, label)
    assert kk in info.value.message_kk and ru in info.value.message_ru


def test_wrong_password(gpki) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(errors.WrongPasswordError):
        _key(gpki, "gost_career", "wrong")


def test_revoked_gost_signer_is_refused_with_the_served_crl(gpki) -> None:  # type: ignore[no-untyped-def]
    key = _key(gpki, "gost_revoked")
    trust = TrustAnchors((gpki.root,), (gpki.ca,))
    with pytest.raises(errors.CertificateRevokedError):
        sign_detached(b"data", key, CadesOptions(trust=trust))


def test_mixed_rsa_and_gost_signers_in_one_pdf(gpki, pki, verifier, bc) -> None:  # type: ignore[no-untyped-def]
    pdf = base_pdf()
    signers = [
        Pkcs12Key.load(pki.p12("career"), pki.password),
        _key(gpki, "gost_career"),
        _key(gpki, "gost256_career"),
        _key(gpki, "gost_head"),
    ]
    for signer in signers:
        pdf = sign_pdf(pdf, signer, PdfOptions())
    report = verifier.verify(pdf)
    assert [s.algorithm.startswith("ГОСТ") for s in report.signatures] == [False, True, True, True]
    assert [s.algorithm for s in report.signatures[1:]] == [
        "ГОСТ 34.10-2015, 512 бит",
        "ГОСТ 34.10-2015, 256 бит",
        "ГОСТ 34.10-2015, 512 бит",
    ]
    for sig in report.signatures:
        assert (sig.indication, sig.sub_indication) == (Indication.TOTAL_PASSED, None), sig.reasons
    gost_sigs = report.signatures[1:]
    assert all(s.revocation is not None and s.revocation.status == "good" for s in gost_sigs)
    assert gost_sigs[2].signer is not None and gost_sigs[2].signer.bin == "991240007893"
    assert gost_sigs[0].chain == [
        "НЕГІЗГІ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (GOST) TEST",
        "ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (GOST) TEST",
        "ТЕСТОВ ТЕСТ",
    ]
    # every GOST signature checked by OpenSSL (digests) and BouncyCastle (signature)
    for embedded, signer in zip(
        PdfFileReader(io.BytesIO(pdf)).embedded_signatures[1:], signers[1:], strict=True
    ):
        s1, l1, s2, l2 = (int(v) for v in embedded.byte_range)
        covered = pdf[s1 : s1 + l1] + pdf[s2 : s2 + l2]
        check_gost_signer_info(bc, embedded.signer_info, signer.certificate, covered)


def test_revoked_gost_signature_is_reported_revoked(gpki, verifier) -> None:  # type: ignore[no-untyped-def]
    key = _key(gpki, "gost_revoked")
    signed = sign_detached(b"data", key)
    der = cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump()
    (sig,) = verifier.verify(der, b"data").signatures
    # signed (by its own claim) after the revocation the served CRL lists
    assert (sig.indication, sig.sub_indication) == (Indication.TOTAL_FAILED, "REVOKED")
    assert sig.revocation is not None and sig.revocation.reason == "key_compromise"


def test_gost_xml_and_cms_from_the_test_pki_pass(gpki, verifier) -> None:  # type: ignore[no-untyped-def]
    xml = sign_xml("<doc><a>Сәлем</a></doc>".encode(), _key(gpki, "gost_career"))
    xml = sign_xml(xml, _key(gpki, "gost256_career"))
    report = verifier.verify(xml)
    assert [(s.indication, s.algorithm) for s in report.signatures] == [
        (Indication.TOTAL_PASSED, "ГОСТ 34.10-2015, 512 бит"),
        (Indication.TOTAL_PASSED, "ГОСТ 34.10-2015, 256 бит"),
    ]


def test_rsa_signature_time_stamped_by_a_gost_tsa(gpki, pki, verifier) -> None:  # type: ignore[no-untyped-def]
    """The mixed chain NCA's production TSA makes: an RSA signature, a GOST 2015 token with
    a Streebog imprint over its signature value; the verifier trusts the token's time."""
    from signing.cms_util import add_unsigned_attribute

    signed = sign_detached(b"data", Pkcs12Key.load(pki.p12("career"), pki.password))
    info = signed["signer_infos"][0]
    token = gpki.timestamp_token(info["signature"].native)
    add_unsigned_attribute(info, "signature_time_stamp_token", token)
    der = cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump()
    (sig,) = verifier.verify(der, b"data").signatures
    assert (sig.indication, sig.sub_indication) == (Indication.TOTAL_PASSED, None), sig.reasons
    (ts,) = sig.timestamps
    assert ts.trusted and ts.tsa == "УАҚЫТ БЕЛГІСІ ҚЫЗМЕТІ (GOST) TEST"
    assert sig.validation_time_source == "timestamp"
    # a token over another value is not trusted
    info["unsigned_attrs"] = None
    add_unsigned_attribute(info, "signature_time_stamp_token", gpki.timestamp_token(b"x"))
    der = cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump()
    (other,) = verifier.verify(der, b"data").signatures
    assert not other.timestamps[0].trusted


def test_gost_ocsp_responder_answers_good_and_revoked(gpki) -> None:  # type: ignore[no-untyped-def]
    """The served GOST OCSP responder, asked as pyhanko-certvalidator asks it."""
    import asyncio

    from pyhanko_certvalidator import CertificateValidator, ValidationContext
    from pyhanko_certvalidator.errors import RevokedError
    from pyhanko_certvalidator.policy_decl import (
        CertRevTrustPolicy,
        RevocationCheckingPolicy,
        RevocationCheckingRule,
    )

    ocsp_only = CertRevTrustPolicy(
        RevocationCheckingPolicy(
            ee_certificate_rule=RevocationCheckingRule.OCSP_REQUIRED,
            intermediate_ca_cert_rule=RevocationCheckingRule.NO_CHECK,
        )
    )

    def validate(label: str):  # type: ignore[no-untyped-def]
        context = ValidationContext(
            trust_roots=[gpki.root],
            other_certs=[gpki.ca],
            allow_fetching=True,
            revinfo_policy=ocsp_only,
        )
        validator = CertificateValidator(gpki.cert(label), validation_context=context)
        return asyncio.run(validator.async_validate_usage(set())), context

    _path, context = validate("gost_career")
    assert (
        context.ocsps
        and context.ocsps[0]["response_bytes"]["response"]
        .parsed["signature_algorithm"]["algorithm"]
        .dotted
        == gost.SIG_2015_512
    )
    with pytest.raises(RevokedError):
        validate("gost_revoked")


def test_rsa_pdf_time_stamped_by_the_served_gost_tsa(gpki, pki, verifier) -> None:  # type: ignore[no-untyped-def]
    """B-T over HTTP: pyHanko asks the GOST TSA for a token over the RSA signature."""
    pdf = sign_pdf(
        base_pdf(),
        Pkcs12Key.load(pki.p12("career"), pki.password),
        PdfOptions(tsa_url=gpki.tsa_url, level=Level.B_T),
    )
    (sig,) = verifier.verify(pdf).signatures
    assert (sig.indication, sig.sub_indication) == (Indication.TOTAL_PASSED, None), sig.reasons
    assert sig.timestamps[0].trusted and sig.validation_time_source == "timestamp"
    assert sig.timestamps[0].tsa == "УАҚЫТ БЕЛГІСІ ҚЫЗМЕТІ (GOST) TEST"


def test_cli_verifies_gost_with_only_the_issuing_ca_in_the_trust_folder(gpki, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``docservice verify`` as an operator runs it, the folder pinning the GOST CA alone."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    from asn1crypto import pem

    trust = tmp_path / "trust"
    trust.mkdir()
    (trust / "nca_gost_ca.pem").write_bytes(pem.armor("CERTIFICATE", gpki.ca.dump()))
    signed = tmp_path / "doc.xml"
    signed.write_bytes(sign_xml("<doc><a>Сәлем</a></doc>".encode(), _key(gpki, "gost_head")))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "docservice",
            "verify",
            str(signed),
            "--trust",
            str(trust),
            "--json",
        ],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (sig,) = json.loads(proc.stdout)["signatures"]
    assert sig["algorithm"] == "ГОСТ 34.10-2015, 512 бит"
    assert sig["chain"] == ["ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (GOST) TEST", "БАСШЫ БАС"]
