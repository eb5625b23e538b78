"""ЦРТР's quarterly conclusion to the authorised body on the evaluation (Rules 2024, p. 50-51).

Point 50: after the evaluation (points 47-49, ``quality_evaluation``) ЦРТР sends
the authorised body for migration, every quarter, "не позднее двадцать пятого
числа месяца, следующего за отчетным периодом", a conclusion containing the
final report on the evaluation, the results of the recommendations given
earlier, and conclusions and recommendations for the centres evaluated. Point
51: the authorised body sends it on to the local executive bodies, which review
it within a month.

So the conclusion lists the quarter's evaluations (each organisation with its
three scores; total and band are computed by the same reading of the scale as
``quality_evaluation``, whose note it repeats), the final report, each earlier
recommendation with its outcome, the conclusions and the new recommendations per
organisation. ЦРТР signs (``SIGNERS``). The Rules give no form: the layout is
the service's own (``own_layout``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from docservice.forms.common import flag_repeated
from docservice.forms.fields import Boolean, Choice, Date, Errors, Group, Integer, Name, Text
from docservice.forms.kind import Kind
from docservice.forms.quality_evaluation import (
    BANDS,
    CRITERIA,
    EVALUATED,
    MAX_SCORE,
    MIN_SCORE,
    band,
    quarter_end,
)

DUE_DAY = 25
OUTCOMES = ("implemented", "partly_implemented", "not_implemented")
#: who signs (a route step; the route itself is issue #10)
SIGNERS = ("crtr",)


def deadline(year: int, quarter: int) -> dt.date:
    """The 25th of the month after the quarter (point 50)."""
    return (quarter_end(year, quarter) + dt.timedelta(days=1)).replace(day=DUE_DAY)


def _in_order(data: dict[str, Any], errors: Errors) -> None:
    if data["issue_date"] <= quarter_end(data["year"], data["quarter"]):
        errors.add("issue_date", "before_period_end")
    flag_repeated(data["evaluations"], "name", "evaluations", errors)
    names = {e["name"] for e in data["evaluations"]}
    for i, item in enumerate(data["recommendations"]):
        if item["organisation"] not in names:
            errors.add(f"recommendations[{i}].organisation", "not_evaluated")


def _derive(data: dict[str, Any]) -> dict[str, Any]:
    for item in data["evaluations"]:
        item["total"] = sum(item[c] for c in CRITERIA)
        item["band"] = band(item["total"])
    due = deadline(data["year"], data["quarter"])
    counts = {
        name: sum(1 for e in data["evaluations"] if e["band"] == name) for name, _, _ in BANDS
    }
    return {
        "evaluations": data["evaluations"],
        "deadline": due,
        "late": data["issue_date"] > due,
        "count_low": counts["low"],
        "count_medium": counts["medium"],
        "count_high": counts["high"],
    }


def _score(name: str) -> Integer:
    return Integer(name, minimum=MIN_SCORE, maximum=MAX_SCORE)


KIND = Kind(
    name="evaluation_conclusion",
    source="Order No. 170 of 30 May 2024, Rules, points 50-51 (no official form)",
    own_layout=True,
    fields=(
        Text("number", max_length=50),
        Integer("year", minimum=2024, maximum=2100),
        Integer("quarter", minimum=1, maximum=4),
        Date("issue_date"),
        Text("addressee", max_length=300),
        Group(
            "evaluations",
            item="evaluation",
            min_items=1,
            max_items=500,
            fields=(
                Text("evaluation_number", required=False, max_length=50),
                Choice("kind", options=EVALUATED),
                Text("name", max_length=300),
                Text("region", max_length=200),
                *(_score(c) for c in CRITERIA),
                Integer(
                    "total",
                    computed=True,
                    minimum=len(CRITERIA) * MIN_SCORE,
                    maximum=len(CRITERIA) * MAX_SCORE,
                ),
                Choice("band", computed=True, options=tuple(b[0] for b in BANDS)),
            ),
        ),
        Text("final_report", max_length=8000, multiline=True),
        Group(
            "earlier_recommendations",
            required=False,
            item="recommendation",
            max_items=200,
            fields=(
                Text("text", max_length=2000, multiline=True),
                Choice("outcome", options=OUTCOMES),
                Text("note", required=False, max_length=2000, multiline=True),
            ),
        ),
        Text("conclusions", max_length=8000, multiline=True),
        Group(
            "recommendations",
            item="recommendation",
            min_items=1,
            max_items=500,
            fields=(
                Text("organisation", max_length=300),
                Text("text", max_length=2000, multiline=True),
            ),
        ),
        Group("signer", fields=(Name("full_name"), Text("position", max_length=300))),
        Date("deadline", computed=True),
        Boolean("late", computed=True),
        Integer("count_low", computed=True, minimum=0, maximum=500),
        Integer("count_medium", computed=True, minimum=0, maximum=500),
        Integer("count_high", computed=True, minimum=0, maximum=500),
    ),
    rules=(_in_order,),
    derive=_derive,
)
