"""The application for adaptation and integration services (Rules 2024, Appendix 2).

The form lists family members who are not citizens in four categories; the
applicant consents to personal-data processing (Art. 8 of the Law on personal
data) and attaches the copies named in point 6 of the Rules.
"""

from docservice.forms.common import (
    iin_matches_birth_date,
    no_repeated_iins,
    not_before,
    people,
    person,
)
from docservice.forms.fields import Boolean, Choice, Date, Errors, Group, Name, Text
from docservice.forms.kind import Kind

ATTACHMENTS = (
    "identity_document",
    "marriage_certificate",
    "education_document",
    "birth_certificates",
)


def _consent_given(data: dict, errors: Errors) -> None:
    # Point 12(3): an application without consent is returned, so it is never issued.
    if data.get("consent") is not True:
        errors.add("consent", "consent_required")


KIND = Kind(
    name="application",
    source="Order No. 170 of 30 May 2024, Rules, Appendix 2",
    fields=(
        person("applicant"),
        Group(
            "family",
            required=False,
            fields=(
                people("spouse", "member", max_items=1),
                people("parents", "member", max_items=4),
                people("children", "member", max_items=30),
                people("siblings", "member", max_items=30),
            ),
        ),
        Boolean("consent"),
        Date("application_date"),
        Group("received_by", fields=(Name("full_name"), Text("position", max_length=200))),
        Date("received_date"),
        Group(
            "attachments",
            required=False,
            item="copy",
            max_items=len(ATTACHMENTS),
            fields=(Choice("document", options=ATTACHMENTS),),
        ),
    ),
    rules=(
        _consent_given,
        iin_matches_birth_date,
        no_repeated_iins,
        not_before("received_date", "application_date"),
    ),
)
