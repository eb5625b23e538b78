"""What every command line prints and returns for an error: the one mapping to exit statuses.

Why one place: ``docservice``, ``docservice sign`` and ``docservice verify`` reach the same
officials and scripts. A :class:`DocserviceError` (or an unreadable/unwritable path) is the
caller's to fix: its message on one line (one per field for invalid data) and status 2. Any
other exception is a bug: its type and place go to the log, the terminal gets one line
asking to report it, and the status is 70 (sysexits' EX_SOFTWARE); never a traceback.
"""

from __future__ import annotations

import logging
import sys

from docservice.errors import DocserviceError, InputError
from docservice.logsafe import describe

#: The caller can fix it (bad input, refused signature, unusable file, missing path).
EXIT_REFUSED = 2
#: A bug: nothing the caller did (sysexits' EX_SOFTWARE).
EXIT_INTERNAL = 70
#: Interrupted with Ctrl-C.
EXIT_INTERRUPTED = 130

log = logging.getLogger("docservice.cli")


def exit_status(exc: BaseException) -> int:
    """The exit status of a command that failed with ``exc``."""
    if isinstance(exc, DocserviceError | OSError):
        return EXIT_REFUSED
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    return EXIT_INTERNAL


def lines(exc: BaseException, lang: str) -> list[str]:
    """What the terminal shows for ``exc``; ``lang`` ``kk+ru`` shows both languages."""
    langs = [lg for lg in lang.split("+") if lg] or ["kk"]
    if isinstance(exc, InputError):
        return [item["message"] for item in exc.messages(langs[0])]
    if isinstance(exc, DocserviceError):
        if exc.code == "error":  # no words of its own: the ones it was raised with
            return [str(exc)]
        text = " / ".join(exc.message(lg) for lg in langs)
        detail = getattr(exc, "detail", None)
        detail = str(exc) if detail is None else detail
        return [f"{text} ({detail})" if detail else text]
    if isinstance(exc, OSError):
        return [f"{exc.filename or ''}: {exc.strerror or exc}"]
    return []


def fail(prog: str, exc: BaseException, lang: str = "kk", *, command: str | None = None) -> int:
    """Print ``exc`` for the caller (``prog: ...``), log a bug, return the exit status."""
    status = exit_status(exc)
    if status == EXIT_INTERNAL:
        log.error("internal error in %r: %s", command or prog, describe(exc))
        print(f"{prog}: internal error ({type(exc).__name__}); please report it", file=sys.stderr)
    elif status == EXIT_REFUSED:
        bare = isinstance(exc, InputError)  # field messages name their field themselves
        for line in lines(exc, lang):
            print(line if bare or not prog else f"{prog}: {line}", file=sys.stderr)
    return status
