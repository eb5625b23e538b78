"""Field groups and rules that several kinds share."""

from __future__ import annotations

import re
from typing import Any

from docservice.forms.fields import Date, Errors, Group, Iin, Name
from docservice.identifiers import iin_birth_date


def person(
    name: str,
    *,
    required: bool = True,
    iin: bool = True,
    birth_date: bool = True,
    extra: tuple = (),
) -> Group:
    """A person as the forms identify one: full name, date of birth, IIN."""
    fields: tuple = (Name("full_name"),)
    if birth_date:
        fields += (Date("birth_date"),)
    if iin:
        fields += (Iin("iin"),)
    return Group(name, required, fields=fields + extra)


def people(
    name: str,
    item: str = "person",
    *,
    min_items: int = 0,
    max_items: int = 100,
    iin: bool = True,
    iin_required: bool = True,
    extra: tuple = (),
) -> Group:
    """A list of people (family members and the like)."""
    return Group(
        name,
        min_items > 0,
        item=item,
        min_items=min_items,
        max_items=max_items,
        fields=(Name("full_name"), Date("birth_date"))
        + ((Iin("iin", required=iin_required),) if iin else ())
        + extra,
    )


def _records(value: Any, path: str):
    if isinstance(value, list):
        for i, item in enumerate(value):
            yield from _records(item, f"{path}[{i}]")
    elif isinstance(value, dict):
        yield path, value
        for key, sub in value.items():
            if isinstance(sub, (list, dict)):
                yield from _records(sub, f"{path}.{key}" if path else key)


def iin_matches_birth_date(data: dict[str, Any], errors: Errors) -> None:
    """Wherever a record has both an IIN and a date of birth, they must agree."""
    for path, record in _records(data, ""):
        iin, born = record.get("iin"), record.get("birth_date")
        if iin and born and iin[6] != "0" and iin_birth_date(iin) != born:
            errors.add(f"{path}.iin" if path else "iin", "iin_birth_mismatch")


def no_repeated_iins(data: dict[str, Any], errors: Errors) -> None:
    """One person appears once: the same IIN twice in a document is a typing error."""
    seen: dict[str, str] = {}
    for path, record in _records(data, ""):
        iin = record.get("iin")
        if not iin:
            continue
        where = f"{path}.iin" if path else "iin"
        if iin in seen:
            errors.add(where, "duplicate", value=re.sub(r"\[\d+\]", "", seen[iin]))
        else:
            seen[iin] = where


def flag_repeated(items: list[dict[str, Any]], key: str, path: str, errors: Errors) -> None:
    """Each value of ``key`` at most once in ``items`` (a service code in one list, say)."""
    seen: set[Any] = set()
    for i, item in enumerate(items):
        if item[key] in seen:
            errors.add(f"{path}[{i}].{key}", "duplicate", value=item[key])
        seen.add(item[key])


def not_before(later: str, earlier: str):
    """Rule: the date ``later`` must not be before the date ``earlier`` (top-level fields)."""

    def rule(data: dict[str, Any], errors: Errors) -> None:
        if data.get(later) and data.get(earlier) and data[later] < data[earlier]:
            errors.add(later, "date_before", other=earlier)

    return rule
