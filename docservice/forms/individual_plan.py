"""The individual plan of adaptation and integration (Rules 2024, points 19, 28, 32-34).

The career-centre employee forms the plan by agreement with the kandas (points
19 and 28: a draft on the application, the plan after the visit to the
settlement region) from the services of Appendix 1 (point 32). Point 33 counts
the service terms from the inclusion in the regional quota and runs the
activities for each family member separately, so the plan holds one list of
services per person: the kandas and each member (full name, date of birth,
IIN). Each service gives its term either in days from ``quota_inclusion_date``
or as a due date; ``derive`` computes the other (``deadline`` and
``days_from_quota``) so that the XML carries both. Measures run for five years
(point 40), which bounds the terms. The Rules give no form: the layout is the
service's own design (``own_layout``).

The plan passes three states, each a document someone signs (``SIGNERS``):

* ``draft``: point 19, "формирует с кандасом проект индивидуального плана"; the
  career-centre employee who formed it signs;
* ``agreed``: point 28, formed "по согласованию с кандасом" (``agreement_date``);
* ``approved``: point 34, uploaded to AIS "Kandas" "в течение одного рабочего дня
  после его согласования и утверждения центром трудовой мобильности региона
  приема": the approver (``approval``: the centre, its official, the date) signs,
  and ``upload_deadline`` is the first working day after the approval.

Version 2 of the schema added the states (v1 knew only the agreed plan).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from docservice.forms.common import flag_repeated, iin_matches_birth_date, no_repeated_iins
from docservice.forms.fields import Choice, Date, Errors, Field, Group, Iin, Integer, Name, Text
from docservice.forms.kind import Kind
from docservice.workdays import add_working_days

SERVICES = 25
#: five years of adaptation measures (point 40), one leap day included
MAX_TERM_DAYS = 5 * 365 + 1
STATES = ("draft", "agreed", "approved")
#: who signs the plan in each state: a route step each (data only; the route is issue #10)
SIGNERS: dict[str, tuple[str, ...]] = {
    "draft": ("career_center_employee",),
    "agreed": ("career_center_employee", "kandas"),
    "approved": ("career_center_employee", "kandas", "labour_mobility_center"),
}
#: working days to upload the approved plan to AIS "Kandas" (point 34)
UPLOAD_WORKING_DAYS = 1


def _services(name: str) -> Group:
    """The services of one person: Appendix 1 code, term in days or a due date."""
    return Group(
        name,
        item="service",
        min_items=1,
        max_items=SERVICES,
        fields=(
            Integer("code", minimum=1, maximum=SERVICES),
            Integer("term_days", required=False, minimum=0, maximum=MAX_TERM_DAYS),
            Date("due_date", required=False),
            Text("responsible", required=False, max_length=300),
            Text("note", required=False, max_length=1000, multiline=True),
            Date("deadline", computed=True),
            Integer("days_from_quota", computed=True, minimum=0, maximum=MAX_TERM_DAYS),
        ),
    )


def _person(name: str, *extra: Field, item: str | None = None) -> Group:
    fields = (Name("full_name"), Date("birth_date"), Iin("iin"), *extra, _services("services"))
    if item:
        return Group(name, required=False, item=item, max_items=30, fields=fields)
    return Group(name, fields=fields)


def _persons(data: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [("kandas", data["kandas"])] + [
        (f"members[{i}]", m) for i, m in enumerate(data.get("members") or [])
    ]


def _terms_in_order(data: dict[str, Any], errors: Errors) -> None:
    """Each service once per person, with exactly one term that falls within five years."""
    quota: dt.date = data["quota_inclusion_date"]
    last = quota + dt.timedelta(days=MAX_TERM_DAYS)
    for where, person in _persons(data):
        flag_repeated(person["services"], "code", f"{where}.services", errors)
        for i, item in enumerate(person["services"]):
            path = f"{where}.services[{i}]"
            due, days = item.get("due_date"), item.get("term_days")
            if due is None and days is None:
                errors.add(f"{path}.term_days", "required")
            elif due is not None and days is not None:
                # one term only: two could disagree
                errors.add(f"{path}.due_date", "one_of", other=f"{path}.term_days")
            elif due is not None and not quota <= due <= last:
                errors.add(
                    f"{path}.due_date", "out_of_range", min=quota.isoformat(), max=last.isoformat()
                )


def _state_and_dates(data: dict[str, Any], errors: Errors) -> None:
    """What each state needs (and must not have yet), dates in the order of the steps."""
    state = data["state"]
    needs = {"agreement_date": state in ("agreed", "approved"), "approval": state == "approved"}
    for name, needed in needs.items():
        if needed and data.get(name) is None:
            errors.add(name, "required")
        elif not needed and data.get(name) is not None:
            errors.add(name, "not_in_state", state=state)
    agreed, approval = data.get("agreement_date"), data.get("approval")
    if agreed and agreed < data["plan_date"]:
        errors.add("agreement_date", "date_before", other="plan_date")
    if approval and agreed and approval["date"] < agreed:
        errors.add("approval.date", "date_before", other="agreement_date")


def _derive(data: dict[str, Any]) -> dict[str, Any]:
    """Every service's due date and its distance in days from the quota inclusion."""
    quota: dt.date = data["quota_inclusion_date"]
    for _, person in _persons(data):
        for item in person["services"]:
            if item.get("due_date") is not None:
                item["deadline"] = item["due_date"]
            else:
                item["deadline"] = quota + dt.timedelta(days=item["term_days"])
            item["days_from_quota"] = (item["deadline"] - quota).days
    approval = data.get("approval")
    upload = add_working_days(approval["date"], UPLOAD_WORKING_DAYS) if approval else None
    # the services are filled in place; the records are handed back as the derived values
    return {
        "kandas": data["kandas"],
        "members": data.get("members") or [],
        "upload_deadline": upload,
    }


KIND = Kind(
    name="individual_plan",
    source="Order No. 170 of 30 May 2024, Rules, points 19, 28, 32-34 (no official form)",
    own_layout=True,
    version="2",
    fields=(
        Choice("state", options=STATES),
        Text("number", required=False, max_length=50),
        Text("career_center", max_length=300),
        Text("region", max_length=200),
        Date("plan_date"),
        Date("quota_inclusion_date"),
        _person("kandas"),
        _person("members", Text("kinship", max_length=100), item="member"),
        Group("formed_by", fields=(Name("full_name"), Text("position", max_length=300))),
        Date("agreement_date", required=False),
        Group(
            "approval",
            required=False,
            fields=(
                Text("center", max_length=300),
                Group("official", fields=(Name("full_name"), Text("position", max_length=300))),
                Date("date"),
            ),
        ),
        Date("upload_deadline", required=False, computed=True),
    ),
    rules=(_terms_in_order, iin_matches_birth_date, no_repeated_iins, _state_and_dates),
    derive=_derive,
)
