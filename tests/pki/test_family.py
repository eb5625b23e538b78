"""The suite's test PKI is one family: one description, one set of labels and serials, one
set of fixtures; its special-purpose variants differ only where they are meant to."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from tests.pki import EXPIRING_TSA_DAYS, USER_SERIAL_BASE, USERS, TestPki, stranger_root
from tests.pki import gost as gost_pki

TESTS = Path(__file__).resolve().parents[1]


def _rsa_labels(pki: TestPki) -> list[str]:
    return [spec.label for _issuer, specs in pki.arch.enumerate_certs_by_issuer() for spec in specs]


def test_labels_and_serials_are_one_set_across_rsa_gost_and_the_variants(pki, gpki) -> None:
    rsa = {label: pki.cert(label) for label in _rsa_labels(pki)}
    family = {
        **rsa,
        **{
            f"gost:{label}": cert
            for label, cert in {"root": gpki.root, "ca": gpki.ca, **gpki.certs}.items()
        },
        "stranger": stranger_root(),
    }
    assert not set(rsa) & set(gpki.certs), "a label names two certificates"
    serials = [cert.serial_number for cert in family.values()]
    assert len(set(serials)) == len(serials), "two certificates of the family share a serial"
    assert {rsa[label].serial_number for label in USERS} == {
        USER_SERIAL_BASE + n for n in range(1, len(USERS) + 1)
    }
    assert set(gost_pki.SERIALS.values()) == {
        gpki.cert(label).serial_number for label in gost_pki.SERIALS
    }
    assert min(gost_pki.SERIALS.values()) > USER_SERIAL_BASE + len(USERS)


def test_the_expiring_tsa_is_the_tsa_key_under_a_certificate_that_expires_soon(
    pki, expiring_tsa
) -> None:
    url, expiry = expiring_tsa
    cert, tsa = pki.cert("expiring_tsa"), pki.cert("tsa")
    assert url == pki.expiring_tsa_url != pki.tsa_url
    assert cert.public_key.dump() == tsa.public_key.dump()
    assert cert.issuer == pki.ca.subject
    assert cert.extended_key_usage_value.native == ["time_stamping"]
    left = expiry - dt.datetime.now(dt.UTC)
    assert dt.timedelta(days=EXPIRING_TSA_DAYS - 1) < left <= dt.timedelta(days=EXPIRING_TSA_DAYS)
    assert tsa.not_valid_after.year == 2040


def test_the_stranger_root_shares_nothing_with_the_test_pki(pki) -> None:
    stranger = stranger_root()
    assert stranger.self_signed == "maybe" and stranger.ca
    keys = {pki.cert(label).public_key.dump() for label in _rsa_labels(pki)}
    assert stranger.public_key.dump() not in keys
    assert stranger.subject.dump() not in {pki.root.subject.dump(), pki.ca.subject.dump()}


def test_no_folder_builds_a_pki_of_its_own() -> None:
    """The fixtures are defined once (tests/pki/fixtures.py); a second copy would start a
    second server with other certificates and other anchors."""
    own = re.compile(
        r"def (pki|gpki|trust|officials|expiring_tsa|password_file)\(|"
        r"running_(gost_)?pki\("
    )
    offenders = [
        str(path.relative_to(TESTS))
        for path in TESTS.rglob("*.py")
        if path.parent.name != "pki" and own.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_certificates_are_built_only_by_the_test_pki() -> None:
    """Ad hoc certificates belong to the per-case variant (tests/pki/making.py)."""
    offenders = [
        str(path.relative_to(TESTS))
        for path in TESTS.rglob("*.py")
        if path.parent.name != "pki" and "CertificateBuilder(" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []
