"""One reading of an NCA subject for the stamp, the service and the verification report."""

from __future__ import annotations

import datetime as dt

import pytest
from asn1crypto import pem, x509
from cryptography.x509.oid import NameOID

from docservice.pki.person import person_of, read_person
from docservice.pki.roles import Role
from docservice.verification.certs import signer_facts
from signing.keys import Pkcs12Key
from tests.conftest import SHARED
from tests.pki import TestPki
from tests.pki.making import make_cert

NCA = SHARED / "nca-test"


def _cer(name: str) -> x509.Certificate:
    data = (NCA / name).read_bytes()
    return x509.Certificate.load(pem.unarmor(data)[2] if pem.detect(data) else data)


def _p12(name: str, password: str, at: dt.datetime) -> x509.Certificate:
    return Pkcs12Key.load(NCA / name, password, at=at).certificate


def _both_agree(cert: x509.Certificate) -> None:
    """The report says what the stamp's reading says."""
    person, facts = person_of(cert), signer_facts(cert)
    assert facts.full_name == person.full_name and facts.common_name == person.common_name
    assert (facts.iin or "") == person.iin and (facts.bin or "") == person.bin
    assert (facts.organisation or "") == person.organisation
    assert facts.surname == person.surname and facts.patronymic == person.patronymic


@pytest.mark.parametrize(
    ("load", "roles", "bin_", "org"),
    [
        (lambda: _cer("individual_valid_sign_2004_rsa.cer"), (Role.INDIVIDUAL,), "", ""),
        (
            lambda: _cer("ceo_valid_sign_2004_gost.cer"),
            (Role.LEGAL_ENTITY, Role.FIRST_HEAD),
            "123456789021",
            'АО "ТЕСТ"',
        ),
        (
            lambda: _p12(
                "rsa2004_individual_Qwerty12.p12",
                "Qwerty12",
                dt.datetime(2021, 6, 1, tzinfo=dt.UTC),
            ),
            (Role.INDIVIDUAL,),
            "",
            "",
        ),
        (
            lambda: _p12(
                "gost2015_ceo_revoked_Aa123456.p12",
                "Aa123456",
                dt.datetime(2023, 1, 1, tzinfo=dt.UTC),
            ),
            (Role.LEGAL_ENTITY, Role.FIRST_HEAD),
            "123456789021",
            None,
        ),
    ],
    ids=["rsa-individual", "gost2004-ceo", "rsa-p12", "gost2015-ceo"],
)
def test_real_nca_certificates(load, roles, bin_, org) -> None:  # type: ignore[no-untyped-def]
    if not NCA.is_dir():
        pytest.fail(f"NCA test material not found under {NCA}")
    cert = load()
    person = person_of(cert)
    assert person.iin.isdigit() and len(person.iin) == 12
    assert person.held_roles == roles and person.roles == roles[-1:]
    assert person.bin == bin_
    if org is not None:
        assert person.organisation == org
    assert person.common_name and person.full_name.startswith(person.common_name)
    if person.patronymic:
        assert person.full_name.endswith(" " + person.patronymic)
    _both_agree(cert)


def test_nca_test_individual_reads_in_full() -> None:
    person = person_of(_cer("individual_valid_sign_2004_rsa.cer"))
    assert person.full_name == "ТЕСТОВ ТЕСТ ТЕСТОВИЧ"
    assert (person.surname, person.given_name, person.patronymic) == ("ТЕСТОВ", "ТЕСТ", "ТЕСТОВИЧ")
    assert person.iin == "123456789011"


@pytest.mark.parametrize("user", ["career", "head", "akimat", "hr", "applicant"])
def test_test_pki_officials(pki: TestPki, user: str) -> None:
    cert = pki.cert(user)
    person = person_of(cert)
    assert len(person.iin) == 12 and person.full_name.count(" ") >= 2
    assert bool(person.bin) == (user != "applicant")
    _both_agree(cert)


def test_no_prefix_no_identification_number() -> None:
    """A foreign serialNumber or department name is not shown as an IIN or BIN."""
    cert = make_cert(
        subject=[
            (NameOID.COMMON_NAME, "John Smith"),
            (NameOID.SERIAL_NUMBER, "PNOGB-12345"),
            (NameOID.ORGANIZATIONAL_UNIT_NAME, "Sales"),
        ]
    )
    person = person_of(cert)
    assert (person.iin, person.bin) == ("", "")
    facts = signer_facts(cert)
    assert facts.iin is None and facts.bin is None and facts.legal_entity is False
    assert person_of(make_cert(subject=[(NameOID.SERIAL_NUMBER, "IINABC")])).iin == ""


def test_bin_is_found_among_several_ous() -> None:
    cert = make_cert(
        subject=[
            (NameOID.COMMON_NAME, "A B"),
            (NameOID.ORGANIZATIONAL_UNIT_NAME, "Бухгалтерия"),
            (NameOID.ORGANIZATIONAL_UNIT_NAME, "BIN991240007893"),
        ]
    )
    assert person_of(cert).bin == "991240007893"


@pytest.mark.parametrize(
    ("attrs", "full"),
    [
        # CN not starting with SURNAME: the CN is kept (it was dropped by one old copy)
        (
            [
                (NameOID.COMMON_NAME, "NURLAN KURMANGALIYEV"),
                (NameOID.SURNAME, "ҚҰРМАНҒАЛИЕВ"),
                (NameOID.GIVEN_NAME, "ӨМІРЗАҚҰЛЫ"),
            ],
            "NURLAN KURMANGALIYEV ӨМІРЗАҚҰЛЫ",
        ),
        # CN already ending with the patronymic: not repeated
        (
            [
                (NameOID.COMMON_NAME, "ӘЛИЕВ ӘЛИ ӘЛИҰЛЫ"),
                (NameOID.SURNAME, "ӘЛИЕВ"),
                (NameOID.GIVEN_NAME, "ӘЛИҰЛЫ"),
            ],
            "ӘЛИЕВ ӘЛИ ӘЛИҰЛЫ",
        ),
        # no CN: surname and patronymic
        ([(NameOID.SURNAME, "ӘЛИЕВ"), (NameOID.GIVEN_NAME, "ӘЛИҰЛЫ")], "ӘЛИЕВ ӘЛИҰЛЫ"),
    ],
    ids=["latin-cn", "cn-with-patronymic", "no-cn"],
)
def test_full_name_rule(attrs, full) -> None:  # type: ignore[no-untyped-def]
    cert = make_cert(subject=attrs)
    assert person_of(cert).full_name == full
    _both_agree(cert)


def test_log_repr_masks() -> None:
    person = person_of(_cer("individual_valid_sign_2004_rsa.cer"))
    assert "123456789011" not in person.log_repr() and "ТЕСТОВ" not in person.log_repr()


def test_remembered_person_is_a_fresh_reading(pki: TestPki) -> None:
    """The per-certificate memory gives what reading the certificate gives, per DER."""
    seen = []
    for user in ("career", "head", "akimat", "career"):
        der = pki.cert(user).dump()
        person = person_of(x509.Certificate.load(der))
        assert person == read_person(x509.Certificate.load(der))
        assert person_of(x509.Certificate.load(der)) is person
        seen.append(person)
    assert seen[0] is seen[3] and len({p.serial_hex for p in seen}) == 3
