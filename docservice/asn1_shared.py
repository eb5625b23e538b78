"""asn1crypto values parsed whole before threads share them.

Why: asn1crypto parses lazily and keeps what it parsed inside the value, without a lock.
Two threads reading the same value for the first time can meet a half-built list of
children (``KeyError: No field numbered 3 is present``): a worker's threads signing with
the same cached server key right after start-up got that as a rare 500. A value put
where several threads read it (a cached key's certificates, the trust anchors, cached
OCSP answers and CRLs) is parsed whole first, once, by the thread that loads it.
"""

from __future__ import annotations

import contextlib
from typing import TypeVar

from asn1crypto.core import Asn1Value

V = TypeVar("V", bound=Asn1Value)


def parsed_whole(value: V) -> V:
    """``value`` with every nested value parsed (and its native form made); returns it.

    A value asn1crypto cannot turn into Python (an undecodable extension) keeps the
    lazy parts it had: it is no worse than before, and reading it fails as before."""
    with contextlib.suppress(ValueError, TypeError, KeyError):
        value.native  # noqa: B018 - the recursive parse is the point
    return value
