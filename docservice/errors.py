"""The one error hierarchy: everything meant for the caller rather than a traceback.

Why one base: signing refusals, unusable verification input, invalid document data and the
service's refusals all reach the same people through the CLI, the verification page and the
API. Each error carries a stable ``code`` (for scripts, logs and the API) and says itself in
Kazakh, Russian or English with :meth:`DocserviceError.message`, from one table
(:mod:`docservice.error_messages`). ``status`` is the HTTP status the web layers answer
with; the CLI maps every one to exit status 2 (:mod:`docservice.cli_errors`). Anything that
is *not* a ``DocserviceError`` is a bug: a logged 500 or exit status 70, never the caller's
fault.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

from docservice import error_messages

if TYPE_CHECKING:
    from docservice.forms.fields import FieldError


class DocserviceError(Exception):
    """Base of every error meant for the caller rather than a traceback."""

    #: Stable machine-readable reason (a key of :data:`error_messages.MESSAGES`).
    code: str = "error"
    #: The HTTP status the web layers answer with.
    status: int = 422
    #: ``str.format`` fields of the message (never personal data); set per instance.
    params: Mapping[str, object] = MappingProxyType({})

    def message(self, lang: str) -> str:
        """The reason in ``lang`` (kk, ru or en), for the person who can act on it.

        An error without a code of its own ("error") adds the words it was raised with.
        """
        text = error_messages.message(self.code, lang, **self.params)
        return f"{text}: {self}" if self.code == "error" and str(self) else text


class InputError(DocserviceError):
    """The input of a document failed validation; nothing has been written."""

    code = "invalid_input"

    def __init__(self, errors: list[FieldError], kind: str) -> None:
        self.errors = list(errors)
        self.kind = kind
        super().__init__(
            f"{len(self.errors)} invalid field(s) in {kind}: "
            + ", ".join(e.path for e in self.errors)
        )

    def messages(self, lang: str) -> list[dict[str, str]]:
        """One ``{field, code, message}`` per error, the message in ``lang`` (kk or ru)."""
        from docservice.texts import texts_for

        texts = texts_for(lang.split("+")[0])
        return [
            {
                "field": e.path,
                "code": e.code,
                "message": texts.error_message(self.kind, e.path, e.code, e.params),
            }
            for e in self.errors
        ]

    def message(self, lang: str) -> str:
        if lang not in ("kk", "ru"):
            return f"{super().message(lang)}: {', '.join(e.path for e in self.errors)}"
        return "; ".join(item["message"] for item in self.messages(lang))


class UnknownKindError(DocserviceError):
    """No document kind of that name."""

    code = "unknown_kind"
