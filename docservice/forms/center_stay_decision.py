"""Ending a stay in the Center: the Center's representation and the body's decision.

Order No. 331-ө-м, Rules and terms of residence in the Center, points 13-17 (seed 004 l. 130-145):
when kandases break the Rules, the Center applies to the local executive body in
the sphere of migration that issued the direction to end their stay (p. 13);
the body checks the grounds and "бір жұмыс күні ішінде" decides to keep them in
the Center or to evict them, for the family or for a single member (p. 14); the
documented decision is the ground for eviction (p. 16) and the premises are
vacated "күнтізбелік үш күннен кешіктірмей" after the stay ends (p. 17). A stay
lasts at most six months from the placement (p. 15).

One document carries both steps (``stage``): the representation, signed by the
head of the Center, and once decided, the body's decision, signed by its head
(``SIGNERS``). The decision deadline (one working day from the representation,
``docservice.workdays``) and, on eviction, the day to vacate by (three calendar
days from the decision) are computed. The Rules give no form: the layout is the
service's own (``own_layout``).
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from docservice.forms.common import iin_matches_birth_date, no_repeated_iins, people
from docservice.forms.fields import Boolean, Choice, Date, Errors, Group, Name, Text
from docservice.forms.kind import Kind
from docservice.workdays import add_working_days

STAGES = ("representation", "decided")
OUTCOMES = ("keep", "evict")
SCOPES = ("family", "members")
#: working days the body has to decide (point 14)
DECISION_WORKING_DAYS = 1
#: calendar days to vacate the premises (point 17)
VACATE_DAYS = 3
#: longest stay from the placement (point 15)
MAX_STAY_MONTHS = 6
#: who signs each stage (route steps; the route itself is issue #10)
SIGNERS: dict[str, tuple[str, ...]] = {
    "representation": ("center_head",),
    "decided": ("center_head", "migration_body_head"),
}


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` ``months`` later, on the month's last day when it is shorter."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _stage_and_dates(data: dict[str, Any], errors: Errors) -> None:
    decision, representation = data.get("decision"), data["representation"]
    if data["stage"] == "decided" and decision is None:
        errors.add("decision", "required")
    elif data["stage"] == "representation" and decision is not None:
        errors.add("decision", "not_in_state", state=data["stage"])
    if representation["date"] < data["placement_date"]:
        errors.add("representation.date", "date_before", other="placement_date")
    if data["placement_date"] < data["direction"]["date"]:
        errors.add("placement_date", "date_before", other="direction.date")
    if decision is None:
        return
    if decision["date"] < representation["date"]:
        errors.add("decision.date", "date_before", other="representation.date")
    names = {r["full_name"] for r in data["residents"]}
    concerned = decision.get("members") or []
    if decision["scope"] == "members" and not concerned:
        errors.add("decision.members", "required")
    if decision["scope"] == "family" and concerned:
        errors.add("decision.members", "not_in_choice", choice="family")
    for i, name in enumerate(concerned):
        if name["full_name"] not in names:
            errors.add(f"decision.members[{i}].full_name", "not_a_resident")


def _derive(data: dict[str, Any]) -> dict[str, Any]:
    due = add_working_days(data["representation"]["date"], DECISION_WORKING_DAYS)
    decision = data.get("decision")
    out: dict[str, Any] = {
        "decision_deadline": due,
        "stay_limit": add_months(data["placement_date"], MAX_STAY_MONTHS),
        "decision_late": None,
        "vacate_by": None,
    }
    if decision:
        out["decision_late"] = decision["date"] > due
        if decision["outcome"] == "evict":
            out["vacate_by"] = decision["date"] + dt.timedelta(days=VACATE_DAYS)
    return out


def _official(name: str) -> Group:
    return Group(name, fields=(Text("name", max_length=300), Name("head_full_name")))


KIND = Kind(
    name="center_stay_decision",
    source=(
        "Order No. 331-ө-м of 22 July 2013, Rules and terms of residence in the Center, "
        "points 13-17 (no official form)"
    ),
    own_layout=True,
    fields=(
        Choice("stage", options=STAGES),
        Text("number", max_length=50),
        _official("center"),
        _official("authority"),
        Group("direction", fields=(Text("number", max_length=50), Date("date"))),
        Date("placement_date"),
        people("residents", "resident", min_items=1, max_items=50, iin_required=False),
        Group(
            "representation",
            fields=(
                Date("date"),
                Text("violation", max_length=4000, multiline=True),
            ),
        ),
        Group(
            "decision",
            required=False,
            fields=(
                Date("date"),
                Text("number", max_length=50),
                Choice("outcome", options=OUTCOMES),
                Choice("scope", options=SCOPES),
                Group(
                    "members",
                    required=False,
                    item="member",
                    max_items=50,
                    fields=(Name("full_name"),),
                ),
                Text("grounds", max_length=4000, multiline=True),
            ),
        ),
        Date("decision_deadline", computed=True),
        Date("stay_limit", computed=True),
        Boolean("decision_late", required=False, computed=True),
        Date("vacate_by", required=False, computed=True),
    ),
    rules=(iin_matches_birth_date, no_repeated_iins, _stage_and_dates),
    derive=_derive,
)
