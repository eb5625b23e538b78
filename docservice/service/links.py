"""Signing links: a one-time URL a calling system hands an official (DocuSeal-style).

``POST /v1/documents/{id}/signing-links`` makes the link; ``GET /sign/<token>`` is the
official's page (kk / ru): it shows the document, signs it in the official's NCALayer
with ``signing/static/ncalayer-client.js`` through the same prepare/complete functions as
the API, and says the result. The token is 256 random bits; only its SHA-256 is stored.
A link is used once (claimed when the signature completes; released if it is refused)
and expires; ``expected_signer`` pins the IIN the certificate must carry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request
from sqlalchemy import select, update

import signing
from docservice.pki.person import person_of
from docservice.service.errors import ForbiddenError, GoneError, NotFoundError
from docservice.service.models import Client, Document, SigningLink, utcnow
from signing.cms_util import load_certificate

bp = Blueprint("links", __name__, template_folder="templates")
SCRIPT = Path(signing.__file__).resolve().parent / "static" / "ncalayer-client.js"
LANGS = ("kk", "ru")
MAX_EXPIRES = 7 * 24 * 3600

TEXTS = {
    "title": ("Құжатқа қол қою", "Подписание документа"),
    "intro": (
        "Құжатты қарап шығып, NCALayer арқылы қол қойыңыз.",
        "Просмотрите документ и подпишите его через NCALayer.",
    ),
    "sign": ("NCALayer арқылы қол қою", "Подписать через NCALayer"),
    "open": ("Құжатты ашу (PDF)", "Открыть документ (PDF)"),
    "working": ("NCALayer-мен байланыс…", "Связь с NCALayer…"),
    "done": ("Құжатқа қол қойылды. Рақмет!", "Документ подписан. Спасибо!"),
    "cancelled": ("Қол қою тоқтатылды.", "Подписание отменено."),
    "failed": ("Қол қою орындалмады", "Подписание не выполнено"),
    "no_ncalayer": (
        "NCALayer іске қосылмаған немесе қолжетімсіз.",
        "NCALayer не запущен или недоступен.",
    ),
    "language": ("Тіл", "Язык"),
    "invalid": (
        "Сілтеме жарамсыз, пайдаланылған немесе мерзімі өткен.",
        "Ссылка недействительна, уже использована или истекла.",
    ),
    "step": ("Бағыттың қадамы", "Шаг маршрута"),
    "points": ("Қағидалардың тармақтары", "Пункты Правил"),
    "region": ("Өңір", "Регион"),
    "deadline": ("Мерзімі (соңғы жұмыс күні)", "Срок (последний рабочий день)"),
    "overdue": ("мерзімі өтті", "срок истёк"),
    "sign_forward": ("Қол қойып, келесі қадамға жіберу", "Подписать и направить дальше"),
    "earlier": ("Бұрынғы ескертулер", "Ранее высказанные замечания"),
    "remarks": ("Пысықтауға қайтару ескертулері", "Замечания для возврата на доработку"),
    "return": ("Ескертулермен пысықтауға қайтару", "Вернуть на доработку с замечаниями"),
    "returned": (
        "Құжат ескертулермен пысықтауға қайтарылды.",
        "Документ возвращён на доработку с замечаниями.",
    ),
    "need_remarks": ("Ескертулерді жазыңыз.", "Укажите замечания."),
    "version": ("Нұсқа", "Версия"),
}


def _t(key: str, lang: str) -> str:
    kk, ru = TEXTS[key]
    return kk if lang == "kk" else ru


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_link(
    svc: Any, client: Client, doc_id: str, *, expected_signer: str | None, expires_in: int
) -> tuple[str, dt.datetime]:
    """A new link's token and expiry; the document must be the client's."""
    svc.get_document(client, doc_id)
    token = secrets.token_urlsafe(32)
    expires_at = utcnow() + dt.timedelta(seconds=expires_in)
    with svc.db.session() as session:
        session.add(
            SigningLink(
                token_hash=token_hash(token),
                document_id=doc_id,
                client_id=client.id,
                expected_iin=expected_signer,
                expires_at=expires_at,
            )
        )
    return token, expires_at


def _link(svc: Any, token: str) -> tuple[SigningLink, Client, Document]:
    with svc.db.sessions() as session:
        link = session.scalar(
            select(SigningLink).where(SigningLink.token_hash == token_hash(token))
        )
        if link is None:
            raise NotFoundError("no such signing link")
        client = session.get(Client, link.client_id)
        document = session.get(Document, link.document_id)
    expires = link.expires_at.replace(tzinfo=link.expires_at.tzinfo or dt.UTC)
    if (
        link.used_at is not None
        or expires <= utcnow()
        or client is None
        or client.revoked_at is not None
        or document is None
    ):
        raise GoneError("the signing link was used or has expired")
    return link, client, document


def _lang() -> str:
    value = request.args.get("lang")
    return value if value in LANGS else (request.accept_languages.best_match(LANGS) or "kk")


def _svc() -> Any:
    return current_app.extensions["docservice"]


@bp.get("/sign/ncalayer-client.js")
def script() -> Response:
    return Response(SCRIPT.read_bytes(), mimetype="text/javascript")


@bp.get("/sign/<token>/pdf")
def link_pdf(token: str) -> Response:
    _, _, document = _link(_svc(), token)
    return Response(_svc().content(document.pdf_sha), mimetype="application/pdf")


@bp.post("/sign/<token>/prepare")
def link_prepare(token: str) -> Any:
    svc = _svc()
    link, client, document = _link(svc, token)
    certificate = str((request.get_json(silent=True) or {}).get("certificate", ""))
    _check_expected(link, certificate)
    return svc.prepare_signature(client, document.id, certificate)


@bp.post("/sign/<token>/return/prepare")
def link_return_prepare(token: str) -> Any:
    """A return for revision from the page: the official's NCALayer signs the remarks."""
    svc = _svc()
    link, client, document = _link(svc, token)
    body = request.get_json(silent=True) or {}
    certificate = str(body.get("certificate", ""))
    _check_expected(link, certificate)
    return svc.prepare_return(client, document.id, certificate, body.get("remarks"))


@bp.post("/sign/<token>/return")
def link_return(token: str) -> Any:
    svc = _svc()
    link, client, document = _link(svc, token)
    body = request.get_json(silent=True) or {}
    _claim(svc, link)
    try:
        event = svc.complete_return(
            client,
            document.id,
            str(body.get("sid", "")),
            str(body.get("cms", "")),
            body.get("remarks"),
        )
    except Exception:
        _release(svc, link)
        raise
    return {"ok": True, "returned_to": event.to_step}


def _check_expected(link: SigningLink, certificate: str) -> None:
    if link.expected_iin:
        try:
            iin = person_of(load_certificate(certificate)).iin
        except Exception:
            iin = None
        if iin != link.expected_iin:
            raise ForbiddenError("this link is for another signer", field="certificate")


def _claim(svc: Any, link: SigningLink) -> None:
    with svc.db.session() as session:
        claimed = session.execute(
            update(SigningLink)
            .where(SigningLink.id == link.id, SigningLink.used_at.is_(None))
            .values(used_at=utcnow())
        )
    if claimed.rowcount != 1:
        raise GoneError("the signing link was used or has expired")


def _release(svc: Any, link: SigningLink) -> None:
    with svc.db.session() as session:  # refused: the official may try again
        session.execute(update(SigningLink).where(SigningLink.id == link.id).values(used_at=None))


@bp.post("/sign/<token>/complete")
def link_complete(token: str) -> Any:
    svc = _svc()
    link, client, document = _link(svc, token)
    body = request.get_json(silent=True) or {}
    _claim(svc, link)
    try:
        signature = svc.complete_signature(
            client, document.id, str(body.get("sid", "")), str(body.get("cms", ""))
        )
    except Exception:
        _release(svc, link)
        raise
    return {"ok": True, "signature": signature.seq}


@bp.errorhandler(Exception)
def link_error(exc: Exception) -> Any:
    from werkzeug.exceptions import HTTPException

    from docservice.errors import DocserviceError
    from docservice.service.api import handle_error

    callers = isinstance(exc, HTTPException) or (
        isinstance(exc, DocserviceError) and exc.status < 500
    )
    if request.method == "GET" and not request.path.endswith(".js") and callers:
        lang = _lang()  # a bad, used or expired link; a bug is the logged 500 below
        status = getattr(exc, "status", None) or getattr(exc, "code", None) or 404
        return Response(_page(lang, None, _t("invalid", lang)), status=status, mimetype="text/html")
    return handle_error(exc)


@bp.get("/sign/<token>")
def link_page(token: str) -> Any:
    lang = _lang()
    _, _, document = _link(_svc(), token)
    return Response(
        _page(lang, token, None, _route_info(_svc(), document, lang)), mimetype="text/html"
    )


def _route_info(svc: Any, document: Document, lang: str) -> dict[str, Any] | None:
    """The step waiting on this document, its deadline and every earlier remark (all
    versions), or None when the document is on no route."""
    from docservice.service import route as routing

    with svc.db.sessions() as session:
        found = routing.route_of(session, document.id)
        if found is None:
            return None
        info = routing.route_dict(session, found, lang)
    info["remarks"] = [e for e in info["events"] if e["remarks"]]
    info["version"] = document.version
    info["current"] = info["document_id"] == document.id
    return info


def _page(
    lang: str, token: str | None, error: str | None, route: dict[str, Any] | None = None
) -> str:
    """The page (``service/templates/links/sign.html``, the verification page's stylesheet)."""
    return render_template(
        "links/sign.html",
        lang=lang,
        texts={k: _t(k, lang) for k in TEXTS},
        error=error,
        base=None if token is None else f"/sign/{token}",
        route=route,
        ws_url=current_app.config.get("NCALAYER_URL", "wss://127.0.0.1:13579"),
    )


def expires_in_arg(value: Any) -> int:
    if value is None:
        return 3600
    if not isinstance(value, int) or isinstance(value, bool) or not 60 <= value <= MAX_EXPIRES:
        from docservice.service.errors import UnprocessableError

        raise UnprocessableError(
            f"expires_in must be seconds from 60 to {MAX_EXPIRES}", field="expires_in"
        )
    return value
