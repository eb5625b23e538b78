"""Notices to the applicant: the result of a service, its refusal, the receipt of an application.

* Result and refusal: Order No. 109 of 25 March 2020, point 10 (seed 001 l. 132):
  "Уведомление о результате оказания государственной услуги (отказе в
  оказании) направляется посредством sms-сообщения на абонентский номер
  сотовой связи услугополучателя и в личный кабинет услугополучателя на Портал
  ... либо направляется в виде ответа на заявление"; the applicant may also get
  it "через WhatsApp, либо на электронную почту или по телефону" (step 5, l. 271).
  A refusal says how to appeal (point 11).
* Receipt: Rules 2024, point 15 (seed 000 ru l. 793-795, kk l. 188-190): the labour
  mobility centre confirms in the mobile app that the electronic application
  was received; point 14 gives it "в течение трех рабочих дней" to review it,
  so the confirmation states that day (``review_deadline``, working days).

The provider signs (``SIGNERS``). The sources give no form: the layout is the
service's own (``own_layout``). Order 109 is in the seeds in Russian only; its
Kazakh texts are the service's translation.
"""

from __future__ import annotations

from typing import Any

from docservice.forms.common import flag_repeated
from docservice.forms.fields import Bin, Choice, Date, Email, Errors, Group, Iin, Name, Phone, Text
from docservice.forms.kind import Kind
from docservice.workdays import add_working_days

NOTICE_TYPES = ("result", "refusal", "receipt")
CHANNELS = ("sms", "portal_cabinet", "reply", "whatsapp", "email", "phone", "mobile_app")
#: what each channel needs to know about the recipient
NEEDS = {"sms": "phone", "whatsapp": "phone", "phone": "phone", "email": "email"}
#: working days to review a received application (Rules 2024, point 14)
REVIEW_WORKING_DAYS = 3
#: who signs (a route step; the route itself is issue #10)
SIGNERS = ("provider",)


def basis(notice_type: str) -> str:
    """The template key group of the source the notice rests on."""
    return "receipt" if notice_type == "receipt" else "decision"


def _consistent(data: dict[str, Any], errors: Errors) -> None:
    if data["issue_date"] < data["application"]["date"]:
        errors.add("issue_date", "date_before", other="application.date")
    flag_repeated(data["channels"], "means", "channels", errors)
    needed = {NEEDS[c["means"]] for c in data["channels"] if c["means"] in NEEDS}
    for need in sorted(needed):
        if not data["recipient"].get(need):
            errors.add(f"recipient.{need}", "required")
    if (
        data["channels"]
        and data["notice_type"] == "receipt"
        and "mobile_app" not in {c["means"] for c in data["channels"]}
    ):
        errors.add("channels", "receipt_in_app")


def _derive(data: dict[str, Any]) -> dict[str, Any]:
    due = None
    if data["notice_type"] == "receipt":
        due = add_working_days(data["application"]["date"], REVIEW_WORKING_DAYS)
    return {"review_deadline": due}


KIND = Kind(
    name="notification",
    source="Order No. 109 of 25 March 2020, point 10; Order No. 170 of 30 May 2024, Rules, "
    "points 14-15 (no official form)",
    own_layout=True,
    fields=(
        Choice("notice_type", options=NOTICE_TYPES),
        Text("number", max_length=50),
        Date("issue_date"),
        Group("provider", fields=(Text("name", max_length=300), Bin("bin"))),
        Group(
            "recipient",
            fields=(
                Name("full_name"),
                Iin("iin"),
                Phone("phone", required=False),
                Email("email", required=False),
            ),
        ),
        Group(
            "application",
            fields=(
                Text("service", max_length=500),
                Text("number", required=False, max_length=50),
                Date("date"),
            ),
        ),
        Text("content", max_length=4000, multiline=True),
        Group(
            "channels",
            item="channel",
            min_items=1,
            max_items=len(CHANNELS),
            fields=(Choice("means", options=CHANNELS),),
        ),
        Group("official", fields=(Name("full_name"), Text("position", max_length=300))),
        Date("review_deadline", required=False, computed=True),
    ),
    rules=(_consistent,),
    derive=_derive,
)
