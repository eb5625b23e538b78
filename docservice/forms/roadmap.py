"""The road map of adaptation and integration services (Rules 2024, point 38).

Point 38 approves a road map for a kandas family settled in a rural settlement,
so that the rural district akim and the career centre exchange information on
the services the family receives; it is approved in three copies, given to the
district akim, the rural district akim and the career centre (hence
``copies``). The Rules give no form: the layout is the service's own design
(``own_layout``). The services are those of Appendix 1 (codes 1-25), each once,
with the party responsible, a deadline and a status. A deadline may not precede
the approval date unless the service is already done (then it is the date it
was done); a service marked as not needed needs no deadline.
"""

from __future__ import annotations

from typing import Any

from docservice.forms.common import (
    flag_repeated,
    iin_matches_birth_date,
    no_repeated_iins,
    people,
    person,
)
from docservice.forms.fields import Choice, Date, Errors, Group, Integer, Name, Text
from docservice.forms.kind import Kind

SERVICES = 25
STATUSES = ("planned", "in_progress", "done", "not_needed")
#: statuses whose deadline still lies ahead when the road map is approved
OPEN_STATUSES = ("planned", "in_progress")
#: template keys of the three addressees of point 38, in the order of the Rules
COPIES = ("copies.district_akim", "copies.rural_akim", "copies.career_center")


def _services_in_order(data: dict[str, Any], errors: Errors) -> None:
    """Each Appendix 1 service once; a deadline where one is due, none in the past."""
    flag_repeated(data["services"], "code", "services", errors)
    for i, item in enumerate(data["services"]):
        path = f"services[{i}]"
        deadline = item.get("deadline")
        if deadline is None and item["status"] != "not_needed":
            errors.add(f"{path}.deadline", "required")
        elif (
            deadline is not None
            and item["status"] in OPEN_STATUSES
            and deadline < data["approval_date"]
        ):
            errors.add(f"{path}.deadline", "date_before", other="approval_date")


KIND = Kind(
    name="roadmap",
    source="Order No. 170 of 30 May 2024, Rules, point 38 (no official form)",
    own_layout=True,
    copies=COPIES,
    fields=(
        Text("number", required=False, max_length=50),
        Group(
            "settlement",
            fields=(
                Text("region", max_length=200),
                Text("district", max_length=200),
                Text("rural_district", max_length=200),
                Text("settlement", max_length=200),
            ),
        ),
        Group(
            "family",
            fields=(
                person("head"),
                people("members", "member", max_items=30, extra=(Text("kinship", max_length=100),)),
            ),
        ),
        Group(
            "services",
            item="service",
            min_items=1,
            max_items=SERVICES,
            fields=(
                Integer("code", minimum=1, maximum=SERVICES),
                Text("responsible", max_length=300),
                Date("deadline", required=False),
                Choice("status", options=STATUSES),
                Text("note", required=False, max_length=1000, multiline=True),
            ),
        ),
        Group("approved_by", fields=(Name("full_name"), Text("position", max_length=300))),
        Date("approval_date"),
    ),
    rules=(_services_in_order, iin_matches_birth_date, no_repeated_iins),
)
