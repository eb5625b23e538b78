"""Which ``ds:Signature`` of an XML document is checked, and the check itself (RSA or GOST).

One rule for signing, two-phase completion, the eGov login and verification:

* **Pinned place**: a signature counts only as a direct child of the document element,
  where NCALayer's ``signXml`` appends it (:func:`root_signatures`). A ``ds:Signature``
  hidden deeper (a wrapping attack's decoy) is never picked up.
* **The last one**: signature *k* is checked on the document as it was when it was made,
  without the signatures appended after it (:func:`as_made`); it is then the last root
  signature, and that is the one checked (:func:`check_last`). The enveloped transform
  removes only a signature's own element, so earlier signatures are part of what it signs.
* **One signxml hook**: signxml checks the first signature it finds; :class:`PinnedVerifier`
  (and its XAdES twin) override signxml's private ``_get_signature`` to return the last
  root signature. This module is the only place that touches signxml's internals
  (``tests/test_xml_signature.py`` is the canary for a signxml upgrade).
* **GOST**: signxml knows only the W3C algorithm URIs; a pkigovkz (Kalkan/NCALayer GOST)
  ``SignatureMethod`` is checked by :mod:`signing.gost.xmldsig` under the same selection.
* **Comments**: for a ``URI=""`` reference XMLDSig drops comments even under
  ``#WithComments`` (Santuario, and so real NCALayer, does); signxml keeps them, so a digest
  that fails with comments is tried once without (comments are never content here).

Failures are the three :mod:`signing.gost.xmldsig` errors (all :class:`XmlInvalidError`):
a changed digest, a signature value that does not verify, and a malformed signature.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography import x509 as pyca_x509
from lxml import etree
from signxml import XMLVerifier
from signxml.exceptions import InvalidCertificate, InvalidDigest, InvalidInput, InvalidSignature
from signxml.verifier import SignatureConfiguration, VerifyResult
from signxml.xades import XAdESVerifier

from signing.gost import xmldsig as gost_xmldsig

DS = "http://www.w3.org/2000/09/xmldsig#"
NS = {"ds": DS}
SIGNATURE_TAG = f"{{{DS}}}Signature"

XmlInvalidError = gost_xmldsig.XmlInvalidError
XmlDigestError = gost_xmldsig.XmlDigestError
XmlSignatureError = gost_xmldsig.XmlSignatureError
XmlFormatError = gost_xmldsig.XmlFormatError


def root_signatures(root: etree._Element) -> list[etree._Element]:
    """The signatures at the pinned place: direct ``ds:Signature`` children of the root."""
    return [child for child in root if child.tag == SIGNATURE_TAG]


def as_made(root: etree._Element, index: int) -> etree._Element:
    """A copy of the document as it was when signature ``index`` (0-based) was made: the
    root signatures after it removed, so that it is the last one."""
    copy = etree.fromstring(etree.tostring(root))
    for later in root_signatures(copy)[index + 1 :]:
        copy.remove(later)
    return copy


def remove_keeping_tail(node: etree._Element) -> None:
    """Remove ``node`` but not the text after it (lxml keeps that text on the node)."""
    parent = node.getparent()
    if parent is None:
        raise XmlFormatError("cannot remove the document element")
    tail = node.tail or ""
    previous = node.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail
    parent.remove(node)


def signature_method(signature: etree._Element) -> str:
    method = signature.find("ds:SignedInfo/ds:SignatureMethod", NS)
    return method.get("Algorithm", "") if method is not None else ""


class _LastRootSignature:
    """The hook: signxml's ``_get_signature`` returns the last root signature."""

    def _get_signature(self, root: etree._Element) -> etree._Element:
        found = root_signatures(root)
        if not found:
            raise InvalidInput("no ds:Signature at the pinned location")
        return found[-1]


class PinnedVerifier(_LastRootSignature, XMLVerifier):
    """signxml's verifier, checking the last root signature only."""


class PinnedXAdESVerifier(_LastRootSignature, XAdESVerifier):
    """signxml's XAdES verifier, checking the last root signature only."""


def _without_comments(doc: etree._Element) -> etree._Element | None:
    if next(doc.iter(etree.Comment), None) is None:
        return None
    copy = etree.fromstring(etree.tostring(doc))
    for comment in list(copy.iter(etree.Comment)):
        remove_keeping_tail(comment)
    return copy


def verify_last(
    doc: etree._Element,
    config: SignatureConfiguration,
    *,
    certificate: asn1_x509.Certificate | None = None,
    ca_pem_file: str | None = None,
    xades: bool = False,
) -> list[VerifyResult]:
    """signxml on the last root signature of ``doc``; its results as a list.

    ``certificate`` pins the signer; otherwise ``ca_pem_file`` names the only roots signxml
    may trust (never its system-CA fallback).
    """
    if certificate is None and ca_pem_file is None:
        raise ValueError("a pinned certificate or trust roots are required")
    kwargs: dict[str, Any] = {"expect_config": config}
    if certificate is not None:
        kwargs["x509_cert"] = pyca_x509.load_der_x509_certificate(certificate.dump())
    else:
        kwargs["ca_pem_file"] = ca_pem_file
    verifier: XMLVerifier = PinnedXAdESVerifier() if xades else PinnedVerifier()
    try:
        try:
            result = verifier.verify(doc, **kwargs)
        except InvalidDigest:
            stripped = _without_comments(doc)
            if stripped is None:
                raise
            result = verifier.verify(stripped, **kwargs)
    except InvalidDigest as exc:
        raise XmlDigestError(str(exc)) from None
    except (InvalidSignature, InvalidCertificate) as exc:
        if "Digest mismatch" in str(exc):
            raise XmlDigestError(str(exc)) from None
        raise XmlSignatureError(str(exc)) from None
    except (InvalidInput, ValueError, etree.LxmlError) as exc:
        raise XmlFormatError(str(exc)) from None
    return result if isinstance(result, list) else [result]


@dataclass(frozen=True)
class SignedPart:
    """What one reference of a verified signature really signed."""

    element: etree._Element  # the referenced element, transforms applied
    data: bytes  # the bytes that were digested


def check_last(
    doc: etree._Element, certificate: asn1_x509.Certificate, config: SignatureConfiguration | None
) -> list[SignedPart]:
    """Check the last root signature of ``doc`` with the signer's ``certificate``.

    GOST signature methods go to :mod:`signing.gost.xmldsig`, the W3C ones to signxml
    (with ``config``, which only they need); either way the caller gets only what was
    really signed.
    """
    found = root_signatures(doc)
    if not found:
        raise XmlFormatError("no ds:Signature at the pinned location")
    signature = found[-1]
    algorithm = signature_method(signature)
    if gost_xmldsig.is_gost_uri(algorithm):
        try:
            refs = gost_xmldsig.verify(signature, certificate)
        except etree.LxmlError as exc:
            raise XmlFormatError(str(exc)) from None
        return [SignedPart(r.element, r.data) for r in refs]
    if "gost" in algorithm.lower():
        raise XmlFormatError(f"unknown GOST signature method {algorithm}")
    if config is None:
        raise ValueError("signxml needs a SignatureConfiguration")
    results = verify_last(doc, config, certificate=certificate)
    return [SignedPart(r.signed_xml, r.signed_data) for r in results if r.signed_xml is not None]
