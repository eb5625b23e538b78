"""Enveloped XMLDSig exactly as NCALayer's ``signXml`` writes it (RSA), or GOST XMLDSig."""

from __future__ import annotations

import base64
import hashlib

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree

from docservice import xmlsafe
from docservice.xml_signature import remove_keeping_tail
from docservice_testing.ncalayer.keystore import EmulatorKey
from docservice_testing.ncalayer.refusals import RefusedError
from signing.gost import xmldsig as gost_xmldsig
from signing.keys import GostPrivateKey
from signing.ncalayer import protocol as p

DS = "http://www.w3.org/2000/09/xmldsig#"
C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
C14N_WITH_COMMENTS = C14N + "#WithComments"
ENVELOPED = DS + "enveloped-signature"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256_URI = "http://www.w3.org/2001/04/xmlenc#sha256"
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="no"?>'


def sign_xml_document(
    key: EmulatorKey, xml: str, parent_xpath: str = "", tbs_xpath: str = "", newline: str = "\r\n"
) -> str:
    """Enveloped XMLDSig in NCALayer's shape (as its recorded answers show).

    ``<?xml ... standalone="no"?>``, a ``ds:`` prefixed Signature with a line break
    (``newline``: commonUtils CRLF, basics LF) after each element, SignedInfo in inclusive
    C14N 1.0, RSA-SHA256, one Reference with ``enveloped-signature`` +
    ``REC-xml-c14n-20010315#WithComments`` and SHA-256. The reference is the whole document
    (``URI=""``, so comments are *not* digested: XMLDSig 4.3.3.3), or the element at
    ``tbs_xpath`` by its ``Id``. Existing signatures are kept and covered; the new one is
    appended to the root, or to ``parent_xpath``.
    """
    try:
        root = etree.fromstring(xml.encode("utf-8"), xmlsafe.PARSER)
        parent = _xpath_element(root, parent_xpath, "signature parent") if parent_xpath else root
        uri = ""
        if tbs_xpath:
            target = _xpath_element(root, tbs_xpath, "element to sign")
            ident = next((target.get(n) for n in ("Id", "ID", "id") if target.get(n)), None)
            if ident is None:
                raise RefusedError(
                    p.BasicsCode.INVALID_SIGNING_PARAMS, "the element to sign has no Id attribute"
                )
            uri = f"#{ident}"
    except (etree.XMLSyntaxError, etree.XPathError) as exc:
        raise RefusedError(
            p.BasicsCode.INVALID_SIGNING_PARAMS, "XML cannot be signed", str(exc)
        ) from None
    if isinstance(key.private_key, GostPrivateKey):
        if parent_xpath or tbs_xpath:
            raise RefusedError(
                p.BasicsCode.INVALID_SIGNING_PARAMS,
                "a GOST signature is appended to the root only here",
            )
        gost_key = key.private_key
        gost_xmldsig.sign(
            root,
            gost_key.public.curve,
            gost_key.d,
            [key.certificate.dump()],
            gost_key.signature_oid,
        )
        # NCALayer serialises every answer alike, whatever the key's algorithm.
        return XML_DECLARATION + etree.tostring(root.getroottree(), encoding="unicode")
    sig = etree.SubElement(parent, f"{{{DS}}}Signature", nsmap={"ds": DS})
    info = _ds(sig, "SignedInfo")
    _ds(info, "CanonicalizationMethod", Algorithm=C14N)
    _ds(info, "SignatureMethod", Algorithm=RSA_SHA256)
    ref = _ds(info, "Reference", URI=uri)
    transforms = _ds(ref, "Transforms")
    _ds(transforms, "Transform", Algorithm=ENVELOPED)
    _ds(transforms, "Transform", Algorithm=C14N_WITH_COMMENTS)
    _ds(ref, "DigestMethod", Algorithm=SHA256_URI)
    digest = _ds(ref, "DigestValue")
    value = _ds(sig, "SignatureValue")
    cert = _ds(_ds(_ds(sig, "KeyInfo"), "X509Data"), "X509Certificate")
    cert.text = _wrap(key.certificate.dump())
    breaks = list(sig.iter())
    for element in [e for e in sig.iter() if len(e)]:
        element.text = "\n"
    for element in sig.iterdescendants():
        element.tail = "\n"
    digest.text = base64.b64encode(hashlib.sha256(_referenced(root, sig, uri)).digest()).decode(
        "ascii"
    )
    value.text = _wrap(
        key.private_key.sign(
            etree.tostring(info, method="c14n"), padding.PKCS1v15(), hashes.SHA256()
        )
    )
    # lxml would write CR as "&#13;"; the marker becomes the real line break afterwards.
    marker = "\ue000"
    if newline != "\n" and marker not in xml:
        for element in breaks:
            if element.text == "\n":
                element.text = marker
            if element.tail == "\n":
                element.tail = marker
        value.text = value.text.replace("\n", marker)
        cert.text = cert.text.replace("\n", marker)
    body = etree.tostring(root.getroottree(), encoding="unicode")
    return XML_DECLARATION + body.replace(marker, newline)


def _ds(parent: etree._Element, name: str, **attrs: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{DS}}}{name}", attrs)


def _wrap(data: bytes) -> str:
    """Base64 in lines of 76, as Santuario writes it."""
    text = base64.b64encode(data).decode("ascii")
    return "\n" + "\n".join(text[i : i + 76] for i in range(0, len(text), 76)) + "\n"


def _xpath_element(root: etree._Element, xpath: str, what: str) -> etree._Element:
    found = root.xpath(xpath)
    if not isinstance(found, list) or not found or not isinstance(found[0], etree._Element):
        raise RefusedError(p.BasicsCode.INVALID_SIGNING_PARAMS, f"{what} not found", xpath)
    return found[0]


_MARK = "emulator-new-signature"


def _referenced(root: etree._Element, sig: etree._Element, uri: str) -> bytes:
    """The octets the reference digests: the document (or the element ``uri`` names) with
    the new signature removed (enveloped-signature) and, per XMLDSig, no comments."""
    sig.set(_MARK, "")
    copy = etree.fromstring(etree.tostring(root))
    del sig.attrib[_MARK]
    new = next(e for e in copy.iter(f"{{{DS}}}Signature") if e.get(_MARK) is not None)
    for node in [new, *copy.iter(etree.Comment)]:
        remove_keeping_tail(node)
    if uri:
        copy = copy.xpath("//*[@Id=$v or @ID=$v or @id=$v]", v=uri[1:])[0]
    return etree.tostring(copy, method="c14n", exclusive=False, with_comments=False)
