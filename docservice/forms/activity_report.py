"""The report on the work done for one activity of an adaptation plan (Rules 2024, p. 35-37).

Point 35: each activity of the plan, "по факту их реализации и исполнения", is
entered by the career-centre employee in the section "Отчет о проделанной работе
по адаптации и интеграции"; point 36 attaches "фото и видео фиксации о
проделанной работе с соответствующими подтверждающими документами, а также
геолокация"; point 37: the services done are confirmed by that photo and video.

So one report is one activity: the service of Appendix 1 (by its number), the
person it was for (the kandas or a family member), the date, the result, the
employee, the place (geolocation) and the evidence. The evidence files travel in
the PDF/A-3 as associated files (``attachments``, AFRelationship /Supplement)
and the XML names each by file name, media type, size and SHA-256, so that a
file taken out of the PDF can be checked against the signed XML. The file's
type is checked against its first bytes, not only its declared name.

The month's reports of a region give the monthly Appendix 3 report without
retyping: ``docservice.a3_from_activities``. The Rules give no form: the layout
is the service's own (``own_layout``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from docservice.forms.common import iin_matches_birth_date, no_repeated_iins
from docservice.forms.fields import (
    Choice,
    Date,
    Errors,
    Field,
    Group,
    Iin,
    Integer,
    Name,
    Pattern,
    Text,
)
from docservice.forms.kind import Attachment, Kind

SERVICES = 25
ROLES = ("kandas", "member")
EVIDENCE_KINDS = ("photo", "video", "document")
#: media types accepted as evidence and the first bytes each must start with
MEDIA_TYPES: dict[str, tuple[bytes, ...]] = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "video/mp4": (),  # checked by its 'ftyp' box at offset 4
    "application/pdf": (b"%PDF-",),
}
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_FILES = 20
#: Kazakhstan's extent, to catch swapped or mistyped coordinates
LATITUDE = (Decimal("40.5"), Decimal("55.5"))
LONGITUDE = (Decimal("46.4"), Decimal("87.4"))
#: who signs (a route step; the route itself is issue #10)
SIGNERS = ("career_center_employee",)


@dataclass(frozen=True)
class Coordinate(Field):
    """A latitude or longitude in decimal degrees (up to 6 places, ~0.1 m)."""

    minimum: Decimal = Decimal(-180)
    maximum: Decimal = Decimal(180)

    def clean(self, value: Any, path: str, errors: Errors) -> Decimal | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            errors.add(path, "not_number")
            return None
        try:
            number = Decimal(str(value))
            if not number.is_finite():
                raise InvalidOperation
            number = number.quantize(Decimal("0.000001"))
        except InvalidOperation:
            errors.add(path, "not_number")
            return None
        if not self.minimum <= number <= self.maximum:
            errors.add(path, "outside_kazakhstan", min=self.minimum, max=self.maximum)
            return None
        return number

    def to_xml_text(self, value: Decimal) -> str:
        return str(value)

    def json_schema(self) -> dict[str, Any]:
        return {"type": "number", "minimum": float(self.minimum), "maximum": float(self.maximum)}

    def xsd_facets(self) -> tuple[str, list[tuple[str, str]]]:
        return "xs:decimal", [
            ("minInclusive", str(self.minimum)),
            ("maxInclusive", str(self.maximum)),
            ("fractionDigits", "6"),
        ]


@dataclass(frozen=True)
class FileContent(Field):
    """A file's bytes given as Base64; embedded in the PDF, named in the XML by its digest."""

    max_bytes: int = MAX_FILE_BYTES
    in_xml = False

    def clean(self, value: Any, path: str, errors: Errors) -> bytes | None:
        if not isinstance(value, str):
            errors.add(path, "not_text")
            return None
        if len(value) > (self.max_bytes + 2) // 3 * 4 + 4:
            errors.add(path, "file_too_large", max=self.max_bytes)
            return None
        try:
            data = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            errors.add(path, "not_base64")
            return None
        if not data:
            errors.add(path, "required")
            return None
        if len(data) > self.max_bytes:
            errors.add(path, "file_too_large", max=self.max_bytes)
            return None
        return data

    def json_schema(self) -> dict[str, Any]:
        return {
            "type": "string",
            "contentEncoding": "base64",
            "minLength": 4,
            "maxLength": (self.max_bytes + 2) // 3 * 4,
        }


def _is_media_type(data: bytes, media_type: str) -> bool:
    if media_type == "video/mp4":
        return data[4:8] == b"ftyp"
    return any(data.startswith(magic) for magic in MEDIA_TYPES[media_type])


def _evidence_is_what_it_says(data: dict[str, Any], errors: Errors) -> None:
    """Each file's bytes match its media type, and each name is used once."""
    seen: set[str] = set()
    for i, item in enumerate(data["evidence"]):
        path = f"evidence[{i}]"
        if not _is_media_type(item["content"], item["media_type"]):
            errors.add(f"{path}.content", "not_media_type", media_type=item["media_type"])
        if item["file_name"] in seen:
            errors.add(f"{path}.file_name", "duplicate", value=item["file_name"])
        seen.add(item["file_name"])
    if data["person"]["birth_date"] > data["activity_date"]:
        errors.add("person.birth_date", "not_after", other="activity_date")
    if data["report_date"] < data["activity_date"]:
        errors.add("report_date", "date_before", other="activity_date")


def attachment_name(index: int, file_name: str) -> str:
    """The name of evidence file ``index`` (0-based) inside the PDF: unique, never the XML's."""
    return f"evidence-{index + 1:02d}-{file_name}"


def _derive(data: dict[str, Any]) -> dict[str, Any]:
    for i, item in enumerate(data["evidence"]):
        item["sha256"] = hashlib.sha256(item["content"]).hexdigest()
        item["size"] = len(item["content"])
        item["embedded_as"] = attachment_name(i, item["file_name"])
    return {"evidence": data["evidence"]}


def _attachments(data: dict[str, Any]) -> list[Attachment]:
    return [
        Attachment(
            item["embedded_as"],
            item["content"],
            item["media_type"],
            item.get("description") or item["file_name"],
        )
        for item in data["evidence"]
    ]


KIND = Kind(
    name="activity_report",
    source="Order No. 170 of 30 May 2024, Rules, points 35-37 (no official form)",
    own_layout=True,
    fields=(
        Text("number", required=False, max_length=50),
        Text("region", max_length=200),
        Text("career_center", max_length=300),
        Text("plan_number", required=False, max_length=50),
        Integer("service_code", minimum=1, maximum=SERVICES),
        Group(
            "person",
            fields=(
                Choice("role", options=ROLES),
                Name("full_name"),
                Date("birth_date"),
                Iin("iin"),
            ),
        ),
        Date("activity_date"),
        Text("result", max_length=4000, multiline=True),
        Group(
            "geolocation",
            fields=(
                Coordinate("latitude", minimum=LATITUDE[0], maximum=LATITUDE[1]),
                Coordinate("longitude", minimum=LONGITUDE[0], maximum=LONGITUDE[1]),
                Text("place", max_length=300),
            ),
        ),
        Group(
            "evidence",
            item="file",
            min_items=1,
            max_items=MAX_FILES,
            fields=(
                Choice("kind", options=EVIDENCE_KINDS),
                Pattern(
                    "file_name",
                    max_length=100,
                    regex=r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}",
                    code="bad_file_name",
                ),
                Choice("media_type", options=tuple(MEDIA_TYPES)),
                Text("description", required=False, max_length=500),
                FileContent("content"),
                Pattern("sha256", computed=True, max_length=64, regex="[0-9a-f]{64}"),
                Integer("size", computed=True, minimum=1, maximum=MAX_FILE_BYTES),
                Text("embedded_as", computed=True, max_length=120),
            ),
        ),
        Group("employee", fields=(Name("full_name"), Text("position", max_length=300))),
        Date("report_date"),
    ),
    rules=(iin_matches_birth_date, no_repeated_iins, _evidence_is_what_it_says),
    derive=_derive,
    attachments=_attachments,
)
