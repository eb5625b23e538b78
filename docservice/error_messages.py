"""The wording of every error a caller or an official may see, in Kazakh, Russian and English.

Why one table: the same refusal reaches an official through the CLI, the verification page,
the API's problem+json and the eGov app; each used to carry its own copy of the words.
Every :class:`docservice.errors.DocserviceError` takes its ``message(lang)`` from here by its
stable ``code`` (the forms' field errors keep theirs in ``templates_kk/ru``, keyed the same
in both languages). Texts take ``str.format`` fields; they never contain an IIN or a name.
"""

from __future__ import annotations

LANGS = ("kk", "ru", "en")

#: Error messages: code -> (kk, ru, en).
MESSAGES: dict[str, tuple[str, str, str]] = {
    # -- any layer
    "error": (
        "Сұрауды орындау мүмкін емес",
        "Запрос не может быть выполнен",
        "The request cannot be processed",
    ),
    "invalid_input": (
        "Деректер қате толтырылған",
        "Данные заполнены неверно",
        "The input is invalid",
    ),
    "unknown_kind": ("Мұндай құжат түрі жоқ", "Такого вида документа нет", "No such document kind"),
    "bad_language": (
        "Тіл kk, ru немесе kk+ru болуы керек",
        "Язык должен быть kk, ru или kk+ru",
        "The language must be kk, ru or kk+ru",
    ),
    # -- signing (signing/errors.py)
    "signing_failed": ("Қол қою орындалмады", "Подписание не выполнено", "Nothing was signed"),
    "wrong_password": (
        "Кілт контейнерінің құпиясөзі қате",
        "Неверный пароль контейнера ключа",
        "Wrong password of the key container",
    ),
    "bad_key_container": (
        "Кілт файлы оқылмайды немесе бүлінген",
        "Файл ключа не читается или повреждён",
        "The key file cannot be read or is damaged",
    ),
    "gost_key": (
        "ГОСТ кілтінің бұл түрі қолдау көрсетілмейді (белгісіз параметрлер жиыны)",
        "Этот вид ключа ГОСТ не поддерживается (неизвестный набор параметров)",
        "This kind of GOST key is not supported (unknown parameter set)",
    ),
    "unsupported_key": (
        "Кілт түрі қолдау көрсетілмейді: {algorithm}",
        "Тип ключа не поддерживается: {algorithm}",
        "Unsupported key type: {algorithm}",
    ),
    "certificate_expired": (
        "Сертификаттың қолданылу мерзімі өтті ({date})",
        "Срок действия сертификата истёк ({date})",
        "The certificate expired ({date})",
    ),
    "certificate_expired_revoked": (
        "Сертификаттың қолданылу мерзімі өтті ({date}), сонымен қатар ол кері қайтарылған "
        "({revoked})",
        "Срок действия сертификата истёк ({date}), кроме того, он отозван ({revoked})",
        "The certificate expired ({date}) and was revoked as well ({revoked})",
    ),
    "certificate_not_yet_valid": (
        "Сертификат әлі күшіне енген жоқ ({date} бастап)",
        "Сертификат ещё не действует (с {date})",
        "The certificate is not valid yet (from {date})",
    ),
    "no_signing_key_usage": (
        "Бұл сертификат қол қоюға арналмаған (аутентификация кілті)",
        "Сертификат не предназначен для подписи (ключ аутентификации)",
        "The certificate is not meant for signing (authentication key)",
    ),
    "role_not_in_certificate": (
        "Сертификатта «{role}» рөлі жоқ",
        "В сертификате нет роли «{role}»",
        "The certificate does not hold the role «{role}»",
    ),
    "certificate_revoked": (
        "Сертификат кері қайтарылған{when}",
        "Сертификат отозван{when}",
        "The certificate is revoked{when}",
    ),
    "certificate_untrusted": (
        "Сертификатты тексеру мүмкін болмады",
        "Сертификат не прошёл проверку",
        "The certificate could not be validated",
    ),
    "service_unavailable": (
        "{service} қызметі қолжетімсіз",
        "Служба {service} недоступна",
        "The {service} service is unavailable",
    ),
    "bad_document": (
        "Құжатқа қол қою мүмкін емес",
        "Документ нельзя подписать",
        "The document cannot be signed",
    ),
    "bad_signature_value": (
        "Сыртқы қолтаңба бұл құжатқа немесе сертификатқа сәйкес келмейді",
        "Внешняя подпись не соответствует документу или сертификату",
        "The external signature does not match the document or the certificate",
    ),
    "unexpected_signer_count": (
        "Сыртқы қолтаңбада бір ғана жаңа қол қоюшы болуы керек",
        "Внешняя подпись должна содержать ровно одного нового подписанта",
        "The external signature must add exactly one signer",
    ),
    "signer_mismatch": (
        "Қолтаңба күтілген сертификатпен қойылмаған",
        "Подпись поставлена не ожидаемым сертификатом",
        "The signature was not made with the expected certificate",
    ),
    "digest_mismatch": (
        "Қолтаңба дайындалған құжатқа қойылмаған (хэш сәйкес емес)",
        "Подпись сделана не над подготовленным документом (хэш не совпадает)",
        "The signature is not over the prepared document (hash mismatch)",
    ),
    "signature_value_invalid": (
        "Қолтаңба мәні сертификаттың ашық кілтімен расталмайды",
        "Значение подписи не проверяется открытым ключом сертификата",
        "The signature value does not verify with the certificate's public key",
    ),
    "signing_session_invalid": (
        "Қол қою сеансы табылмады немесе мерзімі өтті; құжатқа қайта қол қойыңыз",
        "Сеанс подписания не найден или истёк; подпишите документ заново",
        "No such signing session, or it expired; sign the document again",
    ),
    # -- verification input (docservice/verification/limits.py); {field} is the input's name
    "missing": ("{field} жіберілмеген.", "{field}: не передан.", "{field}: not sent."),
    "empty": ("{field} бос.", "{field}: пустой файл.", "{field}: empty file."),
    "too_large": (
        "{field} тым үлкен.",
        "{field}: файл слишком большой.",
        "{field}: the file is too large.",
    ),
    "unknown_format": (
        "{field} PDF, XML немесе CMS (қолтаңба) емес.",
        "{field}: это не PDF, XML или CMS (подпись).",
        "{field}: not a PDF, XML or CMS (signature).",
    ),
    "pdf_unreadable": (
        "{field}: PDF файлы бүлінген немесе толық емес, оқу мүмкін емес.",
        "{field}: PDF повреждён или обрезан, прочитать его нельзя.",
        "{field}: the PDF is damaged or truncated and cannot be read.",
    ),
    "pdf_no_signatures": (
        "{field}: PDF файлында қолтаңба жоқ.",
        "{field}: в PDF нет подписей.",
        "{field}: the PDF has no signatures.",
    ),
    "pdf_encrypted": (
        "{field}: шифрланған PDF тексерілмейді.",
        "{field}: зашифрованный PDF не проверяется.",
        "{field}: an encrypted PDF is not verified.",
    ),
    "xml_unreadable": (
        "{field}: XML бүлінген, оқу мүмкін емес.",
        "{field}: XML повреждён, прочитать его нельзя.",
        "{field}: the XML is damaged and cannot be read.",
    ),
    "xml_dtd": (
        "{field}: XML ішінде DTD немесе сыртқы сілтемелер (entity) бар, қауіпсіздік "
        "үшін қабылданбайды.",
        "{field}: XML содержит DTD или внешние сущности и по соображениям "
        "безопасности не принимается.",
        "{field}: the XML holds a DTD or external entities and is refused for safety.",
    ),
    "xml_too_big": (
        "{field}: XML тым терең немесе тым көп элементтен тұрады.",
        "{field}: XML слишком глубокий или содержит слишком много элементов.",
        "{field}: the XML is too deep or has too many elements.",
    ),
    "xml_no_signature": (
        "{field}: XML ішінде қолтаңба (ds:Signature) жоқ.",
        "{field}: в XML нет подписи (ds:Signature).",
        "{field}: the XML has no signature (ds:Signature).",
    ),
    "cms_unreadable": (
        "{field}: CMS қолтаңбасы бүлінген, оқу мүмкін емес.",
        "{field}: подпись CMS повреждена, прочитать её нельзя.",
        "{field}: the CMS signature is damaged and cannot be read.",
    ),
    "cms_no_signer": (
        "{field}: CMS ішінде қол қоюшы туралы мәлімет (SignerInfo) жоқ.",
        "{field}: в CMS нет сведений о подписанте (SignerInfo).",
        "{field}: the CMS names no signer (SignerInfo).",
    ),
    "too_many_signatures": (
        "{field}: қолтаңбалар тым көп.",
        "{field}: слишком много подписей.",
        "{field}: too many signatures.",
    ),
    "too_slow": (
        "{field}: тексеру уақыт шегінен асып кетті.",
        "{field}: проверка превысила лимит времени.",
        "{field}: the verification ran out of time.",
    ),
    "original_unexpected": (
        "{field}: бұл қолтаңба түпнұсқаны өз ішінде сақтайды, бөлек файл қажет емес.",
        "{field}: эта подпись содержит исходные данные, отдельный файл не нужен.",
        "{field}: this signature holds the signed data; no separate file is needed.",
    ),
    "bad_lang": (
        "{field}: тіл kk немесе ru болуы керек.",
        "{field}: язык должен быть kk или ru.",
        "{field}: the language must be kk or ru.",
    ),
    "trust_store": (
        "Сенім қоймасы оқылмайды: {detail}",
        "Хранилище доверия не читается: {detail}",
        "The trust store cannot be read: {detail}",
    ),
    # -- a bug: never the caller's fault
    "internal_with_id": (
        "Ішкі қате; сұрау нөмірін ({request_id}) қолдау қызметіне хабарлаңыз",
        "Внутренняя ошибка; сообщите номер запроса ({request_id}) в поддержку",
        "Internal error; please report the request id ({request_id})",
    ),
}

#: The verification input codes: their texts name the offending input (``{field}``).
VERIFICATION_INPUT_CODES = (
    "missing",
    "empty",
    "too_large",
    "unknown_format",
    "pdf_unreadable",
    "pdf_no_signatures",
    "pdf_encrypted",
    "xml_unreadable",
    "xml_dtd",
    "xml_too_big",
    "xml_no_signature",
    "cms_unreadable",
    "cms_no_signer",
    "too_many_signatures",
    "too_slow",
    "original_unexpected",
    "bad_lang",
)

#: Names of the verification inputs in the messages: field -> (kk, ru, en).
FIELD_NAMES: dict[str, tuple[str, str, str]] = {
    "file": ("Файл", "Файл", "File"),
    "original": ("Түпнұсқа файл", "Исходный файл", "Original file"),
    "lang": ("Тіл", "Язык", "Language"),
    "trust": ("Сенім қоймасы", "Хранилище доверия", "Trust store"),
    "doc": ("Құжат сілтемесі", "Ссылка на документ", "Document link"),
}

#: Titles of the API's problem types (``urn:docservice:problem:CODE``): code -> (kk, ru, en).
TITLES: dict[str, tuple[str, str, str]] = {
    "invalid_input": MESSAGES["invalid_input"],
    "bad_request": ("Сұрау қате", "Неверный запрос", "Bad request"),
    "unauthorized": (
        "API кілті жоқ немесе жарамсыз",
        "Ключ API отсутствует или недействителен",
        "Missing or invalid API key",
    ),
    "forbidden": (
        "Бұл әрекетке рұқсат жоқ",
        "Это действие не разрешено",
        "This action is not allowed",
    ),
    "not_found": ("Табылмады", "Не найдено", "Not found"),
    "method_not_allowed": ("Бұл әдіске рұқсат жоқ", "Метод не разрешён", "Method not allowed"),
    "conflict": ("Құжат өзгерді", "Документ изменился", "The document changed"),
    "gone": (
        "Мерзімі өтті немесе аяқталды",
        "Истёк или уже завершён",
        "Expired or already completed",
    ),
    "unprocessable": MESSAGES["error"],
    "signing_refused": ("Қол қою орындалмады", "Подписание не выполнено", "Signing refused"),
    "route_refused": (
        "Бағыттың бұл қадамында әрекет етуге рұқсат жоқ",
        "Действие на этом шаге маршрута не разрешено",
        "Not allowed at this step of the route",
    ),
    "route_conflict": (
        "Құжаттың бағыттағы күйі бұл әрекетке сәйкес емес",
        "Состояние документа на маршруте не допускает это действие",
        "The document's route state does not allow this action",
    ),
    "idempotency_mismatch": (
        "Idempotency-Key басқа сұрауда қолданылған",
        "Idempotency-Key уже использован для другого запроса",
        "Idempotency-Key was used with another request",
    ),
    "idempotency_in_progress": (
        "Осы Idempotency-Key сұрауы әлі орындалуда",
        "Запрос с этим Idempotency-Key ещё выполняется",
        "A request with this Idempotency-Key is still in progress",
    ),
    "too_large": ("Сұрау тым үлкен", "Запрос слишком велик", "Request too large"),
    "rate_limited": ("Сұраулар тым жиі", "Слишком много запросов", "Too many requests"),
    "unsupported_media_type": ("JSON күтілді", "Ожидался JSON", "JSON expected"),
    "unavailable": (
        "Қызмет уақытша қолжетімсіз",
        "Сервис временно недоступен",
        "Service temporarily unavailable",
    ),
    "internal": ("Ішкі қате", "Внутренняя ошибка", "Internal error"),
}


class _Blank(dict):  # type: ignore[type-arg]
    """Format mapping that leaves a missing field empty rather than failing the error path."""

    def __missing__(self, key: str) -> str:
        return ""


def pick(texts: tuple[str, str, str], lang: str) -> str:
    """The ``lang`` text of a (kk, ru, en) triple; anything else than kk/ru reads English."""
    return texts[LANGS.index(lang)] if lang in LANGS else texts[2]


def message(code: str, lang: str, **params: object) -> str:
    """The message of ``code`` in ``lang`` with its fields filled (``error``'s if unknown)."""
    texts = MESSAGES.get(code) or TITLES.get(code) or MESSAGES["error"]
    if "field" in params and isinstance(params["field"], str):
        params["field"] = pick(FIELD_NAMES.get(params["field"], (params["field"],) * 3), lang)
    return pick(texts, lang).format_map(_Blank({k: str(v) for k, v in params.items()}))


def title(code: str, lang: str) -> str:
    """The title of problem type ``code`` (``bad_request``'s if unknown)."""
    return pick(TITLES.get(code) or TITLES["bad_request"], lang)
