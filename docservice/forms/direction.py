"""The direction to the Adaptation and Integration Center (Order No. 331-ө-м, Appendix 1).

The local executive body in the sphere of migration issues it (point 2(1) and 3 of
the Rules and terms of residence) on the candidate's application (Appendix 2) once a bed is free
(point 8). The form names the candidate (full name, date of birth) and each family
member (full name, date of birth, degree of kinship) on its own numbered line; the
service adds the IIN because it identifies people by IIN (optional for members,
who may not have one yet). Kinship is a fixed list so that the XML can be read by
a system; its labels are in the templates. The direction carries a number and its
date of issue, and the name of the body and its head who sign it.

Point 3 of the Rules (seed 004 l. 90-92): "Жолдама тек өзіне және өтініште
көрсетілген кәмелеттік жастағы отбасы мүшелеріне Қазақстан Республикасының ықтияр
хатын алуға тапсырылған өтініші туралы ішкі істер органының талоның тапсырған
жағдайда ғана беріледі." So the candidate and every member of full age (18 on
the issue date) carry the police talon of their residence-permit application
(number and date, handed in no later than the direction is issued); a minor may
carry one. Version 2 of the schema added the talon (v1 had none).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from docservice.forms.common import iin_matches_birth_date, no_repeated_iins, people, person
from docservice.forms.fields import Choice, Date, Errors, Group, Name, Text
from docservice.forms.kind import Kind

#: degrees of kinship to the candidate, as the "туыстық дәрежесі" of the form
KINSHIP = (
    "husband",
    "wife",
    "son",
    "daughter",
    "father",
    "mother",
    "brother",
    "sister",
    "grandson",
    "granddaughter",
    "grandfather",
    "grandmother",
    "son_in_law",
    "daughter_in_law",
    "father_in_law",
    "mother_in_law",
)
SPOUSES = ("husband", "wife")
#: a generous bound on a family's size (the form prints six lines; more flow on)
MAX_MEMBERS = 50
#: full age (кәмелеттік жас): from 18 a member needs a talon of their own (point 3)
FULL_AGE = 18


def _talon(required: bool) -> Group:
    """The internal affairs body's talon on the residence-permit application (point 3)."""
    return Group("talon", required, fields=(Text("number", max_length=50), Date("date")))


def is_of_full_age(born: dt.date, on: dt.date) -> bool:
    """18 years old on ``on`` (someone born on 29 February comes of age on 1 March)."""
    age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    return age >= FULL_AGE


def _talons_handed_in(data: dict[str, Any], errors: Errors) -> None:
    """Point 3: no direction before the talons of the candidate and the adult members."""
    issued = data["issue_date"]
    holders = [("candidate", data["candidate"])] + [
        (f"family[{i}]", m) for i, m in enumerate(data.get("family") or [])
    ]
    for path, holder in holders:
        talon = holder.get("talon")
        if talon is None:
            if is_of_full_age(holder["birth_date"], issued):
                errors.add(f"{path}.talon", "talon_required")
        elif talon["date"] > issued:
            errors.add(f"{path}.talon.date", "not_after", other="issue_date")


def _born_before_issue(data: dict[str, Any], errors: Errors) -> None:
    """Nobody on a direction can be born after the day it is issued."""
    issued = data["issue_date"]
    if data["candidate"]["birth_date"] > issued:
        errors.add("candidate.birth_date", "not_after", other="issue_date")
    for i, member in enumerate(data.get("family") or []):
        if member["birth_date"] > issued:
            errors.add(f"family[{i}].birth_date", "not_after", other="issue_date")


def _one_spouse(data: dict[str, Any], errors: Errors) -> None:
    """A candidate has at most one spouse on the direction."""
    seen = False
    for i, member in enumerate(data.get("family") or []):
        if member["kinship"] in SPOUSES:
            if seen:
                errors.add(f"family[{i}].kinship", "duplicate", value=member["kinship"])
            seen = True


KIND = Kind(
    name="direction",
    source=(
        "Order No. 331-ө-м of 22 July 2013, Rules and terms of residence in the Center, Appendix 1"
    ),
    version="2",
    fields=(
        Text("number", max_length=50),
        Date("issue_date"),
        person("candidate", extra=(_talon(True),)),
        people(
            "family",
            "member",
            max_items=MAX_MEMBERS,
            iin_required=False,
            extra=(Choice("kinship", options=KINSHIP), _talon(False)),
        ),
        Group("authority", fields=(Text("name", max_length=300), Name("head_full_name"))),
    ),
    rules=(
        iin_matches_birth_date,
        no_repeated_iins,
        _born_before_issue,
        _one_spouse,
        _talons_handed_in,
    ),
)
