"""Signed test documents made directly with pyHanko / signxml and the NCA-like test PKI.

Why not ``signing/``: that package is being written concurrently and its API still moves;
verification tests must not break because of it. Signing here is plain pyHanko, with two
extras the tests need: a *fixed signing time* and *time-stamps made at a chosen moment*
(a certificate that is expired today must be shown to have signed while it was valid).
The time-stamps come from the test PKI's real TSA key and certificate.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from asn1crypto import cms, keys, x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from lxml import etree
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko.sign.validation.dss import async_add_validation_info
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from tests.pki import TestPki

if TYPE_CHECKING:
    from docservice.pki.anchors import TrustAnchors

UTC = dt.UTC


def _key_info(key: object) -> keys.PrivateKeyInfo:
    der = key.private_bytes(
        serialization.Encoding.DER,  # type: ignore[attr-defined]
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return keys.PrivateKeyInfo.load(der)


def base_pdf(text: str = "ӘБІЛҚАСЫМОВА — өтініш / заявление") -> bytes:
    """A small one-page PDF to sign (ReportLab, the shipped Kazakh-capable font).

    The font is the forms' own (``typefaces.register()``), not a second ReportLab font on
    the same file: ReportLab keeps one font per face name, so a "LibSerif" registered first
    in a process would be what every later ``LiberationSerif`` look-up returned, without
    the forms' seeded subsets (``tests/test_typefaces.py`` failed after such a test).
    """
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    from docservice import typefaces

    font = typefaces.register()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, initialFontName=font, invariant=1)
    c.setFont(font, 14)
    c.drawString(72, 760, text)
    c.drawString(72, 730, "Сумма / Сома: 100 000 ₸")
    c.showPage()
    c.save()
    return buf.getvalue()


def tampered(signed: bytes) -> bytes:
    """``signed`` with two bytes changed inside its embedded font program: bytes every
    signature covers, in a compressed stream of unchanged length, so the file still reads.
    (The page content is compressed too: its operators are not in the file as text.)"""
    data = bytearray(signed)
    at = data.index(b"stream", data.index(b"/Length1")) + 100
    data[at - 2 : at] = b"99"
    return bytes(data)


class _ParsedKeySigner(signers.SimpleSigner):
    """pyHanko's ``SimpleSigner`` that parses its RSA key once, not for every signature.

    Why: ``SimpleSigner.sign_raw`` loads the key from DER each time, and OpenSSL checks
    an RSA key on loading: 70-130 ms of a CMS signature here, the RSA operation ~1 ms.
    PKCS#1 v1.5 signatures are deterministic, so the bytes are those pyHanko makes; any
    other mechanism is left to pyHanko.
    """

    def __init__(self, *, parsed_key: rsa.RSAPrivateKey, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._parsed_key = parsed_key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        if mechanism["algorithm"].native != "sha256_rsa" or digest_algorithm != "sha256":
            return super().sign_raw(data, digest_algorithm)
        return self._parsed_key.sign(data, padding.PKCS1v15(), hashes.SHA256())


@dataclass
class Signers:
    """Signing keys of the test PKI, each loaded once (PKCS#12 parsing is slow)."""

    pki: TestPki
    _cache: dict[str, signers.SimpleSigner] = field(default_factory=dict)

    def signer(self, label: str) -> signers.SimpleSigner:
        if label not in self._cache:
            key, _cert, _chain = pkcs12.load_key_and_certificates(
                self.pki.p12(label).read_bytes(), self.pki.password.encode()
            )
            assert isinstance(key, rsa.RSAPrivateKey)
            self._cache[label] = _ParsedKeySigner(
                parsed_key=key,
                signing_cert=self.pki.cert(label),
                signing_key=_key_info(key),
                cert_registry=SimpleCertificateStore.from_certs([self.pki.ca, self.pki.root]),
            )
        return self._cache[label]

    @cached_property
    def tsa(self) -> tuple[x509.Certificate, keys.PrivateKeyInfo]:
        """The TSA's certificate and key, to make time-stamps at a chosen moment."""
        label = "tsa"
        arch = self.pki.arch
        key = arch.key_set.get_private_key(label)  # type: ignore[arg-type]
        return self.pki.cert(label), key

    def timestamper(self, at: dt.datetime | None, live: bool = False):  # type: ignore[no-untyped-def]
        """A time-stamper: the real loopback TSA (``live``) or the TSA key at ``at``."""
        if live:
            return HTTPTimeStamper(self.pki.tsa_url, timeout=10)
        if at is None:
            return None
        cert, key = self.tsa
        store = SimpleCertificateStore.from_certs([self.pki.ca])
        return DummyTimeStamper(cert, key, certs_to_embed=store, fixed_dt=at)

    def validation_context(self) -> ValidationContext:
        return ValidationContext(
            trust_roots=[self.pki.root], other_certs=[self.pki.ca], allow_fetching=True
        )

    # -- PDF -------------------------------------------------------------------------------

    def sign_pdf(
        self,
        data: bytes,
        label: str,
        *,
        when: dt.datetime | None = None,
        ts_at: dt.datetime | None = None,
        live_tsa: bool = False,
        certify: bool = False,
        field_name: str | None = None,
        docmdp: fields.MDPPerm = fields.MDPPerm.FILL_FORMS,
        reserve: int = 24000,
    ) -> bytes:
        """One PAdES signature as an incremental update, signing time ``when``."""
        return asyncio.run(
            self._sign_pdf(data, label, when, ts_at, live_tsa, certify, field_name, docmdp, reserve)
        )

    async def _sign_pdf(
        self,
        data: bytes,
        label: str,
        when: dt.datetime | None,
        ts_at: dt.datetime | None,
        live_tsa: bool,
        certify: bool,
        field_name: str | None,
        docmdp: fields.MDPPerm,
        reserve: int,
    ) -> bytes:
        signer = self.signer(label)
        writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
        name = field_name or f"Sig{len(writer.prev.embedded_signatures) + 1}"
        meta = signers.PdfSignatureMetadata(
            field_name=name,
            md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES,
            certify=certify,
            docmdp_permissions=docmdp,
        )
        pdf_signer = signers.PdfSigner(meta, signer)
        prep, _tbs, output = await pdf_signer.async_digest_doc_for_signing(
            writer, bytes_reserved=reserve
        )
        # PAdES proper forbids the signingTime attribute (the claim is /M); a fixed claimed
        # time therefore makes a CMS-style (signingTime) signature instead.
        content = await signer.async_sign(
            prep.document_digest,
            "sha256",
            use_pades=when is None,
            timestamper=self.timestamper(ts_at, live_tsa),
            signed_attr_settings=PdfCMSSignedAttributes(signing_time=when),
        )
        prep.fill_with_cms(output, content)
        return output.getvalue()

    def sign_pdf_lta(self, data: bytes, label: str) -> bytes:
        """PAdES B-LTA against the live loopback TSA/OCSP/CRL (pyHanko's own LTA path)."""
        existing = IncrementalPdfFileWriter(io.BytesIO(data)).prev.embedded_signatures
        meta = signers.PdfSignatureMetadata(
            field_name=f"Sig{len(existing) + 1}",
            md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES,
            embed_validation_info=True,
            use_pades_lta=True,
            validation_context=self.validation_context(),
        )
        writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
        out = signers.sign_pdf(
            writer,
            meta,
            self.signer(label),
            timestamper=HTTPTimeStamper(self.pki.tsa_url, timeout=10),
        )
        return out.getvalue()

    def add_dss(self, data: bytes) -> bytes:
        """Append a DSS update with the last signature's revocation data (B-LT step)."""
        from pyhanko.pdf_utils.reader import PdfFileReader

        sig = PdfFileReader(io.BytesIO(data)).embedded_regular_signatures[-1]
        out = asyncio.run(async_add_validation_info(sig, self.validation_context(), in_place=False))
        return out.getvalue()

    def doc_timestamp(self, data: bytes, at: dt.datetime | None = None) -> bytes:
        """A document time-stamp (the LTA building block) at ``at`` or from the live TSA."""
        writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
        ts = signers.PdfTimeStamper(self.timestamper(at, live=at is None))
        return ts.timestamp_pdf(writer, "sha256").getvalue()

    # -- CMS -------------------------------------------------------------------------------

    def cms(
        self,
        data: bytes,
        labels: list[str],
        *,
        detached: bool = True,
        when: dt.datetime | None = None,
        ts_at: dt.datetime | None = None,
        live_tsa: bool = False,
    ) -> cms.ContentInfo:
        """A CMS with one SignerInfo per label (several signers in one CMS)."""
        return asyncio.run(self._cms(data, labels, detached, when, ts_at, live_tsa))

    async def _cms(
        self,
        data: bytes,
        labels: list[str],
        detached: bool,
        when: dt.datetime | None,
        ts_at: dt.datetime | None,
        live_tsa: bool,
    ) -> cms.ContentInfo:
        parts = []
        for label in labels:
            part = await self.signer(label).async_sign_general_data(
                data,
                "sha256",
                detached=detached,
                timestamper=self.timestamper(ts_at, live_tsa),
                signed_attr_settings=PdfCMSSignedAttributes(
                    signing_time=when or dt.datetime.now(UTC)
                ),
            )
            parts.append(part)
        first = parts[0]["content"]
        if len(parts) == 1:
            return parts[0]
        certs: dict[bytes, cms.CertificateChoices] = {}
        infos = []
        algos_ = {}
        for part in parts:
            sd = part["content"]
            for c in sd["certificates"]:
                certs[c.dump()] = c
            infos.extend(sd["signer_infos"])
            for a in sd["digest_algorithms"]:
                algos_[a.dump()] = a
        merged = cms.SignedData(
            {
                "version": first["version"],
                "digest_algorithms": list(algos_.values()),
                "encap_content_info": first["encap_content_info"],
                "certificates": list(certs.values()),
                "signer_infos": infos,
            }
        )
        return cms.ContentInfo({"content_type": "signed_data", "content": merged})

    # -- XML -------------------------------------------------------------------------------

    def sign_xml(self, xml: bytes, label: str, *, when: dt.datetime | None = None) -> bytes:
        """Enveloped XMLDSig (RSA-SHA256, exclusive c14n) as NCALayer's signXml makes it.

        With ``when``: XAdES-B whose signed ``SigningTime`` is ``when`` (the claimed time),
        in Canonical XML 1.1 as ``signing.xmldsig`` does it (see the note there).
        """
        from signxml import XMLSigner
        from signxml.algorithms import CanonicalizationMethod
        from signxml.xades import XAdESSigner

        key, _cert, _chain = pkcs12.load_key_and_certificates(
            self.pki.p12(label).read_bytes(), self.pki.password.encode()
        )
        root = etree.fromstring(xml)
        pem_chain = [self.pki.cert(label).dump(), self.pki.ca.dump()]
        from asn1crypto import pem

        certs = [pem.armor("CERTIFICATE", d).decode() for d in pem_chain]
        if when is None:
            signer = XMLSigner(
                c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0
            )
        else:

            class _Claiming(XAdESSigner):
                def add_signing_time(self, properties, sig_root, signing_settings):  # type: ignore[no-untyped-def]
                    node = etree.SubElement(
                        properties,
                        "{http://uri.etsi.org/01903/v1.3.2#}SigningTime",
                        nsmap=self.namespaces,
                    )
                    node.text = when.astimezone(UTC).isoformat(timespec="seconds")

            signer = _Claiming(c14n_algorithm=CanonicalizationMethod.CANONICAL_XML_1_1)
        signed = signer.sign(root, key=key, cert=certs)
        return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")


SAMPLE_XML = (
    "<?xml version='1.0' encoding='UTF-8'?>"
    "<application xmlns='urn:kz:docservice:application:v1' id='A-1'>"
    "<applicant iin='900715400236'>ТӨЛЕГЕНОВ АЙБЕК</applicant>"
    "<amount>100000</amount></application>"
).encode()


# -- attacks -------------------------------------------------------------------------------

EVIL_CONTENT = b"BT /F1 28 Tf 72 640 Td (PAID 999 999 KZT) Tj ET"


def incremental_update_attack(signed: bytes) -> bytes:
    """Append an update that replaces page 1's content after it was signed."""
    from pyhanko.pdf_utils import generic

    writer = IncrementalPdfFileWriter(io.BytesIO(signed), strict=False)
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    ref = writer.add_object(generic.StreamObject(stream_data=EVIL_CONTENT))
    page["/Contents"] = ref
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def shadow_document(base: bytes) -> tuple[bytes, int]:
    """The attacker's document: looks innocent, carries an unused content stream.

    Returns the PDF to be signed and the object number of the hidden stream.
    """
    from pyhanko.pdf_utils import generic

    writer = IncrementalPdfFileWriter(io.BytesIO(base), strict=False)
    hidden = writer.add_object(generic.StreamObject(stream_data=EVIL_CONTENT))
    # Keep it reachable from nothing visible: a private key in the document catalog.
    writer.root["/DocsvcUnused"] = hidden
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue(), hidden.idnum


def shadow_attack(signed: bytes, hidden_idnum: int) -> bytes:
    """Hide-and-replace: after signing, point page 1 at the stream that was already signed."""
    from pyhanko.pdf_utils import generic

    writer = IncrementalPdfFileWriter(io.BytesIO(signed), strict=False)
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    page["/Contents"] = generic.IndirectObject(hidden_idnum, 0, writer)
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def forged_ocsp(pki: TestPki, target: str, signer: str) -> bytes:
    """A well-formed "good" OCSP response for ``target``, signed by ``signer``'s key.

    The signature itself is valid, but ``signer`` is not an authorised responder: only a
    verifier that checks who signed the response (and with what authority) rejects it.
    """
    import hashlib

    from asn1crypto import algos, core, ocsp

    cert = pki.cert(target)
    ca = pki.ca
    signer_cert = pki.cert(signer)
    key, _c, _ch = pkcs12.load_key_and_certificates(
        pki.p12(signer).read_bytes(), pki.password.encode()
    )
    now = dt.datetime.now(UTC).replace(microsecond=0)
    cert_id = ocsp.CertId(
        {
            "hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha1"}),
            "issuer_name_hash": hashlib.sha1(ca.subject.dump()).digest(),
            "issuer_key_hash": hashlib.sha1(ca.public_key["public_key"].contents[1:]).digest(),
            "serial_number": cert.serial_number,
        }
    )
    tbs = ocsp.ResponseData(
        {
            "responder_id": ocsp.ResponderId(
                name="by_key",
                value=core.OctetString(
                    hashlib.sha1(signer_cert.public_key["public_key"].contents[1:]).digest()
                ),
            ),
            "produced_at": now,
            "responses": [
                ocsp.SingleResponse(
                    {
                        "cert_id": cert_id,
                        "cert_status": ocsp.CertStatus(name="good", value=core.Null()),
                        "this_update": now - dt.timedelta(minutes=1),
                        "next_update": now + dt.timedelta(days=1),
                    }
                )
            ],
        }
    )
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    signature = key.sign(tbs.dump(), padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr]
    basic = ocsp.BasicOCSPResponse(
        {
            "tbs_response_data": tbs,
            "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "sha256_rsa"}),
            "signature": signature,
            "certs": [signer_cert],
        }
    )
    return ocsp.OCSPResponse(
        {
            "response_status": "successful",
            "response_bytes": {"response_type": "basic_ocsp_response", "response": basic},
        }
    ).dump()


def with_dss(signed: bytes, ocsp_responses: list[bytes]) -> bytes:
    """Append a DSS update carrying the given OCSP responses (B-LT shape)."""
    from asn1crypto import ocsp
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    writer = IncrementalPdfFileWriter(io.BytesIO(signed), strict=False)
    DocumentSecurityStore.supply_dss_in_writer(
        writer, sig_contents=None, ocsps=[ocsp.OCSPResponse.load(r) for r in ocsp_responses]
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def service_signatures(pki: TestPki, trust: TrustAnchors) -> dict[str, Any]:
    """What ``signing/`` makes for the interop checks: a PDF signed by the four officials
    (stamps, B-T, the last B-LTA), a detached CAdES over ``b"original"`` (PEM) and an XML
    signed by two officials."""
    from signing import cades, xmldsig
    from signing.cms_util import to_pem
    from signing.keys import Pkcs12Key
    from signing.pdf import Level, PdfOptions, sign_pdf
    from tests.pki import OFFICIALS

    keys = {
        label: Pkcs12Key.from_bytes(pki.p12(label).read_bytes(), pki.password)
        for label in OFFICIALS
    }
    pdf = base_pdf()
    for i, label in enumerate(OFFICIALS):
        level = Level.B_LTA if label == "hr" else Level.B_T
        pdf = sign_pdf(
            pdf,
            keys[label],
            PdfOptions(level=level, certify=i == 0, tsa_url=pki.tsa_url, trust=trust),
        )
    cms_pem = to_pem(
        cades.sign_detached(
            b"original", keys["career"], cades.CadesOptions(tsa_url=pki.tsa_url, trust=trust)
        )
    )
    xml = xmldsig.sign_xml(xmldsig.sign_xml(SAMPLE_XML, keys["career"]), keys["head"])
    return {"pdf": pdf, "cms": cms_pem, "xml": xml}
