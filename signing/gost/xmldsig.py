"""XMLDSig with Kazakh GOST algorithms (the pkigovkz URIs Kalkan and NCALayer use).

signxml knows only the W3C algorithm URIs, so GOST signatures are checked and made here,
by the XMLDSig core rules (W3C XMLDSig 1.1 sections 3.2 and 4): every ``ds:Reference`` is
resolved (``""`` = the document, ``#id`` = the element with that Id), transformed
(enveloped-signature, Canonical XML 1.0 inclusive or exclusive), hashed and compared with
its ``DigestValue``; then the canonical ``ds:SignedInfo`` is hashed and the
``SignatureValue`` checked with the certificate's key. Byte orders as NCA's (FIELD-NOTES:
the Base64 value is the same r||s, little-endian halves, as in X.509; digests are Base64 of
the hash as printed, no reversal).

The verifier returns what was really signed (the referenced elements after the transforms),
so callers trust only that, as with signxml.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from asn1crypto import x509
from lxml import etree

import signing.gost as gost
from signing import digests
from signing.gost import curves

DS = "http://www.w3.org/2000/09/xmldsig#"
NS = {"ds": DS}
_PKI = "urn:ietf:params:xml:ns:pkigovkz:xmlsec:algorithms:"

#: SignatureMethod URI -> GOST signature OID
SIGNATURE_URIS = {
    _PKI + "gostr34102015-gostr34112015-512": gost.SIG_2015_512,
    _PKI + "gostr34102015-gostr34112015-256": gost.SIG_2015_256,
    "http://www.w3.org/2001/04/xmldsig-more#gost34310-gost34311": gost.SIG_2004,
}
#: DigestMethod URI -> hash OID (sha256 too: a GOST signer may reference with it)
DIGEST_URIS = {
    _PKI + "gostr34112015-512": gost.STREEBOG512,
    _PKI + "gostr34112015-256": gost.STREEBOG256,
    "http://www.w3.org/2001/04/xmldsig-more#gostr3411": gost.GOST34311,
    "http://www.w3.org/2001/04/xmlenc#sha256": "sha256",
}
DIGEST_URI_FOR = {
    gost.STREEBOG512: _PKI + "gostr34112015-512",
    gost.STREEBOG256: _PKI + "gostr34112015-256",
    gost.GOST34311: "http://www.w3.org/2001/04/xmldsig-more#gostr3411",
}
SIGNATURE_URI_FOR = {oid: uri for uri, oid in SIGNATURE_URIS.items()}

ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
EXC_C14N_COMMENTS = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments"
C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
C14N_COMMENTS = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments"
_C14N_METHODS = {
    EXC_C14N: (True, False),
    EXC_C14N_COMMENTS: (True, True),
    C14N: (False, False),
    C14N_COMMENTS: (False, True),
}


def is_gost_uri(uri: str) -> bool:
    return uri in SIGNATURE_URIS


class XmlInvalidError(ValueError):
    """An XML signature that does not verify, for any of the reasons below."""


class XmlFormatError(XmlInvalidError):
    """The signature is not what XMLDSig allows (unknown algorithm, missing element)."""


class XmlDigestError(XmlInvalidError):
    """A reference's digest does not match: the signed content was changed."""


class XmlSignatureError(XmlInvalidError):
    """The signature value does not verify over ``ds:SignedInfo``."""


@dataclass
class SignedReference:
    element: etree._Element  # the referenced element, as signed (transforms applied)
    data: bytes  # the bytes that were hashed


def _canonical(element: etree._Element, method: str, prefixes: list[str] | None = None) -> bytes:
    try:
        exclusive, comments = _C14N_METHODS[method]
    except KeyError:
        raise XmlFormatError(f"unsupported canonicalization {method}") from None
    return etree.tostring(
        element,
        method="c14n",
        exclusive=exclusive,
        with_comments=comments,
        inclusive_ns_prefixes=prefixes if exclusive else None,
    )


def _resolve(signature: etree._Element, uri: str) -> etree._Element:
    root = signature.getroottree().getroot()
    if uri == "":
        return root
    if not uri.startswith("#"):
        raise XmlFormatError(f"external reference {uri!r} is not allowed")
    ident = uri[1:]
    found = [
        e
        for e in root.iter()
        if isinstance(e.tag, str) and ident in (e.get("Id"), e.get("ID"), e.get("id"))
    ]
    if len(found) != 1:
        raise XmlFormatError(f"reference {uri!r} matches {len(found)} elements")
    return found[0]


def _apply_transforms(
    target: etree._Element, signature: etree._Element, reference: etree._Element
) -> tuple[etree._Element, bytes]:
    """The referenced element after the transforms, and its canonical bytes."""
    transforms = reference.findall("ds:Transforms/ds:Transform", NS)
    copy = etree.fromstring(etree.tostring(target))
    canonical = EXC_C14N if reference.get("URI") == "" else C14N
    prefixes = None
    for transform in transforms:
        alg = transform.get("Algorithm", "")
        if alg == ENVELOPED:
            own = _path_in(target, signature)
            if own is not None:
                node = copy
                for index in own:
                    node = node[index]
                parent = node.getparent()
                if parent is None:  # the reference names the signature itself
                    raise XmlFormatError(f"reference {reference.get('URI')!r} is the signature")
                parent.remove(node)
        elif alg in _C14N_METHODS:
            canonical = alg
            inclusive = transform.find(
                "{http://www.w3.org/2001/10/xml-exc-c14n#}InclusiveNamespaces"
            )
            prefixes = inclusive.get("PrefixList", "").split() if inclusive is not None else None
        else:
            raise XmlFormatError(f"unsupported transform {alg}")
    return copy, _canonical(copy, canonical, prefixes)


def _path_in(ancestor: etree._Element, element: etree._Element) -> list[int] | None:
    """Child indexes leading from ``ancestor`` to ``element`` (None if not inside)."""
    path = []
    node = element
    while node is not None and node is not ancestor:
        parent = node.getparent()
        if parent is None:
            return None
        path.append(list(parent).index(node))
        node = parent
    return list(reversed(path)) if node is ancestor else None


def _text(element: etree._Element | None, what: str) -> bytes:
    text = element.text if element is not None else None
    if text is None or not text.strip():
        raise XmlFormatError(f"{what} is missing")
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise XmlFormatError(f"{what} is not Base64") from None


def verify(signature: etree._Element, certificate: x509.Certificate) -> list[SignedReference]:
    """Check a GOST ``ds:Signature`` (in its document) with the signer's certificate."""
    signed_info = signature.find("ds:SignedInfo", NS)
    if signed_info is None:
        raise XmlFormatError("ds:SignedInfo is missing")
    method = signed_info.find("ds:SignatureMethod", NS)
    c14n = signed_info.find("ds:CanonicalizationMethod", NS)
    sig_oid = SIGNATURE_URIS.get(method.get("Algorithm", "") if method is not None else "")
    if sig_oid is None or c14n is None:
        raise XmlFormatError("not a GOST signature method, or no CanonicalizationMethod")
    references = signed_info.findall("ds:Reference", NS)
    if not references:
        raise XmlFormatError("no ds:Reference")
    signed = []
    for reference in references:
        digest_method = reference.find("ds:DigestMethod", NS)
        hash_oid = DIGEST_URIS.get(
            digest_method.get("Algorithm", "") if digest_method is not None else ""
        )
        if hash_oid is None:
            raise XmlFormatError("unsupported DigestMethod")
        target = _resolve(signature, reference.get("URI", ""))
        element, data = _apply_transforms(target, signature, reference)
        expected = _text(reference.find("ds:DigestValue", NS), "DigestValue")
        if digests.digest(data, hash_oid) != expected:
            raise XmlDigestError(f"digest mismatch for reference {reference.get('URI')!r}")
        signed.append(SignedReference(element, data))
    value = _text(signature.find("ds:SignatureValue", NS), "SignatureValue")
    spki = certificate["tbs_certificate"]["subject_public_key_info"].dump()
    info_bytes = _canonical(signed_info, c14n.get("Algorithm", ""))
    if not gost.verify_spki(spki, sig_oid, info_bytes, value):
        raise XmlSignatureError("GOST signature value does not verify over SignedInfo")
    return signed


def _el(parent: etree._Element, name: str, **attrs: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{DS}}}{name}", attrs)


def sign(
    root: etree._Element,
    curve: curves.Curve,
    private_key: int,
    certificates: list[bytes],
    signature_oid: str,
) -> etree._Element:
    """Append an enveloped GOST ``ds:Signature`` over the whole document to ``root``.

    As NCALayer's ``signXml`` does: Reference URI "" with the enveloped-signature and
    exclusive-c14n transforms, the certificate chain in ``ds:KeyInfo``; earlier signatures
    stay part of what this one signs.
    """
    hash_oid = gost.hash_for(signature_oid)
    doc_bytes = _canonical(root, EXC_C14N)  # the enveloped transform: no own signature yet
    signature = etree.SubElement(root, f"{{{DS}}}Signature", nsmap={"ds": DS})
    signed_info = _el(signature, "SignedInfo")
    _el(signed_info, "CanonicalizationMethod", Algorithm=EXC_C14N)
    _el(signed_info, "SignatureMethod", Algorithm=SIGNATURE_URI_FOR[signature_oid])
    reference = _el(signed_info, "Reference", URI="")
    transforms = _el(reference, "Transforms")
    _el(transforms, "Transform", Algorithm=ENVELOPED)
    _el(transforms, "Transform", Algorithm=EXC_C14N)
    _el(reference, "DigestMethod", Algorithm=DIGEST_URI_FOR[hash_oid])
    _el(reference, "DigestValue").text = base64.b64encode(gost.digest(hash_oid, doc_bytes)).decode()
    info_digest = gost.digest(hash_oid, _canonical(signed_info, EXC_C14N))
    value = gost.sign_digest(curve, private_key, info_digest)
    _el(signature, "SignatureValue").text = base64.b64encode(value).decode()
    data = _el(_el(signature, "KeyInfo"), "X509Data")
    for der in certificates:
        _el(data, "X509Certificate").text = base64.b64encode(der).decode()
    return signature
