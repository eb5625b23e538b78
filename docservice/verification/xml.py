"""XMLDSig: enveloped signatures at a pinned place, trusting only what signxml says was signed.

Why each rule:

* **DTDs and entities are refused** before any parsing that could expand them (XML bombs,
  external entities reading local files or the network).
* **Pinned location**: a signature counts only as a direct child of the document element
  (where NCALayer's ``signXml`` puts it). signxml is told exactly which element to verify;
  a ``ds:Signature`` hidden elsewhere (a wrapping attack's decoy) is never picked up.
* **Only the signed data is trusted**: signxml returns the canonical bytes it verified; the
  signature passes only if those bytes are the document an official sees (the document
  element without its signatures, comments excluded). A signature over a moved/duplicated
  element (signature wrapping) therefore fails, and values are read from the signed data.
* **Several signers**: a later signature did not exist when an earlier one was made, so the
  earlier one is verified on the document without the later ``ds:Signature`` elements.
* signxml does the XML cryptography only (it is handed the certificate and a time inside
  its validity); trust, validity time and revocation are judged by :mod:`.certs` like for
  every other format - never signxml's system-CA fallback.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from dataclasses import dataclass

from asn1crypto import x509 as asn1_x509
from cryptography import x509 as pyca_x509
from lxml import etree
from signxml.verifier import SignatureConfiguration

from docservice import xml_signature, xmlsafe
from docservice.verification.certs import gost_name, signer_facts
from docservice.verification.cms import Assessor, Evidence, _finish
from docservice.verification.limits import Limits, VerificationInputError
from docservice.verification.report import (
    Coverage,
    CoverageKind,
    DocumentFacts,
    DocumentFormat,
    Indication,
    Reason,
    SignatureKind,
    SignatureReport,
)
from signing.gost import xmldsig as gost_xmldsig

DS = "http://www.w3.org/2000/09/xmldsig#"
NS = {"ds": DS}


_REFUSAL_CODES = {
    "dtd": ("xml_dtd", 422),
    "unreadable": ("xml_unreadable", 422),
    "too_big": ("xml_too_big", 413),
}


def parse_xml(data: bytes, limits: Limits) -> etree._ElementTree:
    """Parse untrusted XML (:mod:`docservice.xmlsafe`), bounded by ``limits``."""
    try:
        root = xmlsafe.parse(
            data, max_depth=limits.max_xml_depth, max_elements=limits.max_xml_elements
        )
    except xmlsafe.XmlRefusedError as exc:
        code, status = _REFUSAL_CODES[exc.reason]
        raise VerificationInputError(code, status=status) from None
    return root.getroottree()


@dataclass
class _KeyInfo:
    signer: asn1_x509.Certificate | None
    others: list[asn1_x509.Certificate]


def _key_info(signature: etree._Element) -> _KeyInfo:
    certs = []
    for node in signature.findall("ds:KeyInfo/ds:X509Data/ds:X509Certificate", NS):
        try:
            certs.append(
                asn1_x509.Certificate.load(base64.b64decode("".join((node.text or "").split())))
            )
        except (ValueError, TypeError):
            continue
    issuers = {c.issuer.dump() for c in certs}
    leaves = [c for c in certs if c.subject.dump() not in issuers] or certs
    leaf = leaves[0] if leaves else None
    return _KeyInfo(leaf, [c for c in certs if c is not leaf])


def _displayed(doc: etree._Element) -> bytes:
    """What the verified signature must cover: ``doc`` (later signatures already removed)
    without the signature itself; earlier signatures are part of the document it signed.
    Comments are not content, so they are left out on both sides of the comparison."""
    copy = etree.fromstring(etree.tostring(doc))
    own = xml_signature.root_signatures(copy)[-1]
    copy.remove(own)
    return etree.tostring(copy, method="c14n", exclusive=True, with_comments=False)


def _signed_canonical(signed: etree._Element | None) -> bytes | None:
    if signed is None:
        return None
    return etree.tostring(signed, method="c14n", exclusive=True, with_comments=False)


def _describe(element: etree._Element) -> str:
    name = etree.QName(element).localname
    ident = element.get("Id") or element.get("id") or element.get("ID")
    return f"{name}#{ident}" if ident else name


XADES = "http://uri.etsi.org/01903/v1.3.2#"


def _xades_signing_time(signed_roots: list[etree._Element]) -> dt.datetime | None:
    """XAdES ``SigningTime``, read only from a ``SignedProperties`` that was really signed."""
    for element in signed_roots:
        if element.tag != f"{{{XADES}}}SignedProperties":
            continue
        node = element.find(f".//{{{XADES}}}SigningTime")
        if node is None or not node.text:
            continue
        try:
            value = dt.datetime.fromisoformat(node.text.strip().replace("Z", "+00:00"))
        except ValueError:
            continue
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return None


def verify_xml(
    data: bytes, assessor: Assessor, limits: Limits, file_name: str | None = None
) -> tuple[DocumentFacts, list[SignatureReport]]:
    """Every pinned enveloped signature of an XML document."""
    tree = parse_xml(data, limits)
    root = tree.getroot()
    signatures = xml_signature.root_signatures(root)
    if not signatures:
        raise VerificationInputError("xml_no_signature", status=422)
    if len(signatures) > limits.max_signatures:
        raise VerificationInputError("too_many_signatures", status=422)
    facts = DocumentFacts(
        DocumentFormat.XML, hashlib.sha256(data).hexdigest(), len(data), file_name
    )
    reports = []
    for index, signature in enumerate(signatures, start=1):
        assessor.deadline.check()
        reports.append(_verify_one(root, signature, index, assessor))
    stray = len(root.findall(".//ds:Signature", NS)) - len(signatures)
    if stray:
        for report in reports:
            report.warnings.append(
                Reason.of(
                    "FORMAT_FAILURE",
                    detail=f"{stray} ds:Signature outside the pinned place ignored",
                )
            )
    return facts, reports


def _verify_one(
    root: etree._Element, signature: etree._Element, index: int, assessor: Assessor
) -> SignatureReport:
    report = SignatureReport(
        index=index, kind=SignatureKind.XML, indication=Indication.TOTAL_PASSED, sub_indication=None
    )
    method = signature.find("ds:SignedInfo/ds:SignatureMethod", NS)
    algorithm = method.get("Algorithm", "") if method is not None else ""
    report.algorithm = algorithm.rsplit("#", 1)[-1]
    keyinfo = _key_info(signature)
    if keyinfo.signer is not None:
        report.signer = signer_facts(keyinfo.signer)
    if keyinfo.signer is None:
        return _finish(report, "NO_SIGNING_CERTIFICATE_FOUND")
    # The document as it was when this signature was made: later signatures removed.
    doc = xml_signature.as_made(root, index - 1)
    config = None
    if gost_xmldsig.is_gost_uri(algorithm):
        report.algorithm = gost_name(gost_xmldsig.SIGNATURE_URIS[algorithm]) or algorithm
    elif "gost" not in algorithm.lower():
        cert = pyca_x509.load_der_x509_certificate(keyinfo.signer.dump())
        config = SignatureConfiguration(
            location="./",
            expect_references=True,
            require_x509=True,
            verification_time=cert.not_valid_before_utc,
        )
    try:
        parts = xml_signature.check_last(doc, keyinfo.signer, config)
    except xml_signature.XmlDigestError:
        return _finish(report, "HASH_FAILURE")
    except xml_signature.XmlSignatureError:
        return _finish(report, "SIG_CRYPTO_FAILURE")
    except xml_signature.XmlFormatError as exc:
        return _finish(report, "FORMAT_FAILURE", Reason.of("FORMAT_FAILURE", detail=str(exc)))
    signed = [(part.element, len(part.data)) for part in parts]
    signed_roots = [element for element, _ in signed]
    report.coverage = Coverage(
        CoverageKind.XML_ELEMENTS,
        elements=[_describe(e) for e in signed_roots],
        signed_bytes=sum(size for _, size in signed),
    )
    displayed = _displayed(doc)
    if not any(_signed_canonical(e) == displayed for e in signed_roots):
        detail = ", ".join(report.coverage.elements) or "?"
        return _finish(
            report,
            "FORMAT_FAILURE",
            Reason.of("FORMAT_FAILURE", detail=f"signed data ({detail}) is not the document shown"),
        )
    report.coverage.kind = CoverageKind.ENTIRE_DOCUMENT
    report.signing_time_claimed = _xades_signing_time(signed_roots)
    report.warnings.append(Reason.of("XML_SIGNED_PART", detail=", ".join(report.coverage.elements)))
    value = base64.b64decode("".join(signature.findtext("ds:SignatureValue", "", NS).split()))
    return assessor.assess_certificate(
        report, keyinfo.signer, Evidence(certs=keyinfo.others), value
    )
