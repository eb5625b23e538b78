"""The summary of a monitoring visit to a kandas settlement (Rules 2024, points 42-43).

Point 42(4): monitoring includes the visit of representatives of the local
executive body for social protection and employment and of the labour mobility
centre to the settlement "в целях определения качества оказанных адаптационных
и интеграционных услуг карьерными центрами"; point 42(1)-(2): problems found in
time and proposals. Point 43: monitoring runs "первые три года на
ежеквартальной, а последующие четвертые и пятые годы на полугодовой основе"
(and measures last five years, point 40).

So a visit summary names the visitors (at least one of each body, the two who
sign, ``SIGNERS``), the settlement and the career centre whose services were
checked, each family visited with the quality found per service of Appendix 1,
the problems and the proposals. From the families' quota inclusion date it
computes which monitoring year and period the visit belongs to (quarter in
years 1-3, half-year in years 4-5) and by when the next visit is due: the end of
the following period, none after the fifth year. Periods are counted from the
inclusion date (a "year" is twelve months from it). The Rules give no form: the
layout is the service's own (``own_layout``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from docservice.forms.center_stay_decision import add_months
from docservice.forms.common import flag_repeated, iin_matches_birth_date, no_repeated_iins
from docservice.forms.fields import Choice, Date, Errors, Group, Iin, Integer, Name, Text
from docservice.forms.kind import Kind

SERVICES = 25
BODIES = ("social_protection_body", "labour_mobility_center")
QUALITY = ("provided", "provided_with_remarks", "not_provided")
PERIODICITY = ("quarterly", "half_yearly")
YEARS, QUARTERLY_YEARS = 5, 3
#: who signs (route steps; the route itself is issue #10)
SIGNERS = BODIES


def _periods(inclusion: dt.date) -> list[tuple[int, str, int, dt.date, dt.date]]:
    """(year, periodicity, number, first day, day after) of every monitoring period."""
    periods, offset = [], 0
    for year in range(1, YEARS + 1):
        length = 3 if year <= QUARTERLY_YEARS else 6
        for number in range(1, 12 // length + 1):
            periods.append(
                (
                    year,
                    PERIODICITY[0 if length == 3 else 1],
                    number,
                    add_months(inclusion, offset),
                    add_months(inclusion, offset + length),
                )
            )
            offset += length
    return periods


def monitoring_period(inclusion: dt.date, visit: dt.date) -> dict[str, Any] | None:
    """Year (1-5), periodicity, number in that year and last day of the visit's period, or None."""
    periods = _periods(inclusion)
    for i, (year, periodicity, number, first, after) in enumerate(periods):
        if first <= visit < after:
            following = periods[i + 1][4] - dt.timedelta(days=1) if i + 1 < len(periods) else None
            return {
                "year": year,
                "periodicity": periodicity,
                "number": number,
                "end": after - dt.timedelta(days=1),
                "next_end": following,
            }
    return None


def _visit_in_order(data: dict[str, Any], errors: Errors) -> None:
    bodies = {v["body"] for v in data["visitors"]}
    for body in BODIES:
        if body not in bodies:
            errors.add("visitors", "body_missing", body=body)
    if monitoring_period(data["quota_inclusion_date"], data["visit_date"]) is None:
        errors.add(
            "visit_date", "outside_monitoring", start=data["quota_inclusion_date"].isoformat()
        )
    for i, family in enumerate(data["families"]):
        flag_repeated(family["services"], "code", f"families[{i}].services", errors)


def _derive(data: dict[str, Any]) -> dict[str, Any]:
    period = monitoring_period(data["quota_inclusion_date"], data["visit_date"])
    assert period is not None  # _visit_in_order refused the rest
    return {
        "monitoring_year": period["year"],
        "periodicity": period["periodicity"],
        "period_number": period["number"],
        "period_end": period["end"],
        "next_visit_due": period["next_end"],
    }


KIND = Kind(
    name="monitoring_visit",
    source="Order No. 170 of 30 May 2024, Rules, points 42-43 (no official form)",
    own_layout=True,
    fields=(
        Text("number", required=False, max_length=50),
        Date("visit_date"),
        Text("region", max_length=200),
        Text("settlement", max_length=300),
        Text("career_center", max_length=300),
        Date("quota_inclusion_date"),
        Group(
            "visitors",
            item="visitor",
            min_items=2,
            max_items=10,
            fields=(
                Choice("body", options=BODIES),
                Text("organisation", max_length=300),
                Name("full_name"),
                Text("position", max_length=300),
            ),
        ),
        Group(
            "families",
            item="family",
            min_items=1,
            max_items=50,
            fields=(
                Name("full_name"),
                Date("birth_date"),
                Iin("iin"),
                Integer("members", minimum=1, maximum=30),
                Group(
                    "services",
                    item="service",
                    min_items=1,
                    max_items=SERVICES,
                    fields=(
                        Integer("code", minimum=1, maximum=SERVICES),
                        Choice("quality", options=QUALITY),
                        Text("note", required=False, max_length=1000, multiline=True),
                    ),
                ),
            ),
        ),
        Text("problems", max_length=4000, multiline=True),
        Text("proposals", max_length=4000, multiline=True),
        Integer("monitoring_year", computed=True, minimum=1, maximum=YEARS),
        Choice("periodicity", computed=True, options=PERIODICITY),
        Integer("period_number", computed=True, minimum=1, maximum=4),
        Date("period_end", computed=True),
        Date("next_visit_due", required=False, computed=True),
    ),
    rules=(iin_matches_birth_date, no_repeated_iins, _visit_in_order),
    derive=_derive,
)
