"""How the service writes a moment for people and for machines (one rule each).

Why here: the verification report, its HTML page and PDF receipt, and the archive card all
print times; they must print the same instant the same way, in UTC (a report read in
Almaty or in an archive abroad is unambiguous), to the second.
"""

from __future__ import annotations

import datetime as dt


def utc_text(moment: dt.datetime | None, empty: str = "") -> str:
    """``2025-03-01 09:30:00 UTC``; ``empty`` when there is no moment. A naive moment is
    taken as UTC (asn1crypto and pyHanko give aware ones)."""
    if moment is None:
        return empty
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def utc_iso(moment: dt.datetime) -> str:
    """ISO 8601 in UTC with ``Z`` (``2025-03-01T09:30:00Z``), for JSON."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
