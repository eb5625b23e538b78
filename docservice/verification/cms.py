"""CMS signer assessment (shared by PDF and detached/attached CMS) and CMS file verification.

Why one assessor for every container: a PAdES signature, a SIGEX/NCALayer detached CAdES
and an attached CMS are all a CMS ``SignerInfo`` over a digest; the rules for integrity,
time-stamps, the validation moment and the chain must be identical, so they live here once.

Time rules (ETSI EN 319 102-1 in spirit, with the brief's choices spelt out):

* a **trusted time-stamp** (the signature's own, or a later PDF document time-stamp that
  covers it) is proof of existence: the certificate is judged at the earliest such time,
  so an expired certificate does not invalidate a signature time-stamped while it was
  valid, and a revocation after that time does not either;
* a time the caller already holds proof for (``known_poe``: the archive's time-stamped entry
  for that signature value) counts the same way;
* without any proof of existence (POE), the signer's claimed signing time proves nothing
  (ETSI EN 319 102-1): a certificate still valid *now* passes with a warning that the time
  is unconfirmed, but one that has expired or been revoked since is ``INDETERMINATE``
  (``OUT_OF_BOUNDS_NO_POE`` / ``REVOKED_NO_POE``) - whoever still holds the key could sign
  today and write any date;
* a signer's own signed claim of a time at/after revocation or expiry cannot be rescued by
  any further evidence, so it yields ``TOTAL_FAILED`` (``REVOKED`` / ``EXPIRED``);
* a revocation is final (RFC 6960 2.2): an OCSP "revoked since R" answer decides any moment
  from R on however old it is (not a ``certificateHold``, which is heard at its own time).
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from asn1crypto import cms, core, crl, ocsp, pem, tsp, x509
from pyhanko.sign.general import (
    CMSStructuralError,
    MultivaluedAttributeError,
    NonexistentAttributeError,
    find_unique_cms_attribute,
)
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.generic_cms import (
    extract_self_reported_ts,
    extract_tst_data_iter,
    validate_sig_integrity,
)

from docservice.pki.key_usage import signing_usage
from docservice.pki.roles import policy_label
from docservice.timefmt import utc_text
from docservice.verification import messages
from docservice.verification.certs import (
    ChainOutcome,
    ChainValidator,
    display_name,
    gost_name,
    signer_facts,
)
from docservice.verification.limits import Deadline, Limits, VerificationInputError, check_size
from docservice.verification.report import (
    Coverage,
    CoverageKind,
    DocumentFacts,
    DocumentFormat,
    Labelled,
    Reason,
    RevocationFacts,
    SignatureKind,
    SignatureReport,
    SubIndication,
    TimestampFacts,
    TimestampKind,
    indication_for,
)
from signing.cms_util import REVOCATION_VALUES_OID, RevocationValues, der_bytes
from signing.digests import digest_of
from signing.errors import SignatureValueError
from signing.gost.validator import GOST_SIGNATURE_VALIDATOR

WEAK_DIGESTS = frozenset({"md5", "sha1"})


@dataclass
class Evidence:
    """Extra material for one signer: certificates and revocation data found elsewhere
    (PDF DSS, the CMS's own revocation fields) and later proofs of existence."""

    certs: list[x509.Certificate] = field(default_factory=list)
    ocsp: list[ocsp.OCSPResponse] = field(default_factory=list)
    crl: list[crl.CertificateList] = field(default_factory=list)
    later_poe: list[TimestampFacts] = field(default_factory=list)
    claimed_fallback: dt.datetime | None = None


def signature_id(signature_value: bytes) -> str:
    """The key of a signature in a report and in ``known_poe``: SHA-256 of its value.

    Why the signature value: it is what a proof of existence is about (ETSI EN 319 102-1),
    it is the same bytes whatever container carries it, and it never changes when a PDF
    gains later revisions or a CMS gains unsigned attributes.
    """
    return hashlib.sha256(signature_value).hexdigest()


@dataclass
class Assessor:
    """Judges one ``SignerInfo``; holds the chain validator and the verification's *now*.

    ``known_poe`` maps :func:`signature_id` to a time the caller holds proof the signature
    existed at (the archive's time-stamped entry); it counts like a trusted time-stamp.
    """

    chains: ChainValidator
    now: dt.datetime
    deadline: Deadline
    known_poe: Mapping[str, dt.datetime] = field(default_factory=dict)

    @property
    def now_bucket(self) -> dt.datetime:
        """*Now* at minute precision: identical requests share cached chain outcomes."""
        return self.now.replace(second=0, microsecond=0)

    # -- certificates -----------------------------------------------------------------------

    @staticmethod
    def find_signer_cert(
        signer_info: cms.SignerInfo, certs: list[x509.Certificate]
    ) -> x509.Certificate | None:
        sid = signer_info["sid"]
        if sid.name != "issuer_and_serial_number":
            return next((c for c in certs if c.key_identifier == sid.chosen.native), None)
        ias = sid.chosen
        serial = ias["serial_number"].native
        candidates = [c for c in certs if c.serial_number == serial]
        issuer_der = ias["issuer"].dump()
        # Byte-equal names first; the RFC 5280 comparison (string preparation) is slow.
        for cert in candidates:
            if cert.issuer.dump() == issuer_der:
                return cert
        return next((c for c in candidates if c.issuer == ias["issuer"]), None)

    # -- time-stamps ------------------------------------------------------------------------

    def timestamp(
        self, token: cms.SignedData, imprint_source: bytes, kind: TimestampKind, evidence: Evidence
    ) -> TimestampFacts:
        """Verify a time-stamp token over ``imprint_source`` and its TSA chain."""
        try:
            info = token["encap_content_info"]["content"].parsed
            if not isinstance(info, tsp.TSTInfo):
                raise ValueError("not a TSTInfo")
            gen_time = info["gen_time"].native
            policy = info["policy"].dotted
        except (ValueError, KeyError, AttributeError) as exc:
            return TimestampFacts(
                kind,
                self.now,
                False,
                problem=f"unreadable token: {exc}",
                failure=SubIndication.FORMAT_FAILURE,
            )
        label = policy_label(policy)
        facts = TimestampFacts(
            kind,
            gen_time,
            False,
            policy=policy,
            policy_label=Labelled(policy, label.kk, label.ru) if label else None,
        )
        imprint = info["message_imprint"]
        expected = digest_of(imprint_source, imprint["hash_algorithm"]["algorithm"].native)
        if expected is None or expected != imprint["hashed_message"].native:
            facts.problem = "message imprint does not match"
            facts.failure = SubIndication.HASH_FAILURE
            return facts
        signer_infos = token["signer_infos"]
        if len(signer_infos) != 1:
            facts.problem = "time-stamp token must have one signer"
            facts.failure = SubIndication.FORMAT_FAILURE
            return facts
        certs = [c.chosen for c in token["certificates"] if c.name == "certificate"]
        tsa_cert = self.find_signer_cert(signer_infos[0], [*certs, *evidence.certs])
        if tsa_cert is None:
            facts.problem = "TSA certificate not found"
            facts.failure = SubIndication.NO_SIGNING_CERTIFICATE_FOUND
            return facts
        facts.tsa = display_name(tsa_cert.subject)
        md = signer_infos[0]["digest_algorithm"]["algorithm"].native
        content_digest = digest_of(bytes(token["encap_content_info"]["content"]), md)
        try:
            intact, valid = validate_sig_integrity(
                signer_infos[0],
                tsa_cert,
                "tst_info",
                content_digest or b"",
                GOST_SIGNATURE_VALIDATOR,
            )
        except (SignatureValidationError, CMSStructuralError, ValueError) as exc:
            facts.problem = str(exc)
            facts.failure = SubIndication.FORMAT_FAILURE
            return facts
        if not (intact and valid):
            facts.problem = "time-stamp signature does not verify"
            facts.failure = SubIndication.SIG_CRYPTO_FAILURE
            return facts
        outcome = self.chains.validate(
            tsa_cert,
            moment=self.now_bucket,
            other_certs=certs,
            embedded_ocsp=evidence.ocsp,
            embedded_crl=evidence.crl,
            purpose="timestamping",
        )
        if outcome.sub == "OUT_OF_BOUNDS_NO_POE":
            outcome = self.chains.validate(
                tsa_cert,
                moment=gen_time,
                other_certs=certs,
                embedded_ocsp=evidence.ocsp,
                embedded_crl=evidence.crl,
                purpose="timestamping",
            )
        if outcome.sub is not None:
            facts.problem = f"{outcome.sub}: {outcome.detail}"
            facts.failure = SubIndication(outcome.sub)
            return facts
        facts.trusted = True
        return facts

    # -- one signer -------------------------------------------------------------------------

    def assess(
        self,
        signed_data: cms.SignedData,
        signer_info: cms.SignerInfo,
        *,
        digest: bytes | None,
        index: int,
        kind: SignatureKind,
        evidence: Evidence,
    ) -> SignatureReport:
        """Indication, sub-indication, facts and reasons for one signer."""
        self.deadline.check()
        report = SignatureReport(
            index=index, kind=kind, indication=indication_for(None), sub_indication=None
        )
        certs = [c.chosen for c in signed_data["certificates"] if c.name == "certificate"]
        all_certs = [*certs, *evidence.certs]
        cert = self.find_signer_cert(signer_info, all_certs)
        sig_algo = signer_info["signature_algorithm"]["algorithm"].dotted
        md_algo = signer_info["digest_algorithm"]["algorithm"].dotted
        gost_algo = gost_name(sig_algo) or gost_name(md_algo)
        report.algorithm = gost_algo or (
            signer_info["signature_algorithm"].signature_algo
            + "/"
            + signer_info["digest_algorithm"]["algorithm"].native
        )
        try:
            report.signing_time_claimed = extract_self_reported_ts(signer_info)
        except (ValueError, SignatureValidationError):
            report.signing_time_claimed = None
        if report.signing_time_claimed is None:
            report.signing_time_claimed = evidence.claimed_fallback
        if cert is None:
            return _finish(report, "NO_SIGNING_CERTIFICATE_FOUND")
        report.signer = signer_facts(cert)
        if digest is None:
            return _finish(report, "SIGNED_DATA_NOT_FOUND")
        try:
            content_type = signed_data["encap_content_info"]["content_type"].native
            intact, valid = validate_sig_integrity(
                signer_info, cert, content_type, digest, GOST_SIGNATURE_VALIDATOR
            )
        except SignatureValidationError as exc:
            found = exc.ades_subindication  # pyHanko's AdESFailure or AdESIndeterminate
            sub = found.name if isinstance(found, enum.Enum) else "FORMAT_FAILURE"
            return _finish(report, sub, Reason.of(sub, detail=exc.failure_message))
        except (CMSStructuralError, ValueError, KeyError, TypeError) as exc:
            return _finish(report, "FORMAT_FAILURE", Reason.of("FORMAT_FAILURE", detail=str(exc)))
        if not intact:
            return _finish(report, "HASH_FAILURE")
        if not valid:
            return _finish(report, "SIG_CRYPTO_FAILURE")
        if signer_info["digest_algorithm"]["algorithm"].native in WEAK_DIGESTS:
            return _finish(report, "CRYPTO_CONSTRAINTS_FAILURE")

        signature_value = signer_info["signature"].native
        for token in extract_tst_data_iter(signer_info, signed=False):
            facts = self.timestamp(token, signature_value, TimestampKind.SIGNATURE, evidence)
            report.timestamps.append(facts)
            if not facts.trusted:
                report.warnings.append(Reason.of("TIMESTAMP_UNTRUSTED", detail=facts.problem))
        report.timestamps.extend(evidence.later_poe)
        self._add_known_poe(report, signature_value)
        return self._judge_chain(report, cert, certs, evidence)

    def assess_certificate(
        self,
        report: SignatureReport,
        cert: x509.Certificate,
        evidence: Evidence,
        signature_value: bytes,
    ) -> SignatureReport:
        """Trust judgement alone, for formats whose cryptography was checked elsewhere (XML)."""
        self.deadline.check()
        report.signer = report.signer or signer_facts(cert)
        report.timestamps.extend(evidence.later_poe)
        self._add_known_poe(report, signature_value)
        return self._judge_chain(report, cert, evidence.certs, evidence)

    def _add_known_poe(self, report: SignatureReport, signature_value: bytes) -> None:
        """Name the (verified) signature value and add the caller's POE for it, if any."""
        report.signature_sha256 = signature_id(signature_value)
        known = self.known_poe.get(report.signature_sha256)
        if known is not None:
            report.timestamps.append(TimestampFacts(TimestampKind.ARCHIVE, known, True))

    def _judge_chain(
        self,
        report: SignatureReport,
        cert: x509.Certificate,
        certs: list[x509.Certificate],
        evidence: Evidence,
    ) -> SignatureReport:
        poe = [t.time for t in report.timestamps if t.trusted]
        claimed = report.signing_time_claimed

        def run(moment: dt.datetime) -> ChainOutcome:
            return self.chains.validate(
                cert,
                moment=moment,
                other_certs=certs,
                embedded_ocsp=evidence.ocsp,
                embedded_crl=evidence.crl,
            )

        notes: list[Reason] = []
        expired_since = False
        if poe:
            moment = min(poe)
            report.validation_time, report.validation_time_source = moment, "timestamp"
            notes.append(Reason.of("JUDGED_AT_TIMESTAMP", time=utc_text(moment)))
            outcome = run(moment)
            if outcome.sub is None and cert.not_valid_after < self.now:
                notes.append(Reason.of("EXPIRED_LATER", date=utc_text(cert.not_valid_after)))
        else:
            outcome = run(self.now_bucket)
            if outcome.sub is None:
                # Valid now: the claimed time stands, and the report says it is unproven.
                report.validation_time = claimed or self.now
                report.validation_time_source = "claimed" if claimed else "now"
                notes.append(
                    Reason.of("CLAIMED_TIME_ONLY", time=utc_text(claimed))
                    if claimed
                    else Reason.of("NO_SIGNING_TIME")
                )
            else:
                report.validation_time, report.validation_time_source = self.now, "now"
                if outcome.sub == "OUT_OF_BOUNDS_NO_POE" and not (
                    claimed and claimed > cert.not_valid_after
                ):
                    # Expired since: still look for a revocation (or a broken chain) before
                    # the expiry, which would be the weightier answer.
                    outcome = self._before_expiry(cert, evidence, run)
                    expired_since = outcome.sub is None
            if claimed and claimed < cert.not_valid_before and outcome.sub is None:
                outcome = ChainOutcome("NOT_YET_VALID", not_before=cert.not_valid_before)
                expired_since = False
        report.chain = list(outcome.path)
        report.revocation = _revocation_facts(outcome)
        if outcome.sub is None and outcome.revocation_declared:
            notes.append(Reason.of("REVOCATION_CHECKED", detail=outcome.revinfo_source))
        elif outcome.sub is None:
            notes.append(Reason.of("REVOCATION_NOT_DECLARED"))
        report.warnings.extend(notes)
        sub = "OUT_OF_BOUNDS_NO_POE" if expired_since else outcome.sub
        reason_kk, reason_ru = messages.revocation_reason(outcome.revocation_reason)
        revoked_at = outcome.revoked_at
        if sub == "REVOKED_NO_POE" and claimed and revoked_at and claimed >= revoked_at:
            sub = "REVOKED"
        if sub == "OUT_OF_BOUNDS_NO_POE" and claimed and claimed > cert.not_valid_after:
            sub = "EXPIRED"
        if sub is None:
            return _finish(report, None)
        date = outcome.revoked_at or outcome.expired_at or outcome.not_before
        if sub in ("OUT_OF_BOUNDS_NO_POE", "EXPIRED"):
            date = cert.not_valid_after
        reason = Reason.of(
            sub,
            date=utc_text(date),
            reason_kk=reason_kk,
            reason_ru=reason_ru,
            detail=outcome.detail,
        )
        extra = []
        if not poe and sub in ("OUT_OF_BOUNDS_NO_POE", "REVOKED_NO_POE"):
            extra.append(Reason.of("SIGN_WITH_TIMESTAMP"))
        if (
            sub == "CHAIN_CONSTRAINTS_FAILURE"
            and report.signer
            and signing_usage(cert).authentication_key
        ):
            extra.append(Reason.of("NOT_A_SIGNING_CERT"))
        return _finish(report, sub, reason, *extra)

    def _before_expiry(
        self, cert: x509.Certificate, evidence: Evidence, run: Callable[[dt.datetime], ChainOutcome]
    ) -> ChainOutcome:
        """The chain just before ``cert`` expired; when no answer is fresh then, a revocation
        answer at hand from before the expiry, judged at its own time (a hold answered in
        2022 says nothing of 2023, but the certificate was revoked while valid all the same).
        """
        last = cert.not_valid_after - dt.timedelta(seconds=1)
        outcome = run(last)
        if outcome.sub != "TRY_LATER":
            return outcome
        for moment in self.chains.revoked_answer_times(cert, evidence.ocsp):
            if moment < last:
                found = run(moment)
                if found.sub == "REVOKED_NO_POE":
                    return found
        return outcome


def _revocation_facts(outcome: ChainOutcome) -> RevocationFacts:
    if outcome.revoked_at is not None:
        return RevocationFacts(
            True, outcome.revinfo_source, "revoked", outcome.revoked_at, outcome.revocation_reason
        )
    if outcome.sub == "TRY_LATER":
        return RevocationFacts(False, outcome.revinfo_source, "unknown")
    if not outcome.revocation_declared:
        return RevocationFacts(False, "none", "not-declared")
    if outcome.sub is None:
        return RevocationFacts(outcome.revinfo_source != "none", outcome.revinfo_source, "good")
    return RevocationFacts(False, outcome.revinfo_source, "unknown")


def _finish(
    report: SignatureReport, sub: SubIndication | str | None, *reasons: Reason
) -> SignatureReport:
    report.set_outcome(sub)
    if reasons:
        report.reasons.extend(reasons)
    else:
        report.reasons.append(Reason.of(sub or "PASSED"))
    return report


# -- CMS files ---------------------------------------------------------------------------------


def parse_cms(data: bytes, field: str = "file") -> cms.SignedData:
    """SignedData from DER, PEM (NCALayer ``basics.sign``) or Base64 DER (``commonUtils``)."""
    try:
        raw = der_bytes(data)  # DER is never stripped: its last byte may be 0x20 or 0x0a
    except SignatureValueError:
        # armoured as PEM, it is a CMS that is damaged; otherwise it is not a CMS at all
        code = "cms_unreadable" if pem.detect(data) else "unknown_format"
        raise VerificationInputError(code, field=field) from None
    try:
        info = cms.ContentInfo.load(raw, strict=True)
        if info["content_type"].native != "signed_data":
            raise VerificationInputError("cms_unreadable", field=field, detail="not SignedData")
        signed = info["content"]
        _parse_structure(signed)
    except VerificationInputError:
        raise
    except (ValueError, TypeError, KeyError, OverflowError):
        raise VerificationInputError("cms_unreadable", field=field) from None
    if len(signed["signer_infos"]) == 0:
        raise VerificationInputError("cms_no_signer", field=field, status=422)
    return signed


def _parse_structure(signed: cms.SignedData) -> None:
    """Parse every field verification relies on now, so a damaged CMS fails here, cleanly.

    Not ``.native`` on the whole: unsigned attributes asn1crypto does not know (CAdES
    revocation values, vendor extensions) are opaque and must stay so.
    """
    signed["version"].native  # noqa: B018
    signed["digest_algorithms"].native  # noqa: B018
    signed["encap_content_info"]["content_type"].native  # noqa: B018
    for choice in signed["certificates"] or []:
        if choice.name == "certificate":
            choice.chosen["tbs_certificate"]["subject"].native  # noqa: B018
    for info in signed["signer_infos"]:
        info["sid"].native  # noqa: B018
        info["digest_algorithm"]["algorithm"].native  # noqa: B018
        info["signature_algorithm"]["algorithm"].native  # noqa: B018
        info["signature"].native  # noqa: B018
        for attrs in (info["signed_attrs"], info["unsigned_attrs"]):
            for attr in attrs or []:
                attr["type"].native  # noqa: B018


def _wrap_basic(basic: ocsp.BasicOCSPResponse) -> ocsp.OCSPResponse:
    return ocsp.OCSPResponse(
        {
            "response_status": "successful",
            "response_bytes": {"response_type": "basic_ocsp_response", "response": basic},
        }
    )


def embedded_revocation(
    signed: cms.SignedData, signer_info: cms.SignerInfo
) -> tuple[list[ocsp.OCSPResponse], list[crl.CertificateList]]:
    """OCSP/CRL carried by a CMS: RFC 5652 ``crls`` (incl. OCSP ``other`` choices), CAdES
    ``revocation-values`` and Adobe's ``revocationInfoArchival`` signed attribute."""
    ocsps: list[ocsp.OCSPResponse] = []
    crls: list[crl.CertificateList] = []
    for choice in signed["crls"] or []:
        if choice.name == "crl":
            crls.append(choice.chosen)
        elif choice.name == "other":
            other = choice.chosen
            if other["other_rev_info_format"].dotted == "1.3.6.1.5.5.7.16.2":
                ocsps.append(ocsp.OCSPResponse.load(other["other_rev_info"].dump()))
    for attr in signer_info["unsigned_attrs"] or []:
        if attr["type"].dotted != REVOCATION_VALUES_OID:
            continue
        for raw in attr["values"]:
            try:
                values = (
                    raw if isinstance(raw, RevocationValues) else RevocationValues.load(raw.dump())
                )
                ocsps.extend(_wrap_basic(b) for b in values["ocsp_vals"] or [])
                crls.extend(values["crl_vals"] or [])
            except (ValueError, TypeError):
                continue
    try:
        archival = find_unique_cms_attribute(
            signer_info["signed_attrs"], "adobe_revocation_info_archival"
        )
        ocsps.extend(archival["ocsp"] or [])
        crls.extend(archival["crl"] or [])
    except (NonexistentAttributeError, MultivaluedAttributeError, ValueError, TypeError):
        pass
    return ocsps, crls


def verify_cms(
    data: bytes,
    original: bytes | None,
    assessor: Assessor,
    limits: Limits,
    file_name: str | None = None,
) -> tuple[DocumentFacts, list[SignatureReport]]:
    """Every signer of an attached or detached CMS (original required when detached)."""
    signed = parse_cms(data)
    if len(signed["signer_infos"]) > limits.max_signers:
        raise VerificationInputError("too_many_signatures", status=422)
    content = signed["encap_content_info"]["content"]
    attached = content is not core.VOID and content.native is not None
    if attached and original is not None:
        raise VerificationInputError("original_unexpected", field="original", status=422)
    if original is not None:
        check_size(original, limits.max_original_bytes, "original")
    signed_bytes = bytes(content) if attached else original
    facts = DocumentFacts(
        DocumentFormat.CMS,
        hashlib.sha256(data).hexdigest(),
        len(data),
        file_name,
        hashlib.sha256(original).hexdigest() if original else None,
    )
    reports = []
    for index, info in enumerate(signed["signer_infos"], start=1):
        md = info["digest_algorithm"]["algorithm"].native
        digest = digest_of(signed_bytes, md) if signed_bytes is not None else None
        if digest is None and signed_bytes is not None:
            digest = b""
        ocsps, crls = embedded_revocation(signed, info)
        report = assessor.assess(
            signed,
            info,
            digest=digest,
            index=index,
            kind=SignatureKind.CMS,
            evidence=Evidence(ocsp=ocsps, crl=crls),
        )
        report.coverage = Coverage(
            CoverageKind.CONTENT,
            signed_bytes=len(signed_bytes) if signed_bytes is not None else None,
        )
        if attached is False and original is not None:
            report.coverage.total_bytes = len(original)
        reports.append(report)
    return facts, reports
