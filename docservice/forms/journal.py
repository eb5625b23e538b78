"""The registration journal of kandases directed to the Center (Order 331, Appendix 3).

Every application for placement is registered in it (point 5 of the Rules and terms of residence),
also while no bed is free and the applicant waits in the queue (point 7), so an
entry may have no direction yet: its number and date come together or not at all.
Each entry holds the form's columns (full name, place and date of birth, country of
origin, date and number of the application's registration, number and date of the
direction); the IIN is optional, since applicants often have none yet. The same
person may be registered again (point 9), so IINs may repeat; registration numbers
may not. The journal's "started" / "ended" dates bound its registrations; an open
journal has no end date. Rules stay linear: journals run to thousands of entries.
"""

from __future__ import annotations

from typing import Any

from docservice.forms.common import iin_matches_birth_date, not_before
from docservice.forms.fields import Date, Errors, Group, Iin, Name, Text
from docservice.forms.kind import Kind

MAX_ENTRIES = 20_000


def _entries_in_order(data: dict[str, Any], errors: Errors) -> None:
    """Each entry's dates follow one another and fall within the journal's period."""
    started, ended = data["started"], data.get("ended")
    numbers: dict[str, int] = {}
    for i, entry in enumerate(data["entries"]):
        path = f"entries[{i}]"
        registered = entry["registration_date"]
        if registered < started:
            errors.add(f"{path}.registration_date", "date_before", other="started")
        if ended and registered > ended:
            errors.add(f"{path}.registration_date", "not_after", other="ended")
        if entry["birth_date"] > registered:
            errors.add(f"{path}.birth_date", "not_after", other="registration_date")
        has_number, has_date = (
            bool(entry.get("direction_number")),
            bool(entry.get("direction_date")),
        )
        if has_number != has_date:
            missing = "direction_date" if has_number else "direction_number"
            errors.add(f"{path}.{missing}", "required")
        if has_date and entry["direction_date"] < registered:
            errors.add(f"{path}.direction_date", "date_before", other="registration_date")
        number = entry["registration_number"]
        if number in numbers:
            errors.add(
                f"{path}.registration_number", "duplicate", value=f"entries[{numbers[number]}]"
            )
        else:
            numbers[number] = i


KIND = Kind(
    name="journal",
    source=(
        "Order No. 331-ө-м of 22 July 2013, Rules and terms of residence in the Center, Appendix 3"
    ),
    landscape=True,
    fields=(
        Date("started"),
        Date("ended", required=False),
        Group(
            "entries",
            item="entry",
            min_items=1,
            max_items=MAX_ENTRIES,
            fields=(
                Name("full_name"),
                Iin("iin", required=False),
                Text("birth_place", max_length=200),
                Date("birth_date"),
                Text("country", max_length=100),
                Date("registration_date"),
                Text("registration_number", max_length=50),
                Text("direction_number", max_length=50, required=False),
                Date("direction_date", required=False),
            ),
        ),
    ),
    rules=(not_before("ended", "started"), _entries_in_order, iin_matches_birth_date),
)
