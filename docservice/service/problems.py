"""Errors as ``application/problem+json`` (RFC 9457), in the caller's language.

One problem per response; a validation failure carries one ``errors`` entry per bad field
(``field`` is the input path, ``code`` the stable reason, ``message`` in the chosen
language). Kazakh and Russian field messages are the forms' own (templates_kk/ru); English
callers get the path and an English reason. ``type`` is ``urn:docservice:problem:CODE``.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Response

from docservice import error_messages
from docservice.errors import InputError
from docservice.logging_setup import request_id
from docservice.logsafe import describe

log = logging.getLogger("docservice.api")
LANGS = ("kk", "ru", "en")
MEDIA_TYPE = "application/problem+json"

#: Problem titles: code -> (kk, ru, en), from the one table of error wording.
TITLES = error_messages.TITLES

#: English reasons for the forms' error codes (kk/ru come from the templates).
EN_REASONS: dict[str, str] = {
    "required": "is required",
    "not_text": "must be text",
    "too_long": "at most {max} characters",
    "one_line": "must be one line",
    "control_chars": "contains control characters",
    "bad_format": "has a wrong format",
    "bad_email": "is not an e-mail address",
    "bad_phone": "is not a phone number",
    "iin_format": "an IIN is 12 digits",
    "iin_checksum": "the IIN's check digit is wrong",
    "iin_date": "the birth date in the IIN is not a real date",
    "iin_birth_mismatch": "the birth date in the IIN differs from the date of birth given",
    "bin_format": "a BIN is 12 digits",
    "bin_checksum": "the BIN's check digit is wrong",
    "bad_date": "must be a real date, YYYY-MM-DD",
    "bad_month": "must be a month, YYYY-MM",
    "not_integer": "must be an integer",
    "out_of_range": "must be from {min} to {max}",
    "not_boolean": "must be true or false",
    "not_in_choices": "must be one of: {choices}",
    "not_list": "must be a list",
    "too_few": "at least {min} entries",
    "too_many": "at most {max} entries",
    "not_object": "must be a JSON object",
    "unknown_field": "no such field",
    "date_in_future": "cannot be in the future",
    "date_before": "cannot be before {other}",
    "duplicate": "repeated: {value}",
    "not_json": "is not JSON",
    "not_after": "cannot be after {other}",
    "consent_required": "consent to the processing of personal data is required (point 12)",
    "outside_period": "cannot be after the reporting period ({period})",
    "one_of": "cannot be given together with {other}",
    "bidi_control": "contains a character that changes the text direction ({char}): not "
    "allowed in a document",
    "invisible_char": "contains an invisible character ({char}): not allowed in a document",
    "bad_char": "contains a character that is not allowed ({char})",
    "not_a_name": "may hold only letters, spaces, hyphens, apostrophes and dots; not allowed: "
    "{char}",
    "number_not_text": "must be text in quotes, not a number (a number loses leading zeros)",
    "no_glyph": "{char} cannot be printed: no font of the document has it",
    "too_deep": "JSON may nest at most {max} levels",
    "duplicate_key": "the key is given twice in one object",
    "bad_key": "a field name holds only Latin letters, digits and _",
    "number_unfit": "the number {value} fits no field",
    "surrogate": "a lone surrogate {char} is not text",
    "input_too_big": "the data may be at most {max} MB",
    "not_utf8": "is not UTF-8 (byte {offset})",
    "talon_required": "an adult needs the police talon of the residence-permit application "
    "(point 3 of the Center stay rules)",
    "not_in_state": "is not given in a document in state {state}",
    "before_period_end": "must be after the end of the reporting quarter",
    "not_in_choice": "is not given on the ground {choice}",
    "not_a_resident": "is not among the Center's residents",
    "not_number": "must be a number",
    "outside_kazakhstan": "is outside Kazakhstan ({min} - {max})",
    "not_base64": "is not Base64",
    "file_too_large": "a file of at most {max} bytes",
    "not_media_type": "the file's content is not {media_type}",
    "bad_file_name": "a file name holds only Latin letters, digits, dot, hyphen and underscore",
    "receipt_in_app": "the receipt is shown in the mobile app (point 15 of the Rules): add the "
    "mobile_app channel",
    "body_missing": "a representative of {body} is needed",
    "outside_monitoring": "outside the monitoring period (five years from {start})",
    "not_evaluated": "not among the organisations evaluated this quarter",
}


def title(code: str, lang: str) -> str:
    return error_messages.title(code, lang)


def input_errors(exc: InputError, lang: str) -> list[dict[str, str]]:
    if lang in ("kk", "ru"):
        return exc.messages(lang)
    out = []
    for e in exc.errors:
        try:
            reason = EN_REASONS.get(e.code, e.code).format(**e.params)
        except (KeyError, IndexError):
            reason = EN_REASONS.get(e.code, e.code)
        out.append({"field": e.path, "code": e.code, "message": f"{e.path}: {reason}"})
    return out


def problem(
    status: int,
    code: str,
    lang: str,
    *,
    detail: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    instance: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": f"urn:docservice:problem:{code}",
        "title": title(code, lang),
        "status": status,
        "code": code,
    }
    body.update(extra or {})
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=MEDIA_TYPE)
    response.headers["Content-Language"] = lang
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def field_error(field: str | None, code: str, message: str) -> list[dict[str, Any]]:
    return [{"field": field, "code": code, "message": message}] if field else []


#: Seconds a client waits before retrying a 503.
RETRY_AFTER = "5"


def problem_for(exc: BaseException, lang: str, instance: str | None) -> Response:
    """The API's answer to ``exc``: the one place an error becomes an HTTP status.

    A :class:`DocserviceError` carries its status and stable code; a peer that is down is a
    503 to retry; anything else is a bug: logged with its type and place (never the
    message, which may hold personal data) and answered 500 with the request id the log
    line carries, so nobody is told the fault was theirs.
    """
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout
    from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

    from docservice.a3_from_activities import ActivityReportError, AggregationError
    from docservice.errors import DocserviceError, UnknownKindError
    from docservice.render import BadLanguageError
    from docservice.service.errors import ServiceError
    from docservice.service.route import RouteError
    from signing.errors import SigningError

    lg, path = lang, instance
    retry = {"Retry-After": RETRY_AFTER}
    if isinstance(exc, ActivityReportError):  # a stored report no longer passes its rules
        return problem(
            422,
            "invalid_input",
            lg,
            detail=exc.source,
            instance=path,
            errors=input_errors(exc.error, lg),
        )
    if isinstance(exc, AggregationError):
        return problem(
            422,
            "unprocessable",
            lg,
            detail=str(exc),
            instance=path,
            errors=field_error(exc.field, "unprocessable", str(exc)),
        )
    if isinstance(exc, InputError):  # a body that is no JSON at all is a 400
        return problem(
            exc.status if exc.status == 400 else 422,
            "bad_request" if exc.status == 400 else "invalid_input",
            lg,
            errors=input_errors(exc, lg),
            instance=path,
        )
    if isinstance(exc, UnknownKindError | BadLanguageError):
        fld = "kind" if isinstance(exc, UnknownKindError) else "lang"
        return problem(
            422,
            "invalid_input",
            lg,
            instance=path,
            errors=field_error(fld, "not_in_choices", str(exc)),
        )
    if isinstance(exc, RouteError):  # the step and the reason, in the caller's language
        message = exc.message(lg)
        log.info("route refused: %s", exc.reason)
        return problem(
            exc.status,
            exc.code,
            lg,
            detail=message,
            instance=path,
            errors=[{"field": exc.field, "code": exc.reason, "message": message}],
        )
    if isinstance(exc, ServiceError):
        headers = retry if exc.status == 503 else None
        if exc.status == 401:
            headers = {"WWW-Authenticate": 'Bearer realm="docservice"'}
        return problem(
            exc.status,
            exc.code,
            lg,
            detail=exc.detail,
            instance=path,
            headers=headers,
            errors=field_error(exc.field, exc.code, exc.detail),
        )
    if isinstance(exc, SigningError):
        message = exc.message(lg)
        log.info("signing refused: %s", exc.code)
        return problem(
            exc.status,
            "signing_refused" if exc.status != 503 else "unavailable",
            lg,
            detail=message,
            instance=path,
            headers=retry if exc.status == 503 else None,
            errors=[{"field": None, "code": exc.code, "message": message}],
        )
    if isinstance(exc, OperationalError | PoolTimeout):
        log.warning("database unavailable: %s", describe(exc))
        return problem(503, "unavailable", lg, instance=path, headers=retry)
    if isinstance(exc, RequestEntityTooLarge):
        return problem(413, "too_large", lg, instance=path)
    if isinstance(exc, HTTPException):
        code = {404: "not_found", 405: "method_not_allowed", 429: "rate_limited"}.get(
            exc.code or 400, "bad_request"
        )
        headers = {"Retry-After": "60"} if exc.code == 429 else None
        return problem(
            exc.code or 400, code, lg, detail=exc.description, instance=path, headers=headers
        )
    if isinstance(exc, DocserviceError) and exc.status < 500:
        return problem(
            exc.status,
            "unprocessable",
            lg,
            detail=str(exc),
            instance=path,
            errors=[
                {"field": getattr(exc, "field", None), "code": exc.code, "message": exc.message(lg)}
            ],
        )
    if isinstance(exc, DocserviceError) and exc.status == 503:
        log.warning("unavailable: %s", describe(exc))
        return problem(503, "unavailable", lg, instance=path, headers=retry)
    return internal_problem(exc, lg, path)


def internal_problem(exc: BaseException, lang: str, instance: str | None) -> Response:
    """A bug: logged (type and place), answered 500 with the request id, no traceback."""
    rid = request_id.get()
    log.error("unexpected failure: %s", describe(exc))
    return problem(
        500,
        "internal",
        lang,
        instance=instance,
        detail=error_messages.message("internal_with_id", lang, request_id=rid or "-"),
        extra={"request_id": rid} if rid else None,
    )
