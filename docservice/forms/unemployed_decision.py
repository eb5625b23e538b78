"""The draft decision to register a kandas as unemployed (Rules 2024, point 18).

When the career centre has found no suitable work for the kandas within the
period of point 23 of the registration rules (Order No. 214 of 9 June 2023), or
the kandas has refused the work offered, the career-centre specialist sends the
labour mobility centre, through AIS "Рынок труда" and "в течение одного рабочего
дня", the draft decision "о регистрации кандаса, в качестве безработного,
подписанный директором карьерного центра или лицом, которое его замещает".

The Rules give no form: the layout is the service's own (``own_layout``). The
decision names the kandas, the ground and the day it arose (the one working day
is counted from it with ``docservice.workdays``), the work refused where that is
the ground, the specialist who prepared it and who signs it: the director or
the person acting for the director (``signer.role``).
"""

from __future__ import annotations

from typing import Any

from docservice.forms.common import iin_matches_birth_date
from docservice.forms.fields import Bin, Boolean, Choice, Date, Errors, Group, Iin, Name, Text
from docservice.forms.kind import Kind
from docservice.workdays import add_working_days

GROUNDS = ("no_suitable_work", "refused_offered_work")
SIGNER_ROLES = ("director", "acting_director")
#: working days to send the draft to the labour mobility centre (point 18)
SEND_WORKING_DAYS = 1
#: who signs (a route step; the route itself is issue #10)
SIGNERS = ("career_center_director",)


def _ground_in_order(data: dict[str, Any], errors: Errors) -> None:
    """The refused work is named when it is the ground; the ground precedes the draft."""
    if data["ground"] == "refused_offered_work" and not data.get("refused_work"):
        errors.add("refused_work", "required")
    if data["ground"] != "refused_offered_work" and data.get("refused_work"):
        errors.add("refused_work", "not_in_choice", choice=data["ground"])
    if data["decision_date"] < data["ground_date"]:
        errors.add("decision_date", "date_before", other="ground_date")
    if data["kandas"]["birth_date"] > data["ground_date"]:
        errors.add("kandas.birth_date", "not_after", other="ground_date")


def _derive(data: dict[str, Any]) -> dict[str, Any]:
    due = add_working_days(data["ground_date"], SEND_WORKING_DAYS)
    return {"send_deadline": due, "late": data["decision_date"] > due}


KIND = Kind(
    name="unemployed_decision",
    source="Order No. 170 of 30 May 2024, Rules, point 18 (no official form)",
    own_layout=True,
    fields=(
        Text("number", required=False, max_length=50),
        Date("decision_date"),
        Group("career_center", fields=(Text("name", max_length=300), Bin("bin"))),
        Text("labour_mobility_center", max_length=300),
        Group("kandas", fields=(Name("full_name"), Date("birth_date"), Iin("iin"))),
        Choice("ground", options=GROUNDS),
        Date("ground_date"),
        Text("refused_work", required=False, max_length=500),
        Group("prepared_by", fields=(Name("full_name"), Text("position", max_length=300))),
        Group("signer", fields=(Choice("role", options=SIGNER_ROLES), Name("full_name"))),
        Date("send_deadline", computed=True),
        Boolean("late", computed=True),
    ),
    rules=(iin_matches_birth_date, _ground_in_order),
    derive=_derive,
)
