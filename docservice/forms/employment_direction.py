"""A direction to an active form of employment assistance (state service standard, point 6).

Source: the state service standard "Адамдарға жұмыспен қамтуға жәрдемдесудің
белсенді нысандарына қатысуға жолдамалар беру" (Order No. 279 of 28 April 2015,
Appendix 28). Its result is a direction of one of the six kinds of point 6; the
standard prints no form, so the fields are those a direction cannot do without:
its number and date, the person directed (identified by IIN, as every service
of the standard is), the issuer (the career centre or local executive body,
point 3, with the official who signs), where to report, and by when.

The deadline is computed, never typed: the manual on employment measures says
an unemployed person who does not report "within 5 working days from the day
the direction was issued" is removed from the register, so the direction states
that day, counted in Kazakh working days (``docservice.workdays``: holidays and
their observed days off, government transfer days from configuration).
"""

from __future__ import annotations

from typing import Any

from docservice.forms.common import iin_matches_birth_date
from docservice.forms.fields import Bin, Choice, Date, Errors, Group, Iin, Name, Phone, Text
from docservice.forms.kind import Kind
from docservice.workdays import add_working_days

#: point 6 of the standard, in its order
DIRECTION_KINDS = ("employment", "public_works", "vocational_training", "social_jobs",
                   "youth_practice", "career_guidance")
#: working days to report after the issue date (the manual, "Жұмыссыздар есебінен алу")
WORKING_DAYS = 5


def _born_before_issue(data: dict[str, Any], errors: Errors) -> None:
    # A direction is issued to a living person: a birth date after the issue is a typo.
    if data["recipient"]["birth_date"] > data["issue_date"]:
        errors.add("recipient.birth_date", "not_after", other="issue_date")


def _derive(data: dict[str, Any]) -> dict[str, Any]:
    return {"report_deadline": add_working_days(data["issue_date"], WORKING_DAYS)}


KIND = Kind(
    name="employment_direction",
    source="State service standard 'Issuing directions to participate in active forms of "
           "employment assistance' (Order No. 279 of 28 April 2015, Appendix 28), point 6",
    own_layout=True,
    fields=(
        Text("number", max_length=50),
        Date("issue_date"),
        Choice("direction_kind", options=DIRECTION_KINDS),
        Group("recipient", fields=(
            Name("full_name"),
            Iin("iin"),
            Date("birth_date"),
            Text("address", required=False, max_length=300),
            Phone("phone", required=False),
        )),
        Group("issuer", fields=(
            Text("name", max_length=300),
            Bin("bin"),
            Group("official", fields=(Name("full_name"),
                                      Text("position", max_length=200))),
        )),
        Group("destination", fields=(
            Text("name", max_length=300),
            Bin("bin", required=False),
            Text("address", max_length=300),
            Text("vacancy", required=False, max_length=300),
        )),
        Date("report_deadline", computed=True),
    ),
    rules=(iin_matches_birth_date, _born_before_issue),
    derive=_derive,
)
