"""The catalogue: every module here that defines ``KIND`` is a document kind."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from docservice.errors import UnknownKindError
from docservice.forms.kind import Kind

#: The order ``docservice kinds`` lists them in (the order of the issue's catalogue).
ORDER = (
    "application",
    "center_application",
    "direction",
    "employment_direction",
    "roadmap",
    "individual_plan",
    "report_a3",
    "journal",
    "e_appeal",
    "quality_evaluation",
    "unemployed_decision",
    "center_stay_decision",
    "activity_report",
    "notification",
    "complaint_receipt",
    "monitoring_visit",
    "evaluation_conclusion",
)


@cache
def all_kinds() -> dict[str, Kind]:
    """Every kind by name."""
    found: dict[str, Kind] = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        kind = getattr(module, "KIND", None)
        if isinstance(kind, Kind):
            found[kind.name] = kind
    rank = {name: i for i, name in enumerate(ORDER)}
    return dict(sorted(found.items(), key=lambda item: (rank.get(item[0], len(ORDER)), item[0])))


def get_kind(name: str) -> Kind:
    try:
        return all_kinds()[name]
    except KeyError:
        raise UnknownKindError(
            f"unknown document kind {name!r}; known: {', '.join(all_kinds())}"
        ) from None
