"""One table of role labels: the stamp and the verification report name a role alike."""

from __future__ import annotations

import datetime as dt
import io
import re

import pikepdf
import pytest

from docservice.pki.person import person_of
from docservice.pki.roles import Role, eku_label, most_specific, roles_in
from docservice.verification import TrustAnchors, Verifier, VerifierConfig
from docservice.verification.certs import signer_facts
from docservice.verification.html import render_report
from docservice.verification.report import (
    DocumentFacts,
    Indication,
    Reason,
    Report,
    SignatureReport,
)
from signing.keys import Pkcs12Key
from signing.pdf import PdfOptions, sign_pdf
from signing.stamp import stamp_text
from tests.pki import TestPki
from tests.pki.making import make_cert
from tests.verification.fixtures import base_pdf

#: Test PKI users and the role their certificate carries.
PKI_ROLES = {
    "career": Role.EMPLOYEE,
    "head": Role.FIRST_HEAD,
    "akimat": Role.RIGHT_TO_SIGN,
    "hr": Role.HR,
    "applicant": Role.INDIVIDUAL,
}


def _stamp_texts(pdf: bytes) -> list[str]:
    """Every stamp's text as the PDF tags it (pyHanko's /ActualText)."""
    out = []
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        for annot in doc.pages[-1].get("/Annots", []):
            if annot.get("/FT") != "/Sig" or "/AP" not in annot:
                continue
            raw = annot.AP.N.read_bytes() + b"".join(
                x.read_bytes() for x in annot.AP.N.Resources.get("/XObject", {}).values()
            )
            out.append(
                " ".join(
                    _pdf_string(s) for s in re.findall(rb"/ActualText \((.*?)\)\s*>>", raw, re.S)
                )
            )
    return out


def _pdf_string(raw: bytes) -> str:
    raw = re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]), raw)
    raw = re.sub(rb"\\(.)", rb"\1", raw)
    return (raw.decode("utf-16-be") if raw[:2] == b"\xfe\xff" else raw.decode("latin-1")).replace(
        "\ufeff", ""
    )


def _report_for(signer_cert) -> str:  # type: ignore[no-untyped-def]
    """The HTML report of one (made-up) signature by ``signer_cert``, in both languages."""
    now = dt.datetime.now(dt.UTC)
    sig = SignatureReport(
        index=1,
        kind="cms",
        indication=Indication.TOTAL_PASSED,
        sub_indication=None,
        signer=signer_facts(signer_cert),
    )
    report = Report(
        DocumentFacts("cms", "0" * 64, 1),
        Indication.TOTAL_PASSED,
        Reason.of("DOC_PASSED"),
        [sig],
        now,
    )
    return render_report(report, "kk") + render_report(report, "ru")


@pytest.mark.parametrize("user", sorted(PKI_ROLES))
def test_stamp_and_report_of_a_signed_pdf_name_the_role_alike(pki: TestPki, user: str) -> None:
    key = Pkcs12Key.load(pki.p12(user), pki.password)
    signed = sign_pdf(base_pdf(), key, PdfOptions())
    label = PKI_ROLES[user].label
    [stamp] = _stamp_texts(signed)
    assert f"{label.kk} / {label.ru}" in stamp
    verifier = Verifier(VerifierConfig(trust=TrustAnchors.from_certificates([pki.root, pki.ca])))
    report = verifier.verify(signed)
    [sig] = report.signatures
    assert (label.kk, label.ru) in {(r.kk, r.ru) for r in sig.signer.roles}
    page = render_report(report, "kk") + render_report(report, "ru")
    assert label.kk in page and label.ru in page


@pytest.mark.parametrize("role", list(Role))
def test_every_role_reads_the_same_on_stamp_and_report(role: Role) -> None:
    ekus = (
        ("email", Role.LEGAL_ENTITY.oid, role.oid)
        if role is not Role.INDIVIDUAL
        else ("email", role.oid)
    )
    cert = make_cert(ekus=ekus, key_usage={"digital_signature", "content_commitment"})
    stamp = stamp_text(person_of(cert), None, dt.datetime.now(dt.UTC))
    assert f"{role.label.kk} / {role.label.ru}" in stamp
    page = _report_for(cert)
    assert role.label.kk in page and role.label.ru in page
    named = stamp_text(person_of(cert), role.value, dt.datetime.now(dt.UTC))
    assert f"{role.label.kk} / {role.label.ru}" in named


def test_the_drifted_roles_have_nca_names() -> None:
    assert Role.HR.label.ru == "Сотрудник отдела кадров"
    assert Role.EMPLOYEE.label.ru == "Сотрудник организации"
    assert Role.of_oid("1.2.398.3.3.4.1.2.4") is Role.HR
    assert Role.named("employee") is Role.EMPLOYEE and Role.named("boss") is None


def test_labels_are_distinct_and_complete() -> None:
    assert len({r.label.kk for r in Role}) == len({r.label.ru for r in Role}) == len(Role)
    assert len({r.oid for r in Role}) == len(Role)


def test_specific_role_wins_over_the_general_one() -> None:
    oids = ["1.3.6.1.5.5.7.3.4", Role.LEGAL_ENTITY.oid, Role.HR.oid]
    assert roles_in(oids) == (Role.LEGAL_ENTITY, Role.HR)
    assert most_specific(roles_in(oids)) == (Role.HR,)
    assert most_specific(roles_in(oids[:2])) == (Role.LEGAL_ENTITY,)


def test_report_labels_key_purposes_and_identification() -> None:
    assert eku_label("1.3.6.1.5.5.7.3.2").ru == "Ключ аутентификации"
    assert eku_label("1.2.398.3.3.4.3.2.1").kk == "Сәйкестендіру тәсілі"
    assert eku_label("1.2.3.4") is None
