"""The monthly report (Rules 2024, Appendix 3): information on performed works.

One row per kandas or family member: the IIN and, for each of the 25 services of
Appendix 1, the date it was provided. It is due by the 5th of the month after the
reporting month (point 39); a report issued later is flagged as late in the PDF
and in the XML. Reports run to thousands of rows, so the rules stay linear.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from docservice.forms.common import flag_repeated, no_repeated_iins
from docservice.forms.fields import Boolean, Date, Errors, Group, Iin, Integer, Month, Name, Text
from docservice.forms.kind import Kind

SERVICES = 25
DUE_DAY = 5


def deadline(period: dt.date) -> dt.date:
    """The 5th of the month after ``period`` (point 39 of the Rules)."""
    following = (period.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following.replace(day=DUE_DAY)


def _month_end(period: dt.date) -> dt.date:
    return deadline(period).replace(day=1) - dt.timedelta(days=1)


def _dates_in_order(data: dict[str, Any], errors: Errors) -> None:
    """Services are reported for the period: none after it, none after the issue date."""
    if data["issue_date"] < data["period"]:
        errors.add("issue_date", "date_before", other="period")
    last_day = _month_end(data["period"])
    for i, row in enumerate(data["rows"]):
        flag_repeated(row["services"], "code", f"rows[{i}].services", errors)
        for j, service in enumerate(row["services"]):
            if service["date"] > last_day:
                errors.add(
                    f"rows[{i}].services[{j}].date",
                    "outside_period",
                    period=f"{data['period'].year:04d}-{data['period'].month:02d}",
                )


def _derive(data: dict[str, Any]) -> dict[str, Any]:
    due = deadline(data["period"])
    return {"deadline": due, "late": data["issue_date"] > due}


KIND = Kind(
    name="report_a3",
    source="Order No. 170 of 30 May 2024, Rules, Appendix 3 (point 39)",
    landscape=True,
    fields=(
        Month("period"),
        Text("region", max_length=200),
        Text("career_center", max_length=300),
        Group("prepared_by", fields=(Name("full_name"), Text("position", max_length=200))),
        Date("issue_date"),
        Group(
            "rows",
            item="row",
            min_items=1,
            max_items=100_000,
            fields=(
                Iin("iin"),
                Group(
                    "services",
                    item="service",
                    max_items=SERVICES,
                    fields=(
                        Integer("code", minimum=1, maximum=SERVICES),
                        Date("date"),
                    ),
                ),
            ),
        ),
        Date("deadline", computed=True),
        Boolean("late", computed=True),
    ),
    rules=(_dates_in_order, no_repeated_iins),
    derive=_derive,
)
