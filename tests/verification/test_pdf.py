"""PDF verification against the NCA-like test PKI: facts, time rules, revocation, attacks."""

from __future__ import annotations

import datetime as dt

import pytest

from docservice.verification import TrustAnchors, Verifier, VerifierConfig
from docservice.verification.certs import display_name
from docservice.verification.report import Indication
from tests.pki import stranger_root
from tests.verification.conftest import BEFORE_REVOCATION, WHILE_VALID, Docs
from tests.verification.fixtures import (
    Signers,
    base_pdf,
    forged_ocsp,
    incremental_update_attack,
    shadow_attack,
    shadow_document,
    tampered,
    with_dss,
)

UTC = dt.UTC


def codes(sig) -> set[str]:  # type: ignore[no-untyped-def]
    return {r.code for r in [*sig.reasons, *sig.warnings]}


def test_single_signature_passes_with_kazakh_facts(check, docs: Docs) -> None:
    report = check(docs.bb())
    assert report.verdict is Indication.TOTAL_PASSED and report.exit_code == 0
    (sig,) = report.signatures
    assert sig.kind == "pdf_signature" and sig.sub_indication is None
    signer = sig.signer
    assert signer.full_name == "ӘБІЛҚАСЫМОВА ГҮЛНАР СЕРІКҚЫЗЫ"
    assert signer.iin == "850301300121" and signer.iin_valid
    assert signer.bin == "120340001230" and signer.bin_valid and signer.legal_entity
    assert signer.organisation == "«АСТАНА ҚАЛАСЫНЫҢ МАНСАП ОРТАЛЫҒЫ» КММ"
    roles = {r.oid: (r.kk, r.ru) for r in signer.roles}
    assert roles["1.2.398.3.3.4.1.2"] == (
        "Заңды тұлғаның қызметкері",
        "Сотрудник юридического лица",
    )
    assert "1.2.398.3.3.4.1.2.5" in roles
    assert [p.oid for p in signer.policies] == ["1.2.398.3.3.2.1"]
    assert sig.coverage.kind == "entire_file" and sig.modifications.level == "NONE"
    assert sig.chain == [
        "НЕГІЗГІ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (RSA) TEST",
        "ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (RSA) TEST",
        "ӘБІЛҚАСЫМОВА ГҮЛНАР",
    ]
    # B-B: no time-stamp, judged at the claimed time, with a warning saying so.
    assert sig.validation_time_source == "claimed" and "CLAIMED_TIME_ONLY" in codes(sig)
    assert sig.revocation.status == "good" and sig.revocation.source in ("ocsp", "crl")


def test_four_officials_in_a_row(check, docs: Docs) -> None:
    report = check(docs.four())
    assert report.verdict is Indication.TOTAL_PASSED
    names = [s.signer.surname for s in report.signatures]
    assert names == ["ӘБІЛҚАСЫМОВА", "ЖҰМАБЕКОВ", "ҚҰРМАНҒАЛИЕВ", "ИВАНОВА"]
    assert [s.revision for s in report.signatures] == sorted(s.revision for s in report.signatures)
    first, *_, last = report.signatures
    assert first.certification == "FILL_FORMS"
    assert first.modifications.allowed and first.modifications.revisions_after == 3
    assert first.coverage.kind == "entire_revision" and last.coverage.kind == "entire_file"
    roles = [{r.oid for r in s.signer.roles} for s in report.signatures]
    assert "1.2.398.3.3.4.1.2.1" in roles[1] and "1.2.398.3.3.4.1.2.2" in roles[2]
    assert "1.2.398.3.3.4.1.2.4" in roles[3]


def test_lta_document_timestamp_and_embedded_revocation(
    check, docs: Docs, offline: Verifier
) -> None:
    report = check(docs.lta())
    kinds = [s.kind for s in report.signatures]
    assert kinds == ["pdf_signature", "pdf_timestamp"]
    sig, ts = report.signatures
    assert report.verdict is Indication.TOTAL_PASSED
    assert sig.validation_time_source == "timestamp"
    assert {t.kind for t in sig.timestamps} == {"signature", "document"}
    assert all(t.trusted for t in sig.timestamps)
    assert sig.modifications.level == "LTA_UPDATES" and sig.modifications.allowed
    assert ts.signer.common_name == "TSP SERVICE (RSA) TEST"
    # Offline: the DSS alone carries what is needed.
    alone = check(docs.lta(), using=offline)
    assert alone.verdict is Indication.TOTAL_PASSED
    assert alone.signatures[0].revocation.source.startswith("embedded")


def test_expired_certificate_with_timestamp_from_while_valid_passes(check, docs: Docs) -> None:
    report = check(docs.expired_with_ts())
    (sig,) = report.signatures
    assert sig.signer.certificate.not_after < dt.datetime.now(UTC)
    assert sig.indication is Indication.TOTAL_PASSED, [r.ru for r in sig.reasons]
    assert sig.validation_time_source == "timestamp"
    assert sig.validation_time == WHILE_VALID + dt.timedelta(minutes=1)
    assert {"JUDGED_AT_TIMESTAMP", "EXPIRED_LATER"} <= codes(sig)


def test_expired_certificate_claimed_time_only(check, signers: Signers) -> None:
    # Claimed inside the validity: the claim proves nothing (see test_poe.py).
    within = check(signers.sign_pdf(base_pdf(), "expired", when=WHILE_VALID)).signatures[0]
    assert (within.indication, within.sub_indication) == (
        Indication.INDETERMINATE,
        "OUT_OF_BOUNDS_NO_POE",
    )
    # Claimed today: the signer says it signed after expiry.
    now = check(signers.sign_pdf(base_pdf(), "expired", when=dt.datetime.now(UTC))).signatures[0]
    assert (now.indication, now.sub_indication) == (Indication.TOTAL_FAILED, "EXPIRED")


def test_expired_with_timestamp_after_expiry_is_out_of_bounds(check, signers: Signers) -> None:
    late = dt.datetime(2023, 1, 1, tzinfo=UTC)
    sig = check(signers.sign_pdf(base_pdf(), "expired", when=WHILE_VALID, ts_at=late)).signatures[0]
    assert (sig.indication, sig.sub_indication) == (
        Indication.INDETERMINATE,
        "OUT_OF_BOUNDS_NO_POE",
    )


def test_revoked_certificate(check, signers: Signers) -> None:
    after = check(signers.sign_pdf(base_pdf(), "revoked", live_tsa=True)).signatures[0]
    assert (after.indication, after.sub_indication) == (Indication.TOTAL_FAILED, "REVOKED")
    assert after.revocation.status == "revoked"
    assert after.revocation.revocation_time == dt.datetime(2025, 6, 1, tzinfo=UTC)
    assert "компрометация ключа" in after.reasons[0].ru
    # Time-stamped before the revocation: the signature stays valid.
    before = check(
        signers.sign_pdf(base_pdf(), "revoked", when=BEFORE_REVOCATION, ts_at=BEFORE_REVOCATION)
    ).signatures[0]
    assert before.indication is Indication.TOTAL_PASSED
    # Claimed before revocation but no time-stamp: nothing proves it.
    unproven = check(signers.sign_pdf(base_pdf(), "revoked", when=BEFORE_REVOCATION)).signatures[0]
    assert (unproven.indication, unproven.sub_indication) == (
        Indication.INDETERMINATE,
        "REVOKED_NO_POE",
    )


def test_authentication_certificate_cannot_sign(check, signers: Signers) -> None:
    sig = check(signers.sign_pdf(base_pdf(), "authonly")).signatures[0]
    assert (sig.indication, sig.sub_indication) == (
        Indication.INDETERMINATE,
        "CHAIN_CONSTRAINTS_FAILURE",
    )
    assert "NOT_A_SIGNING_CERT" in codes(sig)


def test_not_yet_valid_claim(check, signers: Signers) -> None:
    sig = check(
        signers.sign_pdf(base_pdf(), "career", when=dt.datetime(2024, 1, 1, tzinfo=UTC))
    ).signatures[0]
    assert (sig.indication, sig.sub_indication) == (Indication.TOTAL_FAILED, "NOT_YET_VALID")


def test_untrusted_anchor_gives_no_chain(docs: Docs, pki, schema) -> None:  # type: ignore[no-untyped-def]
    import jsonschema

    # A store with no CA certificate at all cannot anchor anything and is refused.
    with pytest.raises(ValueError, match="no CA certificate"):
        TrustAnchors.from_certificates([pki.arch.get_cert("career")])
    stranger = stranger_root()
    report = Verifier(VerifierConfig(trust=TrustAnchors.from_certificates([stranger]))).verify(
        docs.bb()
    )
    jsonschema.validate(report.to_dict(), schema)
    sig = report.signatures[0]
    assert (sig.indication, sig.sub_indication) == (
        Indication.INDETERMINATE,
        "NO_CERTIFICATE_CHAIN_FOUND",
    )


def test_issuing_ca_alone_is_a_trust_anchor(docs: Docs, pki) -> None:  # type: ignore[no-untyped-def]
    """RFC 5280 6.1: an operator may pin the issuing CA without its root."""
    report = Verifier(VerifierConfig(trust=TrustAnchors.from_certificates([pki.ca]))).verify(
        docs.bb()
    )
    sig = report.signatures[0]
    assert (sig.indication, sig.sub_indication) == (Indication.TOTAL_PASSED, None)
    assert sig.chain[0] == display_name(pki.ca.subject)


def test_byte_tampering_is_hash_failure(check, docs: Docs) -> None:
    sig = check(tampered(docs.bb())).signatures[0]
    assert (sig.indication, sig.sub_indication) == (Indication.TOTAL_FAILED, "HASH_FAILURE")


def test_incremental_update_attack_is_caught(check, docs: Docs) -> None:
    report = check(incremental_update_attack(docs.bb()))
    sig = report.signatures[0]
    assert (sig.indication, sig.sub_indication) == (
        Indication.TOTAL_FAILED,
        "SIG_CONSTRAINTS_FAILURE",
    )
    assert not sig.modifications.allowed and sig.modifications.level == "OTHER"
    assert report.verdict is Indication.TOTAL_FAILED and report.exit_code == 1


def test_shadow_attack_is_caught(check, signers: Signers) -> None:
    prepared, hidden = shadow_document(base_pdf())
    signed = signers.sign_pdf(prepared, "career")
    assert check(signed).verdict is Indication.TOTAL_PASSED  # the bait looks fine
    sig = check(shadow_attack(signed, hidden)).signatures[0]
    assert (sig.indication, sig.sub_indication) == (
        Indication.TOTAL_FAILED,
        "SIG_CONSTRAINTS_FAILURE",
    )
    assert "недопустимые изменения" in sig.reasons[0].ru


def test_certified_no_changes_forbids_a_later_signature(
    check, signers: Signers, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from pyhanko.sign.fields import MDPPerm
    from pyhanko.sign.signers import PdfSigner

    certified = signers.sign_pdf(base_pdf(), "career", certify=True, docmdp=MDPPerm.NO_CHANGES)
    # pyHanko refuses to sign such a document; a careless tool would not.
    monkeypatch.setattr(PdfSigner, "_enforce_certification_constraints", lambda *a: None)
    first, second = check(signers.sign_pdf(certified, "head")).signatures
    assert first.certification == "NO_CHANGES"
    assert (first.indication, first.sub_indication) == (
        Indication.TOTAL_FAILED,
        "SIG_CONSTRAINTS_FAILURE",
    )
    assert first.modifications.level == "FORM_FILLING" and not first.modifications.allowed
    assert second.indication is Indication.TOTAL_PASSED


def test_ocsp_signature_is_checked(signers: Signers, pki, offline: Verifier, check) -> None:  # type: ignore[no-untyped-def]
    revoked_doc = signers.sign_pdf(base_pdf(), "revoked")
    forged = forged_ocsp(pki, "revoked", signer="career")
    sig = check(with_dss(revoked_doc, [forged]), using=offline).signatures[0]
    assert sig.indication is not Indication.TOTAL_PASSED
    assert sig.sub_indication == "TRY_LATER"
    # The same forged evidence does not stop the online check from finding the revocation.
    online = check(with_dss(revoked_doc, [forged])).signatures[0]
    assert online.sub_indication in ("REVOKED", "REVOKED_NO_POE")
    # Control: a genuine responder's answer embedded in the file is accepted offline.
    good_doc = signers.add_dss(signers.sign_pdf(base_pdf(), "career"))
    genuine = check(good_doc, using=offline).signatures[0]
    assert genuine.indication is Indication.TOTAL_PASSED
    assert genuine.revocation.source.startswith("embedded")


def test_crls_are_parsed_once_and_cached(pki, trust, docs: Docs) -> None:  # type: ignore[no-untyped-def]
    verifier = Verifier(VerifierConfig(trust=trust, chain_cache_ttl=0.0))
    before = pki.hits["crls"]
    for _ in range(3):
        assert verifier.verify(docs.bb()).verdict is Indication.TOTAL_PASSED
    stats = verifier.revocation.stats
    fetched = pki.hits["crls"] - before
    assert stats["crl_parsed"] == stats["crl_fetch"] == fetched
    assert stats["crl_hit"] + stats["ocsp_hit"] >= 2
    assert stats["ocsp_fetch"] <= 2  # the signer's and maybe the TSA's: then cached


def test_revocation_cache_is_bounded(pki) -> None:  # type: ignore[no-untyped-def]
    import urllib.request

    from docservice.verification.revocation import RevocationCache

    body = urllib.request.urlopen(pki.crl_url, timeout=5).read()
    cache = RevocationCache(max_crl_bytes=len(body) * 2 + 10)
    for i in range(5):
        cache.put_crl(f"http://127.0.0.1/{i}.crl", body)
    assert cache._crl_bytes <= cache.max_crl_bytes
    assert cache.get_crl("http://127.0.0.1/0.crl") is None
    assert cache.get_crl("http://127.0.0.1/4.crl") is not None
