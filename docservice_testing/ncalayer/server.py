"""The ``wss://`` server: NCALayer's modules and methods, over a real WebSocket with TLS."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import aiohttp
from asn1crypto import cms, core, pem
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from docservice.identifiers import mask
from docservice_testing.ncalayer.cms import build_cms, existing_cms
from docservice_testing.ncalayer.keystore import EmulatorKey, select
from docservice_testing.ncalayer.refusals import CancelledError, RefusedError
from docservice_testing.ncalayer.tls import make_tls_certificate
from docservice_testing.ncalayer.tsp import make_test_tsa, timestamp
from docservice_testing.ncalayer.xml import sign_xml_document
from signing.ncalayer import protocol as p

log = logging.getLogger("docservice_testing.ncalayer")

DEFAULT_PORT = 13579
LOOPBACK = ("127.0.0.1", "::1", "localhost")

Chooser = Callable[[list[EmulatorKey], p.Request], EmulatorKey | None]


def first_key(keys: list[EmulatorKey], request: p.Request) -> EmulatorKey | None:
    """Default dialog: the official takes the first key offered."""
    return keys[0] if keys else None


class NCALayerEmulator:
    """The server. Use as ``async with NCALayerEmulator(keys, port=0, tsa_url=...) as emu``.

    ``port=0`` picks an ephemeral port (tests); :attr:`url` and :meth:`client_ssl_context`
    are what a client needs.
    """

    def __init__(
        self,
        keys: Sequence[EmulatorKey],
        *,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        tsa_url: str | None = None,
        version: str = p.VERSION,
        max_message: int = 8 * 2**20,
        max_connections: int = 16,
        choose: Chooser = first_key,
        tls_dir: Path | None = None,
    ) -> None:
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
        # No TLS 1.3 session tickets. Why: the server sends them right after the handshake,
        # exactly while the client writes its HTTP upgrade request; a client reading on one
        # thread and writing on another (websockets' sync client, as the tests use) then
        # drives one OpenSSL connection from two threads, and the request could be lost:
        # the upgrade timed out after 10 s, at random. Nothing here resumes sessions.
        context.num_tickets = 0
        context.load_cert_chain(self.cert_path, key_path)
        self._server = await serve(
            self._handler,
            self.host,
            self.port,
            ssl=context,
            max_size=self.max_message,
            max_queue=4,
            compression=None,
            ping_interval=None,
        )
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
            except CancelledError:
                return p.basics_cancelled()
            except RefusedError as exc:
                return p.basics_error(exc.code, exc.message, exc.details)
            except p.ProtocolError as exc:
                return p.basics_error(p.BasicsCode.INVALID_SIGNING_PARAMS, str(exc))
        try:
            return p.common_ok(await self._common(request))
        except CancelledError:
            return p.common_cancelled()
        except RefusedError as exc:
            detail = f": {exc.details}" if exc.details else ""
            return p.common_error(f"{exc.message}{detail}")
        except p.ProtocolError as exc:
            return p.common_error(str(exc))

    def _pick(self, request: p.Request, keys: list[EmulatorKey]) -> EmulatorKey:
        if not keys:
            # NCALayer shows an empty list: the official can only close the dialog.
            log.info("no key matches the request: the dialog can only be cancelled")
            raise CancelledError()
        chosen = self.choose(keys, request)
        if chosen is None:
            raise CancelledError()
        log.info("key chosen: iin=%s serial=%s", mask(chosen.iin), chosen.serial_hex)
        return chosen

    # basics ----------------------------------------------------------------

    async def _basics(self, req: p.BasicsSign) -> Any:
        params = req.signing_params
        key = self._pick(
            req,
            select(
                self.keys,
                params=req.signer_params,
                storages=req.allowed_storages,
                allow_expired=params.allow_expired,
                allow_revoked=params.allow_revoked,
            ),
        )
        documents = list(req.data) if isinstance(req.data, tuple) else [req.data]
        results: list[str] = []
        for doc in documents:
            if req.format is p.Format.XML:
                results.append(sign_xml_document(key, doc, newline="\n"))
                continue
            raw = p.b64decode_strict(doc, "data") if params.decode else doc.encode("utf-8")
            content = await self._cms(
                key,
                raw,
                digested=params.digested,
                attach=params.encapsulate,
                tsa=params.tsa_profile is not None,
            )
            results.append(p.cms_pem(content.dump()))
        # One CMS document answers a string; XML answers a list even for one document.
        single = isinstance(req.data, str) and req.format is p.Format.CMS
        result: Any = results[0] if single else results
        if params.output_cert:
            return {
                "signatures": result,
                "certificate": pem.armor("CERTIFICATE", key.certificate.dump()).decode("ascii"),
            }
        return result

    async def _cms(
        self, key: EmulatorKey, raw: bytes, *, digested: bool, attach: bool, tsa: bool
    ) -> cms.ContentInfo:
        if not raw:
            raise RefusedError(p.BasicsCode.INVALID_SIGNING_PARAMS, "nothing to sign")
        if digested:
            if attach:
                raise RefusedError(
                    p.BasicsCode.INVALID_SIGNING_PARAMS, "cannot encapsulate data given as a hash"
                )
            # NCALayer signs whatever it is given as the message digest, of any length.
            content = build_cms(key, digest=raw)
            prior = None
        else:
            prior = existing_cms(raw)
            if prior is not None:
                inner = prior["encap_content_info"]["content"]
                if isinstance(inner, core.Void) or inner.native is None:
                    raise RefusedError(
                        p.BasicsCode.SIGNING_FAILURE,
                        "a detached CMS cannot get another signer without its data",
                    )
                data = inner.native
                content = build_cms(key, digest=key.digest(data), content=data, existing=prior)
            else:
                content = build_cms(key, digest=key.digest(raw), content=raw if attach else None)
        if tsa:
            known = (
                {i["signature"].native for i in prior["signer_infos"]}
                if prior is not None
                else set()
            )
            new_signature = next(
                i["signature"].native
                for i in content["content"]["signer_infos"]
                if i["signature"].native not in known
            )
            try:
                content = await timestamp(content, new_signature, self.tsa_url, self._own_tsa())
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                raise RefusedError(
                    p.BasicsCode.SIGNING_FAILURE, "TSP service unavailable", type(exc).__name__
                ) from None
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
        key_type = p.KeyType(key_type_name) if key_type_name in p.KeyType.__members__ else None
        key = self._pick(call, select(self.keys, key_type=key_type, storages=[storage]))
        if call.method in ("createCAdESFromBase64", "createCMSSignatureFromBase64"):
            raw = p.b64decode_strict(call.arg(2, str, "data"), "data")
            attach = call.arg(3, bool, "attach") if len(call.args) > 3 else False
            content = await self._cms(
                key,
                raw,
                digested=False,
                attach=attach,
                tsa=call.method == "createCMSSignatureFromBase64",
            )
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
def running_emulator(keys: Sequence[EmulatorKey], **options: Any) -> Iterator[NCALayerEmulator]:
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
