"""Officials sign from their phones: eGov mobile and eGov Business, QR and cross signing.

The protocol is the public "QR/Cross signing in eGov Mobile" specification, v5:

* the QR code holds ``mobileSign:`` + the **API №1** URL (it contains ``mgovSign``); on the
  phone itself the same URL travels in a cross-signing link (``m.egov.kz/mobileSign`` for
  eGov mobile, ``egovbusiness.page.link`` for eGov Business);
* **API №1** (``GET``) describes the request: expiry, the organisation, and where the
  documents are (**API №2**) with ``auth_type`` ``Token`` (the app sends
  ``Authorization: Bearer <auth_token>``) or ``Eds`` (the app POSTs ``{"xml": ...}``, a
  ``<login><url/><timeStamp/></login>`` signed with the official's *authentication* key);
* **API №2** ``GET``/``POST`` returns ``signMethod``, ``version`` and ``documentsToSign``;
  ``PUT`` brings them back with the data replaced by the signature; the answer is 200
  ``{"status": "success"}`` (+ ``backUrl``) or 403 ``{"message"}`` in the app's
  ``Accept-Language`` (kk, ru, en).

**The PDF is signed with ``CMS_SIGN_ONLY`` over the prepared revision's byte range.** The
request prepares the next PDF revision exactly as NCALayer signing does
(``DocService.prepare_signature``: stamp, empty ``/Contents`` placeholder, pyHanko
interrupted signing), and the app receives the bytes the ByteRange covers. The app's
detached CMS therefore signs the very digest pyHanko prepared and is embedded into the
placeholder as a PAdES signature: the document stays one PDF whose signatures every PDF
validator checks, and the PUT is completed by ``DocService.complete_signature``, the same
code and checks as NCALayer completion (one signer, the expected certificate, the
prepared digest, the signature value, revocation, the service's TSA for B-T). Why not
``CMS_WITH_DATA``: its attached CMS signs the whole file, so it can only live *beside* the
PDF (a second artefact, a different chain than every other signature of the document);
its one advantage, the NCA time-stamp the app adds, is replaced by the service's own TSA
(or the absence is recorded in ``egov_requests.timestamp``). The price: the bytes the app
receives for its preview are the PDF minus the placeholder's hex string; measured here,
qpdf (pikepdf) opens them by recovering the xref, poppler refuses them, and whether the
app's viewer previews them could not be checked without the real app.

**The XML** is offered as ``signMethod`` ``XML`` (the document's current XML, which may
already carry enveloped signatures) and, with the PDF, as ``MIX_SIGN`` (a ``signMethod``
per document). The signed XML is checked by ``TwoPhase.complete_xml`` (one new enveloped
signature as the root's last child, by the expected certificate, covering exactly the
prepared XML) and becomes the document's XML; with ``MIX_SIGN`` this happens inside the
PDF completion's locked transaction, so either both are stored or neither.

One use: the PUT takes the request with a conditional ``UPDATE`` (a concurrent or
replayed PUT finds it taken); a refused PUT gives it back, so the right official can
still sign before the expiry.

RSA and GOST keys alike: ``prepare_signature`` picks the digest from the expected
certificate (SHA-256, or the GOST key's Streebog), so the app's GOST CMS over the byte range
is checked by the same completion; the GOST XML and the ``Eds`` login are XMLDSig with the
pkigovkz URIs, checked by :mod:`signing.gost.xmldsig` (signxml knows only W3C URIs).

A PDF signature is recorded by ``DocService._record``, which writes the ``document.signed``
webhook in its transaction; an XML-only signature writes its own in the XML's transaction.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import io
import json
import logging
import secrets
import urllib.parse
from typing import Any

import aiohttp
from asn1crypto import x509 as asn1_x509
from flask import Blueprint, Response, current_app, g, render_template, request, url_for
from lxml import etree
from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend
from signxml import SignatureConfiguration, SignatureMethod
from sqlalchemy import update
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from docservice import xml_signature, xmlsafe
from docservice.logsafe import describe
from docservice.pki.person import person_of
from docservice.service import api, webhooks
from docservice.service.documents import _DbPendingStore
from docservice.service.errors import (
    ConflictError,
    GoneError,
    NotFoundError,
    ServiceError,
    UnprocessableError,
)
from docservice.service.models import Client, Document, EgovRequest, SigningSession, utcnow
from docservice.service.route import RouteError, route_of
from signing import _aio
from signing.cms_util import load_certificate
from signing.errors import (
    DigestMismatchError,
    ServiceUnavailableError,
    SignatureValueError,
    SignerMismatchError,
    SigningError,
)
from signing.gost import xmldsig as gost_xmldsig
from signing.keys import check_signing_certificate
from signing.trust import check_status
from signing.twophase import Pending, SessionError, TwoPhase

log = logging.getLogger("docservice.egov")
APPS = ("egov_mobile", "egov_business")
SIGN_METHODS = ("CMS_SIGN_ONLY", "XML", "MIX_SIGN")
AUTH_TYPES = ("Token", "Eds")
LANGS = ("kk", "ru", "en")
#: Kazakhstan's single time zone since 2024 (the specification's examples use +0500).
KZ_TIME = dt.timezone(dt.timedelta(hours=5))
CLIENT_AUTH = "1.3.6.1.5.5.7.3.2"
#: NCA RK authentication policies: legal-entity, individual.
AUTH_POLICIES = frozenset({"1.2.398.3.3.2.2", "1.2.398.3.3.2.4"})
MOBILE_LINK = "https://m.egov.kz/mobileSign/?link={}"
BUSINESS_LINK = (
    "https://egovbusiness.page.link/?link={}&isi=1597880144"
    "&ibi=kz.mobile.mgov.business&apn=kz.mobile.mgov.business"
)

#: What the app shows the official when the service refuses (403 ``message``).
MESSAGES: dict[str, dict[str, str]] = {
    "unknown_request": {
        "kk": "Қол қою сұрауы табылмады",
        "ru": "Запрос на подписание не найден",
        "en": "The signing request was not found",
    },
    "expired": {
        "kk": "Қол қою сұрауының мерзімі өтті; QR кодты қайта алыңыз",
        "ru": "Срок запроса на подписание истёк; получите QR-код заново",
        "en": "The signing request has expired; get a new QR code",
    },
    "used": {
        "kk": "Бұл сұрау бойынша қол қойылып қойған",
        "ru": "По этому запросу подпись уже получена",
        "en": "This request has already been signed",
    },
    "unauthorized": {
        "kk": "Сұрауға рұқсат жоқ",
        "ru": "Нет доступа к запросу",
        "en": "Access to the request is denied",
    },
    "login_invalid": {
        "kk": "Аутентификация қолтаңбасы жарамсыз",
        "ru": "Подпись аутентификации недействительна",
        "en": "The authentication signature is invalid",
    },
    "login_late": {
        "kk": "Аутентификация уақыты рұқсат етілген аралықтан тыс",
        "ru": "Время аутентификации вне допустимого интервала",
        "en": "The authentication time is outside the allowed window",
    },
    "login_certificate": {
        "kk": "Аутентификация сертификаты жарамсыз немесе сенімді емес",
        "ru": "Сертификат аутентификации недействителен или не доверен",
        "en": "The authentication certificate is invalid or not trusted",
    },
    "other_person": {
        "kk": "Құжатқа басқа адам қол қоюы тиіс",
        "ru": "Документ должен подписать другой человек",
        "en": "Another person must sign this document",
    },
    "altered": {
        "kk": "Қол қойылған деректер дайындалған құжатқа сәйкес емес",
        "ru": "Подписанные данные не совпадают с подготовленным документом",
        "en": "The signed data does not match the prepared document",
    },
    "document_changed": {
        "kk": "Құжатқа басқа қолтаңба қосылды; QR кодты қайта алыңыз",
        "ru": "К документу добавлена другая подпись; получите QR-код заново",
        "en": "The document was signed meanwhile; get a new QR code",
    },
    "unavailable": {
        "kk": "Сервис уақытша қолжетімсіз; кейінірек қайталаңыз",
        "ru": "Сервис временно недоступен; повторите позже",
        "en": "The service is temporarily unavailable; try again later",
    },
    "refused": {
        "kk": "Қолтаңба қабылданбады",
        "ru": "Подпись не принята",
        "en": "The signature was refused",
    },
}


class RefusedError(Exception):
    """The app gets 403 ``{"message"}``; ``code`` keys :data:`MESSAGES`."""

    def __init__(self, code: str, *, kk: str | None = None, ru: str | None = None) -> None:
        super().__init__(code)
        self.code, self.kk, self.ru = code, kk, ru

    def message(self, lang: str) -> str:
        own = {"kk": self.kk, "ru": self.ru}.get(lang)
        return own or MESSAGES[self.code][lang]


def spec_time(value: dt.datetime) -> str:
    """The specification's format: ``2026-08-14T15:52:24.138+0500``."""
    local = value.astimezone(KZ_TIME)
    return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond // 1000:03d}+0500"


def cross_links(api1_url: str) -> dict[str, str]:
    """Cross signing on the phone itself, for both apps (v5 link for eGov mobile)."""
    quoted = urllib.parse.quote(api1_url, safe="")
    return {
        "egov_mobile": MOBILE_LINK.format(quoted),
        "egov_business": BUSINESS_LINK.format(quoted),
    }


def qr_png(payload: str) -> bytes:
    import qrcode

    out = io.BytesIO()
    qrcode.make(payload, error_correction=qrcode.constants.ERROR_CORRECT_M).save(out)
    return out.getvalue()


def qr_svg(payload: str) -> str:
    import qrcode
    import qrcode.image.svg

    out = io.BytesIO()
    qrcode.make(
        payload,
        image_factory=qrcode.image.svg.SvgPathImage,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
    ).save(out)
    return out.getvalue().decode("utf-8")


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _kind_names(kind: str) -> dict[str, str]:
    from docservice.texts import texts_for

    names = {"nameEn": kind.replace("_", " ")}
    for lang, key in (("kk", "nameKz"), ("ru", "nameRu")):
        try:
            names[key] = texts_for(lang).get(kind, "title")
        except (KeyError, LookupError):
            names[key] = kind
    return names


def byte_range_data(pending: Pending) -> bytes:
    """The bytes the prepared revision's ByteRange covers (all but ``/Contents``)."""
    start, end = pending.region
    return pending.payload[:start] + pending.payload[end:]


class EgovSigning:
    """The protocol over ``DocService``; URLs are built on ``DOCSERVICE_PUBLIC_URL``."""

    def __init__(self, svc: Any) -> None:
        self.svc = svc
        self.settings = svc.settings

    # -- URLs -----------------------------------------------------------------------

    def _base(self) -> str:
        return self.settings.public_url.rstrip("/")

    def api1_url(self, rid: str) -> str:
        return f"{self._base()}/egov/mgovSign/{rid}"

    def api2_url(self, rid: str) -> str:
        return f"{self._base()}/egov/mgovSign/{rid}/documents"

    # -- the caller's request -------------------------------------------------------

    def create(self, client: Client, doc_id: str, data: dict[str, Any]) -> dict[str, Any]:
        """Prepare the next PDF revision and/or the XML, and a QR request for them."""
        app = data.get("app")
        if app not in APPS:
            raise UnprocessableError(f"app must be one of {', '.join(APPS)}", field="app")
        method = data.get("sign_method") or "CMS_SIGN_ONLY"
        if method not in SIGN_METHODS:
            raise UnprocessableError(
                f"sign_method must be one of {', '.join(SIGN_METHODS)} (the PDF is signed "
                "as a PAdES revision)",
                field="sign_method",
            )
        auth_type = data.get("auth_type") or "Token"
        if auth_type not in AUTH_TYPES:
            raise UnprocessableError(
                f"auth_type must be one of {', '.join(AUTH_TYPES)}", field="auth_type"
            )
        expected = data.get("expected_signer")
        if not isinstance(expected, str) or not expected.strip():
            raise UnprocessableError(
                "expected_signer must be the official's signing certificate (PEM or Base64 "
                "DER): the PDF's stamp names the signer before the phone signs",
                field="expected_signer",
            )
        try:
            cert = load_certificate(expected)
        except (ValueError, TypeError, SigningError):
            raise UnprocessableError(
                "not a certificate (PEM or Base64 DER)", field="expected_signer"
            ) from None
        # Refused now rather than after the official has signed (expired, auth-only...).
        check_signing_certificate(cert)
        pdf_session = xml_session = None
        expires = utcnow() + dt.timedelta(seconds=self.settings.egov_ttl)
        if method in ("CMS_SIGN_ONLY", "MIX_SIGN"):
            prepared = self.svc.prepare_signature(
                client, doc_id, expected, ttl=self.settings.egov_ttl
            )
            pdf_session = prepared["id"]
            expires = dt.datetime.fromisoformat(prepared["expires_at"])
        if method in ("XML", "MIX_SIGN"):
            with self.svc._locked(client, doc_id) as (session, document):
                if method == "XML" and route_of(session, document.id) is not None:
                    # A route's step is a PDF signature (route_events name its number).
                    raise UnprocessableError(
                        "a document on a route is signed as a PDF: use CMS_SIGN_ONLY or MIX_SIGN",
                        field="sign_method",
                    )
                xml = self.svc.store.get(document.xml_sha)
                request = self._xml_twophase(session, document).prepare_xml(xml, certificate=cert)
            xml_session = request.session_id
            expires = min(expires, dt.datetime.fromtimestamp(request.expires_at, dt.UTC))
        row = EgovRequest(
            id=secrets.token_urlsafe(24),
            document_id=doc_id,
            session_id=pdf_session,
            xml_session_id=xml_session,
            app=app,
            sign_method=method,
            auth_type=auth_type,
            auth_token=secrets.token_urlsafe(32) if auth_type == "Token" else None,
            expected_iin=person_of(cert).iin or None,
            state="pending",
            expires_at=expires,
        )
        with self.svc.db.session() as session:
            session.add(row)
        return self.view(row)

    def _xml_twophase(self, session: Session, document: Document) -> TwoPhase:
        return TwoPhase(
            _DbPendingStore(session, document), ttl=self.settings.egov_ttl, trust=self.svc.trust
        )

    def view(self, row: EgovRequest) -> dict[str, Any]:
        api1 = self.api1_url(row.id)
        payload = f"mobileSign:{api1}"
        view = {
            "id": row.id,
            "app": row.app,
            "sign_method": row.sign_method,
            "auth_type": row.auth_type,
            "state": self._state(row),
            "expires_at": _aware(row.expires_at).isoformat(),
            "qr": {
                "payload": payload,
                "png": base64.b64encode(qr_png(payload)).decode(),
                "svg": qr_svg(payload),
            },
            "links": {
                **cross_links(api1),
                "api1": api1,
                "status": url_for("egov_api.egov_status", doc_id=row.document_id, rid=row.id),
                "page": f"{self._base()}/egov/{row.id}",
            },
        }
        return view

    def _state(self, row: EgovRequest) -> str:
        if row.state != "signed" and _aware(row.expires_at) <= utcnow():
            return "expired"
        return {"authenticated": "pending", "taken": "pending"}.get(row.state, row.state)

    def get(self, client: Client, doc_id: str, rid: str) -> EgovRequest:
        self.svc.get_document(client, doc_id)
        with self.svc.db.sessions() as session:
            row = session.get(EgovRequest, rid)
        if row is None or row.document_id != doc_id:
            raise NotFoundError("no such eGov signing request", field="rid")
        return row

    def status(self, row: EgovRequest) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": row.id,
            "state": self._state(row),
            "expires_at": _aware(row.expires_at).isoformat(),
        }
        if row.signature_seq is not None:
            out["signature"] = {"n": row.signature_seq, "timestamp": row.timestamp}
        if row.xml_sha is not None:
            out["xml_signed"] = True
        return out

    # -- the app's calls ------------------------------------------------------------

    def _row(self, rid: str) -> tuple[EgovRequest, Document]:
        with self.svc.db.sessions() as session:
            row = session.get(EgovRequest, rid)
            document = session.get(Document, row.document_id) if row is not None else None
        if row is None or document is None:
            raise RefusedError("unknown_request")
        if row.state == "signed":
            raise RefusedError("used")
        if _aware(row.expires_at) <= utcnow():
            raise RefusedError("expired")
        return row, document

    def api1(self, rid: str) -> dict[str, Any]:
        row, document = self._row(rid)
        names = _kind_names(document.kind)
        return {
            "description": names["nameRu"],
            "expiry_date": spec_time(_aware(row.expires_at)),
            "organisation": {
                "nameRu": self.settings.org_name_ru,
                "nameKz": self.settings.org_name_kz,
                "nameEn": self.settings.org_name_en,
                "bin": self.settings.org_bin,
            },
            "document": {
                "uri": self.api2_url(rid),
                "auth_type": row.auth_type,
                "auth_token": row.auth_token or "",
            },
        }

    def _check_bearer(self, row: EgovRequest, header: str) -> None:
        scheme, _, token = header.partition(" ")
        if (
            scheme.lower() != "bearer"
            or not hmac.compare_digest(token.strip().encode(), (row.auth_token or "").encode())
            or not row.auth_token
        ):
            raise RefusedError("unauthorized")

    def _documents(self, row: EgovRequest, document: Document) -> dict[str, Any]:
        """API №2's answer: the PDF's byte range and/or the XML, as prepared."""
        with self.svc.db.sessions() as session:
            pdf = session.get(SigningSession, row.session_id) if row.session_id else None
            xml = session.get(SigningSession, row.xml_session_id) if row.xml_session_id else None
        names = _kind_names(document.kind)
        items: list[dict[str, Any]] = []
        if pdf is not None:
            data = byte_range_data(Pending.from_json(pdf.pending))
            items.append(
                {
                    "id": 1,
                    **names,
                    "meta": [
                        {"name": "document_id", "value": document.id},
                        {"name": "sha256", "value": document.sha256},
                        {"name": "signature", "value": str(pdf.base_count + 1)},
                    ],
                    "document": {
                        "file": {
                            "mime": "application/pdf",
                            "data": base64.b64encode(data).decode("ascii"),
                        }
                    },
                }
            )
        if xml is not None:
            payload = Pending.from_json(xml.pending).payload
            items.append(
                {
                    "id": len(items) + 1,
                    **names,
                    "meta": [
                        {"name": "document_id", "value": document.id},
                        {"name": "sha256", "value": hashlib.sha256(payload).hexdigest()},
                    ],
                    "documentXml": payload.decode("utf-8"),
                }
            )
        if row.sign_method == "MIX_SIGN":
            items[0]["signMethod"], items[1]["signMethod"] = "CMS_SIGN_ONLY", "XML"
        return {"signMethod": row.sign_method, "version": 1, "documentsToSign": items}

    def documents_token(self, rid: str, authorization: str) -> dict[str, Any]:
        row, document = self._row(rid)
        if row.auth_type != "Token":
            raise RefusedError("unauthorized")
        self._check_bearer(row, authorization)
        return self._documents(row, document)

    def documents_eds(self, rid: str, body: Any) -> dict[str, Any]:
        row, document = self._row(rid)
        if row.auth_type != "Eds":
            raise RefusedError("unauthorized")
        xml = body.get("xml") if isinstance(body, dict) else None
        if not isinstance(xml, str) or not xml.strip():
            raise RefusedError("login_invalid")
        cert = self.verify_login(xml, self.api2_url(rid))
        iin = person_of(cert).iin
        if row.expected_iin and iin != row.expected_iin:
            raise RefusedError("other_person")
        with self.svc.db.session() as session:
            done = session.execute(
                update(EgovRequest)
                .where(EgovRequest.id == rid, EgovRequest.state.in_(("pending", "authenticated")))
                .values(state="authenticated", auth_iin=iin)
            )
            if done.rowcount != 1:
                raise RefusedError("used")
        return self._documents(row, document)

    def verify_login(self, xml: str, url: str) -> asn1_x509.Certificate:
        """The Eds login: XMLDSig over ``<login>`` by a trusted authentication key, for
        this API №2 URL, signed within the configured window of now."""
        try:
            root = etree.fromstring(xml.encode("utf-8"), xmlsafe.PARSER)
        except etree.XMLSyntaxError:
            raise RefusedError("login_invalid") from None
        cert_el = root.find(".//{http://www.w3.org/2000/09/xmldsig#}X509Certificate")
        if root.tag != "login" or cert_el is None or not cert_el.text:
            raise RefusedError("login_invalid")
        try:
            cert = load_certificate("".join(cert_el.text.split()))
        except (ValueError, TypeError, SigningError):
            raise RefusedError("login_invalid") from None
        self._check_auth_certificate(cert)
        signed = _login_signed(root, cert)
        if signed is None or signed.tag != "login":
            raise RefusedError("login_invalid")
        if (signed.findtext("url") or "").strip() != url:
            raise RefusedError("login_invalid")
        try:
            when = dt.datetime.fromisoformat((signed.findtext("timeStamp") or "").strip())
        except ValueError:
            raise RefusedError("login_invalid") from None
        if abs((_aware(when) - utcnow()).total_seconds()) > self.settings.egov_auth_window:
            raise RefusedError("login_late")
        return cert

    def _check_auth_certificate(self, cert: asn1_x509.Certificate) -> None:
        ekus = cert.extended_key_usage_value
        policies = cert.certificate_policies_value
        usage = cert.key_usage_value
        if (
            ekus is None
            or CLIENT_AUTH not in {o.dotted for o in ekus}
            or policies is None
            or not {p["policy_identifier"].dotted for p in policies} & AUTH_POLICIES
            or usage is None
            or "digital_signature" not in usage.native
        ):
            raise RefusedError("login_certificate")
        trust = self.svc.trust
        if trust is None:
            raise RefusedError("login_certificate")

        async def status() -> None:
            timeout = aiohttp.ClientTimeout(total=10)
            async with aiohttp.ClientSession(timeout=timeout) as http:
                await check_status(cert, [], trust, fetcher_backend=AIOHttpFetcherBackend(http))

        try:
            _aio.run(status())
        except ServiceUnavailableError:
            raise RefusedError("unavailable") from None
        except (SigningError, aiohttp.ClientError, TimeoutError, OSError):
            raise RefusedError("login_certificate") from None

    def complete(self, rid: str, authorization: str, body: Any) -> dict[str, Any]:
        """The PUT: the signed documents back; checked, embedded, recorded - or refused
        with nothing stored."""
        row, document = self._row(rid)
        if row.auth_type == "Token":
            self._check_bearer(row, authorization)
        elif row.state != "authenticated":
            raise RefusedError("unauthorized")
        cms_value, xml_value = self._signed_values(row, document, body)
        previous = row.state
        with self.svc.db.session() as session:
            taken = session.execute(
                update(EgovRequest)
                .where(EgovRequest.id == rid, EgovRequest.state == previous)
                .values(state="taken")
            )
            if taken.rowcount != 1:
                raise RefusedError("used")
            client = session.get(Client, document.client_id)
            assert client is not None
            session.expunge(client)
        signed_xml: list[str] = []

        def sign_xml(session: Session, locked: Document) -> None:
            assert row.xml_session_id is not None and xml_value is not None
            signed_xml.append(self._complete_xml(session, locked, row.xml_session_id, xml_value))

        seq = None
        try:
            if cms_value is not None:
                assert row.session_id is not None
                seq = self.svc.complete_signature(
                    client,
                    document.id,
                    row.session_id,
                    cms_value,
                    method=row.app,
                    also=sign_xml if xml_value is not None else None,
                ).seq
            else:
                with self.svc._locked(client, document.id) as (session, locked):
                    sign_xml(session, locked)
                    # A PDF signature announces itself (DocService._record); an XML-only
                    # one is announced here, in the same transaction.
                    webhooks.enqueue(
                        session,
                        locked.client_id,
                        locked.callback_url,
                        "document.signed",
                        {
                            "document_id": locked.id,
                            "signature": None,
                            "signature_count": locked.signature_count,
                            "status": locked.status,
                            "method": row.app,
                            "xml_signed": True,
                        },
                        document_id=locked.id,
                    )
        except BaseException as exc:
            with self.svc.db.session() as session:
                session.execute(
                    update(EgovRequest).where(EgovRequest.id == rid).values(state=previous)
                )
            raise _refusal(exc) from None
        stamp = ("service_tsa" if self.settings.tsa_url else "none") if seq else None
        with self.svc.db.session() as session:
            session.execute(
                update(EgovRequest)
                .where(EgovRequest.id == rid)
                .values(
                    state="signed",
                    signature_seq=seq,
                    timestamp=stamp,
                    xml_sha=signed_xml[0] if signed_xml else None,
                )
            )
        answer: dict[str, Any] = {"status": "success"}
        if self.settings.egov_back_url:
            answer["backUrl"] = self.settings.egov_back_url
        return answer

    def _complete_xml(
        self, session: Session, document: Document, session_id: str, signed: str
    ) -> str:
        """The signed XML, checked by ``signing.twophase``, becomes the document's XML."""
        prepared = session.get(SigningSession, session_id)
        if prepared is None:
            raise RefusedError("unknown_request")
        pending = Pending.from_json(prepared.pending)
        if hashlib.sha256(pending.payload).hexdigest() != document.xml_sha:
            raise RefusedError("document_changed")
        try:
            root = etree.fromstring(signed.encode("utf-8"), xmlsafe.PARSER)
        except etree.XMLSyntaxError:
            raise RefusedError("altered") from None
        certs = root.findall(
            "{http://www.w3.org/2000/09/xmldsig#}Signature/"
            ".//{http://www.w3.org/2000/09/xmldsig#}X509Certificate"
        )
        expected = pending.certificate
        try:
            last = load_certificate("".join((certs[-1].text or "").split())) if certs else None
        except (ValueError, TypeError, SigningError):
            last = None
        if expected is not None and last is not None and last.dump() != expected.dump():
            raise RefusedError("other_person")
        raw = self._xml_twophase(session, document).complete_xml(session_id, signed)
        document.xml_sha = self.svc.store.put(raw)
        document.updated_at = utcnow()
        from docservice.archive.record import Artefact

        self.svc.archive.record(
            session,
            [
                Artefact(
                    "signature.xml",
                    raw,
                    document_id=document.id,
                    case_ref=document.case_ref,
                    client_id=document.client_id,
                    meta={"method": "egov"},
                    sha256=document.xml_sha,
                )
            ],
        )
        return document.xml_sha

    def _signed_values(
        self, row: EgovRequest, document: Document, body: Any
    ) -> tuple[str | None, str | None]:
        """The CMS and the signed XML from the PUT; all else must be as served."""
        served = self._documents(row, document)
        if not isinstance(body, dict) or not isinstance(body.get("documentsToSign"), list):
            raise RefusedError("altered")
        items = body["documentsToSign"]
        if body.get("signMethod") != served["signMethod"] or len(items) != len(
            served["documentsToSign"]
        ):
            raise RefusedError("altered")
        cms_value = xml_value = None
        for item, want in zip(items, served["documentsToSign"], strict=True):
            got = json.loads(json.dumps(item))
            try:
                if "documentXml" in want:
                    want.pop("documentXml")
                    xml_value = got.pop("documentXml")
                    value = xml_value
                else:
                    want["document"]["file"].pop("data")
                    cms_value = got["document"]["file"].pop("data")
                    value = cms_value
            except (KeyError, TypeError, AttributeError):
                raise RefusedError("altered") from None
            if got != want or not isinstance(value, str) or not value.strip():
                raise RefusedError("altered")
        return cms_value, xml_value


def _login_signed(root: etree._Element, cert: asn1_x509.Certificate) -> etree._Element | None:
    """What the login's one enveloped signature really signed: the whole login (its own
    signature removed by the enveloped transform), GOST or RSA-SHA256, checked by
    :func:`docservice.xml_signature.check_last`; only that is read."""
    signatures = xml_signature.root_signatures(root)
    if len(signatures) != 1:
        return None
    uris = [
        r.get("URI") for r in signatures[0].iterfind("ds:SignedInfo/ds:Reference", xml_signature.NS)
    ]
    config = SignatureConfiguration(
        location="./",
        expect_references=1,
        signature_methods=frozenset({SignatureMethod.RSA_SHA256}),
    )
    try:
        parts = xml_signature.check_last(root, cert, config)
    except xml_signature.XmlInvalidError:
        return None
    gost = gost_xmldsig.is_gost_uri(xml_signature.signature_method(signatures[0]))
    if len(parts) != 1 or (gost and uris != [""]):
        return None
    return parts[0].element


def _refusal(exc: BaseException) -> RefusedError:
    """A completion failure as the app's 403, in the failure's own words where it has them."""
    if isinstance(exc, RefusedError):
        return exc
    if isinstance(exc, ConflictError):
        return RefusedError("document_changed")
    if isinstance(exc, GoneError | SessionError):
        return RefusedError("expired")
    if isinstance(exc, ServiceUnavailableError):
        return RefusedError("unavailable")
    if isinstance(exc, SignerMismatchError):
        return RefusedError("other_person")
    if isinstance(exc, DigestMismatchError):
        return RefusedError("altered")
    if isinstance(exc, SigningError):
        return RefusedError("refused", kk=exc.message_kk, ru=exc.message_ru)
    if isinstance(exc, RouteError):  # who may act at the route's step (route.authorise)
        return RefusedError("refused", kk=exc.kk, ru=exc.ru)
    if isinstance(exc, SignatureValueError | ServiceError):
        return RefusedError("refused")
    raise exc


# -- HTTP -------------------------------------------------------------------------------

#: The app's endpoints (API №1 and №2) and the official's page: no API key, the request
#: id in the URL is the capability (as the specification intends: the QR code is the key).
bp = Blueprint("egov", __name__, template_folder="templates")
#: The calling system's endpoints, under ``/v1`` with its Bearer key.
api_bp = Blueprint("egov_api", __name__, url_prefix="/v1")
api_bp.register_error_handler(Exception, api.handle_error)

PAGE_TEXTS: dict[str, dict[str, str]] = {
    "title": {"kk": "Құжатқа телефоннан қол қою", "ru": "Подписание документа с телефона"},
    "scan": {
        "kk": "{app} қосымшасында QR кодты сканерлеңіз",
        "ru": "Отсканируйте QR-код в приложении {app}",
    },
    "open": {
        "kk": "Осы телефондағы {app} қосымшасында ашу",
        "ru": "Открыть в {app} на этом телефоне",
    },
    "left": {"kk": "Сұрау жарамды:", "ru": "Запрос действителен:"},
    "waiting": {"kk": "Қолтаңба күтілуде…", "ru": "Ожидается подпись…"},
    "signed": {"kk": "Құжатқа қол қойылды. Рақмет!", "ru": "Документ подписан. Спасибо!"},
    "expired": {
        "kk": "Сұраудың мерзімі өтті. Жаңа QR код сұраңыз.",
        "ru": "Срок запроса истёк. Запросите новый QR-код.",
    },
    "unknown": {"kk": "Қол қою сұрауы табылмады.", "ru": "Запрос на подписание не найден."},
    "language": {"kk": "Тіл", "ru": "Язык"},
    "qr_label": {"kk": "Қол қоюға арналған QR код", "ru": "QR-код для подписания"},
}
APP_NAMES = {"egov_mobile": "eGov mobile", "egov_business": "eGov Business"}


def signing() -> EgovSigning:
    ext = current_app.extensions
    if "docservice_egov" not in ext:
        ext["docservice_egov"] = EgovSigning(ext["docservice"])
    return ext["docservice_egov"]


def app_lang() -> str:
    return request.accept_languages.best_match(LANGS) or "kk"


def _app_json(payload: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(payload, ensure_ascii=False),
        status=status,
        mimetype="application/json",
        headers={"Content-Language": app_lang(), "Cache-Control": "no-store"},
    )


@bp.errorhandler(RefusedError)
def refused(exc: RefusedError) -> Response:
    log.info("egov refused: %s", exc.code)
    return _app_json({"message": exc.message(app_lang())}, 403)


@bp.errorhandler(Exception)
def failed(exc: Exception) -> Response:
    """The app always gets JSON with a ``message``; an unexpected failure is a 503."""
    if isinstance(exc, HTTPException):
        return _app_json({"message": exc.description}, exc.code or 400)
    log.error("egov failure: %s", describe(exc))
    return _app_json({"message": MESSAGES["unavailable"][app_lang()]}, 503)


@api_bp.post("/documents/<doc_id>/signatures/egov")
@api.require("sign")
def create_egov(doc_id: str) -> Any:
    view = signing().create(g.client, doc_id, api.body())
    return api._json(view, 201, {"Location": view["links"]["status"]})


@api_bp.get("/documents/<doc_id>/signatures/egov/<rid>")
@api.require("sign")
def egov_status(doc_id: str, rid: str) -> Any:
    egov = signing()
    return api._json(egov.status(egov.get(g.client, doc_id, rid)))


@bp.get("/egov/mgovSign/<rid>")
def api1(rid: str) -> Response:
    return _app_json(signing().api1(rid))


@bp.route("/egov/mgovSign/<rid>/documents", methods=["GET", "POST", "PUT"])
def api2(rid: str) -> Response:
    egov = signing()
    auth = request.headers.get("Authorization", "")
    if request.method == "GET":
        return _app_json(egov.documents_token(rid, auth))
    body = request.get_json(silent=True, force=True)
    if request.method == "POST":
        return _app_json(egov.documents_eds(rid, body))
    return _app_json(egov.complete(rid, auth, body))


def _page_lang() -> str:
    chosen = request.args.get("lang")
    if chosen in ("kk", "ru"):
        return chosen
    return request.accept_languages.best_match(("kk", "ru")) or "kk"


@bp.get("/egov/<rid>")
def page(rid: str) -> Any:
    """The official's page: QR code, cross-signing link, countdown, result."""
    lang = _page_lang()
    egov = signing()
    with egov.svc.db.sessions() as session:
        row = session.get(EgovRequest, rid)
        document = session.get(Document, row.document_id) if row is not None else None

    def text(key: str, **fmt: str) -> str:
        return PAGE_TEXTS[key][lang].format(**fmt)

    if row is None or document is None:
        return render_template("egov/sign.html", lang=lang, text=text, row=None), 404
    api1_url = egov.api1_url(rid)
    payload = f"mobileSign:{api1_url}"
    return render_template(
        "egov/sign.html",
        lang=lang,
        text=text,
        row=row,
        app=APP_NAMES[row.app],
        name=_kind_names(document.kind)["nameKz" if lang == "kk" else "nameRu"],
        svg=qr_svg(payload).split("?>", 1)[-1],
        link=cross_links(api1_url)[row.app],
        state=egov._state(row),
        expires=_aware(row.expires_at).isoformat(),
        status_url=url_for("egov.page_status", rid=rid),
    )


@bp.get("/egov/<rid>/status")
def page_status(rid: str) -> Response:
    """What the page polls: the state only (no names, no IINs)."""
    egov = signing()
    with egov.svc.db.sessions() as session:
        row = session.get(EgovRequest, rid)
    if row is None:
        return _app_json({"state": "unknown"}, 404)
    return _app_json({"state": egov._state(row), "expires_at": _aware(row.expires_at).isoformat()})
