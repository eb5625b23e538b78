"""The registration of a complaint: the stamp that confirms it was accepted (standard, p. 10).

The state service standard "Адамдарға жұмыспен қамтуға жәрдемдесудің белсенді
нысандарына қатысуға жолдамалар беру" (Order No. 279, Appendix 28; seed 002
l. 72-86), point 10: a complaint goes to the head of the provider or to the akim,
in writing by post or by hand through the office; "шағымды қабылдаған адамның
тегі мен аты-жөнін, берілген шағымға жауап алатын мерзімі мен орнын көрсете
отырып шағымды тіркеу (мөртаңба, кіріс нөмірі және күні), оның қабылданғанын
растау болып табылады". It is reviewed within 5 working days of registration
(provider or akim), or 15 working days at the authorised body for the quality of
state services (``REVIEW_WORKING_DAYS``), counted with ``docservice.workdays``.

The provider's (or the body's) office registers it and signs (``SIGNERS``). The
standard gives no form: the layout is the service's own (``own_layout``).
"""

from __future__ import annotations

from typing import Any

from docservice.forms.common import iin_matches_birth_date
from docservice.forms.fields import Choice, Date, Errors, Group, Iin, Name, Phone, Text
from docservice.forms.kind import Kind
from docservice.workdays import add_working_days

ADDRESSEES = ("provider_head", "akim", "quality_body")
#: working days to review by where the complaint was registered (point 10)
REVIEW_WORKING_DAYS = {"provider_head": 5, "akim": 5, "quality_body": 15}
CHANNELS = ("post", "office", "portal")
#: who signs (a route step; the route itself is issue #10)
SIGNERS = ("provider",)


def review_basis(addressee: str) -> str:
    """The key of the sentence of point 10 that gives the review term."""
    return "quality_body" if addressee == "quality_body" else "provider"


def _in_order(data: dict[str, Any], errors: Errors) -> None:
    if data.get("complaint_date") and data["complaint_date"] > data["registration_date"]:
        errors.add("complaint_date", "not_after", other="registration_date")


def _derive(data: dict[str, Any]) -> dict[str, Any]:
    days = REVIEW_WORKING_DAYS[data["addressee"]]
    return {"review_deadline": add_working_days(data["registration_date"], days)}


KIND = Kind(
    name="complaint_receipt",
    source="State service standard (Order No. 279 of 28 April 2015, Appendix 28), point 10 "
    "(no official form)",
    own_layout=True,
    fields=(
        Text("incoming_number", max_length=50),
        Date("registration_date"),
        Choice("addressee", options=ADDRESSEES),
        Text("organisation", max_length=300),
        Choice("channel", options=CHANNELS),
        Group(
            "applicant",
            fields=(
                Name("full_name"),
                Date("birth_date"),
                Iin("iin"),
                Text("address", required=False, max_length=300),
                Phone("phone", required=False),
            ),
        ),
        Date("complaint_date", required=False),
        Text("subject", max_length=2000, multiline=True),
        Group("accepted_by", fields=(Name("full_name"), Text("position", max_length=300))),
        Text("reply_place", max_length=300),
        Date("review_deadline", computed=True),
    ),
    rules=(iin_matches_birth_date, _in_order),
    derive=_derive,
)
