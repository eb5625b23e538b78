"""Enveloped XMLDSig (RSA-SHA256, exclusive c14n), one ``ds:Signature`` per signer.

Like NCALayer's ``signXml``: the reference is the whole document (URI ""), with the
enveloped-signature and exclusive-c14n transforms, the certificate chain in
``ds:KeyInfo``; each further signer appends its own signature to the root. Because the
enveloped transform removes only *its own* signature, signer *k* also signs the
signatures of signers 1..k-1; so signature *k* is verified on the document without the
signatures added after it (:func:`verify_xml`). XAdES-B properties (signing time,
signing certificate, claimed role) are added on request through signxml's XAdES signer
(with Canonical XML 1.1: see :func:`sign_xml`).

signxml trusts the system CA store when given no trust arguments: :func:`verify_xml`
always passes the configured roots.
"""

from __future__ import annotations

import base64
import os
import tempfile
from dataclasses import dataclass

from asn1crypto import pem, x509
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_der_public_key,
    load_pem_public_key,
)
from cryptography.x509 import load_der_x509_certificate
from lxml import etree
from signxml import (
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureConfiguration,
    SignatureConstructionMethod,
    SignatureMethod,
    XMLSigner,
)
from signxml.exceptions import InvalidInput, SignXMLException
from signxml.xades import XAdESSignatureConfiguration, XAdESSigner

from docservice import xml_signature, xmlsafe
from docservice.pki.anchors import TrustAnchors
from signing.errors import DocumentError, SignatureValueError, SigningError
from signing.gost import xmldsig as gost_xmldsig
from signing.keys import GostPrivateKey, Pkcs12Key, SigningKey

DS_NS = "http://www.w3.org/2000/09/xmldsig#"
_EXC_C14N = CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0


def _parse(data: bytes) -> etree._Element:
    """Parse untrusted XML with the hardened parser; a DTD is refused."""
    try:
        return xmlsafe.parse(data)
    except xmlsafe.XmlRefusedError as exc:
        if exc.reason == "dtd":
            raise DocumentError("XML with a DTD is refused") from None
        raise DocumentError(f"not well-formed XML: {exc.detail}") from None


def _pem(cert: x509.Certificate) -> str:
    armored: bytes = pem.armor("CERTIFICATE", cert.dump())
    return armored.decode("ascii")


def sign_xml(
    data: bytes, key: SigningKey, *, role: str | None = None, xades: bool = False
) -> bytes:
    """``data`` with one more enveloped signature appended to its root."""
    if not isinstance(key, Pkcs12Key):
        raise SigningError("XML signatures from NCALayer arrive signed; nothing to do here")
    key.check(role=role)
    root = _parse(data)
    private_key = key.private_key
    if isinstance(private_key, GostPrivateKey):
        if xades:
            raise SigningError("XAdES properties are not made for GOST keys yet")
        gost_xmldsig.sign(
            root,
            private_key.public.curve,
            private_key.d,
            [c.dump() for c in (key.certificate, *key.chain)],
            private_key.signature_oid,
        )
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    method = SignatureConstructionMethod.enveloped
    algorithm, digest = SignatureMethod.RSA_SHA256, DigestAlgorithm.SHA256
    if xades:
        kk, ru = key.identity.role_label(role)
        # signxml 5.2's XAdES signer digests SignedProperties inconsistently under
        # exclusive c14n (every such signature fails verification), so XAdES uses
        # Canonical XML 1.1 throughout.
        signer: XMLSigner = XAdESSigner(
            claimed_roles=[f"{kk} / {ru}"] if kk else None,
            method=method,
            signature_algorithm=algorithm,
            digest_algorithm=digest,
            c14n_algorithm=CanonicalizationMethod.CANONICAL_XML_1_1,
        )
    else:
        signer = XMLSigner(
            method=method,
            signature_algorithm=algorithm,
            digest_algorithm=digest,
            c14n_algorithm=_EXC_C14N,
        )
    try:
        signed = signer.sign(
            root, key=private_key, cert=[_pem(key.certificate), *(_pem(c) for c in key.chain)]
        )
    except (SignXMLException, InvalidInput) as exc:
        raise DocumentError(str(exc)) from None
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")


@dataclass(frozen=True)
class XmlSignatureResult:
    """One verified signature: its certificate (asn1crypto) and what it really signed."""

    certificate_der: bytes
    signed_xml: etree._Element


def verify_xml(
    data: bytes, trust: TrustAnchors, *, xades: bool = False
) -> list[XmlSignatureResult]:
    """Verify every root-level signature, each on the document as it was when it was made.

    Raises :class:`SignatureValueError` if any signature fails; trust comes only from
    ``trust.roots``.
    """
    root = _parse(data)
    signatures = xml_signature.root_signatures(root)
    if not signatures:
        raise SignatureValueError("no signature")
    with tempfile.NamedTemporaryFile("wb", suffix=".pem", delete=False) as fh:
        fh.write(b"".join(pem.armor("CERTIFICATE", c.dump()) for c in trust.roots))
        ca_file = fh.name
    try:
        return [_verify_one(data, index, ca_file, xades) for index in range(len(signatures))]
    finally:
        os.unlink(ca_file)


def _verify_one(data: bytes, index: int, ca_file: str, xades: bool) -> XmlSignatureResult:
    doc = xml_signature.as_made(_parse(data), index)
    methods = frozenset({SignatureMethod.RSA_SHA256})
    digests = frozenset({DigestAlgorithm.SHA256})
    if xades:
        # document, SignedProperties and the KeyInfo signxml's XAdES signer references
        config: SignatureConfiguration = XAdESSignatureConfiguration(
            expect_references=3, location="./", signature_methods=methods, digest_algorithms=digests
        )
    else:
        config = SignatureConfiguration(
            expect_references=1, location="./", signature_methods=methods, digest_algorithms=digests
        )
    try:
        results = xml_signature.verify_last(doc, config, ca_pem_file=ca_file, xades=xades)
    except xml_signature.XmlInvalidError as exc:
        raise SignatureValueError(f"signature {index + 1}: {exc}") from None
    first = results[0]
    # The certificate whose key verified the signature (signxml reports only the key).
    raw_key = first.signature_key
    key = (
        load_pem_public_key(raw_key)
        if raw_key.startswith(b"-----")
        else load_der_public_key(raw_key)
    )
    key_der = key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    if first.signed_xml is None:
        raise SignatureValueError(f"signature {index + 1}: it signs no XML element")
    for node in first.signature_xml.iter(f"{{{DS_NS}}}X509Certificate"):
        cert = load_der_x509_certificate(base64.b64decode("".join((node.text or "").split())))
        if (
            cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
            == key_der
        ):
            return XmlSignatureResult(cert.public_bytes(Encoding.DER), first.signed_xml)
    raise SignatureValueError(f"signature {index + 1}: signer certificate not in KeyInfo")
