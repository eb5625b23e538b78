"""The test PKI looks like NCA RK's and its services really answer over loopback HTTP."""

from __future__ import annotations

import urllib.parse
import urllib.request

import pytest
from asn1crypto import crl, pem, x509
from cryptography.hazmat.primitives.serialization import pkcs12

from signing import _pkcs12
from tests.pki import OFFICIALS, USERS, TestPki

ROLE_OIDS = {
    "career": "1.2.398.3.3.4.1.2.5",
    "head": "1.2.398.3.3.4.1.2.1",
    "akimat": "1.2.398.3.3.4.1.2.2",
    "hr": "1.2.398.3.3.4.1.2.4",
    "applicant": "1.2.398.3.3.4.1.1",
}


def _checksum_ok(number: str) -> bool:
    digits = [int(c) for c in number]
    for weights in (range(1, 12), (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)):
        value = sum(d * w for d, w in zip(digits[:11], weights, strict=True)) % 11
        if value != 10:
            return value == digits[11]
    return False


@pytest.mark.parametrize("label", USERS)
def test_user_subjects_follow_nca_conventions(pki: TestPki, label: str) -> None:
    cert = pki.cert(label)
    subject = cert.subject.native
    assert subject["country_name"] == "KZ"
    assert subject["serial_number"].startswith("IIN")
    assert _checksum_ok(subject["serial_number"][3:])
    assert subject["common_name"].startswith(subject["surname"] + " ")
    assert subject["given_name"]  # the patronymic
    if "organization_name" in subject:
        assert subject["organizational_unit_name"].startswith("BIN")
        assert _checksum_ok(subject["organizational_unit_name"][3:])
    assert cert.issuer.native["common_name"] == "ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (RSA) TEST"
    policies = [p["policy_identifier"].dotted for p in cert.certificate_policies_value]
    assert all(p.startswith("1.2.398.3.3.2.") for p in policies)
    aia = cert.authority_information_access_value.native[0]["access_location"]
    assert aia.startswith(pki.base_url) and pki.base_url.startswith("http://127.0.0.1:")


@pytest.mark.parametrize("label", [*OFFICIALS, "applicant"])
def test_signing_certificates_carry_role_and_email_protection(pki: TestPki, label: str) -> None:
    eku = {o.dotted for o in pki.cert(label).extended_key_usage_value}
    assert {"1.3.6.1.5.5.7.3.4", ROLE_OIDS[label]} <= eku
    assert set(pki.cert(label).key_usage_value.native) >= {"digital_signature", "non_repudiation"}


def test_p12_is_password_protected_rsa_2048_with_chain(pki: TestPki) -> None:
    data = pki.p12("career").read_bytes()
    with pytest.raises(ValueError):
        pkcs12.load_key_and_certificates(data, b"not-the-password")
    key, _cert, chain = pkcs12.load_key_and_certificates(data, pki.password.encode())
    assert key.key_size == 2048
    assert len(chain) == 2
    # Our MAC check (used to tell "wrong password" apart) agrees with OpenSSL's files.
    assert _pkcs12.mac_matches(data, pki.password) is True
    assert _pkcs12.mac_matches(data, "not-the-password") is False


def test_crl_is_served_and_lists_the_revoked_user(pki: TestPki) -> None:
    with urllib.request.urlopen(pki.crl_url, timeout=5) as resp:
        body = resp.read()
    cert_list = crl.CertificateList.load(pem.unarmor(body)[2] if pem.detect(body) else body)
    entries = cert_list["tbs_cert_list"]["revoked_certificates"]
    revoked = {entry["user_certificate"].native for entry in entries}
    assert pki.cert("revoked").serial_number in revoked
    assert pki.cert("career").serial_number not in revoked


def test_ca_is_issued_by_root(pki: TestPki) -> None:
    assert pki.ca.issuer == pki.root.subject
    assert isinstance(pki.root, x509.Certificate) and pki.root.issuer == pki.root.subject
    assert urllib.parse.urlsplit(pki.ocsp_url).hostname == "127.0.0.1"
