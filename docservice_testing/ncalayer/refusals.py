"""What the emulated NCALayer answers instead of a signature: a refusal or a cancelled dialog."""

from __future__ import annotations

from signing.ncalayer import protocol as p


class RefusedError(Exception):
    """A request NCALayer would refuse; ``code`` is the basics code."""

    def __init__(self, code: p.BasicsCode, message: str, details: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


class CancelledError(Exception):
    """The chooser closed the dialog."""
