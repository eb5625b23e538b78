"""SIGEX's real ``ncalayer-js-client`` in headless Chromium against the emulator.

The library many Kazakh portals use is loaded as published (npm, pinned) into a page on
127.0.0.1 and driven over DevTools: every call it offers that NCALayer serves, then the
service's two phases with the signatures *it* returns (not the service's own script).
Every CMS it returns is checked by openssl as well as by the service; the service's own
script (signing/static/ncalayer-client.js) is checked for the one-element XML list.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import cms
from cryptography import x509 as pyca_x509
from cryptography.hazmat.primitives import serialization
from lxml import etree

from docservice.render import render
from docservice_testing.ncalayer import NCALayerEmulator
from docservice_testing.ncalayer.keystore import EmulatorKey
from signing.cms_util import timestamp_info
from signing.ncalayer import protocol as p
from signing.pdf import PdfOptions
from signing.twophase import TwoPhase, certificate_from_key_info
from tests.browser import Cdp, chromium
from tests.conftest import example
from tests.ncalayer import sigex
from tests.pki import TestPki
from tests.pyhanko_oracle import all_valid, pyhanko_cms_statuses, pyhanko_pdf_statuses

DATA = "Жолдама / Направление №7".encode()
B64 = base64.b64encode(DATA).decode()
HASH_B64 = base64.b64encode(hashlib.sha256(DATA).digest()).decode()
#: Data the dialog cancels (the official closes NCALayer's window).
CANCEL_B64 = base64.b64encode(b"cancel me").decode()
PAGE = b"""<!doctype html><meta charset="utf-8"><title>sigex client</title>
<script src="/ncalayer-client.js"></script>"""


class _Dialog:
    """The official: closes the window for CANCEL_B64, else takes ``label`` (if offered)."""

    def __init__(self, keys: dict[str, EmulatorKey]) -> None:
        self.keys = keys
        self.label = "career"

    def __call__(self, offered: list[EmulatorKey], request: p.Request) -> EmulatorKey | None:
        data = (
            request.data
            if isinstance(request, p.BasicsSign)
            else request.args[2]
            if len(request.args) > 2
            else None
        )
        if data == CANCEL_B64:
            return None
        wanted = self.keys[self.label]
        return wanted if wanted in offered else (offered[0] if offered else None)


@pytest.fixture
def page(
    emulator: NCALayerEmulator,
    keys,
    twophase: TwoPhase,
    pki: TestPki,  # type: ignore[no-untyped-def]
    application_pdf: bytes,
) -> Iterator[tuple[Cdp, _Dialog]]:
    script = (sigex.package() / "ncalayer-client.js").read_bytes()
    dialog = _Dialog(keys)
    emulator.choose = dialog
    application_xml = render("application", example("application"), "kk").xml

    def prepare(body: dict[str, Any]) -> dict[str, Any]:
        dialog.label = body["label"]
        cert = keys[body["label"]].certificate
        kind = body["kind"]
        if kind == "pdf":
            pdf = base64.b64decode(body["pdf"]) if body.get("pdf") else application_pdf
            assert certificate_from_key_info(body["pem"]).dump() == cert.dump()
            return twophase.prepare_pdf(pdf, cert, [pki.ca], PdfOptions()).to_json()
        if kind == "cms":
            existing = body.get("existing")
            if existing:
                return twophase.prepare_cms(DATA, certificate=cert, existing=existing).to_json()
            return twophase.prepare_cms(
                DATA, certificate=cert, digested=False, attach=True
            ).to_json()
        xml = body.get("xml") or application_xml.decode("utf-8")
        return twophase.prepare_xml(xml, certificate=cert).to_json()

    def complete(body: dict[str, Any]) -> dict[str, Any]:
        kind, session, signature = body["kind"], body["sessionId"], body["signature"]
        if kind == "pdf":
            out = twophase.complete_pdf(session, signature)
            return {"pdf": base64.b64encode(out).decode()}
        if kind == "cms":
            signed = twophase.complete_cms(session, signature)
            der = cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump()
            return {"cms": base64.b64encode(der).decode()}
        return {"xml": twophase.complete_xml(session, signature).decode("utf-8")}

    def choose(body: dict[str, Any]) -> dict[str, Any]:
        dialog.label = body["label"]  # the official at the computer changes
        return {}

    with (
        _Serve(script, {"/prepare": prepare, "/complete": complete, "/choose": choose}) as url,
        chromium() as cdp,
    ):
        # The emulator's TLS certificate is self-signed, as NCALayer's is until installed.
        cdp.call("Security.setIgnoreCertificateErrors", ignore=True)
        cdp.goto(url)
        assert cdp.js("typeof window.NCALayerClient") == "function"
        cdp.js(
            f"window.client = new NCALayerClient({json.dumps(emulator.url)}, false);"
            "window.post = (path, body) => fetch(path, {method: 'POST', "
            "body: JSON.stringify(body)}).then(async (r) => { const j = await r.json(); "
            "if (!r.ok) throw new Error(j.error); return j; });"
        )
        assert cdp.js("client.connect()", await_promise=True) == p.VERSION
        yield cdp, dialog


def _run(cdp: Cdp, body: str) -> Any:
    """Run ``body`` (an async function body using ``client`` and ``C``) in the page."""
    return cdp.js(f"(async () => {{ const C = NCALayerClient; {body} }})()", await_promise=True)


def _error(call: str) -> str:
    """JS returning the error a call rejects with, as {name, message, cancelled}."""
    return (
        f"await {call}.then(() => null, (e) => ({{name: e.name, message: e.message, "
        f"cancelled: e.canceledByUser === true}}))"
    )


def test_every_call_of_the_library(page, keys, trust, pki: TestPki, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cdp, _dialog = page
    out = _run(
        cdp,
        f"""
      const r = {{}};
      r.tokens = await client.getActiveTokens();
      r.keyInfo = await client.getKeyInfo(C.fileStorageType);
      r.detached = await client.basicsSignCMS(C.basicsStoragePKCS12, {json.dumps(B64)},
        C.basicsCMSParamsDetached, C.basicsSignerTestAny);
      r.attached = await client.basicsSignCMS(C.basicsStorageAll,
        new TextEncoder().encode({json.dumps(DATA.decode())}).buffer,
        C.basicsCMSParamsAttached, C.basicsSignerTestAny);
      r.digested = await client.basicsSignCMS(null, {json.dumps(HASH_B64)},
        C.basicsCMSParamsDetachedHash, C.basicsSignerTestAny);
      r.multi = await client.basicsSignCMS(null, [{json.dumps(B64)}, {json.dumps(B64)}],
        C.basicsCMSParamsDetachedNoTSP, {{...C.basicsSignerSignAny, chain: []}});
      r.defaults = await client.basicsSignCMS(null, {json.dumps(B64)}, C.basicsCMSParams,
        C.basicsSignerTestAny);
      r.cades = await client.createCAdESFromBase64(C.fileStorageType, {json.dumps(B64)},
        'SIGNATURE', true);
      r.cadesHash = await client.createCAdESFromBase64Hash(C.fileStorageType,
        {json.dumps(HASH_B64)});
      r.cmsTsp = await client.createCMSSignatureFromBase64(C.fileStorageType,
        {json.dumps(B64)}, 'SIGNATURE', false);
      r.signXml = await client.signXml(C.fileStorageType, '<tag>data</tag>');
      r.signXmls = await client.signXmls(C.fileStorageType, ['<a>1</a>', '<b>2</b>']);
      r.basicsXml = await client.basicsSignXML(C.basicsStoragePKCS12, '<tag>data</tag>',
        C.basicsXMLParams, C.basicsSignerTestAny);
      r.locale = typeof await client.changeLocale('kk');  // real: only a code
      r.cancelBasics = {
            _error(
                f"client.basicsSignCMS(null, {json.dumps(CANCEL_B64)}, "
                "C.basicsCMSParamsDetached, C.basicsSignerTestAny)"
            )
        };
      r.cancelCommon = {
            _error(f"client.createCAdESFromBase64(C.fileStorageType, {json.dumps(CANCEL_B64)})")
        };
      r.noTestKeys = {
            _error(
                f"client.basicsSignCMS(null, {json.dumps(B64)}, "
                "C.basicsCMSParamsDetached, C.basicsSignerAny)"
            )
        };
      r.badRequest = {_error("client.getKeyInfo(1)")};
      return r;""",
    )
    career = keys["career"].certificate
    assert out["tokens"] == []
    assert out["keyInfo"]["serialNumber"] == format(career.serial_number, "x")
    assert out["keyInfo"]["certNotAfter"].isdigit()
    ca_file = _ca_file(pki, tmp_path)
    for name, content in (
        ("detached", None),
        ("attached", DATA),
        ("defaults", None),
        ("cades", DATA),
        ("cmsTsp", None),
    ):
        signed = _load(out[name])
        attached = signed["encap_content_info"]["content"].native
        assert attached == content, name
        _openssl_verify(signed, DATA, ca_file, tmp_path)
        stripped = _detach(signed)
        assert all_valid(pyhanko_cms_statuses(DATA, stripped, trust)), name
    for name in ("detached", "cmsTsp"):  # tsaProfile: {} / createCMSSignatureFromBase64
        assert timestamp_info(_load(out[name])["signer_infos"][0]) is not None, name
    for name in ("digested", "cadesHash"):
        signed = _load(out[name])
        assert all_valid(pyhanko_cms_statuses(DATA, signed, trust)), name
        _openssl_verify(signed, DATA, ca_file, tmp_path)
    assert isinstance(out["multi"], list) and len(out["multi"]) == 2
    for each in out["multi"]:
        _openssl_verify(_load(each), DATA, ca_file, tmp_path)
    assert isinstance(out["basicsXml"], list) and len(out["basicsXml"]) == 1
    assert isinstance(out["signXmls"], list) and len(out["signXmls"]) == 2
    for xml in (out["signXml"], out["basicsXml"][0], *out["signXmls"]):
        assert xml.startswith('<?xml version="1.0" encoding="UTF-8" standalone="no"?>')
        _verify_xml(xml, career)
    assert out["locale"] == "undefined"
    assert out["cancelBasics"] == {
        "name": "NCALayerError",
        "message": "cancelled by user",
        "cancelled": True,
    }
    assert out["cancelCommon"]["message"] == "500: action.canceled"
    # Without signerParams.chain test-CA keys are not offered: the official can only cancel.
    assert out["noTestKeys"]["cancelled"] is True
    assert out["badRequest"]["message"].startswith("500: ")


def test_two_phase_with_the_librarys_signatures(page, keys, trust) -> None:  # type: ignore[no-untyped-def]
    """PDF, CMS and XML prepared by the service, signed through the library's own calls
    (basics and commonUtils), each by two officials, completed by the service."""
    cdp, _dialog = page
    out = _run(
        cdp,
        """
      const r = {};
      const sign = (a) => client.basicsSignCMS(a.allowedStorages, a.data, a.signingParams,
        a.signerParams, a.locale);
      // PDF: the first official through basics, the second through commonUtils.
      const career = await client.getKeyInfo(C.fileStorageType);
      let q = await post('/prepare', {kind: 'pdf', label: 'career', pem: career.pem});
      let done = await post('/complete', {kind: 'pdf', sessionId: q.sessionId,
        signature: await sign(q.basics.args)});
      await post('/choose', {label: 'head'});
      q = await post('/prepare', {kind: 'pdf', label: 'head', pdf: done.pdf,
        pem: (await client.getKeyInfo(C.fileStorageType)).pem});
      const [storage, keyType, hash] = q.commonUtils.args;
      r.pdf = (await post('/complete', {kind: 'pdf', sessionId: q.sessionId,
        signature: await client.createCAdESFromBase64Hash(storage, hash, keyType)})).pdf;
      // CMS: attached by one, co-signed by another (the CMS passed back as data).
      q = await post('/prepare', {kind: 'cms', label: 'hr'});
      done = await post('/complete', {kind: 'cms', sessionId: q.sessionId,
        signature: await client.createCAdESFromBase64(q.commonUtils.args[0],
          q.commonUtils.args[2], q.commonUtils.args[1], q.commonUtils.args[3])});
      q = await post('/prepare', {kind: 'cms', label: 'career', existing: done.cms});
      r.cms = (await post('/complete', {kind: 'cms', sessionId: q.sessionId,
        signature: await sign(q.basics.args)})).cms;
      // XML: the service's application, basics (a one-element list) then signXml.
      q = await post('/prepare', {kind: 'xml', label: 'career'});
      const a = q.basics.args;
      const list = await client.basicsSignXML(a.allowedStorages, a.data, a.signingParams,
        a.signerParams, a.locale);
      done = await post('/complete', {kind: 'xml', sessionId: q.sessionId,
        signature: list[0]});
      q = await post('/prepare', {kind: 'xml', label: 'akimat', xml: done.xml});
      const u = q.commonUtils.args;
      r.xml = (await post('/complete', {kind: 'xml', sessionId: q.sessionId,
        signature: await client.signXml(u[0], u[2], u[1], u[3], u[4])})).xml;
      r.listLength = list.length;
      return r;""",
    )
    statuses = pyhanko_pdf_statuses(base64.b64decode(out["pdf"]), trust)
    assert len(statuses) == 2 and all_valid(statuses)
    assert [s.signing_cert.serial_number for s in statuses] == [
        keys["career"].certificate.serial_number,
        keys["head"].certificate.serial_number,
    ]
    both = _load(out["cms"])
    statuses = pyhanko_cms_statuses(DATA, _detach(both), trust)
    assert len(statuses) == 2 and all_valid(statuses)
    assert out["listLength"] == 1
    root = etree.fromstring(out["xml"].encode())
    assert len(root.findall("{http://www.w3.org/2000/09/xmldsig#}Signature")) == 2


def test_the_services_own_client_unwraps_a_single_xml(emulator, keys) -> None:  # type: ignore[no-untyped-def]
    """signing/static/ncalayer-client.js: one XML document in, one signed XML out, though
    NCALayer answers a one-element list; a list in stays a list."""
    own = Path(__file__).resolve().parents[2] / "signing" / "static" / "ncalayer-client.js"
    page = (
        b'<!doctype html><meta charset="utf-8"><script type="module">'
        b'import { NCALayerClient } from "/ncalayer-client.js";'
        b"window.NCALayerClient = NCALayerClient;</script>"
    )
    one = p.basics_sign_xml("<tag>data</tag>", signer=p.SignerParams(chain=())).to_message()
    two = p.basics_sign_xml(["<a>1</a>", "<b>2</b>"], signer=p.SignerParams(chain=())).to_message()
    with _Serve(own.read_bytes(), {}, page) as url, chromium() as cdp:
        cdp.call("Security.setIgnoreCertificateErrors", ignore=True)
        cdp.goto(url)
        out = cdp.js(
            f"""(async () => {{
          const nca = new NCALayerClient({json.dumps(emulator.url)}, {{timeoutMs: 20000}});
          await nca.connect();
          const r = {{one: await nca.send({json.dumps(one)}),
                      two: await nca.send({json.dumps(two)})}};
          nca.close();
          return r; }})()""",
            await_promise=True,
        )
    assert isinstance(out["one"], str) and out["one"].startswith("<?xml")
    _verify_xml(out["one"], keys["career"].certificate)
    assert isinstance(out["two"], list) and len(out["two"]) == 2


# ---------------------------------------------------------------- helpers


def _load(text: str) -> cms.SignedData:
    return cms.ContentInfo.load(p.normalize_cms(text))["content"]


def _detach(signed: cms.SignedData) -> cms.SignedData:
    from tests.ncalayer.conftest import detached

    return detached(signed) if signed["encap_content_info"]["content"].native else signed


def _ca_file(pki: TestPki, tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    path.write_bytes(
        b"".join(
            pyca_x509.load_der_x509_certificate(c.dump()).public_bytes(serialization.Encoding.PEM)
            for c in (pki.root, pki.ca)
        )
    )
    return path


def _openssl_verify(signed: cms.SignedData, data: bytes, ca_file: Path, tmp_path: Path) -> None:
    """openssl agrees: the CMS verifies over ``data`` with the test roots."""
    der = tmp_path / "sig.der"
    der.write_bytes(cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump())
    content = tmp_path / "data.bin"
    content.write_bytes(data)
    args = [
        "openssl",
        "cms",
        "-verify",
        "-inform",
        "DER",
        "-in",
        str(der),
        "-CAfile",
        str(ca_file),
        "-purpose",
        "any",
        "-binary",
        "-out",
        str(tmp_path / "out.bin"),
    ]
    if signed["encap_content_info"]["content"].native is None:
        args += ["-content", str(content)]
    result = subprocess.run(args, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr


def _verify_xml(xml: str, cert) -> None:  # type: ignore[no-untyped-def]
    from signxml import SignatureConfiguration, XMLVerifier

    XMLVerifier().verify(
        xml.encode(),
        x509_cert=pyca_x509.load_der_x509_certificate(cert.dump()),
        expect_config=SignatureConfiguration(location="./", expect_references=1),
    )


class _Serve:
    """The page, the library and the service's two endpoints on 127.0.0.1."""

    def __init__(
        self,
        script: bytes,
        routes: dict[str, Callable[[dict[str, Any]], dict[str, Any]]],
        page: bytes = PAGE,
    ) -> None:
        self.script, self.routes, self.page = script, routes, page

    def __enter__(self) -> str:
        script, routes, page = self.script, self.routes, self.page

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if self.path == "/ncalayer-client.js":
                    self._send(200, script, "text/javascript; charset=utf-8")
                elif self.path == "/":
                    self._send(200, page, "text/html; charset=utf-8")
                else:
                    self.send_error(404)

            def do_POST(self) -> None:
                route = routes.get(self.path)
                if route is None:
                    self.send_error(404)
                    return
                length = min(int(self.headers.get("Content-Length", "0")), 16 << 20)
                try:
                    answer, status = route(json.loads(self.rfile.read(length))), 200
                except Exception as exc:  # reported to the page, which fails the test
                    answer, status = {"error": repr(exc)}, 500
                self._send(status, json.dumps(answer).encode(), "application/json")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return f"http://127.0.0.1:{self.server.server_port}/"

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
