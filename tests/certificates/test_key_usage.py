"""One key-usage policy: signing refuses exactly the certificates verification refuses.

Each case is a certificate issued on the spot; the signing side is asked through
``check_signing_certificate`` (what every signing path runs first), the verification side
through a real detached CMS signature made by ``cryptography`` (an independent
implementation) and verified by :class:`docservice.verification.Verifier` against the
issuing CA as the only anchor.
"""

from __future__ import annotations

import pytest
from asn1crypto import x509
from cryptography import x509 as pyca_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7

from docservice.pki.key_usage import Usage, signing_usage
from docservice.pki.roles import Role
from docservice.verification import TrustAnchors, Verifier, VerifierConfig
from docservice.verification.report import Indication
from signing.errors import KeyUsageError
from signing.keys import check_signing_certificate
from tests.pki.making import ca_certificate, key_of, make_cert

DATA = "Өтініш / Заявление".encode()
SIGN, NR, KE = "digital_signature", "content_commitment", "key_encipherment"
CASES = {
    # name: (key usage, extended key usage, expected answer)
    "digitalSignature": ({SIGN}, ("email", Role.INDIVIDUAL.oid), Usage.MAY_SIGN),
    "nca-signing-key": ({SIGN, NR}, ("email", Role.INDIVIDUAL.oid), Usage.MAY_SIGN),
    "nonRepudiation-only": ({NR}, ("email",), Usage.MAY_SIGN),
    "no-eku": ({SIGN, NR}, (), Usage.MAY_SIGN),
    "absent-key-usage": (None, ("email",), Usage.MAY_SIGN),
    "absent-key-usage-auth-eku": (None, ("client_auth",), Usage.AUTHENTICATION_ONLY),
    "keyEncipherment-only": ({KE}, ("email",), Usage.NO_SIGNING_BIT),
    "auth-only-eku": ({SIGN, KE}, ("client_auth", Role.INDIVIDUAL.oid), Usage.AUTHENTICATION_ONLY),
    "auth-and-sign-eku": ({SIGN}, ("client_auth", "email"), Usage.MAY_SIGN),
}


def _signing_accepts(cert: x509.Certificate) -> bool:
    try:
        check_signing_certificate(cert)
    except KeyUsageError:
        return False
    return True


def _verification_accepts(cert: x509.Certificate) -> tuple[bool, list[str]]:
    signer = pyca_x509.load_der_x509_certificate(cert.dump())
    cms = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(DATA)
        .add_signer(signer, key_of(cert), hashes.SHA256())  # type: ignore[arg-type]
        .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature])
    )
    trust = TrustAnchors.from_certificates([ca_certificate()], source="throw-away CA")
    report = Verifier(VerifierConfig(trust=trust, fetch_revocation=False)).verify(
        cms, original=DATA
    )
    [sig] = report.signatures
    codes = [r.code for r in sig.reasons]
    return sig.indication is Indication.TOTAL_PASSED, codes


@pytest.mark.parametrize("case", sorted(CASES))
def test_signing_and_verification_give_the_same_answer(case: str) -> None:
    usage, ekus, expected = CASES[case]
    cert = make_cert(ekus=ekus, key_usage=usage, use_rsa=True)
    assert signing_usage(cert) is expected
    accepted, codes = _verification_accepts(cert)
    assert _signing_accepts(cert) is accepted is expected.allowed, codes
    if not expected.allowed:
        assert "CHAIN_CONSTRAINTS_FAILURE" in codes
        assert ("NOT_A_SIGNING_CERT" in codes) is expected.authentication_key


def test_the_nca_material_signing_keys_may_sign() -> None:
    from tests.certificates.test_person import _cer

    for name in ("individual_valid_sign_2004_rsa.cer", "ceo_valid_sign_2004_gost.cer"):
        assert signing_usage(_cer(name)) is Usage.MAY_SIGN


def test_nca_tsa_certificate_without_key_usage_may_sign() -> None:
    """NCA's own test TSA certificate has no KeyUsage; its tokens are valid signatures."""
    from asn1crypto import cms as asn1_cms

    from tests.certificates.test_person import NCA

    token = asn1_cms.ContentInfo.load((NCA / "tsp_token.bin").read_bytes())
    [tsa] = [c.chosen for c in token["content"]["certificates"]]
    assert tsa.key_usage_value is None
    assert signing_usage(tsa) is Usage.MAY_SIGN
    assert _signing_accepts_usage(tsa)


def _signing_accepts_usage(cert: x509.Certificate) -> bool:
    """The signing side's key-usage answer alone (this certificate expired long ago)."""
    import datetime as dt

    validity = cert["tbs_certificate"]["validity"]
    moment = (
        validity["not_before"].native
        + (validity["not_after"].native - validity["not_before"].native) / 2
    )
    try:
        check_signing_certificate(cert, at=moment.astimezone(dt.UTC))
    except KeyUsageError:
        return False
    return True


def test_test_pki_authentication_keys_may_not(pki) -> None:  # type: ignore[no-untyped-def]
    assert signing_usage(pki.cert("authonly")) is Usage.NO_SIGNING_BIT
    assert signing_usage(pki.cert("career_auth")) is Usage.AUTHENTICATION_ONLY
    assert signing_usage(pki.cert("career")) is Usage.MAY_SIGN
