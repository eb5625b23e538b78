"""What the domain functions refuse, with an HTTP status the API answers with.

The CLI prints the same errors as one line; ``code`` is stable for callers and names the
problem type, whose title (kk, ru, en) is :meth:`message`; ``detail`` says what exactly.
"""

from __future__ import annotations

from docservice import error_messages
from docservice.errors import DocserviceError


class ServiceError(DocserviceError):
    status = 400
    code = "bad_request"

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field

    def message(self, lang: str) -> str:
        return error_messages.title(self.code, lang)


class NotFoundError(ServiceError):
    status, code = 404, "not_found"


class ForbiddenError(ServiceError):
    status, code = 403, "forbidden"


class ConflictError(ServiceError):
    status, code = 409, "conflict"


class UnprocessableError(ServiceError):
    status, code = 422, "unprocessable"


class GoneError(ServiceError):
    status, code = 410, "gone"


class UnavailableError(ServiceError):
    """A peer (database, TSA, OCSP) is unreachable: retry later."""

    status, code = 503, "unavailable"
