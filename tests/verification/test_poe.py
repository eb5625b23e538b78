"""No proof of existence, no pass (ETSI EN 319 102-1), for PDF, XML and CMS.

The claimed signing time is whatever the signer wrote. A certificate that has expired or
been revoked since that time therefore passes only when something proves the signature
existed while the certificate was good: its own trusted time-stamp, a PDF document
time-stamp covering it (PAdES B-LTA), or a proof the caller holds (``known_poe``: the
archive's time-stamped entry). Otherwise INDETERMINATE / OUT_OF_BOUNDS_NO_POE
(REVOKED_NO_POE), with a reason saying how signers avoid it. pyHanko's own AdES
validation is the independent implementation the PDF and CMS outcomes are checked against.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from asn1crypto import cms, pem
from pypdf import PdfReader

from docservice.verification import Verifier
from docservice.verification.cli import add_cli
from docservice.verification.html import render_report
from docservice.verification.receipt import render_receipt
from docservice.verification.report import Indication, SignatureReport
from docservice.web import create_app
from tests.pki import TestPki
from tests.verification.conftest import BEFORE_REVOCATION, WHILE_VALID
from tests.verification.fixtures import SAMPLE_XML, Signers, base_pdf

UTC = dt.UTC
ORIGINAL = "Бағыттама / направление № 3".encode()
#: The users' validity ends / revocations, as tests/pki/nca-test.yml sets them.
EXPIRED_AT = dt.datetime(2022, 3, 1, tzinfo=UTC)
REVOKED_AT = dt.datetime(2025, 6, 1, tzinfo=UTC)
LAPSED_REVOKED_AT = dt.datetime(2022, 6, 1, tzinfo=UTC)
#: Claimed signing time for each user: inside the validity, before any revocation.
CLAIMED = {
    "expired": WHILE_VALID,
    "revoked": BEFORE_REVOCATION,
    "lapsed": WHILE_VALID,
    "career": BEFORE_REVOCATION,
}
FORMATS = ("pdf", "xml", "cms")


def codes(sig: SignatureReport) -> list[str]:
    return [r.code for r in sig.reasons]


def notes(sig: SignatureReport) -> set[str]:
    return {r.code for r in sig.warnings}


def signed(
    signers: Signers, fmt: str, label: str, *, ts_at: dt.datetime | None = None
) -> tuple[bytes, bytes | None]:
    """A document signed by ``label`` claiming ``CLAIMED[label]``; the original for CMS."""
    when = CLAIMED[label]
    if fmt == "pdf":
        return signers.sign_pdf(base_pdf(), label, when=when, ts_at=ts_at), None
    if fmt == "cms":
        return signers.cms(ORIGINAL, [label], when=when, ts_at=ts_at).dump(), ORIGINAL
    assert ts_at is None, "XMLDSig as NCALayer makes it carries no time-stamp"
    return signers.sign_xml(SAMPLE_XML, label, when=when), None


@pytest.fixture(scope="module")
def made(signers: Signers) -> dict[tuple[str, str, bool], tuple[bytes, bytes | None]]:
    """Each (format, user, time-stamped) document, signed on first use, once per module."""

    class Lazy(dict):  # type: ignore[type-arg]
        def __missing__(self, key: tuple[str, str, bool]) -> tuple[bytes, bytes | None]:
            fmt, label, stamped = key
            ts_at = CLAIMED[label] + dt.timedelta(minutes=1) if stamped else None
            self[key] = signed(signers, fmt, label, ts_at=ts_at)
            return self[key]

    return Lazy()


# -- the rule ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_expired_since_claimed_time_without_poe_is_indeterminate(check, made, fmt: str) -> None:
    report = check(*made[fmt, "expired", False])
    (sig,) = report.signatures
    assert sig.signing_time_claimed == WHILE_VALID and not sig.timestamps
    assert (sig.indication, sig.sub_indication) == (
        Indication.INDETERMINATE,
        "OUT_OF_BOUNDS_NO_POE",
    )
    assert report.verdict is Indication.INDETERMINATE and report.exit_code == 2
    assert codes(sig) == ["OUT_OF_BOUNDS_NO_POE", "SIGN_WITH_TIMESTAMP"]
    assert "2022-03-01" in sig.reasons[0].ru and "2022-03-01" in sig.reasons[0].kk
    assert "метки времени" in sig.reasons[0].ru and "уақыт белгісі" in sig.reasons[0].kk
    how = sig.reasons[1]
    assert all(word in how.ru for word in ("tsaProfile", "B-T", "NCALayer"))
    assert all(word in how.kk for word in ("tsaProfile", "B-T", "NCALayer"))
    # Judged now, and the report no longer says the certificate "expired later, but the
    # signature was made in time" - nothing proves that.
    assert sig.validation_time_source == "now"
    assert not notes(sig) & {"EXPIRED_LATER", "CLAIMED_TIME_ONLY"}
    # It was not revoked before it expired, and the report says so.
    assert sig.revocation.status == "good"


@pytest.mark.parametrize("fmt", FORMATS)
def test_revoked_since_claimed_time_without_poe_is_indeterminate(check, made, fmt: str) -> None:
    report = check(*made[fmt, "revoked", False])
    (sig,) = report.signatures
    assert sig.signing_time_claimed == BEFORE_REVOCATION
    assert (sig.indication, sig.sub_indication) == (Indication.INDETERMINATE, "REVOKED_NO_POE")
    assert report.exit_code == 2
    assert codes(sig) == ["REVOKED_NO_POE", "SIGN_WITH_TIMESTAMP"]
    assert sig.revocation.status == "revoked" and sig.revocation.revocation_time == REVOKED_AT
    assert "компрометация ключа" in sig.reasons[0].ru and "2025-06-01" in sig.reasons[0].ru
    assert "кілттің құпиялылығы бұзылған" in sig.reasons[0].kk


@pytest.mark.parametrize("fmt", FORMATS)
def test_revoked_then_expired_reports_the_revocation(check, made, fmt: str) -> None:
    """Revoked while valid, expired since: the revocation is the weightier answer."""
    (sig,) = check(*made[fmt, "lapsed", False]).signatures
    assert (sig.indication, sig.sub_indication) == (Indication.INDETERMINATE, "REVOKED_NO_POE")
    assert sig.revocation.revocation_time == LAPSED_REVOKED_AT
    assert "смена места работы" in sig.reasons[0].ru


@pytest.mark.parametrize("fmt", FORMATS)
def test_still_valid_now_without_timestamp_passes_with_note(check, made, fmt: str) -> None:
    (sig,) = check(*made[fmt, "career", False]).signatures
    assert sig.indication is Indication.TOTAL_PASSED
    assert sig.validation_time_source == "claimed" and "CLAIMED_TIME_ONLY" in notes(sig)
    assert "SIGN_WITH_TIMESTAMP" not in codes(sig)


@pytest.mark.parametrize("fmt", ["pdf", "cms"])
@pytest.mark.parametrize("label", ["expired", "revoked", "lapsed"])
def test_timestamped_while_valid_still_passes(check, made, fmt: str, label: str) -> None:
    (sig,) = check(*made[fmt, label, True]).signatures
    assert sig.indication is Indication.TOTAL_PASSED, [r.ru for r in sig.reasons]
    assert sig.validation_time_source == "timestamp"
    assert sig.validation_time == CLAIMED[label] + dt.timedelta(minutes=1)
    assert [t.kind for t in sig.timestamps if t.trusted] == ["signature"]


def test_document_timestamp_covering_the_signature_is_a_poe(check, signers: Signers, made) -> None:
    """PAdES B-LTA's building block: a later document time-stamp proves existence."""
    plain, _ = made["pdf", "expired", False]
    in_time = check(signers.doc_timestamp(plain, at=WHILE_VALID + dt.timedelta(days=1)))
    sig, ts = in_time.signatures
    assert ts.kind == "pdf_timestamp" and ts.indication is Indication.TOTAL_PASSED
    assert sig.indication is Indication.TOTAL_PASSED, [r.ru for r in sig.reasons]
    assert [t.kind for t in sig.timestamps] == ["document"]
    assert sig.validation_time == WHILE_VALID + dt.timedelta(days=1)
    assert "EXPIRED_LATER" in notes(sig)
    # A document time-stamp made after the expiry proves nothing about before it.
    late = check(signers.doc_timestamp(plain, at=EXPIRED_AT + dt.timedelta(days=30)))
    assert late.signatures[0].sub_indication == "OUT_OF_BOUNDS_NO_POE"


@pytest.mark.parametrize("fmt", FORMATS)
def test_known_poe_from_the_archive_counts(
    check, verifier: Verifier, schema, made, fmt: str
) -> None:
    """What the archive will pass: its time-stamped entry per signature value."""
    import jsonschema

    data, original = made[fmt, "expired", False]
    first = check(data, original).signatures[0]
    key = first.signature_sha256
    assert key is not None and len(key) == 64

    def again(poe: dict[str, dt.datetime]) -> SignatureReport:
        report = verifier.verify(data, original, file_name="doc", known_poe=poe)
        jsonschema.validate(report.to_dict(), schema)
        return report.signatures[0]

    archived = again({key: WHILE_VALID + dt.timedelta(hours=2)})
    assert archived.indication is Indication.TOTAL_PASSED
    assert [(t.kind, t.trusted) for t in archived.timestamps] == [("archive", True)]
    assert archived.validation_time == WHILE_VALID + dt.timedelta(hours=2)
    assert archived.signature_sha256 == key
    # Archived only after the expiry, or a POE for some other signature: no pass.
    assert again({key: EXPIRED_AT + dt.timedelta(days=1)}).sub_indication == "OUT_OF_BOUNDS_NO_POE"
    assert again({"0" * 64: WHILE_VALID}).sub_indication == "OUT_OF_BOUNDS_NO_POE"
    # Revoked since: an archive entry from before the revocation is enough too.
    data, original = made[fmt, "revoked", False]
    key = check(data, original).signatures[0].signature_sha256
    before = verifier.verify(
        data, original, known_poe={key: BEFORE_REVOCATION + dt.timedelta(days=1)}
    ).signatures[0]
    assert before.indication is Indication.TOTAL_PASSED
    # A naive time would compare wrongly (or not at all): the caller is told at once.
    with pytest.raises(ValueError, match="timezone-aware"):
        verifier.verify(data, original, known_poe={key: dt.datetime(2025, 3, 2)})


def test_signature_sha256_is_the_signature_value(check, made) -> None:
    import hashlib

    data, original = made["cms", "career", False]
    value = cms.ContentInfo.load(data)["content"]["signer_infos"][0]["signature"].native
    sig = check(data, original).signatures[0]
    assert sig.signature_sha256 == hashlib.sha256(value).hexdigest()


# -- an independent implementation agrees --------------------------------------------------


def _pyhanko_ades(
    pki: TestPki, signed_data: cms.SignedData, digest: bytes | None, stamped: bool
) -> str:
    """pyHanko's ETSI EN 319 102-1 validation: basic (§5.3), or with time (§5.5)."""
    from pyhanko.sign.validation import ades
    from pyhanko.sign.validation.policy_decl import (
        LocalKnowledge,
        RevinfoOnlineFetchingRule,
        RevocationInfoGatheringSpec,
        SignatureValidationSpec,
    )
    from pyhanko_certvalidator.context import CertValidationPolicySpec
    from pyhanko_certvalidator.policy_decl import (
        CertRevTrustPolicy,
        RevocationCheckingPolicy,
        RevocationCheckingRule,
    )
    from pyhanko_certvalidator.registry import SimpleTrustManager

    rule = RevocationCheckingRule.CHECK_IF_DECLARED
    spec = SignatureValidationSpec(
        cert_validation_policy=CertValidationPolicySpec(
            trust_manager=SimpleTrustManager.build(trust_roots=[pki.root]),
            revinfo_policy=CertRevTrustPolicy(RevocationCheckingPolicy(rule, rule)),
        ),
        revinfo_gathering_policy=RevocationInfoGatheringSpec(
            online_fetching_rule=RevinfoOnlineFetchingRule.ALWAYS_FETCH
        ),
        local_knowledge=LocalKnowledge(known_certs=[pki.ca]),
    )
    run = ades.ades_with_time_validation if stamped else ades.ades_basic_validation
    result = asyncio.run(run(signed_data, spec, raw_digest=digest))
    return result.ades_subindic.name


@pytest.mark.parametrize("fmt", ["pdf", "cms"])
@pytest.mark.parametrize(
    ("label", "stamped", "ours", "theirs"),
    [
        ("career", False, None, "OK"),
        ("expired", False, "OUT_OF_BOUNDS_NO_POE", "OUT_OF_BOUNDS_NO_POE"),
        ("revoked", False, "REVOKED_NO_POE", "REVOKED_NO_POE"),
        ("expired", True, None, "OK"),
        ("revoked", True, None, "OK"),
        # Revoked, then expired: pyHanko checks the validity period first and stops there;
        # we look on for the revocation (as EU DSS orders its checks). Both INDETERMINATE.
        ("lapsed", False, "REVOKED_NO_POE", "OUT_OF_BOUNDS_NO_POE"),
    ],
)
def test_pyhanko_ades_agrees(
    check, pki: TestPki, made, fmt: str, label: str, stamped: bool, ours: str | None, theirs: str
) -> None:
    from pyhanko.pdf_utils.reader import PdfFileReader

    data, original = made[fmt, label, stamped]
    if fmt == "pdf":
        embedded = PdfFileReader(io.BytesIO(data)).embedded_signatures[0]
        signed_data, digest = embedded.signed_data, embedded.compute_digest()
    else:
        import hashlib

        signed_data, digest = (
            cms.ContentInfo.load(data)["content"],
            hashlib.sha256(ORIGINAL).digest(),
        )
    assert _pyhanko_ades(pki, signed_data, digest, stamped) == theirs
    assert check(data, original).signatures[0].sub_indication == ours


# -- what officials and callers see --------------------------------------------------------


def test_cli_exit_code_is_indeterminate(tmp_path: Path, pki: TestPki, made, capsys) -> None:  # type: ignore[no-untyped-def]
    trust = tmp_path / "trust"
    trust.mkdir()
    (trust / "root.pem").write_bytes(pem.armor("CERTIFICATE", pki.root.dump()))
    (trust / "ca.cer").write_bytes(pki.ca.dump())
    parser = argparse.ArgumentParser(prog="docservice")
    add_cli(parser.add_subparsers(dest="command"))
    for label, sub in (("expired", "OUT_OF_BOUNDS_NO_POE"), ("revoked", "REVOKED_NO_POE")):
        doc = tmp_path / f"{label}.pdf"
        doc.write_bytes(made["pdf", label, False][0])
        args = parser.parse_args(["verify", str(doc), "--trust", str(trust), "--lang", "ru"])
        assert args.handler(args) == 2
        out = capsys.readouterr().out
        assert f"Не определено / {sub}" in out and "tsaProfile" in out
        args = parser.parse_args(["verify", str(doc), "--trust", str(trust), "--json"])
        assert args.handler(args) == 2
        body = json.loads(capsys.readouterr().out)
        assert body["verdict"] == "INDETERMINATE"
        assert body["signatures"][0]["sub_indication"] == sub


def test_page_api_and_receipt_show_the_missing_poe(verifier: Verifier, made) -> None:
    client = create_app({"VERIFIER": verifier, "TESTING": True}).test_client()
    data = made["pdf", "expired", False][0]

    def post(path: str, **form: str):  # type: ignore[no-untyped-def]
        return client.post(
            path,
            data={"file": (io.BytesIO(data), "old.pdf"), **form},
            content_type="multipart/form-data",
        )

    page = post("/verify?lang=ru", lang="ru")
    assert page.status_code == 200
    assert 'data-verdict="INDETERMINATE"' in page.text
    assert 'data-sub="OUT_OF_BOUNDS_NO_POE"' in page.text
    assert 'data-code="OUT_OF_BOUNDS_NO_POE"' in page.text
    assert 'data-code="SIGN_WITH_TIMESTAMP"' in page.text and "tsaProfile" in page.text
    assert 'data-code="EXPIRED_LATER"' not in page.text
    api = post("/v1/verify")
    assert api.headers["X-Verification-Verdict"] == "INDETERMINATE"
    receipt = post("/v1/verify", format="pdf", lang="kk")
    assert receipt.mimetype == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(receipt.data)).pages)
    flat = " ".join(text.split())
    assert "Анықталмаған / OUT_OF_BOUNDS_NO_POE" in flat
    assert "tsaProfile" in flat and "B-T" in flat


def test_archive_poe_is_named_on_the_page_and_receipt(verifier: Verifier, check, made) -> None:
    data = made["pdf", "expired", False][0]
    key = check(data).signatures[0].signature_sha256
    report = verifier.verify(
        data, file_name="old.pdf", known_poe={key: WHILE_VALID + dt.timedelta(hours=2)}
    )
    assert report.verdict is Indication.TOTAL_PASSED
    page = render_report(report, "ru")
    assert "Запись в архиве (с меткой времени)" in page
    text = " ".join(
        "".join(
            p.extract_text() for p in PdfReader(io.BytesIO(render_receipt(report, "kk"))).pages
        ).split()
    )
    assert "Мұрағат жазбасы" in text
