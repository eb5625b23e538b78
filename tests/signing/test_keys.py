"""PKCS#12 provider: refusals name the reason in Kazakh and Russian; nothing is signed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from signing import errors
from signing.keys import ExternalKey, Pkcs12Key, load_key
from signing.pdf import PdfOptions, sign_pdf
from tests.pki import TestPki

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.mark.parametrize(
    ("label", "password", "error", "kk", "ru"),
    [
        ("career", "wrong", errors.WrongPasswordError, "құпиясөзі қате", "Неверный пароль"),
        ("expired", None, errors.CertificateExpiredError, "мерзімі өтті", "истёк"),
        (
            "notyet",
            None,
            errors.CertificateNotYetValidError,
            "күшіне енген жоқ",
            "ещё не действует",
        ),
        ("authonly", None, errors.KeyUsageError, "қол қоюға арналмаған", "не предназначен"),
        ("gost", None, errors.GostKeyError, "ГОСТ", "ГОСТ"),
    ],
)
def test_unusable_keys_are_refused_with_a_reason(
    pki: TestPki,
    label: str,
    password: str | None,
    error: type[errors.SigningError],
    kk: str,
    ru: str,
) -> None:
    path = pki.gost_p12 if label == "gost" else pki.p12(label)
    with pytest.raises(error) as info:
        Pkcs12Key.load(path, password or pki.password)
    assert kk in info.value.message_kk and ru in info.value.message_ru
    assert info.value.reason == error.reason
    assert "IIN" not in str(info.value)  # no personal data in messages


def test_damaged_container(pki: TestPki, tmp_path) -> None:
    broken = tmp_path / "broken.p12"
    broken.write_bytes(pki.p12("career").read_bytes()[:200])
    with pytest.raises((errors.KeyContainerError, errors.WrongPasswordError)):
        Pkcs12Key.load(broken, pki.password)


def test_revoked_signer_is_refused_when_status_is_checked(pki: TestPki, trust, rendered) -> None:
    key = Pkcs12Key.load(pki.p12("revoked"), pki.password)
    before = pki.hits["ocsp"]
    with pytest.raises(errors.CertificateRevokedError):
        sign_pdf(rendered.pdf, key, PdfOptions(trust=trust))
    assert pki.hits["ocsp"] > before  # the loopback responder was asked


def test_role_must_be_in_certificate(officials) -> None:
    officials["head"].check(role="first_head")
    with pytest.raises(errors.RoleError) as info:
        officials["career"].check(role="first_head")
    assert "Первый руководитель" in info.value.message_ru


def test_identity_reads_nca_fields(officials) -> None:
    ident = officials["akimat"].identity
    assert ident.iin == "700101300675" and ident.bin == "991240007893"
    assert ident.full_name == "ҚҰРМАНҒАЛИЕВ НҰРЛАН ӨМІРЗАҚҰЛЫ"
    assert ident.roles == ("right_to_sign",)
    assert ident.role_label() == ("Қол қою құқығы бар тұлға", "Лицо с правом подписи")
    assert "700101300675" not in ident.log_repr()


def test_load_key_caches_and_selects_provider(pki: TestPki, monkeypatch) -> None:
    monkeypatch.setenv("DOCSERVICE_KEY_PASSWORD", pki.password)
    first = load_key({"provider": "pkcs12", "path": str(pki.p12("hr"))})
    assert load_key({"provider": "pkcs12", "path": str(pki.p12("hr"))}) is first
    external = load_key({"provider": "external", "certificate": str(pki.directory / "hr.cert.pem")})
    assert isinstance(external, ExternalKey)
    assert external.certificate.dump() == first.certificate.dump()


def test_a_key_loaded_before_start_up_code_still_signs_and_verifies(
    pki: TestPki, trust_dir: Path, password_file: Path
) -> None:
    """A library user may load a key before anything calls ``signing.patches.apply()``
    (which adds the GOST names to asn1crypto's OID tables). Fresh interpreter: the suite's
    own process applied the patches long ago."""
    script = f"""
from signing.keys import Pkcs12Key
key = Pkcs12Key.load({str(pki.p12("career"))!r}, {pki.password!r})
from signing import patches
patches.apply()
from docservice.render import render
from docservice.verification import Verifier, VerifierConfig
from signing.pdf import PdfOptions, sign_pdf
from tests.conftest import example
signed = sign_pdf(render("direction", example("direction"), "kk").pdf, key, PdfOptions())
config = VerifierConfig(trust_dir={str(trust_dir)!r}, fetch_revocation=False)
report = Verifier(config).verify(signed)
print(report.verdict.name)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-1] in {"TOTAL_PASSED", "INDETERMINATE"}, done.stdout
