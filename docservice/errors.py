"""Errors the caller can act on, with messages in the caller's language."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from docservice.forms.fields import FieldError


class DocserviceError(Exception):
    """Base of every error meant for the caller rather than a traceback."""


class InputError(DocserviceError):
    """The input of a document failed validation; nothing has been written."""

    def __init__(self, errors: list[FieldError], kind: str) -> None:
        self.errors = list(errors)
        self.kind = kind
        super().__init__(f"{len(self.errors)} invalid field(s) in {kind}: "
                         + ", ".join(e.path for e in self.errors))

    def messages(self, lang: str) -> list[dict[str, str]]:
        """One ``{field, code, message}`` per error, the message in ``lang`` (kk or ru)."""
        from docservice.texts import texts_for

        texts = texts_for(lang.split("+")[0])
        return [
            {"field": e.path, "code": e.code,
             "message": texts.error_message(self.kind, e.path, e.code, e.params)}
            for e in self.errors
        ]


class UnknownKindError(DocserviceError):
    """No document kind of that name."""
