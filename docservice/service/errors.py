"""What the domain functions refuse, with an HTTP status the API answers with.

The CLI prints the same errors as one line; ``code`` is stable for callers.
"""

from __future__ import annotations

from docservice.errors import DocserviceError


class ServiceError(DocserviceError):
    status = 400
    code = "bad_request"

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


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
