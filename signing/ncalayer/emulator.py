"""An NCALayer emulator: a real ``wss://`` server on loopback holding test keys.

Why: client signing has two halves, the service and the official's NCALayer; the second
can only be tested end to end with something that speaks NCALayer's exact messages over
a real WebSocket with TLS. This server does, with keys from the test PKI:

* ``kz.gov.pki.knca.basics`` ``sign``: CMS (detached / attached, over data or over a
  pre-computed hash with ``digested``, an RFC 3161 token when ``tsaProfile`` is present),
  XML (enveloped XMLDSig as NCALayer makes it, see :func:`sign_xml_document`), lists of
  documents; the answer's CMS is PEM, its XML always a list; ``outputCert`` adds the
  certificate; expired / revoked keys are offered only with ``allowExpired`` /
  ``allowRevoked``, test-CA keys only with ``signerParams.chain``;
* ``kz.gov.pki.knca.commonUtils``: ``getKeyInfo``, ``createCAdESFromBase64`` (an existing
  CMS passed as data gets one more signer), ``createCAdESFromBase64Hash``,
  ``createCMSSignatureFromBase64`` (time-stamped), ``signXml``, ``signXmls`` (with
  ``tbsElementXPath`` / ``signatureParentElementXPath``), ``getActiveTokens``,
  ``changeLocale``; the answer's CMS is Base64 DER;
* ``kz.gov.pki.ncalayerservices.accessory``: accepted, never answered (it opens a window).

Time-stamps come from ``tsa_url`` when given, else from the emulator's own test TSA (a
fresh self-signed certificate, like NCALayer's default TSA needing no set-up).

The "dialog" is :attr:`NCALayerEmulator.choose`: given the keys that pass the request's
filters it returns the one the official picks, or ``None`` to cancel; with no key to offer
the official can only cancel. It never listens beyond loopback; message size and the
number of connections are limited (real NCALayer has no message rate limit, nor has this).

Run: ``python -m signing.ncalayer.emulator --p12 KEY.p12 --password-file F [--port 13579]``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import datetime as dt
import hashlib
import ipaddress
import logging
import secrets
import ssl
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import aiohttp
from asn1crypto import algos, cms, core, pem, tsp, x509
from asn1crypto import keys as asn1_keys
from cryptography import x509 as pyca_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from docservice.identifiers import mask
from signing.gost import cms as gost_cms
from signing.gost import xmldsig as gost_xmldsig
from signing.keys import GostPrivateKey
from signing.ncalayer import protocol as p
from signing.ncalayer.keystore import EmulatorKey, select

log = logging.getLogger(__name__)

DEFAULT_PORT = 13579
LOOPBACK = ("127.0.0.1", "::1", "localhost")
DS = "http://www.w3.org/2000/09/xmldsig#"
C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
C14N_WITH_COMMENTS = C14N + "#WithComments"
ENVELOPED = DS + "enveloped-signature"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256_URI = "http://www.w3.org/2001/04/xmlenc#sha256"
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="no"?>'

Chooser = Callable[[list[EmulatorKey], p.Request], EmulatorKey | None]


class _RefusedError(Exception):
    """A request NCALayer would refuse; ``code`` is the basics code."""

    def __init__(self, code: p.BasicsCode, message: str, details: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


class _CancelledError(Exception):
    """The chooser closed the dialog."""


def first_key(keys: list[EmulatorKey], request: p.Request) -> EmulatorKey | None:
    """Default dialog: the official takes the first key offered."""
    return keys[0] if keys else None


# ---------------------------------------------------------------- CMS


def _signed_attrs(key: EmulatorKey, digest: bytes, when: dt.datetime) -> cms.CMSAttributes:
    """content-type, signing-time, message-digest and ESS signing-certificate-v2."""
    cert_hash = hashlib.sha256(key.certificate.dump()).digest()
    ess = {"certs": [{"hash_algorithm": {"algorithm": "sha256"}, "cert_hash": cert_hash,
                      "issuer_serial": {
                          "issuer": [x509.GeneralName({"directory_name": key.certificate.issuer})],
                          "serial_number": key.certificate.serial_number}}]}
    return cms.CMSAttributes([
        cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
        cms.CMSAttribute({"type": "signing_time", "values": [cms.Time({"utc_time": when})]}),
        cms.CMSAttribute({"type": "message_digest", "values": [digest]}),
        cms.CMSAttribute({"type": "signing_certificate_v2", "values": [ess]}),
    ])


def signer_info(key: EmulatorKey, digest: bytes) -> cms.SignerInfo:
    """One SignerInfo by ``key`` over a SHA-256 ``digest`` (RSA PKCS#1 v1.5), or over the
    key's Streebog digest for a GOST key (as Kalkan makes it: :mod:`signing.gost.cms`)."""
    if isinstance(key.private_key, GostPrivateKey):
        return gost_cms.signer_info(key.private_key, key.certificate, digest,
                                    dt.datetime.now(dt.UTC))
    attrs = _signed_attrs(key, digest, dt.datetime.now(dt.UTC).replace(microsecond=0))
    # The signature covers the attributes DER-encoded as a SET (tag 0x31), not [0].
    signature = key.private_key.sign(attrs.dump(), padding.PKCS1v15(), hashes.SHA256())
    return cms.SignerInfo({
        "version": "v1",
        "sid": cms.SignerIdentifier({"issuer_and_serial_number": {
            "issuer": key.certificate.issuer,
            "serial_number": key.certificate.serial_number}}),
        "digest_algorithm": {"algorithm": "sha256"},
        "signed_attrs": attrs,
        "signature_algorithm": {"algorithm": "sha256_rsa"},
        "signature": signature,
    })


def build_cms(key: EmulatorKey, *, digest: bytes, content: bytes | None = None,
              existing: cms.SignedData | None = None) -> cms.ContentInfo:
    """SignedData with one new signer; ``existing`` keeps its signers and certificates."""
    certs: dict[bytes, x509.Certificate] = {}
    infos: list[cms.SignerInfo] = []
    if existing is not None:
        for choice in existing["certificates"]:
            certs.setdefault(choice.chosen.dump(), choice.chosen)
        infos.extend(cms.SignerInfo.load(i.dump()) for i in existing["signer_infos"])
    for cert in (key.certificate, *(c for c in key.chain if c.subject != c.issuer)):
        certs.setdefault(cert.dump(), cert)
    infos.append(signer_info(key, digest))
    encap: dict[str, Any] = {"content_type": "data"}
    if content is not None:
        encap["content"] = content
    signed = cms.SignedData({
        "version": "v1",
        "digest_algorithms": [algos.DigestAlgorithm({"algorithm": key.digest_name})],
        "encap_content_info": encap,
        "certificates": [cms.CertificateChoices({"certificate": c}) for c in certs.values()],
        "signer_infos": infos,
    })
    return cms.ContentInfo({"content_type": "signed_data", "content": signed})


def existing_cms(data: bytes) -> cms.SignedData | None:
    """``data`` if it is a CMS SignedData (then a signer is added instead of a new CMS)."""
    if data[:1] != b"\x30":
        return None
    try:
        info = cms.ContentInfo.load(data, strict=True)
        if info["content_type"].native != "signed_data":
            return None
        signed = info["content"]
        signed.native  # noqa: B018  (full parse)
    except (ValueError, TypeError, KeyError):
        return None
    return signed


async def timestamp(content: cms.ContentInfo, signature: bytes, tsa_url: str | None,
                    own: TimeStamper, timeout: float = 10.0) -> cms.ContentInfo:
    """Add an RFC 3161 signature time-stamp to the SignerInfo whose value is ``signature``
    (not "the last": a DER SET OF is sorted, so a new signer may come back first), from
    ``tsa_url`` if given, else from ``own`` (NCALayer's default TSA)."""
    signed = cms.ContentInfo.load(content.dump())["content"]
    info = next(i for i in signed["signer_infos"] if i["signature"].native == signature)
    imprint = hashlib.sha256(signature).digest()
    token = (await _http_token(imprint, tsa_url, timeout) if tsa_url
             else await own.async_timestamp(imprint, "sha256"))
    attrs = [] if isinstance(info["unsigned_attrs"], core.Void) else list(info["unsigned_attrs"])
    attrs.append(cms.CMSAttribute({"type": "signature_time_stamp_token", "values": [token]}))
    info["unsigned_attrs"] = cms.CMSAttributes(attrs)
    return cms.ContentInfo({"content_type": "signed_data", "content": signed})


async def _http_token(imprint: bytes, tsa_url: str, timeout: float) -> cms.ContentInfo:
    nonce = secrets.randbits(63)
    request = tsp.TimeStampReq({
        "version": "v1",
        "message_imprint": {"hash_algorithm": {"algorithm": "sha256"},
                            "hashed_message": imprint},
        "nonce": nonce, "cert_req": True})
    headers = {"Content-Type": "application/timestamp-query"}
    async with (aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as http,
                http.post(tsa_url, data=request.dump(), headers=headers) as resp):
        if resp.status != 200:
            raise _RefusedError(p.BasicsCode.SIGNING_FAILURE, "TSP request failed",
                                f"HTTP {resp.status}")
        body = await resp.read()
    reply = tsp.TimeStampResp.load(body)
    if reply["status"]["status"].native not in ("granted", "granted_with_mods"):
        raise _RefusedError(p.BasicsCode.SIGNING_FAILURE, "TSP request refused")
    token = reply["time_stamp_token"]
    tst = token["content"]["encap_content_info"]["content"].parsed
    if tst["nonce"].native != nonce:
        raise _RefusedError(p.BasicsCode.SIGNING_FAILURE, "TSP nonce mismatch")
    return token


def make_test_tsa() -> DummyTimeStamper:
    """A time-stamping authority of the emulator's own: self-signed RSA certificate with
    the critical timeStamping EKU (RFC 3161 2.3), valid one day, signing in process."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = pyca_x509.Name([
        pyca_x509.NameAttribute(NameOID.COMMON_NAME, "NCALayer emulator test TSA"),
        pyca_x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ")])
    now = dt.datetime.now(dt.UTC)
    cert = (pyca_x509.CertificateBuilder()
            .subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(pyca_x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(pyca_x509.ExtendedKeyUsage(
                [pyca_x509.oid.ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
            .sign(key, hashes.SHA256()))
    der_key = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return DummyTimeStamper(
        tsa_cert=x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(der_key))


# ---------------------------------------------------------------- XML


def sign_xml_document(key: EmulatorKey, xml: str, parent_xpath: str = "",
                      tbs_xpath: str = "", newline: str = "\r\n") -> str:
    """Enveloped XMLDSig in NCALayer's shape (as its recorded answers show).

    ``<?xml ... standalone="no"?>``, a ``ds:`` prefixed Signature with a line break
    (``newline``: commonUtils CRLF, basics LF) after each element, SignedInfo in inclusive
    C14N 1.0, RSA-SHA256, one Reference with ``enveloped-signature`` +
    ``REC-xml-c14n-20010315#WithComments`` and SHA-256. The reference is the whole document
    (``URI=""``, so comments are *not* digested: XMLDSig 4.3.3.3), or the element at
    ``tbs_xpath`` by its ``Id``. Existing signatures are kept and covered; the new one is
    appended to the root, or to ``parent_xpath``.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(xml.encode("utf-8"), parser)
        parent = _xpath_element(root, parent_xpath, "signature parent") if parent_xpath else root
        uri = ""
        if tbs_xpath:
            target = _xpath_element(root, tbs_xpath, "element to sign")
            ident = next((target.get(n) for n in ("Id", "ID", "id") if target.get(n)), None)
            if ident is None:
                raise _RefusedError(p.BasicsCode.INVALID_SIGNING_PARAMS,
                                    "the element to sign has no Id attribute")
            uri = f"#{ident}"
    except (etree.XMLSyntaxError, etree.XPathError) as exc:
        raise _RefusedError(p.BasicsCode.INVALID_SIGNING_PARAMS, "XML cannot be signed",
                            str(exc)) from None
    if isinstance(key.private_key, GostPrivateKey):
        if parent_xpath or tbs_xpath:
            raise _RefusedError(p.BasicsCode.INVALID_SIGNING_PARAMS,
                                "a GOST signature is appended to the root only here")
        gost_key = key.private_key
        gost_xmldsig.sign(root, gost_key.public.curve, gost_key.d, [key.certificate.dump()],
                          gost_key.signature_oid)
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
    digest.text = base64.b64encode(hashlib.sha256(_referenced(root, sig, uri)).digest()
                                   ).decode("ascii")
    value.text = _wrap(key.private_key.sign(etree.tostring(info, method="c14n"),
                                            padding.PKCS1v15(), hashes.SHA256()))
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
    return "\n" + "\n".join(text[i:i + 76] for i in range(0, len(text), 76)) + "\n"


def _xpath_element(root: etree._Element, xpath: str, what: str) -> etree._Element:
    found = root.xpath(xpath)
    if not isinstance(found, list) or not found or not isinstance(found[0], etree._Element):
        raise _RefusedError(p.BasicsCode.INVALID_SIGNING_PARAMS, f"{what} not found", xpath)
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
        _remove_keeping_tail(node)
    if uri:
        copy = copy.xpath("//*[@Id=$v or @ID=$v or @id=$v]", v=uri[1:])[0]
    return etree.tostring(copy, method="c14n", exclusive=False, with_comments=False)


def _remove_keeping_tail(node: etree._Element) -> None:
    parent = node.getparent()
    assert parent is not None
    previous = node.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "") + (node.tail or "")
    else:
        parent.text = (parent.text or "") + (node.tail or "")
    parent.remove(node)


# ---------------------------------------------------------------- TLS


def make_tls_certificate(directory: Path) -> tuple[Path, Path]:
    """A fresh self-signed ``127.0.0.1``/``localhost`` certificate and key (P-256, 1 day)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = pyca_x509.Name([pyca_x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (pyca_x509.CertificateBuilder()
            .subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(pyca_x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(pyca_x509.SubjectAlternativeName([
                pyca_x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                pyca_x509.IPAddress(ipaddress.ip_address("::1")),
                pyca_x509.DNSName("localhost")]), critical=False)
            .add_extension(pyca_x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(pyca_x509.ExtendedKeyUsage(
                [pyca_x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "ncalayer-tls.pem", directory / "ncalayer-tls.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


# ---------------------------------------------------------------- server


class NCALayerEmulator:
    """The server. Use as ``async with NCALayerEmulator(keys, port=0, tsa_url=...) as emu``.

    ``port=0`` picks an ephemeral port (tests); :attr:`url` and :meth:`client_ssl_context`
    are what a client needs.
    """

    def __init__(self, keys: Sequence[EmulatorKey], *, host: str = "127.0.0.1",
                 port: int = DEFAULT_PORT, tsa_url: str | None = None,
                 version: str = p.VERSION, max_message: int = 8 * 2**20,
                 max_connections: int = 16,
                 choose: Chooser = first_key, tls_dir: Path | None = None) -> None:
        if host not in LOOPBACK:
            raise ValueError(f"the emulator listens on loopback only, not {host!r}")
        self.keys = list(keys)
        self.host, self.port = host, port
        self.tsa_url = tsa_url
        self.version = version
        self.max_message = max_message
        self.max_connections = max_connections
        self.choose = choose
        self._tls_dir = tls_dir
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._server: Server | None = None
        self._connections = 0
        self.cert_path: Path | None = None
        self._tsa: DummyTimeStamper | None = None

    # lifecycle -------------------------------------------------------------

    async def start(self) -> None:
        if self._tls_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="ncalayer-emu-")
            self._tls_dir = Path(self._tmp.name)
        self._tls_dir.mkdir(parents=True, exist_ok=True)
        self.cert_path, key_path = make_tls_certificate(self._tls_dir)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.cert_path, key_path)
        self._server = await serve(self._handler, self.host, self.port, ssl=context,
                                   max_size=self.max_message, max_queue=4,
                                   compression=None, ping_interval=None)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("NCALayer emulator on %s with %d key(s)", self.url, len(self.keys))

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    async def __aenter__(self) -> NCALayerEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"wss://{host}:{self.port}"

    def client_ssl_context(self) -> ssl.SSLContext:
        """A client context trusting exactly this emulator's certificate."""
        if self.cert_path is None:
            raise RuntimeError("emulator not started")
        context = ssl.create_default_context(cafile=str(self.cert_path))
        # The self-signed certificate is its own (only) trust anchor.
        context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
        return context

    # connection ------------------------------------------------------------

    async def _handler(self, ws: ServerConnection) -> None:
        if self._connections >= self.max_connections:
            await ws.close(1013, "too many connections")
            return
        self._connections += 1
        try:
            await ws.send(p.dumps(p.version_message(self.version)))
            async for message in ws:
                if message == p.HEARTBEAT:
                    continue
                reply = await self.handle(message)
                if reply is not None:
                    await ws.send(p.dumps(reply))
        except ConnectionClosed:
            pass
        finally:
            self._connections -= 1

    async def handle(self, message: str | bytes) -> dict[str, Any] | None:
        """One request to its reply (also usable without a socket); None: no reply."""
        if p.peek_module(message) == p.ACCESSORY:
            log.info("accessory window requested")
            return None
        try:
            request = p.parse_request(message)
        except p.ProtocolError as exc:
            module = p.peek_module(message)
            if module == p.COMMON_UTILS:
                return p.common_error(str(exc))
            if module in (p.BASICS, None):
                return p.basics_error(p.BasicsCode.INVOCATION_ERROR, "bad request", str(exc))
            return p.module_not_found()
        if isinstance(request, p.BasicsSign):
            try:
                return p.basics_ok(await self._basics(request))
            except _CancelledError:
                return p.basics_cancelled()
            except _RefusedError as exc:
                return p.basics_error(exc.code, exc.message, exc.details)
            except p.ProtocolError as exc:
                return p.basics_error(p.BasicsCode.INVALID_SIGNING_PARAMS, str(exc))
        try:
            return p.common_ok(await self._common(request))
        except _CancelledError:
            return p.common_cancelled()
        except _RefusedError as exc:
            detail = f": {exc.details}" if exc.details else ""
            return p.common_error(f"{exc.message}{detail}")
        except p.ProtocolError as exc:
            return p.common_error(str(exc))

    def _pick(self, request: p.Request, keys: list[EmulatorKey]) -> EmulatorKey:
        if not keys:
            # NCALayer shows an empty list: the official can only close the dialog.
            log.info("no key matches the request: the dialog can only be cancelled")
            raise _CancelledError()
        chosen = self.choose(keys, request)
        if chosen is None:
            raise _CancelledError()
        log.info("key chosen: iin=%s serial=%s", mask(chosen.iin), chosen.serial_hex)
        return chosen

    # basics ----------------------------------------------------------------

    async def _basics(self, req: p.BasicsSign) -> Any:
        params = req.signing_params
        key = self._pick(req, select(self.keys, params=req.signer_params,
                                     storages=req.allowed_storages,
                                     allow_expired=params.allow_expired,
                                     allow_revoked=params.allow_revoked))
        documents = list(req.data) if isinstance(req.data, tuple) else [req.data]
        results: list[str] = []
        for doc in documents:
            if req.format is p.Format.XML:
                results.append(sign_xml_document(key, doc, newline="\n"))
                continue
            raw = p.b64decode_strict(doc, "data") if params.decode else doc.encode("utf-8")
            content = await self._cms(key, raw, digested=params.digested,
                                      attach=params.encapsulate,
                                      tsa=params.tsa_profile is not None)
            results.append(p.cms_pem(content.dump()))
        # One CMS document answers a string; XML answers a list even for one document.
        single = isinstance(req.data, str) and req.format is p.Format.CMS
        result: Any = results[0] if single else results
        if params.output_cert:
            return {"signatures": result,
                    "certificate": pem.armor("CERTIFICATE", key.certificate.dump()
                                             ).decode("ascii")}
        return result

    async def _cms(self, key: EmulatorKey, raw: bytes, *, digested: bool, attach: bool,
                   tsa: bool) -> cms.ContentInfo:
        if not raw:
            raise _RefusedError(p.BasicsCode.INVALID_SIGNING_PARAMS, "nothing to sign")
        if digested:
            if attach:
                raise _RefusedError(p.BasicsCode.INVALID_SIGNING_PARAMS,
                                    "cannot encapsulate data given as a hash")
            # NCALayer signs whatever it is given as the message digest, of any length.
            content = build_cms(key, digest=raw)
            prior = None
        else:
            prior = existing_cms(raw)
            if prior is not None:
                inner = prior["encap_content_info"]["content"]
                if isinstance(inner, core.Void) or inner.native is None:
                    raise _RefusedError(p.BasicsCode.SIGNING_FAILURE,
                                        "a detached CMS cannot get another signer without "
                                        "its data")
                data = inner.native
                content = build_cms(key, digest=key.digest(data), content=data,
                                    existing=prior)
            else:
                content = build_cms(key, digest=key.digest(raw),
                                    content=raw if attach else None)
        if tsa:
            known = ({i["signature"].native for i in prior["signer_infos"]}
                     if prior is not None else set())
            new_signature = next(i["signature"].native
                                 for i in content["content"]["signer_infos"]
                                 if i["signature"].native not in known)
            try:
                content = await timestamp(content, new_signature, self.tsa_url,
                                          self._own_tsa())
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                raise _RefusedError(p.BasicsCode.SIGNING_FAILURE, "TSP service unavailable",
                                    type(exc).__name__) from None
        return content

    def _own_tsa(self) -> DummyTimeStamper:
        """The default TSA: a self-signed test TSA made on first use."""
        if self._tsa is None:
            self._tsa = make_test_tsa()
        return self._tsa

    # commonUtils -----------------------------------------------------------

    async def _common(self, call: p.CommonUtilsCall) -> Any:
        if call.method == "getActiveTokens":
            return sorted({k.storage for k in self.keys} - {"PKCS12"})
        if call.method == "changeLocale":
            call.arg(0, str, "locale")
            return None
        storage = call.arg(0, str, "storage")
        if call.method == "getKeyInfo":
            return self._pick(call, select(self.keys, storages=[storage])).key_info()
        key_type_name = call.arg(1, str, "keyType")
        # Any value other than the two lets the official pick any key, as in NCALayer.
        key_type = (p.KeyType(key_type_name) if key_type_name in p.KeyType.__members__
                    else None)
        key = self._pick(call, select(self.keys, key_type=key_type, storages=[storage]))
        if call.method in ("createCAdESFromBase64", "createCMSSignatureFromBase64"):
            raw = p.b64decode_strict(call.arg(2, str, "data"), "data")
            attach = call.arg(3, bool, "attach") if len(call.args) > 3 else False
            content = await self._cms(key, raw, digested=False, attach=attach,
                                      tsa=call.method == "createCMSSignatureFromBase64")
            return p.cms_base64(content.dump())
        if call.method == "createCAdESFromBase64Hash":
            raw = p.b64decode_strict(call.arg(2, str, "hash"), "hash")
            content = await self._cms(key, raw, digested=True, attach=False, tsa=False)
            return p.cms_base64(content.dump())
        parent = call.args[4] if len(call.args) > 4 and isinstance(call.args[4], str) else ""
        tbs = call.args[3] if len(call.args) > 3 and isinstance(call.args[3], str) else ""
        if call.method == "signXml":
            return sign_xml_document(key, call.arg(2, str, "xml"), parent, tbs)
        xmls = call.arg(2, list, "xmls")
        if not all(isinstance(x, str) for x in xmls):
            raise p.ProtocolError("signXmls: xmls must be strings")
        return [sign_xml_document(key, x, parent, tbs) for x in xmls]


@contextlib.contextmanager
def running_emulator(keys: Sequence[EmulatorKey], **options: Any
                     ) -> Iterator[NCALayerEmulator]:
    """The emulator on its own event loop in a daemon thread (for synchronous callers).

    Why: the service's synchronous two-phase calls run their own ``asyncio.run``; the
    emulator must keep serving meanwhile. Start and stop wait at most 10 s each.
    """
    emulator = NCALayerEmulator(keys, **options)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="ncalayer-emulator", daemon=True)
    thread.start()
    try:
        asyncio.run_coroutine_threadsafe(emulator.start(), loop).result(timeout=10)
        yield emulator
    finally:
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(emulator.stop(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def load_keys(paths: Sequence[str], password: str) -> list[EmulatorKey]:
    keys = []
    for path in paths:
        try:
            keys.append(EmulatorKey.from_p12(path, password))
        except (OSError, ValueError) as exc:
            raise SystemExit(f"{path}: {exc}") from None
    return keys


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point: serve the given containers until interrupted."""
    parser = argparse.ArgumentParser(prog="ncalayer-emulator", description=__doc__.split("\n")[0])
    parser.add_argument("--p12", action="append", required=True, help="key container (repeat)")
    parser.add_argument("--password-file", required=True, help="file whose first line is the "
                        "containers' password")
    parser.add_argument("--host", default="127.0.0.1", choices=LOOPBACK)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--tsa-url", default=None,
                        help="RFC 3161 TSA for tsaProfile (default: the emulator's own test TSA)")
    parser.add_argument("--tls-dir", type=Path, default=None,
                        help="where to write the generated TLS certificate (to trust it); "
                        "created if missing")
    args = parser.parse_args(argv)
    if args.tls_dir is not None:
        try:
            args.tls_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            parser.error(f"--tls-dir {args.tls_dir}: {exc.strerror or exc}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    from signing import patches

    patches.apply()
    password = Path(args.password_file).read_text(encoding="utf-8").splitlines()[0]
    keys = load_keys(args.p12, password)

    async def run() -> None:
        async with NCALayerEmulator(keys, host=args.host, port=args.port, tsa_url=args.tsa_url,
                                    tls_dir=args.tls_dir) as emulator:
            print(f"listening on {emulator.url}; TLS certificate {emulator.cert_path}",
                  flush=True)
            await asyncio.Event().wait()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
