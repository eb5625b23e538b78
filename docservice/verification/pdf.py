"""PDF: every signature and document time-stamp, in revision order, with what changed after.

Why the structure: a PDF signature protects one *revision*; later incremental updates may
be harmless (another official's signature, DSS revocation data, a document time-stamp) or
an attack (an incremental update that rewrites a page, a "shadow" update that swaps in
content hidden in the signed revision). pyHanko's difference analysis classifies every
change after each signature; we report it per signature, judge it allowed or not, and a
change that alters what an official sees makes the signature ``TOTAL_FAILED`` even though
its bytes are intact. Document time-stamps are verified first because a trusted one is a
proof of existence for every signature in an earlier revision.
"""

from __future__ import annotations

import hashlib
import io

from asn1crypto import crl, ocsp, x509
from pyhanko.pdf_utils import misc
from pyhanko.pdf_utils.decode_limits import DecodeLimits, DocumentDecodeBudget
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY, DiffResult, ModificationLevel
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import SignatureCoverageLevel

from docservice.timefmt import utc_text
from docservice.verification.certs import signer_facts
from docservice.verification.cms import (
    Assessor,
    Evidence,
    _finish,
    embedded_revocation,
)
from docservice.verification.limits import Limits, VerificationInputError
from docservice.verification.report import (
    Coverage,
    CoverageKind,
    DocumentFacts,
    DocumentFormat,
    Indication,
    Modification,
    Reason,
    SignatureKind,
    SignatureReport,
    SubIndication,
    TimestampFacts,
    TimestampKind,
)
from signing.digests import digest_of, is_gost_digest


def _limits_for(limits: Limits) -> DecodeLimits:
    return DecodeLimits(
        document_budget=DocumentDecodeBudget(
            base_allowance=64 * 1024 * 1024, max_ratio=limits.pdf_decode_ratio
        )
    )


def open_pdf(data: bytes, limits: Limits) -> PdfFileReader:
    """A reader for untrusted input: decode limits on, every failure a 4xx."""
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False, decode_limits=_limits_for(limits))
        if reader.encrypted:
            raise VerificationInputError("pdf_encrypted", status=422)
        reader.root  # noqa: B018 - make a broken trailer/xref fail here
    except VerificationInputError:
        raise
    except (
        misc.PdfError,
        ValueError,
        KeyError,
        TypeError,
        IndexError,
        AttributeError,
        RecursionError,
        OverflowError,
    ) as exc:
        raise VerificationInputError(
            "pdf_unreadable", status=422, detail=type(exc).__name__
        ) from None
    return reader


def _dss(reader: PdfFileReader) -> Evidence:
    """Certificates, OCSP responses and CRLs from the document security store."""
    evidence = Evidence()
    try:
        dss = reader.root.get("/DSS")
        if dss is None:
            return evidence
        dss = dss.get_object()
        for key, target, parse in (
            ("/Certs", evidence.certs, x509.Certificate.load),
            ("/OCSPs", evidence.ocsp, ocsp.OCSPResponse.load),
            ("/CRLs", evidence.crl, crl.CertificateList.load),
        ):
            for ref in dss.get(key, []):
                target.append(parse(ref.get_object().data))
    except (misc.PdfError, ValueError, KeyError, TypeError, AttributeError):
        return Evidence()
    return evidence


_LEVEL_TEXT = {
    ModificationLevel.LTA_UPDATES: (
        "құжаттың уақыт белгілері мен тексеру деректері (DSS)",
        "метки времени документа и данные проверки (DSS)",
    ),
    ModificationLevel.FORM_FILLING: (
        "кейінгі қолтаңбалар және форма өрістерін толтыру",
        "последующие подписи и заполнение полей формы",
    ),
    ModificationLevel.ANNOTATIONS: (
        "кейінгі қолтаңбалар, өрістер және ескертпелер",
        "последующие подписи, поля и аннотации",
    ),
}


def _modification(sig: EmbeddedPdfSignature, revisions: int) -> Modification:
    diff = sig.diff_result
    after = revisions - 1 - sig.signed_revision
    level = diff.modification_level if isinstance(diff, DiffResult) else ModificationLevel.OTHER
    docmdp = sig.docmdp_level
    allowed = not (
        level == ModificationLevel.OTHER or (docmdp is not None and level.value > docmdp.value)
    )
    if level == ModificationLevel.NONE:
        return Modification(True, level.name, after)
    if allowed:
        kk, ru = _LEVEL_TEXT.get(level, ("", ""))
        return Modification(
            True,
            level.name,
            after,
            Reason(
                "LATER_CHANGES_ALLOWED",
                Reason.of("LATER_CHANGES_ALLOWED", detail=kk).kk,
                Reason.of("LATER_CHANGES_ALLOWED", detail=ru).ru,
            ),
        )
    detail = (
        (str(diff).splitlines() or [level.name])[0][:160]
        if not isinstance(diff, DiffResult)
        else level.name
    )
    return Modification(
        False, level.name, after, Reason.of("SIG_CONSTRAINTS_FAILURE", detail=detail)
    )


def _coverage(sig: EmbeddedPdfSignature, size: int) -> Coverage:
    level = sig.coverage
    kinds: dict[SignatureCoverageLevel | None, CoverageKind] = {
        SignatureCoverageLevel.ENTIRE_FILE: CoverageKind.ENTIRE_FILE,
        SignatureCoverageLevel.ENTIRE_REVISION: CoverageKind.ENTIRE_REVISION,
    }
    kind = kinds.get(level, CoverageKind.PARTIAL)
    br = sig.byte_range
    signed = int(br[1]) + int(br[3]) if len(br) == 4 else None
    return Coverage(kind, revision=sig.signed_revision, signed_bytes=signed, total_bytes=size)


def _doc_timestamp(
    sig: EmbeddedPdfSignature, assessor: Assessor, index: int, evidence: Evidence, covered: bytes
) -> tuple[SignatureReport, TimestampFacts]:
    report = SignatureReport(
        index=index,
        kind=SignatureKind.PDF_TIMESTAMP,
        indication=Indication.TOTAL_PASSED,
        sub_indication=None,
    )
    facts = assessor.timestamp(sig.signed_data, covered, TimestampKind.DOCUMENT, evidence)
    report.timestamps.append(facts)
    report.validation_time, report.validation_time_source = facts.time, "timestamp"
    certs = [c.chosen for c in sig.signed_data["certificates"] if c.name == "certificate"]
    tsa = assessor.find_signer_cert(sig.signer_info, [*certs, *evidence.certs])
    if tsa is not None:
        report.signer = signer_facts(tsa)
    if facts.trusted:
        report.warnings.append(Reason.of("TIMESTAMP_DOCUMENT", time=utc_text(facts.time)))
        return _finish(report, None), facts
    sub = _DOC_TIMESTAMP_OUTCOMES.get(facts.failure, SubIndication.GENERIC)
    return _finish(report, sub, Reason.of(sub, detail=facts.problem or "")), facts


#: What an untrusted document time-stamp makes of its entry; any other failure is GENERIC.
_DOC_TIMESTAMP_OUTCOMES: dict[SubIndication | None, SubIndication] = {
    s: s
    for s in (
        SubIndication.HASH_FAILURE,
        SubIndication.SIG_CRYPTO_FAILURE,
        SubIndication.NO_CERTIFICATE_CHAIN_FOUND,
        SubIndication.TRY_LATER,
        SubIndication.REVOKED_NO_POE,
        SubIndication.CHAIN_CONSTRAINTS_FAILURE,
    )
}


def _gost_digest(sig: EmbeddedPdfSignature, data: bytes) -> bytes | None:
    """The ByteRange digest when the signer used a GOST hash (pyHanko knows none of them).

    Stored in pyHanko's digest cache too, where its integrity analysis looks first.
    """
    md = sig.signer_info["digest_algorithm"]["algorithm"].native
    if not is_gost_digest(md):
        return None
    digest = digest_of(_signed_bytes(data, sig.byte_range), md)
    if digest is not None:
        sig.external_digests[md] = digest
    return digest


def _signed_bytes(data: bytes, byte_range: list[int]) -> bytes:
    start1, len1, start2, len2 = (int(v) for v in byte_range)
    return data[start1 : start1 + len1] + data[start2 : start2 + len2]


def verify_pdf(
    data: bytes,
    assessor: Assessor,
    limits: Limits,
    file_name: str | None = None,
    reader: PdfFileReader | None = None,
) -> tuple[DocumentFacts, list[SignatureReport]]:
    """All signatures and document time-stamps of ``data``, in revision order.

    ``reader``: what :func:`open_pdf` made of ``data`` already (it is parsed once).
    """
    reader = reader or open_pdf(data, limits)
    try:
        signatures = sorted(reader.embedded_signatures, key=lambda s: s.signed_revision)
        revisions = reader.xrefs.total_revisions
    except (misc.PdfError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise VerificationInputError(
            "pdf_unreadable", status=422, detail=type(exc).__name__
        ) from None
    if not signatures:
        raise VerificationInputError("pdf_no_signatures", status=422)
    if len(signatures) > limits.max_signatures:
        raise VerificationInputError("too_many_signatures", status=422)
    facts = DocumentFacts(
        DocumentFormat.PDF,
        hashlib.sha256(data).hexdigest(),
        len(data),
        file_name,
        revisions=revisions,
    )
    dss = _dss(reader)
    reports: dict[int, SignatureReport] = {}
    doc_ts: list[tuple[int, TimestampFacts]] = []
    for index, sig in enumerate(signatures, start=1):
        if sig.sig_object_type != "/DocTimeStamp":
            continue
        assessor.deadline.check()
        report, ts = _doc_timestamp(sig, assessor, index, dss, _signed_bytes(data, sig.byte_range))
        _integrity(sig, report, data, revisions)
        reports[index] = report
        if ts.trusted:
            doc_ts.append((sig.signed_revision, ts))
    for index, sig in enumerate(signatures, start=1):
        if sig.sig_object_type == "/DocTimeStamp":
            continue
        ocsps, crls = embedded_revocation(sig.signed_data, sig.signer_info)
        evidence = Evidence(
            certs=dss.certs,
            ocsp=[*ocsps, *dss.ocsp],
            crl=[*crls, *dss.crl],
            later_poe=[t for rev, t in doc_ts if rev > sig.signed_revision],
            claimed_fallback=sig.self_reported_timestamp,
        )
        try:
            digest = _gost_digest(sig, data) or sig.compute_digest()
        except (misc.PdfError, ValueError, OSError):
            digest = None
        report = assessor.assess(
            sig.signed_data,
            sig.signer_info,
            digest=digest,
            index=index,
            kind=SignatureKind.PDF_SIGNATURE,
            evidence=evidence,
        )
        report.field_name = sig.field_name
        if sig.docmdp_level is not None and _is_certification(reader, sig):
            report.certification = sig.docmdp_level.name
        _integrity(sig, report, data, revisions)
        reports[index] = report
    return facts, [reports[i] for i in sorted(reports)]


def _is_certification(reader: PdfFileReader, sig: EmbeddedPdfSignature) -> bool:
    try:
        perms = reader.root["/Perms"]
        certifies: bool = perms.raw_get("/DocMDP").reference == sig.sig_object.container_ref
        return certifies
    except (KeyError, AttributeError, TypeError):
        return False


def _integrity(
    sig: EmbeddedPdfSignature, report: SignatureReport, data: bytes, revisions: int
) -> None:
    """Coverage and modification analysis; a forbidden change makes the signature fail."""
    report.revision = sig.signed_revision
    try:
        sig.compute_integrity_info(DEFAULT_DIFF_POLICY)
    except (misc.PdfError, ValueError, KeyError, TypeError, AttributeError) as exc:
        _override(
            report, SubIndication.FORMAT_FAILURE, Reason.of("FORMAT_FAILURE", detail=str(exc))
        )
        return
    report.coverage = _coverage(sig, len(data))
    report.modifications = _modification(sig, revisions)
    if report.coverage.kind is CoverageKind.PARTIAL:
        _override(report, SubIndication.FORMAT_FAILURE, Reason.of("PARTIAL_COVERAGE"))
    elif not report.modifications.allowed:
        _override(
            report,
            SubIndication.SIG_CONSTRAINTS_FAILURE,
            report.modifications.description or Reason.of("SIG_CONSTRAINTS_FAILURE"),
        )
    elif report.modifications.description is not None:
        report.warnings.append(report.modifications.description)


def _override(report: SignatureReport, sub: SubIndication, reason: Reason) -> None:
    """A structural failure outranks any trust result: the bytes shown were not signed."""
    if report.sub_indication in (SubIndication.HASH_FAILURE, SubIndication.SIG_CRYPTO_FAILURE):
        report.reasons.append(reason)
        return
    report.set_outcome(sub)
    report.reasons = [reason, *[r for r in report.reasons if r.code != "PASSED"]]
