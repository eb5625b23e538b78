"""A direction to an active form of employment assistance (state service standard, point 6).

Source: the state service standard "Адамдарға жұмыспен қамтуға жәрдемдесудің
белсенді нысандарына қатысуға жолдамалар беру" (Order No. 279 of 28 April 2015,
Appendix 28). Its result is a direction of one of the six kinds of point 6; the
standard prints no form, so the fields are those a direction cannot do without:
its number and date, the person directed (identified by IIN, as every service
of the standard is), the issuer (the career centre or local executive body,
point 3, with the official who signs), where to report, and by when.

The deadline is computed, never typed, and each kind has the one its source
names (the manual on employment measures, seed 003, "Жұмыссыздар есебінен
алу"), counted in Kazakh working days (``docservice.workdays``: holidays and
their observed days off, government transfer days from configuration):

* a direction to a place of work or study (employment, public works, social
  jobs, youth practice, vocational training): "5 жұмыс күні ішінде ұсынылған
  жұмысқа орналасу орнына немесе оқу орнына" (seed 003 l. 486). Social jobs and
  youth practice are jobs at an employer ("әлеуметтік жұмыс орындарына, сондай-ақ
  жастар практикасын өтуге арналған жұмыс орындарына жұмысқа орналасуға",
  l. 646), public works are temporary work at one (l. 684);
* career guidance is given by the centre itself ("Әлеуметтік кәсіби бағдарлау
  Орталықпен жүргізіледі", l. 630): the person is invited to the centre, and the
  term is "шақыру бойынша ... үш жұмыс күні ішінде халықты жұмыспен қамту
  орталығына" (l. 488).

The printed consequence sentence is the one of the same source line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from docservice.forms.common import iin_matches_birth_date
from docservice.forms.fields import Bin, Choice, Date, Errors, Group, Iin, Name, Phone, Text
from docservice.forms.kind import Kind
from docservice.workdays import add_working_days

#: point 6 of the standard, in its order
DIRECTION_KINDS = (
    "employment",
    "public_works",
    "vocational_training",
    "social_jobs",
    "youth_practice",
    "career_guidance",
)


@dataclass(frozen=True)
class ReportTerm:
    """How long the person has to report, and which sentence of the manual says so."""

    working_days: int
    #: the key of the manual's sentence in the templates (``choices.consequence.KEY``)
    basis: str
    #: where the term comes from (seed file and line)
    source: str


PLACEMENT = ReportTerm(5, "placement", "seed 003 l. 486")
INVITED = ReportTerm(3, "invited", "seed 003 l. 488, l. 630")
#: the term of each kind of direction (see the module docstring for the reading)
REPORT_TERMS: dict[str, ReportTerm] = {
    "employment": PLACEMENT,
    "public_works": PLACEMENT,
    "vocational_training": PLACEMENT,
    "social_jobs": PLACEMENT,
    "youth_practice": PLACEMENT,
    "career_guidance": INVITED,
}


def _born_before_issue(data: dict[str, Any], errors: Errors) -> None:
    # A direction is issued to a living person: a birth date after the issue is a typo.
    if data["recipient"]["birth_date"] > data["issue_date"]:
        errors.add("recipient.birth_date", "not_after", other="issue_date")


def _derive(data: dict[str, Any]) -> dict[str, Any]:
    term = REPORT_TERMS[data["direction_kind"]]
    return {"report_deadline": add_working_days(data["issue_date"], term.working_days)}


KIND = Kind(
    name="employment_direction",
    source="State service standard 'Issuing directions to participate in active forms of "
    "employment assistance' (Order No. 279 of 28 April 2015, Appendix 28), point 6",
    own_layout=True,
    fields=(
        Text("number", max_length=50),
        Date("issue_date"),
        Choice("direction_kind", options=DIRECTION_KINDS),
        Group(
            "recipient",
            fields=(
                Name("full_name"),
                Iin("iin"),
                Date("birth_date"),
                Text("address", required=False, max_length=300),
                Phone("phone", required=False),
            ),
        ),
        Group(
            "issuer",
            fields=(
                Text("name", max_length=300),
                Bin("bin"),
                Group("official", fields=(Name("full_name"), Text("position", max_length=200))),
            ),
        ),
        Group(
            "destination",
            fields=(
                Text("name", max_length=300),
                Bin("bin", required=False),
                Text("address", max_length=300),
                Text("vacancy", required=False, max_length=300),
            ),
        ),
        Date("report_deadline", computed=True),
    ),
    rules=(iin_matches_birth_date, _born_before_issue),
    derive=_derive,
)
