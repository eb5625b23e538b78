"""The monthly Appendix 3 report of a region, built from its activity reports (no retyping).

Point 39 of the Rules wants, by the 5th of the following month, the
information on the work done under the plans, in the form of Appendix 3: one
row per kandas or family member (IIN) and, per service of Appendix 1, the date
it was provided. Every ``activity_report`` (points 35-37) already says who got
which service on which day, so the month's reports of a region give that table:

* a report counts when its region is the one asked for and its activity date
  falls in the month (reports of other regions or months are left out);
* one row per IIN, in the order people first appear in the month;
* a service given to a person more than once in the month (language lessons,
  say) is reported once, with its **last** date in the month: the day by which
  the service had been provided;
* the reports of one region may come from several career centres, while an
  Appendix 3 report is one centre's: then ``career_center`` must name it.

The result is ``report_a3`` input; :func:`build` validates it with the
``report_a3`` kind, so it renders and checks like a report typed by hand.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from docservice.errors import DocserviceError, InputError
from docservice.forms import get_kind


class AggregationError(DocserviceError):
    """The activity reports cannot make one Appendix 3 report as asked; ``field`` names the
    request's parameter to change (``month``, ``region``, ``career_center``), if one."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ActivityReportError(AggregationError):
    """One of the activity reports is invalid: which one, and its field errors."""

    def __init__(self, source: str, error: InputError) -> None:
        self.source, self.error = source, error
        super().__init__(f"{source}: {error}")


def _in_month(day: dt.date, month: dt.date) -> bool:
    return (day.year, day.month) == (month.year, month.month)


def build(
    reports: Iterable[tuple[str, dict[str, Any]]],
    *,
    region: str,
    month: str,
    prepared_by: dict[str, str],
    issue_date: str,
    career_center: str | None = None,
) -> dict[str, Any]:
    """``report_a3`` input for ``region`` and ``month`` (``YYYY-MM``) from activity reports.

    ``reports`` are (source, raw JSON) pairs, the source naming the report in
    errors. Each is validated as an ``activity_report`` first: an invalid one
    raises :class:`ActivityReportError` with its source and field errors.
    """
    activity, report_a3 = get_kind("activity_report"), get_kind("report_a3")
    try:
        first = dt.date.fromisoformat(f"{month}-01")
    except ValueError:
        raise AggregationError(f"month must be YYYY-MM, not {month!r}", field="month") from None
    chosen = []
    for source, raw in reports:
        try:
            report = activity.validate(raw)
        except InputError as exc:
            raise ActivityReportError(source, exc) from None
        if report["region"] != region or not _in_month(report["activity_date"], first):
            continue
        if career_center is not None and report["career_center"] != career_center:
            continue
        chosen.append(report)
    centers = sorted({r["career_center"] for r in chosen})
    if not chosen:
        raise AggregationError(f"no activity reports of {region!r} in {month}", field="region")
    if len(centers) > 1:
        raise AggregationError(
            f"the reports of {region!r} in {month} come from "
            f"{len(centers)} career centres; name one with career_center",
            field="career_center",
        )
    rows: dict[str, dict[int, dt.date]] = {}
    for report in chosen:
        services = rows.setdefault(report["person"]["iin"], {})
        code, day = report["service_code"], report["activity_date"]
        services[code] = max(day, services.get(code, day))
    data = {
        "period": month,
        "region": region,
        "career_center": centers[0],
        "prepared_by": prepared_by,
        "issue_date": issue_date,
        "rows": [
            {
                "iin": iin,
                "services": [
                    {"code": code, "date": day.isoformat()}
                    for code, day in sorted(services.items())
                ],
            }
            for iin, services in rows.items()
        ],
    }
    report_a3.validate(data)  # the same checks as a report typed by hand
    return data


def load_reports(folder: Path) -> list[tuple[str, dict[str, Any]]]:
    """Every ``*.json`` of ``folder`` (sorted by name) as (file name, activity report)."""
    if not folder.is_dir():
        raise AggregationError(f"{folder}: not a folder")
    reports = []
    for path in sorted(folder.glob("*.json")):
        try:
            reports.append((path.name, json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError) as exc:
            raise AggregationError(f"{path}: {exc}") from None
    return reports
