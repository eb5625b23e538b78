"""Describing a failure in the log without its message.

Exception messages from parsers and libraries may quote the input, and the input
holds personal data (IINs, names). The log gets the type and where it was raised.
"""

from __future__ import annotations

import traceback


def describe(exc: BaseException) -> str:
    """``TypeName at file.py:123`` for ``exc``, with nothing of its message."""
    frames = traceback.extract_tb(exc.__traceback__) if exc.__traceback__ else []
    where = f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__}{where}"
