"""Errors an official may see, in Kazakh and Russian (and English for API callers).

Why: a signing failure is shown to the person holding the key (through the CLI or the web
page), so every error carries a stable machine ``code`` (``reason``, its older name) and
says itself in each language from the one table of :mod:`docservice.error_messages`;
``str()`` gives "kk / ru" on one line. Messages never contain an IIN or a name.
"""

from __future__ import annotations

from typing import ClassVar

from docservice.error_messages import MESSAGES, message
from docservice.errors import DocserviceError


class SigningError(DocserviceError):
    """Nothing was signed; ``code`` names why (stable, for logs and the API)."""

    code = "signing_failed"
    status = 422
    #: This refusal's Kazakh and Russian text before its fields are filled (from the table).
    kk: ClassVar[str]
    ru: ClassVar[str]
    #: The stable code under its first name (logs and the eGov webhook use it).
    reason: ClassVar[str]

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.code not in MESSAGES:
            raise TypeError(
                f"{cls.__name__}.code {cls.code!r} has no text in docservice.error_messages"
            )
        cls.kk, cls.ru, cls.reason = MESSAGES[cls.code][0], MESSAGES[cls.code][1], cls.code

    def __init__(self, detail: str = "", **fmt: object) -> None:
        self.detail = detail
        self.params = dict(fmt)
        self.message_kk = self.message("kk")
        self.message_ru = self.message("ru")
        text = f"{self.message_kk} / {self.message_ru}"
        super().__init__(f"{text} ({detail})" if detail else text)

    def message(self, lang: str) -> str:
        return message(self.code, lang, **self.params)


SigningError.kk, SigningError.ru = MESSAGES["signing_failed"][0], MESSAGES["signing_failed"][1]
SigningError.reason = SigningError.code


class WrongPasswordError(SigningError):
    code = "wrong_password"


class KeyContainerError(SigningError):
    code = "bad_key_container"


class GostKeyError(SigningError):
    code = "gost_key"


class UnsupportedKeyError(SigningError):
    code = "unsupported_key"


class CertificateExpiredError(SigningError):
    code = "certificate_expired"


class CertificateExpiredRevokedError(CertificateExpiredError):
    """Expired, and an OCSP response the caller gave proves it was revoked as well."""

    code = "certificate_expired_revoked"


class CertificateNotYetValidError(SigningError):
    code = "certificate_not_yet_valid"


class KeyUsageError(SigningError):
    code = "no_signing_key_usage"


class RoleError(SigningError):
    code = "role_not_in_certificate"


class CertificateRevokedError(SigningError):
    code = "certificate_revoked"

    def __init__(self, detail: str = "", when: str = "", **fmt: object) -> None:
        super().__init__(detail, when=f" ({when})" if when else "", **fmt)


class CertificateUntrustedError(SigningError):
    code = "certificate_untrusted"


class ServiceUnavailableError(SigningError):
    code = "service_unavailable"
    status = 503


class DocumentError(SigningError):
    code = "bad_document"


class SignatureValueError(SigningError):
    code = "bad_signature_value"


class SignerCountError(SignatureValueError):
    """The CMS from outside adds no signer, or more than the one expected."""

    code = "unexpected_signer_count"


class SignerMismatchError(SignatureValueError):
    """The SignerInfo names another certificate (issuer + serial or key identifier)."""

    code = "signer_mismatch"


class DigestMismatchError(SignatureValueError):
    """The signed messageDigest (or its algorithm) is not the prepared one."""

    code = "digest_mismatch"


class InvalidSignatureValueError(SignatureValueError):
    """The signature value does not verify with the certificate's public key (forged)."""

    code = "signature_value_invalid"
