"""Detached and attached CMS (DER, PEM, Base64), several signers, GOST, broken CMS."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from asn1crypto import cms, pem

from docservice.verification import VerificationInputError
from docservice.verification.report import Indication
from tests.verification.conftest import WHILE_VALID, Docs
from tests.verification.fixtures import Signers, base_pdf

ORIGINAL = "Өтініш / заявление № 17, 2026".encode()


@pytest.fixture(scope="module")
def two_signers(signers: Signers) -> cms.ContentInfo:
    return signers.cms(ORIGINAL, ["career", "head"], live_tsa=True)


@pytest.mark.parametrize("encoding", ["der", "pem", "base64"])
def test_detached_two_signers_every_encoding(check, two_signers, encoding: str) -> None:
    der = two_signers.dump()
    data = {"der": der, "pem": pem.armor("CMS", der), "base64": base64.encodebytes(der)}[encoding]
    report = check(data, ORIGINAL)
    assert report.document.format == "cms"
    assert report.document.original_sha256 is not None
    # SignerInfos is a DER SET OF: its order is the encoding's, not the signing order.
    assert sorted(s.signer.surname for s in report.signatures) == ["ЖҰМАБЕКОВ", "ӘБІЛҚАСЫМОВА"]
    assert all(s.indication is Indication.TOTAL_PASSED for s in report.signatures)
    assert all(s.validation_time_source == "timestamp" for s in report.signatures)


def test_detached_without_or_with_wrong_original(check, two_signers) -> None:
    missing = check(two_signers.dump())
    assert {(s.indication, s.sub_indication) for s in missing.signatures} == {
        (Indication.INDETERMINATE, "SIGNED_DATA_NOT_FOUND")
    }
    assert missing.exit_code == 2
    wrong = check(two_signers.dump(), ORIGINAL + b".")
    assert {s.sub_indication for s in wrong.signatures} == {"HASH_FAILURE"}
    assert wrong.exit_code == 1


def test_attached_cms(check, signers: Signers) -> None:
    attached = signers.cms(ORIGINAL, ["hr"], detached=False)
    report = check(attached.dump())
    assert report.verdict is Indication.TOTAL_PASSED
    assert report.signatures[0].coverage.signed_bytes == len(ORIGINAL)
    with pytest.raises(VerificationInputError) as err:
        check(attached.dump(), ORIGINAL)
    assert err.value.field == "original"


def test_expired_signer_timestamped_while_valid(check, signers: Signers) -> None:
    old = signers.cms(
        ORIGINAL, ["expired"], when=WHILE_VALID, ts_at=WHILE_VALID + dt.timedelta(seconds=30)
    )
    sig = check(old.dump(), ORIGINAL).signatures[0]
    assert sig.indication is Indication.TOTAL_PASSED
    assert sig.validation_time == WHILE_VALID + dt.timedelta(seconds=30)


def test_tampered_signature_value_is_crypto_failure(check, two_signers) -> None:
    copy = cms.ContentInfo.load(two_signers.dump())
    info = copy["content"]["signer_infos"][0]
    value = bytearray(info["signature"].native)
    value[10] ^= 0xFF
    info["signature"] = bytes(value)
    report = check(copy.dump(), ORIGINAL)
    subs = sorted(str(s.sub_indication) for s in report.signatures)
    assert subs == ["None", "SIG_CRYPTO_FAILURE"]
    assert report.verdict is Indication.TOTAL_FAILED


def test_cms_without_signer_info_or_truncated(verifier, two_signers) -> None:  # type: ignore[no-untyped-def]
    empty = cms.ContentInfo.load(two_signers.dump())
    empty["content"]["signer_infos"] = []
    with pytest.raises(VerificationInputError) as err:
        verifier.verify(empty.dump(), ORIGINAL)
    assert err.value.code == "cms_no_signer" and 400 <= err.value.status < 500
    with pytest.raises(VerificationInputError) as err:
        verifier.verify(two_signers.dump()[:700], ORIGINAL)
    assert err.value.code == "cms_unreadable"
    assert "SignerInfo" in err.value.message("ru") or "повреждена" in err.value.message("ru")


def test_cades_revocation_values_are_used_offline(
    check,
    signers: Signers,
    pki,  # type: ignore[no-untyped-def]
    offline,
) -> None:
    """SIGEX/NCALayer style: the OCSP response captured at signing time travels in the CMS."""
    import io

    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    from signing.cms_util import REVOCATION_VALUES_OID, RevocationValues

    # Collect a genuine OCSP response for "career" from the live responder.
    context = ValidationContext(trust_roots=[pki.root], other_certs=[pki.ca], allow_fetching=True)
    pdf = signers.sign_pdf(base_pdf(), "career")
    validate_pdf_signature(PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0], context)
    basics = [r.basic_ocsp_response for r in context.ocsps]
    content = signers.cms(ORIGINAL, ["career"])
    without = check(content.dump(), ORIGINAL, using=offline).signatures[0]
    assert without.sub_indication == "TRY_LATER"
    values = RevocationValues({"ocsp_vals": basics, "crl_vals": list(context.crls)})
    info = content["content"]["signer_infos"][0]
    info["unsigned_attrs"] = [{"type": REVOCATION_VALUES_OID, "values": [values]}]
    sig = check(content.dump(), ORIGINAL, using=offline).signatures[0]
    assert sig.indication is Indication.TOTAL_PASSED, [r.ru for r in sig.reasons]
    assert sig.revocation.source == "embedded-ocsp"


def test_a_der_cms_ending_in_a_whitespace_byte_is_read_whole(check, docs: Docs) -> None:
    """DER's last byte is a signature byte: 0x20 or 0x0a there must not be stripped away."""
    der, data = docs.cms_ending_in_white_space()
    assert der[-1:].isspace()
    report = check(der, data)
    assert report.verdict is Indication.TOTAL_PASSED
