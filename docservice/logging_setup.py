"""Logging for the CLI and the server, set up once: one JSON object per line, no stacks.

Why: libraries log on their own. pyHanko, for one, logs a full traceback when a signed
revision was changed afterwards (``Error in diff operation ...`` with its
``SuspiciousModification``), a case the verification report already states as
``SIG_CONSTRAINTS_FAILURE``. Unconfigured, Python prints such records on stderr, and an
official reads a traceback as a crash. So :func:`configure` puts one handler on the root
logger:

* It writes JSON lines: ``ts``, ``level``, ``logger``, ``message``, ``request_id`` inside
  an HTTP request (:func:`request_context`) and ``error`` when the record carries an
  exception. A stack is never written: the exception becomes ``TypeName at file:line``
  (:func:`docservice.logsafe.describe`), since exception messages may quote the input.
* Records of libraries (every logger outside ``docservice`` and ``signing``) are capped
  at WARNING - the service, not the library, decides what is an error and says it in
  its report - and their text is redacted: libraries put certificate subjects in their
  messages (``Failed to build path for <subject>``), i.e. names and IINs. Their messages
  are English, so any run of non-ASCII letters is data and is replaced, as are e-mail
  addresses; a traceback formatted into the text is dropped, and the message is cut at
  :data:`LIBRARY_MESSAGE_CHARS`.
* Every message, ours included, passes a last mask: a run of 12 digits (an IIN or a BIN)
  keeps only its first and last two digits (:func:`docservice.identifiers.mask`).
* Where: ``$DOCSERVICE_LOG_FILE`` (appended to) if set, else stderr. Level:
  ``$DOCSERVICE_LOG_LEVEL`` if set, else INFO for the server and for a CLI writing to a
  file, ERROR for a CLI writing to the terminal: there the CLI's own messages speak to
  the user (one clear line per problem), and the log adds only what went wrong inside.
* ``$DOCSERVICE_LOG_COPY_DIR``, if set, gets a copy of every line written, in
  ``<role>-<pid>.jsonl``: the test suite sets it so that, at its end, it can search the
  logs of every process it started for an unmasked IIN or name (``tests/logscan.py``).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
import logging
import os
import re
import sys
from collections.abc import Iterator
from typing import Literal, TextIO

from docservice.identifiers import mask
from docservice.logsafe import describe

Role = Literal["cli", "server", "worker"]
LOG_FILE_ENV = "DOCSERVICE_LOG_FILE"
LOG_LEVEL_ENV = "DOCSERVICE_LOG_LEVEL"
LOG_COPY_DIR_ENV = "DOCSERVICE_LOG_COPY_DIR"
#: Loggers whose records are the service's own; every other logger is a library's.
OWN_LOGGERS = ("docservice", "signing")
#: A library record's message is cut here: one line, however chatty the library.
LIBRARY_MESSAGE_CHARS = 300

#: The HTTP request being served, for ``request_id`` in every record logged meanwhile.
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "docservice_request_id", default=None
)

_TWELVE_DIGITS = re.compile(r"(?<!\d)\d{12}(?!\d)")
_NON_ASCII_WORD = re.compile(r"[^\W\d_]*[^\x00-\x7f][^\W\d_]*")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")


def is_library(name: str) -> bool:
    """Whether logger ``name`` belongs to a library rather than to the service."""
    return not any(name == own or name.startswith(own + ".") for own in OWN_LOGGERS)


def effective_level(record: logging.LogRecord) -> int:
    """The record's level as the service logs it: a library's is capped at WARNING."""
    if is_library(record.name):
        return min(record.levelno, logging.WARNING)
    return record.levelno


def _mask_numbers(text: str) -> str:
    return _TWELVE_DIGITS.sub(lambda m: mask(m.group(0)), text)


def _redact_library_text(text: str) -> str:
    # A library that formats a traceback into its message (werkzeug's "Error on request")
    # keeps its first words only.
    text = text.split("Traceback (most recent call last)")[0]
    text = _EMAIL.sub("<e-mail>", text)
    text = _NON_ASCII_WORD.sub("<…>", text)
    text = " ".join(text.split())  # one line, even for a library's multi-line message
    if len(text) > LIBRARY_MESSAGE_CHARS:
        text = text[: LIBRARY_MESSAGE_CHARS - 1] + "…"
    return text


#: Fields of the access line (``docservice.web``): a route *pattern*, never the path, whose
#: segments may be one-time tokens.
ACCESS_FIELDS = ("method", "route", "status", "ms", "client")


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per record, on one line; never a stack, never an unmasked IIN."""

    def format(self, record: logging.LogRecord) -> str:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # arguments that do not fit the format
            message = str(record.msg)
        if is_library(record.name):
            message = _redact_library_text(message)
        entry: dict[str, object] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": logging.getLevelName(effective_level(record)),
            "logger": record.name,
            "message": _mask_numbers(message),
            "pid": record.process,  # which gunicorn worker (or other process) logged it
        }
        current = request_id.get()
        if current:
            entry["request_id"] = current
        for name in ACCESS_FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info and record.exc_info[1] is not None:
            entry["error"] = describe(record.exc_info[1])
        return json.dumps(entry, ensure_ascii=False)


class _Threshold(logging.Filter):
    """Passes records at or above the threshold, judged on :func:`effective_level`.

    The handler's own level cannot do this: it is compared with the record's original
    level, so a library's ERROR would pass a WARNING cap on its way to an ERROR threshold.
    """

    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        return effective_level(record) >= self.level


class _QuietHandler(logging.StreamHandler[TextIO]):
    """A stream handler that never prints Python's "--- Logging error ---" traceback."""

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        with contextlib.suppress(Exception):
            self.stream.write(
                json.dumps(
                    {
                        "level": "ERROR",
                        "logger": __name__,
                        "message": "a log record could not be written",
                    }
                )
                + "\n"
            )


def _level(role: Role, to_file: bool) -> int:
    configured = os.environ.get(LOG_LEVEL_ENV, "").strip().upper()
    if configured:
        level = logging.getLevelName(configured)
        if isinstance(level, int):
            return level
    if role in ("server", "worker") or to_file:
        return logging.INFO
    return logging.ERROR


def _handler(
    target: TextIO, level: int, *, owns_stream: bool, copy: bool = False
) -> logging.Handler:
    """The log's handler (``_docservice``) or its copy's (``_docservice_copy``)."""
    handler = _QuietHandler(target)
    handler.setFormatter(JsonLinesFormatter())
    handler.addFilter(_Threshold(level))
    setattr(handler, "_docservice_copy" if copy else "_docservice", True)
    handler._owns_stream = owns_stream  # type: ignore[attr-defined]
    return handler


def is_service_handler(handler: logging.Handler) -> bool:
    """Whether :func:`configure` installed ``handler`` (the log or its copy)."""
    return bool(
        getattr(handler, "_docservice", False) or getattr(handler, "_docservice_copy", False)
    )


def configure(role: Role, stream: TextIO | None = None) -> logging.Handler:
    """Install the service's log handler on the root logger (again: replace it).

    ``stream`` overrides ``$DOCSERVICE_LOG_FILE`` and stderr (tests). Returns the handler.
    """
    path = os.environ.get(LOG_FILE_ENV) if stream is None else None
    target: TextIO = stream if stream is not None else sys.stderr
    unusable = None
    if path:
        try:
            target = open(path, "a", encoding="utf-8")  # noqa: SIM115 - lives with the process
        except OSError as exc:  # say so on stderr, in the log's own format, and go on
            unusable, path = exc.strerror or type(exc).__name__, None
    level = _level(role, bool(path))
    handler = _handler(target, level, owns_stream=bool(path))
    root = logging.getLogger()
    for old in [h for h in root.handlers if is_service_handler(h)]:
        root.removeHandler(old)
        if getattr(old, "_owns_stream", False):
            old.stream.close()  # type: ignore[attr-defined]
    root.addHandler(handler)
    copy_dir = os.environ.get(LOG_COPY_DIR_ENV)
    if copy_dir:
        with contextlib.suppress(OSError):  # a copy only: the log itself goes on
            path = os.path.join(copy_dir, f"{role}-{os.getpid()}.jsonl")
            copy = open(path, "a", encoding="utf-8")  # noqa: SIM115 - the handler owns it
            root.addHandler(_handler(copy, level, owns_stream=True, copy=True))
    # Records below WARNING are made only when asked for; a library's ERROR is capped to
    # WARNING by the filter, so the root must let WARNING through whatever the threshold.
    root.setLevel(min(level, logging.WARNING))
    logging.captureWarnings(True)  # Python warnings of libraries: one line, as records
    if role == "server":
        # The access log is the service's own (``docservice.web``, with the request id).
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    if unusable:
        logging.getLogger(__name__).error(
            "%s is unusable (%s): logging to stderr", LOG_FILE_ENV, unusable
        )
    return handler


@contextlib.contextmanager
def request_context(rid: str) -> Iterator[None]:
    """Records logged inside carry ``request_id`` = ``rid``."""
    token = request_id.set(rid)
    try:
        yield
    finally:
        request_id.reset(token)
