"""ЦРТР's quarterly evaluation of a labour mobility centre or career centre (Rules 2024, p. 47-49).

Point 47: the JSC "Центр развития трудовых ресурсов" (ЦРТР, kk ЕРДО) evaluates
the centres of the settlement regions every quarter, "не позднее 5-го числа
месяца, следующего за отчетным периодом". Point 48 names three criteria
(relevance, effectiveness, social effect) and point 49 gives each "от 1
(одного) до 5 (пяти) баллов", then an overall band. The Rules give no form: the
layout is the service's own design (``own_layout``); the sentences of points
47-49 are printed word for word.

**The scale does not add up** (ru l. 929-933, kk l. 324-328): three criteria of
1-5 points give 3-15, yet the bands are "от 0 до 10", "от 10 до 15", "от 15 до
25", so 10 and 15 fall in two bands and 16-25 cannot occur. The scale is printed
as it stands; the band is computed by one documented reading, half-open
intervals (``BANDS``): below 10 low, 10 up to below 15 medium, 15 and above
high. The README lists this as a question for the ministry.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from docservice.forms.fields import Bin, Boolean, Choice, Date, Errors, Group, Integer, Name, Text
from docservice.forms.kind import Kind

CRITERIA = ("relevance", "effectiveness", "social_effect")
MIN_SCORE, MAX_SCORE = 1, 5
#: the bands of point 49 read as half-open intervals [low, high): (band, low, high)
BANDS = (("low", 0, 10), ("medium", 10, 15), ("high", 15, 25))
EVALUATED = ("labour_mobility_center", "career_center")
DUE_DAY = 5
#: who signs (a route step; the route itself is issue #10)
SIGNERS = ("crtr",)


def band(total: int) -> str:
    """The band of a total by the half-open reading; 25 (the scale's end) is high too."""
    for name, low, high in BANDS:
        if low <= total < high:
            return name
    if total == BANDS[-1][2]:
        return BANDS[-1][0]
    raise ValueError(f"a total of {total} is outside the scale of point 49")


def quarter_end(year: int, quarter: int) -> dt.date:
    """The last day of ``quarter`` of ``year``."""
    first_of_next = dt.date(year + quarter // 4, quarter % 4 * 3 + 1, 1)
    return first_of_next - dt.timedelta(days=1)


def deadline(year: int, quarter: int) -> dt.date:
    """The 5th of the month after the quarter (point 47)."""
    return (quarter_end(year, quarter) + dt.timedelta(days=1)).replace(day=DUE_DAY)


def _after_the_quarter(data: dict[str, Any], errors: Errors) -> None:
    """A quarter is evaluated once it is over."""
    if data["issue_date"] <= quarter_end(data["year"], data["quarter"]):
        errors.add("issue_date", "before_period_end")


def _derive(data: dict[str, Any]) -> dict[str, Any]:
    total = sum(data["criteria"][c]["score"] for c in CRITERIA)
    due = deadline(data["year"], data["quarter"])
    return {"total": total, "band": band(total), "deadline": due, "late": data["issue_date"] > due}


def _criterion(name: str) -> Group:
    return Group(
        name,
        fields=(
            Integer("score", minimum=MIN_SCORE, maximum=MAX_SCORE),
            Text("comment", required=False, max_length=2000, multiline=True),
        ),
    )


KIND = Kind(
    name="quality_evaluation",
    source="Order No. 170 of 30 May 2024, Rules, points 47-49 (no official form)",
    own_layout=True,
    fields=(
        Text("number", required=False, max_length=50),
        Integer("year", minimum=2024, maximum=2100),
        Integer("quarter", minimum=1, maximum=4),
        Date("issue_date"),
        Group(
            "evaluated",
            fields=(
                Choice("kind", options=EVALUATED),
                Text("name", max_length=300),
                Bin("bin", required=False),
                Text("region", max_length=200),
            ),
        ),
        Group("criteria", fields=tuple(_criterion(c) for c in CRITERIA)),
        Group("evaluator", fields=(Name("full_name"), Text("position", max_length=300))),
        Integer(
            "total",
            computed=True,
            minimum=len(CRITERIA) * MIN_SCORE,
            maximum=len(CRITERIA) * MAX_SCORE,
        ),
        Choice("band", computed=True, options=tuple(b[0] for b in BANDS)),
        Date("deadline", computed=True),
        Boolean("late", computed=True),
    ),
    rules=(_after_the_quarter,),
    derive=_derive,
)
