"""Errors as ``application/problem+json`` (RFC 9457), in the caller's language.

One problem per response; a validation failure carries one ``errors`` entry per bad field
(``field`` is the input path, ``code`` the stable reason, ``message`` in the chosen
language). Kazakh and Russian field messages are the forms' own (templates_kk/ru); English
callers get the path and an English reason. ``type`` is ``urn:docservice:problem:CODE``.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response

from docservice.errors import InputError

LANGS = ("kk", "ru", "en")
MEDIA_TYPE = "application/problem+json"

#: Problem titles: code -> (kk, ru, en).
TITLES: dict[str, tuple[str, str, str]] = {
    "invalid_input": ("Деректер қате толтырылған", "Данные заполнены неверно",
                      "The input is invalid"),
    "bad_request": ("Сұрау қате", "Неверный запрос", "Bad request"),
    "unauthorized": ("API кілті жоқ немесе жарамсыз", "Ключ API отсутствует или недействителен",
                     "Missing or invalid API key"),
    "forbidden": ("Бұл әрекетке рұқсат жоқ", "Это действие не разрешено",
                  "This action is not allowed"),
    "not_found": ("Табылмады", "Не найдено", "Not found"),
    "method_not_allowed": ("Бұл әдіске рұқсат жоқ", "Метод не разрешён", "Method not allowed"),
    "conflict": ("Құжат өзгерді", "Документ изменился", "The document changed"),
    "gone": ("Мерзімі өтті немесе аяқталды", "Истёк или уже завершён",
             "Expired or already completed"),
    "unprocessable": ("Сұрауды орындау мүмкін емес", "Запрос не может быть выполнен",
                      "The request cannot be processed"),
    "signing_refused": ("Қол қою орындалмады", "Подписание не выполнено", "Signing refused"),
    "route_refused": ("Бағыттың бұл қадамында әрекет етуге рұқсат жоқ",
                      "Действие на этом шаге маршрута не разрешено",
                      "Not allowed at this step of the route"),
    "route_conflict": ("Құжаттың бағыттағы күйі бұл әрекетке сәйкес емес",
                       "Состояние документа на маршруте не допускает это действие",
                       "The document's route state does not allow this action"),
    "idempotency_mismatch": ("Idempotency-Key басқа сұрауда қолданылған",
                             "Idempotency-Key уже использован для другого запроса",
                             "Idempotency-Key was used with another request"),
    "idempotency_in_progress": ("Осы Idempotency-Key сұрауы әлі орындалуда",
                                "Запрос с этим Idempotency-Key ещё выполняется",
                                "A request with this Idempotency-Key is still in progress"),
    "too_large": ("Сұрау тым үлкен", "Запрос слишком велик", "Request too large"),
    "rate_limited": ("Сұраулар тым жиі", "Слишком много запросов", "Too many requests"),
    "unsupported_media_type": ("JSON күтілді", "Ожидался JSON", "JSON expected"),
    "unavailable": ("Қызмет уақытша қолжетімсіз", "Сервис временно недоступен",
                    "Service temporarily unavailable"),
    "internal": ("Ішкі қате", "Внутренняя ошибка", "Internal error"),
}

#: English reasons for the forms' error codes (kk/ru come from the templates).
EN_REASONS: dict[str, str] = {
    "required": "is required", "not_text": "must be text", "too_long": "at most {max} characters",
    "one_line": "must be one line", "control_chars": "contains control characters",
    "bad_format": "has a wrong format", "bad_email": "is not an e-mail address",
    "bad_phone": "is not a phone number", "iin_format": "an IIN is 12 digits",
    "iin_checksum": "the IIN's check digit is wrong",
    "iin_date": "the birth date in the IIN is not a real date",
    "iin_birth_mismatch": "the birth date in the IIN differs from the date of birth given",
    "bin_format": "a BIN is 12 digits", "bin_checksum": "the BIN's check digit is wrong",
    "bad_date": "must be a real date, YYYY-MM-DD", "bad_month": "must be a month, YYYY-MM",
    "not_integer": "must be an integer", "out_of_range": "must be from {min} to {max}",
    "not_boolean": "must be true or false", "not_in_choices": "must be one of: {choices}",
    "not_list": "must be a list", "too_few": "at least {min} entries",
    "too_many": "at most {max} entries", "not_object": "must be a JSON object",
    "unknown_field": "no such field", "date_in_future": "cannot be in the future",
    "date_before": "cannot be before {other}", "duplicate": "repeated: {value}",
    "not_json": "is not JSON", "not_after": "cannot be after {other}",
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
    kk, ru, en = TITLES.get(code, TITLES["bad_request"])
    return {"kk": kk, "ru": ru}.get(lang, en)


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


def problem(status: int, code: str, lang: str, *, detail: str | None = None,
            errors: list[dict[str, Any]] | None = None,
            headers: dict[str, str] | None = None, instance: str | None = None) -> Response:
    body: dict[str, Any] = {"type": f"urn:docservice:problem:{code}",
                            "title": title(code, lang), "status": status, "code": code}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body, ensure_ascii=False), status=status,
                        mimetype=MEDIA_TYPE)
    response.headers["Content-Language"] = lang
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def field_error(field: str | None, code: str, message: str) -> list[dict[str, Any]]:
    return [{"field": field, "code": code, "message": message}] if field else []
