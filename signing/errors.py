"""Errors an official may see, in Kazakh and Russian.

Why: a signing failure is shown to the person holding the key (through the CLI or the web
page), so every error carries a stable machine ``reason`` plus one message per language;
``str()`` gives "kk / ru" on one line. Messages never contain an IIN or a name.
"""

from __future__ import annotations


class SigningError(Exception):
    """Nothing was signed; ``reason`` names why (stable code, for logs and the API)."""

    reason = "signing_failed"
    kk = "Қол қою орындалмады"
    ru = "Подписание не выполнено"

    def __init__(self, detail: str = "", **fmt: object) -> None:
        self.detail = detail
        self.message_kk = self.kk.format(**fmt)
        self.message_ru = self.ru.format(**fmt)
        text = f"{self.message_kk} / {self.message_ru}"
        super().__init__(f"{text} ({detail})" if detail else text)


class WrongPasswordError(SigningError):
    reason = "wrong_password"
    kk = "Кілт контейнерінің құпиясөзі қате"
    ru = "Неверный пароль контейнера ключа"


class KeyContainerError(SigningError):
    reason = "bad_key_container"
    kk = "Кілт файлы оқылмайды немесе бүлінген"
    ru = "Файл ключа не читается или повреждён"


class GostKeyError(SigningError):
    reason = "gost_key"
    kk = "ГОСТ кілтінің бұл түрі қолдау көрсетілмейді (белгісіз параметрлер жиыны)"
    ru = "Этот вид ключа ГОСТ не поддерживается (неизвестный набор параметров)"


class UnsupportedKeyError(SigningError):
    reason = "unsupported_key"
    kk = "Кілт түрі қолдау көрсетілмейді: {algorithm}"
    ru = "Тип ключа не поддерживается: {algorithm}"


class CertificateExpiredError(SigningError):
    reason = "certificate_expired"
    kk = "Сертификаттың қолданылу мерзімі өтті ({date})"
    ru = "Срок действия сертификата истёк ({date})"


class CertificateExpiredRevokedError(CertificateExpiredError):
    """Expired, and an OCSP response the caller gave proves it was revoked as well."""

    reason = "certificate_expired_revoked"
    kk = ("Сертификаттың қолданылу мерзімі өтті ({date}), сонымен қатар ол кері "
          "қайтарылған ({revoked})")
    ru = "Срок действия сертификата истёк ({date}), кроме того, он отозван ({revoked})"


class CertificateNotYetValidError(SigningError):
    reason = "certificate_not_yet_valid"
    kk = "Сертификат әлі күшіне енген жоқ ({date} бастап)"
    ru = "Сертификат ещё не действует (с {date})"


class KeyUsageError(SigningError):
    reason = "no_signing_key_usage"
    kk = "Бұл сертификат қол қоюға арналмаған (аутентификация кілті)"
    ru = "Сертификат не предназначен для подписи (ключ аутентификации)"


class RoleError(SigningError):
    reason = "role_not_in_certificate"
    kk = "Сертификатта «{role}» рөлі жоқ"
    ru = "В сертификате нет роли «{role}»"


class CertificateRevokedError(SigningError):
    reason = "certificate_revoked"
    kk = "Сертификат кері қайтарылған{when}"
    ru = "Сертификат отозван{when}"

    def __init__(self, detail: str = "", when: str = "", **fmt: object) -> None:
        super().__init__(detail, when=f" ({when})" if when else "", **fmt)


class CertificateUntrustedError(SigningError):
    reason = "certificate_untrusted"
    kk = "Сертификатты тексеру мүмкін болмады"
    ru = "Сертификат не прошёл проверку"


class ServiceUnavailableError(SigningError):
    reason = "service_unavailable"
    kk = "{service} қызметі қолжетімсіз"
    ru = "Служба {service} недоступна"


class DocumentError(SigningError):
    reason = "bad_document"
    kk = "Құжатқа қол қою мүмкін емес"
    ru = "Документ нельзя подписать"


class SignatureValueError(SigningError):
    reason = "bad_signature_value"
    kk = "Сыртқы қолтаңба бұл құжатқа немесе сертификатқа сәйкес келмейді"
    ru = "Внешняя подпись не соответствует документу или сертификату"


class SignerCountError(SignatureValueError):
    """The CMS from outside adds no signer, or more than the one expected."""

    reason = "unexpected_signer_count"
    kk = "Сыртқы қолтаңбада бір ғана жаңа қол қоюшы болуы керек"
    ru = "Внешняя подпись должна содержать ровно одного нового подписанта"


class SignerMismatchError(SignatureValueError):
    """The SignerInfo names another certificate (issuer + serial or key identifier)."""

    reason = "signer_mismatch"
    kk = "Қолтаңба күтілген сертификатпен қойылмаған"
    ru = "Подпись поставлена не ожидаемым сертификатом"


class DigestMismatchError(SignatureValueError):
    """The signed messageDigest (or its algorithm) is not the prepared one."""

    reason = "digest_mismatch"
    kk = "Қолтаңба дайындалған құжатқа қойылмаған (хэш сәйкес емес)"
    ru = "Подпись сделана не над подготовленным документом (хэш не совпадает)"


class InvalidSignatureValueError(SignatureValueError):
    """The signature value does not verify with the certificate's public key (forged)."""

    reason = "signature_value_invalid"
    kk = "Қолтаңба мәні сертификаттың ашық кілтімен расталмайды"
    ru = "Значение подписи не проверяется открытым ключом сертификата"
