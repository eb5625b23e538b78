"""NCA's real GOST containers: readable, and refused with the reason an official must hear."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

import signing.gost as gost
from signing import errors
from signing.keys import Pkcs12Key
from tests.gost.nca import NCA, cert

ROOT = Path(__file__).resolve().parents[2]
GOST_KEYS = ["gost2015_individual_Aa123456.p12", "gost2015_ceo_revoked_Aa123456.p12"]


def _sign(tmp_path: Path, key: str, password: str, *extra: str) -> tuple[int, str, Path]:
    """``docservice sign`` in a subprocess, as an operator runs it."""
    (tmp_path / "pw").write_text(password + "\n", encoding="utf-8")
    doc, out = tmp_path / "doc.xml", tmp_path / "signed.xml"
    doc.write_bytes("<doc><a>Сәлем</a></doc>".encode())
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "docservice",
            "sign",
            str(doc),
            "--key",
            str(NCA / key),
            "--password-file",
            str(tmp_path / "pw"),
            "--out",
            str(out),
            *extra,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return proc.returncode, proc.stderr, out


@pytest.mark.parametrize(
    ("key", "date"), [(GOST_KEYS[0], "2023-07-28"), (GOST_KEYS[1], "2023-07-27")]
)
def test_expired_gost_key_is_named_expired(tmp_path: Path, key: str, date: str) -> None:
    code, err, out = _sign(tmp_path, key, "Aa123456")
    assert code == 2 and not out.exists()
    assert f"мерзімі өтті ({date})" in err and f"истёк ({date})" in err
    assert "не читается" not in err and err.count("\n") == 1


def test_revoked_gost_key_says_expired_and_revoked(tmp_path: Path) -> None:
    code, err, out = _sign(
        tmp_path,
        GOST_KEYS[1],
        "Aa123456",
        "--trust",
        str(NCA / "nca_gost2015_test.cer"),
        "--ocsp",
        str(NCA / "ocsp_response_ceo_2015_revoked.bin"),
    )
    assert code == 2 and not out.exists()
    assert "мерзімі өтті (2023-07-27)" in err and "кері қайтарылған (2022-07-27)" in err
    assert "истёк (2023-07-27)" in err and "отозван (2022-07-27)" in err


def test_ocsp_response_about_another_certificate_proves_nothing(tmp_path: Path) -> None:
    code, err, _out = _sign(
        tmp_path,
        GOST_KEYS[1],
        "Aa123456",
        "--trust",
        str(NCA / "nca_gost2015_test.cer"),
        "--ocsp",
        str(NCA / "ocsp_response_individual_sign_2004.bin"),
    )
    assert code == 2 and "истёк (2023-07-27)" in err and "отозван" not in err


def test_wrong_password_for_gost_container(tmp_path: Path) -> None:
    code, err, out = _sign(tmp_path, GOST_KEYS[0], "Aa1234567")
    assert code == 2 and not out.exists()
    assert "құпиясөзі қате" in err and "Неверный пароль" in err


@pytest.mark.parametrize("key", GOST_KEYS)
def test_gost_container_is_read_while_valid(key: str) -> None:
    """At a moment inside its validity the NCA key loads and its signatures verify."""
    loaded = Pkcs12Key.load(NCA / key, "Aa123456", at=dt.datetime(2022, 9, 1, tzinfo=dt.UTC))
    assert loaded.is_gost and loaded.certificate.dump() == cert(key).dump()
    assert loaded.identity.iin is not None
    value = loaded.sign_raw(b"data")
    spki = loaded.certificate["tbs_certificate"]["subject_public_key_info"].dump()
    assert gost.verify_spki(spki, gost.SIG_2015_512, b"data", value)
    assert not gost.verify_spki(spki, gost.SIG_2015_512, b"date", value)


def test_revoked_while_valid_is_named_revoked() -> None:
    with pytest.raises(errors.CertificateRevokedError) as info:
        Pkcs12Key.load(
            NCA / GOST_KEYS[1],
            "Aa123456",
            at=dt.datetime(2022, 9, 1, tzinfo=dt.UTC),
            revocation=lambda c: dt.datetime(2022, 7, 27, tzinfo=dt.UTC),
        )
    assert "2022-07-27" in info.value.message_kk and "отозван" in info.value.message_ru


@pytest.mark.parametrize(
    ("key", "date"),
    [
        ("rsa2004_individual_Qwerty12.p12", "2022-01-18"),
        ("rsa2004_individual_sign_revoked_Qwerty12.p12", "2023-01-18"),
    ],
)
def test_nca_rsa_keys_are_named_expired(key: str, date: str) -> None:
    """NCA's RSA test keys: expired too. nca-test holds no OCSP response about the revoked
    one (its ``ceo_sign_2004_revoked`` response is about another certificate), so only the
    expiry can be proven; the RSA responder's "good" for the other changes nothing."""
    from asn1crypto import ocsp

    from signing.trust import ocsp_revocation

    responses = [
        ocsp.OCSPResponse.load((NCA / name).read_bytes())
        for name in (
            "ocsp_response_individual_sign_2004.bin",
            "ocsp_response_ceo_sign_2004_revoked.bin",
        )
    ]
    issuers = [cert("nca_rsa_test.crt"), cert("nca_gost_test.crt")]
    with pytest.raises(errors.CertificateExpiredError) as info:
        Pkcs12Key.load(
            NCA / key, "Qwerty12", revocation=lambda c: ocsp_revocation(c, responses, issuers)
        )
    assert info.value.reason == "certificate_expired"
    assert f"({date})" in info.value.message_kk and f"({date})" in info.value.message_ru
