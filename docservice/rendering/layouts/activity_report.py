"""Layout of the report on one activity of the adaptation plan (the service's own design).

Points 35-37 name the report and what it carries but print no form. The page
gives the activity (service of Appendix 1, person, date, place with its
coordinates), the result, the evidence as a table (each file's name inside the
PDF, size and SHA-256, so a reader can extract and check it; the photos also
shown small), the basis (points 35-37) and the employee's signature line.
"""

from __future__ import annotations

import io

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Image, KeepTogether, Spacer

from docservice.rendering.layout import LayoutContext, Paragraph, text

LABEL_WIDTH = 62 * mm
THUMB = 55 * mm


def _spaced(digest: str) -> str:
    """A digest in groups of 16 so that it wraps in a narrow cell."""
    return " ".join(digest[i : i + 16] for i in range(0, len(digest), 16))


def _evidence(ctx: LayoutContext) -> list[Flowable]:
    rows: list[list] = [
        [ctx.t(f"columns.{c}") for c in ("number", "kind", "file", "size", "sha256", "description")]
    ]
    thumbs: list[Flowable] = []
    # file names have no spaces: let them break anywhere rather than run out of the cell
    anywhere = ctx.s.cell.clone("ar_file", wordWrap="CJK")
    for i, item in enumerate(ctx.data["evidence"], start=1):
        rows.append(
            [
                str(i),
                ctx.texts.get(ctx.kind.name, f"choices.kind.{item['kind']}"),
                Paragraph(text(item["embedded_as"]), anywhere),
                str(item["size"]),
                _spaced(item["sha256"]),
                text(item.get("description") or ""),
            ]
        )
        if item["media_type"] in ("image/jpeg", "image/png"):
            image = Image(io.BytesIO(item["content"]))
            scale = min(THUMB / image.imageWidth, THUMB / image.imageHeight)
            image.drawWidth, image.drawHeight = image.imageWidth * scale, image.imageHeight * scale
            image.hAlign = "LEFT"
            thumbs += [
                Paragraph(f"{i}. {text(item['embedded_as'])}", ctx.s.small),
                image,
                Spacer(1, 2 * mm),
            ]
    return [
        Paragraph(ctx.t("evidence_heading"), ctx.s.bold),
        ctx.grid(rows, [6, 14, 45, 16, 36, 45]),
        Paragraph(ctx.t("evidence_note"), ctx.s.appendix),
        Spacer(1, 2 * mm),
        *thumbs,
    ]


def build(ctx: LayoutContext) -> list[Flowable]:
    d, s = ctx.data, ctx.s
    person, geo = d["person"], d["geolocation"]
    role = ctx.texts.get(ctx.kind.name, f"choices.role.{person['role']}")
    story: list[Flowable] = [ctx.title()]
    if d.get("number"):
        story.append(
            Paragraph(
                ctx.t("number", number=text(d["number"])), s.plain.clone("ar_number", alignment=1)
            )
        )
    story.append(Spacer(1, 3 * mm))
    rows = [
        ("region", d["region"]),
        ("career_center", d["career_center"]),
        ("plan_number", d.get("plan_number")),
        (
            "service",
            ctx.texts.get(
                ctx.kind.name,
                "service_line",
                code=d["service_code"],
                name=ctx.texts.get("services", f"items.{d['service_code']}"),
            ),
        ),
        (
            "person",
            ctx.texts.get(
                ctx.kind.name,
                "person_line",
                role=role,
                name=person["full_name"],
                iin=person["iin"],
                birth_date=ctx.texts.date(person["birth_date"]),
            ),
        ),
        ("activity_date", ctx.texts.date(d["activity_date"])),
        ("place", geo["place"]),
        (
            "coordinates",
            ctx.texts.get(
                ctx.kind.name, "coordinates_line", lat=geo["latitude"], lon=geo["longitude"]
            ),
        ),
        ("report_date", ctx.texts.date(d["report_date"])),
    ]
    story += [
        ctx.label_value(ctx.t(f"labels.{key}"), value, LABEL_WIDTH) for key, value in rows if value
    ]
    story += [
        Spacer(1, 3 * mm),
        Paragraph(ctx.t("result_heading"), s.bold),
        Paragraph(text(d["result"]).replace("\n", "<br/>"), s.body),
        Spacer(1, 2 * mm),
        *_evidence(ctx),
        KeepTogether(
            [
                Paragraph(ctx.t("basis_heading"), s.appendix),
                *(Paragraph(ctx.t(f"basis.{k}"), s.appendix) for k in ("p35", "p36", "p37")),
            ]
        ),
    ]
    employee = d["employee"]
    story.append(
        KeepTogether(
            [
                Spacer(1, 3 * mm),
                Paragraph(ctx.t("employee_heading"), s.plain),
                *ctx.filled(
                    f"{employee['position']}, {employee['full_name']}", ctx.t("employee_caption")
                ),
            ]
        )
    )
    return story
