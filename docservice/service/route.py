"""Cases, the organisations directory and the route engine (definitions in ``docservice/routes``).

Who may act at a step is decided by :func:`authorise` alone, which every signing path
calls with the signer's certificate: the server key (``DocService.sign_with_key``), the
NCALayer two-phase prepare and completion (also the signing link's and eGov mobile's,
which use the same functions), and a return for revision. It reads the certificate with
``docservice.pki.person.person_of`` (IIN, BIN, NCA role OIDs) and matches it against the
step (roles) and the operator's directory (which BIN acts for which body of which region:
``docservice orgs``). Every action is a ``route_events`` row; :func:`event_bytes` is its
canonical byte form (sorted-keys JSON) for the archive's log.

Deadlines are the step's working days on the Kazakhstan calendar (``docservice.workdays``)
counted from the day after the step began, in Kazakhstan's time (UTC+5 since 1 March 2024).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from asn1crypto import x509
from sqlalchemy import select
from sqlalchemy.orm import Session

from docservice import routes
from docservice.identifiers import has_valid_checksum, mask
from docservice.pki.person import person_of
from docservice.pki.roles import Role
from docservice.routes import RouteDefinition, Step
from docservice.service.errors import (
    ConflictError,
    NotFoundError,
    ServiceError,
    UnprocessableError,
)
from docservice.service.models import (
    Case,
    Client,
    Document,
    Organisation,
    Route,
    RouteEvent,
    utcnow,
)
from docservice.workdays import add_working_days

log = logging.getLogger("docservice.route")
#: Kazakhstan has one time zone, UTC+5, since 1 March 2024: a deadline's day is its date.
KZ_TIME = dt.timezone(dt.timedelta(hours=5))
BODY_RE = re.compile(r"^[a-z][a-z0-9_]{0,49}$")


class RouteError(ServiceError):
    """A refusal with its reason in Kazakh, Russian and English (problem+json ``detail``)."""

    status, code = 403, "route_refused"

    def __init__(self, reason: str, *, kk: str, ru: str, en: str, field: str | None = None) -> None:
        super().__init__(en, field=field)
        self.reason, self.kk, self.ru, self.en = reason, kk, ru, en

    def message(self, lang: str) -> str:
        return {"kk": self.kk, "ru": self.ru}.get(lang, self.en)


class CaseNeededError(RouteError):
    """A route needs a case (its regions) and the ``case_ref`` names none of the client's."""

    status, code = 422, "unprocessable"


class RouteStateError(RouteError):
    """The document is not where the action needs it (returned, superseded, done)."""

    status, code = 409, "route_conflict"


# -- cases ----------------------------------------------------------------------------


def _region(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > 100:
        raise UnprocessableError(
            f"{name} must be a region name or code (1-100 characters)", field=name
        )
    return value.strip()


def create_case(
    session: Session, client: Client, case_ref: str, departure_region: Any, settlement_region: Any
) -> Case:
    """A new case of ``client``; a ``case_ref`` it already used is a conflict (409)."""
    if not isinstance(case_ref, str) or not case_ref.strip() or len(case_ref) > 200:
        raise UnprocessableError("case_ref must be a string of 1-200 characters", field="case_ref")
    dep = _region(departure_region, "departure_region")
    sett = _region(settlement_region, "settlement_region")
    if session.scalar(
        select(Case.id).where(Case.client_id == client.id, Case.case_ref == case_ref)
    ):
        raise ConflictError(f"a case with case_ref {case_ref!r} exists", field="case_ref")
    case = Case(
        id=secrets.token_hex(16),
        client_id=client.id,
        case_ref=case_ref,
        departure_region=dep,
        settlement_region=sett,
        created_at=utcnow(),
    )
    session.add(case)
    session.flush()
    return case


def case_by_ref(session: Session, client: Client, case_ref: str | None) -> Case | None:
    if not case_ref:
        return None
    return session.scalar(
        select(Case).where(Case.client_id == client.id, Case.case_ref == case_ref)
    )


def get_case(session: Session, client: Client, case_id: str) -> Case:
    case = session.scalar(select(Case).where(Case.id == case_id, Case.client_id == client.id))
    if case is None:
        raise NotFoundError("no such case", field="id")
    return case


# -- the organisations directory ----------------------------------------------------------


class DirectoryError(ServiceError):
    status, code = 422, "invalid_input"


def add_org(session: Session, bin_: str, body: str, region: str, name: str = "") -> Organisation:
    """BIN ``bin_`` acts for ``body`` of ``region`` (idempotent: a known triple is kept)."""
    if not (
        isinstance(bin_, str) and len(bin_) == 12 and bin_.isdigit() and has_valid_checksum(bin_)
    ):
        raise DirectoryError(f"BIN {bin_!r}: 12 digits with a valid check digit", field="bin")
    if not isinstance(body, str) or not BODY_RE.match(body):
        raise DirectoryError(
            f"body {body!r}: a lower-case identifier (e.g. career_centre)", field="body"
        )
    region = _region(region, "region")
    row = session.scalar(
        select(Organisation).where(
            Organisation.bin == bin_, Organisation.body == body, Organisation.region == region
        )
    )
    if row is None:
        row = Organisation(bin=bin_, body=body, region=region, name=name or "", created_at=utcnow())
        session.add(row)
    elif name:
        row.name = name
    session.flush()
    return row


def load_orgs(session: Session, path: Path) -> list[Organisation]:
    """Every entry of a YAML file ``organisations: [{bin, body, region, name?}, ...]``."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise DirectoryError(f"{path}: {exc}") from None
    entries = raw.get("organisations") if isinstance(raw, dict) else None
    if not isinstance(entries, list):
        raise DirectoryError(f"{path}: expected an 'organisations' list")
    rows = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or set(entry) - {"bin", "body", "region", "name"}:
            raise DirectoryError(f"{path}: organisations[{i}]: keys bin, body, region, name")
        try:
            rows.append(
                add_org(
                    session,
                    str(entry.get("bin", "")),
                    entry.get("body", ""),
                    entry.get("region", ""),
                    str(entry.get("name") or ""),
                )
            )
        except DirectoryError as exc:
            raise DirectoryError(f"{path}: organisations[{i}]: {exc.detail}") from None
    return rows


# -- the route engine -------------------------------------------------------------------


def kz_today(now: dt.datetime | None = None) -> dt.date:
    return (now or utcnow()).astimezone(KZ_TIME).date()


def due_on(step: Step, since: dt.datetime) -> dt.date:
    """The step's last day: its working days counted from the day after it began."""
    return add_working_days(kz_today(since), step.working_days)


def definition_of(route: Route) -> RouteDefinition:
    try:
        return routes.get(route.definition)
    except KeyError:  # the operator removed or renamed the file a running route follows
        raise RouteStateError(
            "unknown_definition",
            kk=f"«{route.definition}» бағытының анықтамасы табылмады (оператор).",
            ru=f"Определение маршрута «{route.definition}» не найдено (оператор).",
            en=f"the route definition {route.definition!r} is missing (operator)",
        ) from None


def start(session: Session, document: Document, case: Case, name: str) -> Route:
    """Put ``document`` on route ``name`` at its first step."""
    try:
        definition = routes.get(name)
    except KeyError:
        raise UnprocessableError(
            f"no route named {name!r} (known: {', '.join(routes.definitions())})", field="route"
        ) from None
    if definition.kind != document.kind:
        raise UnprocessableError(
            f"route {name!r} is for {definition.kind} documents", field="route"
        )
    now = utcnow()
    first = definition.steps[0]
    route = Route(
        id=secrets.token_hex(16),
        client_id=document.client_id,
        case_id=case.id,
        definition=name,
        document_id=document.id,
        step=first.id,
        state="active",
        step_since=now,
        due_on=due_on(first, now),
        created_at=now,
        updated_at=now,
    )
    session.add(route)
    session.flush()
    _event(session, route, document, "started", step=None, to_step=first.id)
    return route


def route_of(session: Session, document_id: str) -> Route | None:
    """The route whose current version is ``document_id``, or that an older version was on."""
    route = session.scalar(select(Route).where(Route.document_id == document_id))
    if route is not None:
        return route
    event = session.scalar(select(RouteEvent).where(RouteEvent.document_id == document_id).limit(1))
    return None if event is None else session.get(Route, event.route_id)


@dataclass(frozen=True)
class Actor:
    iin: str
    bin: str
    name: str
    role_oids: tuple[str, ...]
    certificate_sha256: str

    @classmethod
    def of(cls, cert: x509.Certificate) -> Actor:
        ident = person_of(cert)
        return cls(
            iin=ident.iin,
            bin=ident.bin,
            name=ident.full_name,
            role_oids=tuple(r.oid for r in ident.held_roles),
            certificate_sha256=hashlib.sha256(cert.dump()).hexdigest(),
        )

    def log_repr(self) -> str:
        return f"iin={mask(self.iin)} bin={mask(self.bin)} cert={self.certificate_sha256[:16]}"


def _step_label(definition: RouteDefinition, step: Step) -> tuple[str, str, str]:
    points = ", ".join(str(p) for p in step.points)
    return (
        f"«{step.title_kk}» ({points}-т.)",
        f"«{step.title_ru}» (п. {points})",
        f"'{step.id}' (point {points})",
    )


def _role_names(step: Step) -> tuple[str, str, str]:
    roles = [r for r in (Role.of_oid(o) for o in sorted(step.role_oids)) if r is not None]
    return (
        ", ".join(r.label.kk for r in roles),
        ", ".join(r.label.ru for r in roles),
        ", ".join(r.value for r in roles),
    )


def _state_check(route: Route, document: Document, definition: RouteDefinition) -> Step:
    if route.document_id != document.id:
        raise RouteStateError(
            "superseded",
            kk="Бұл құжаттың жаңа нұсқасы бар: соған әрекет етіңіз.",
            ru="У этого документа есть новая версия: действуйте над ней.",
            en="a newer version of this document exists: act on it",
        )
    if route.state == "done" or route.step is None:
        raise RouteStateError(
            "route_done",
            kk="Құжаттың бағыты аяқталды.",
            ru="Маршрут документа завершён.",
            en="the document's route is complete",
        )
    if route.state == "returned":
        raise RouteStateError(
            "returned",
            kk="Құжат пысықтауға қайтарылды: алдымен жаңа нұсқасын жіберіңіз.",
            ru="Документ возвращён на доработку: сначала отправьте новую версию.",
            en="the document was returned for revision: submit a revision first",
        )
    return definition.step(route.step)


def authorise(
    session: Session, document: Document, cert: x509.Certificate
) -> tuple[Route, Step, Actor] | None:
    """Whether the holder of ``cert`` may act at the document's current step.

    None when the document is on no route (then anyone the client lets sign may sign).
    Raises :class:`RouteError` naming the step and the reason in kk/ru/en.
    """
    if document.case_id is None:  # only a case's documents are ever put on a route
        return None
    route = route_of(session, document.id)
    if route is None:
        return None
    definition = definition_of(route)
    step = _state_check(route, document, definition)
    case = session.get(Case, route.case_id)
    assert case is not None
    region = case.departure_region if step.region == "departure" else case.settlement_region
    actor = Actor.of(cert)
    kk_step, ru_step, en_step = _step_label(definition, step)
    if not actor.iin:
        raise RouteError(
            "no_iin",
            kk=f"{kk_step} қадамы: сертификатта ЖСН жоқ.",
            ru=f"Шаг {ru_step}: в сертификате нет ИИН.",
            en=f"step {en_step}: the certificate carries no IIN",
        )
    if not step.role_oids & set(actor.role_oids):
        kk_roles, ru_roles, en_roles = _role_names(step)
        log.info("route refused (role): step=%s %s", step.id, actor.log_repr())
        raise RouteError(
            "role_missing",
            kk=f"{kk_step} қадамы: сертификатта қажетті рөл жоқ ({kk_roles}).",
            ru=f"Шаг {ru_step}: в сертификате нет требуемой роли ({ru_roles}).",
            en=f"step {en_step}: the certificate has none of the roles {en_roles}",
        )
    acts = (
        session.scalar(
            select(Organisation.id).where(
                Organisation.bin == actor.bin,
                Organisation.body == step.body,
                Organisation.region == region,
            )
        )
        if actor.bin
        else None
    )
    if acts is None:
        log.info("route refused (directory): step=%s %s", step.id, actor.log_repr())
        body_kk, body_ru = (
            definition.body_name(step.body, "kk"),
            definition.body_name(step.body, "ru"),
        )
        raise RouteError(
            "not_this_body",
            kk=f"{kk_step} қадамы: БСН {actor.bin or '—'} ұйымы {region} өңірінің "
            f"{body_kk} атынан әрекет етпейді (ұйымдар анықтамалығы).",
            ru=f"Шаг {ru_step}: организация с БИН {actor.bin or '—'} не действует от имени "
            f"органа «{body_ru}» региона {region} (справочник организаций).",
            en=f"step {en_step}: the organisation BIN {actor.bin or '-'} does not act for "
            f"{step.body} of region {region} (organisations directory)",
        )
    return route, step, actor


#: ``Session.info`` key of the callback that archives each new event (set by DocService).
ARCHIVE_HOOK = "archive_route_event"


def _event(
    session: Session,
    route: Route,
    document: Document,
    action: str,
    *,
    step: str | None,
    to_step: str | None = None,
    actor: Actor | None = None,
    signature_seq: int | None = None,
    cms_sha: str | None = None,
    remarks: str | None = None,
) -> RouteEvent:
    event = RouteEvent(
        route_id=route.id,
        document_id=document.id,
        version=document.version,
        step=step,
        action=action,
        to_step=to_step,
        actor_iin=actor.iin if actor else None,
        actor_bin=actor.bin if actor else None,
        actor_name=actor.name if actor else "",
        actor_roles=",".join(actor.role_oids) if actor else "",
        certificate_sha256=actor.certificate_sha256 if actor else None,
        signature_seq=signature_seq,
        cms_sha=cms_sha,
        remarks=remarks,
        at=utcnow(),
    )
    session.add(event)
    session.flush()
    archive_event = session.info.get(ARCHIVE_HOOK)
    if archive_event is not None:  # the service archives it in this same transaction
        archive_event(session, document, event)
    log.info(
        "route event: route=%s action=%s step=%s %s",
        route.id,
        action,
        step,
        actor.log_repr() if actor else "",
    )
    return event


def _move(route: Route, step: Step | None, now: dt.datetime) -> None:
    route.step = step.id if step else None
    route.state = "active" if step else "done"
    route.step_since = now
    route.due_on = due_on(step, now) if step else None
    route.updated_at = now


def signed(
    session: Session, document: Document, cert: x509.Certificate, signature_seq: int
) -> RouteEvent | None:
    """Record a signature at the current step (after :func:`authorise`) and move on."""
    found = authorise(session, document, cert)
    if found is None:
        return None
    route, step, actor = found
    following = definition_of(route).after(step.id)
    event = _event(
        session,
        route,
        document,
        "signed",
        step=step.id,
        to_step=following.id if following else None,
        actor=actor,
        signature_seq=signature_seq,
    )
    _move(route, following, event.at)
    if following is None:
        _event(session, route, document, "completed", step=None)
    return event


def return_payload(document: Document, step: str, remarks: str) -> bytes:
    """What an official signs to return a document: the remarks bound to the revision."""
    return json.dumps(
        {
            "action": "return",
            "document_id": document.id,
            "pdf_sha256": document.pdf_sha,
            "version": document.version,
            "step": step,
            "remarks": remarks,
        },
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    ).encode()


def check_remarks(remarks: Any) -> str:
    if not isinstance(remarks, str) or not remarks.strip() or len(remarks) > 4000:
        raise UnprocessableError("remarks must be text of 1-4000 characters", field="remarks")
    return remarks.strip()


def returnable_step(session: Session, document: Document) -> tuple[Route, Step]:
    """The route and its current step, if a return for revision is allowed there."""
    route = route_of(session, document.id)
    if route is None:
        raise RouteStateError(
            "no_route",
            kk="Құжат ешбір бағытта емес.",
            ru="Документ не находится на маршруте.",
            en="the document is on no route",
        )
    definition = definition_of(route)
    step = _state_check(route, document, definition)
    if step.return_to is None:
        kk_step, ru_step, en_step = _step_label(definition, step)
        raise RouteStateError(
            "not_returnable",
            kk=f"{kk_step} қадамында пысықтауға қайтару көзделмеген.",
            ru=f"На шаге {ru_step} возврат на доработку не предусмотрен.",
            en=f"step {en_step} allows no return for revision",
        )
    return route, step


def returned(
    session: Session, document: Document, cert: x509.Certificate, remarks: str, cms_sha: str
) -> RouteEvent:
    """Return for revision by the official of the current step (remarks signed: ``cms_sha``)."""
    route, step = returnable_step(session, document)
    found = authorise(session, document, cert)
    assert found is not None
    _, _, actor = found
    target = definition_of(route).step(step.return_to or "")
    event = _event(
        session,
        route,
        document,
        "returned",
        step=step.id,
        to_step=target.id,
        actor=actor,
        cms_sha=cms_sha,
        remarks=remarks,
    )
    _move(route, target, event.at)
    route.state = "returned"
    return event


def revised(session: Session, old: Document, new: Document) -> Route:
    """``new`` (version ``old.version + 1``) replaces ``old`` on its route, at the step the
    return sent it to."""
    route = route_of(session, old.id)
    if route is None or route.document_id != old.id or route.state != "returned":
        raise RouteStateError(
            "not_returned",
            kk="Құжат пысықтауға қайтарылмаған: жаңа нұсқа қажет емес.",
            ru="Документ не возвращён на доработку: новая версия не нужна.",
            en="the document was not returned for revision: no revision is expected",
        )
    route.document_id = new.id
    route.state = "active"
    now = utcnow()
    route.step_since, route.updated_at = now, now
    step = definition_of(route).step(route.step or "")
    route.due_on = due_on(step, now)
    _event(session, route, new, "revised", step=None, to_step=step.id)
    return route


def overdue(session: Session, client_id: int | None, today: dt.date | None = None) -> list[Route]:
    """Routes whose current step's last day is before ``today`` (Kazakhstan's date)."""
    query = select(Route).where(
        Route.state.in_(("active", "returned")), Route.due_on < (today or kz_today())
    )
    if client_id is not None:
        query = query.where(Route.client_id == client_id)
    return list(session.scalars(query.order_by(Route.due_on, Route.id)))


def events(session: Session, route: Route) -> list[RouteEvent]:
    return list(
        session.scalars(
            select(RouteEvent).where(RouteEvent.route_id == route.id).order_by(RouteEvent.id)
        )
    )


def _iso(value: dt.datetime) -> str:
    return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).astimezone(dt.UTC).isoformat()


def event_dict(event: RouteEvent) -> dict[str, Any]:
    """An event as data: what ``event_bytes`` serialises and the API shows."""
    return {
        "id": event.id,
        "route_id": event.route_id,
        "document_id": event.document_id,
        "version": event.version,
        "action": event.action,
        "step": event.step,
        "to_step": event.to_step,
        "at": _iso(event.at),
        "remarks": event.remarks,
        "signature_seq": event.signature_seq,
        "remarks_cms_sha256": event.cms_sha,
        "actor": None
        if event.certificate_sha256 is None
        else {
            "iin": event.actor_iin,
            "bin": event.actor_bin,
            "name": event.actor_name,
            "role_oids": [r for r in event.actor_roles.split(",") if r],
            "certificate_sha256": event.certificate_sha256,
        },
    }


def event_bytes(event: RouteEvent) -> bytes:
    """The event's canonical bytes (UTF-8 JSON, sorted keys, no spaces) for the archive log.

    Stable: the same row always gives the same bytes, so its log entry can be recomputed.
    """
    return json.dumps(
        event_dict(event), ensure_ascii=False, sort_keys=True, separators=(",", ":")
    ).encode()


def route_dict(session: Session, route: Route, lang: str = "kk") -> dict[str, Any]:
    definition = definition_of(route)
    step = definition.step(route.step) if route.step else None
    case = session.get(Case, route.case_id)
    assert case is not None
    view: dict[str, Any] = {
        "id": route.id,
        "route": route.definition,
        "state": route.state,
        "document_id": route.document_id,
        "case_id": route.case_id,
        "step": None,
        "events": [event_dict(e) for e in events(session, route)],
    }
    if step is not None:
        region = case.departure_region if step.region == "departure" else case.settlement_region
        view["step"] = {
            "id": step.id,
            "points": list(step.points),
            "title": step.title(lang),
            "body": step.body,
            "body_name": definition.body_name(step.body, lang),
            "region": region,
            "roles": list(step.roles),
            "since": _iso(route.step_since),
            "due_on": route.due_on.isoformat() if route.due_on else None,
            "overdue": bool(route.due_on and route.due_on < kz_today()),
            "may_return": step.return_to is not None,
            "return_to": step.return_to,
        }
    return view
