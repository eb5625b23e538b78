"""Layout of the individual plan of adaptation and integration: the service's own design.

The Rules (points 28, 32-33) name the plan but give no form. Point 33 asks for
the services of each family member separately, with terms counted from the
inclusion in the regional quota, so the page has one section per person: a
table whose first rows name the person (full name, IIN, date of birth, kinship)
and are repeated, with the column headings, on every page the section runs
onto. Each service shows its term in days and the date it falls due. The plan
ends with the signatures of its state: the career-centre employee who formed it
(a draft, point 19, is marked as such under the title), the kandas's agreement
(point 28: formed "по согласованию с кандасом") and the approval by the labour
mobility centre of the receiving region with the upload deadline (point 34).
"""

from __future__ import annotations

from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Flowable, Spacer

from docservice.rendering.layout import LayoutContext, Paragraph, Table, cell, table_style, text
from docservice.rendering.layouts.roadmap import short_date

COLUMNS = ("number", "code", "service", "term", "deadline", "responsible", "note")
WIDTHS = (7, 16, 51, 22, 20, 32, 26)
#: the person's two heading rows and the column headings, repeated on each page
HEAD_ROWS = 3
HEADING_ROOM = 40 * mm


def _person_table(ctx: LayoutContext, number: int, role: str, person: dict[str, Any]) -> Table:
    s = ctx.s
    role_name = ctx.texts.get(ctx.kind.name, f"role.{role}")
    heading = ctx.t("person_heading", number=number, role=role_name, name=person["full_name"])
    details = ctx.t(
        "person_details", iin=person["iin"], birth_date=ctx.texts.date(person["birth_date"])
    )
    if person.get("kinship"):
        details += ctx.t("person_kinship", kinship=person["kinship"])
    blank = [""] * (len(COLUMNS) - 1)
    rows: list[list[Any]] = [
        [Paragraph(heading, s.bold), *blank],
        [Paragraph(details, s.cell), *blank],
        [cell(ctx.t(f"columns.{c}"), s.cell_bold) for c in COLUMNS],
    ]
    for i, item in enumerate(person["services"], start=1):
        values = [
            str(i),
            str(item["code"]),
            ctx.service(item["code"]),
            str(item["days_from_quota"]),
            short_date(item["deadline"]),
            text(item.get("responsible") or ""),
            text(item.get("note") or ""),
        ]
        rows.append([cell(v, s.cell) for v in values])
    scale = ctx.frame_width / sum(WIDTHS)
    table = Table(rows, colWidths=[w * scale for w in WIDTHS], repeatRows=HEAD_ROWS)
    table.setStyle(
        table_style(
            [
                ("SPAN", (0, 0), (-1, 0)),
                ("SPAN", (0, 1), (-1, 1)),
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("BACKGROUND", (0, 0), (-1, 1), colors.HexColor("#EEEEEE")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 2),
                ("RIGHTPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table


def build(ctx: LayoutContext) -> list[Flowable]:
    d, s = ctx.data, ctx.s
    centred = s.plain.clone("plan_number", alignment=TA_CENTER)
    mark = ctx.t(f"state_mark.{d['state']}")
    story: list[Flowable] = [ctx.title(), Paragraph(f"<b>{mark}</b>", centred)]
    if d.get("number"):
        story.append(Paragraph(ctx.t("number", number=d["number"]), centred))
    story += [Spacer(1, 3 * mm), Paragraph(ctx.t("basis_heading"), s.appendix)]
    story += [
        Paragraph(ctx.t(f"basis.{key}"), s.appendix)
        for key in ("draft", "formed", "composed", "terms", "per_member", "upload")
    ]
    story.append(Spacer(1, 5 * mm))
    for key in ("career_center", "region"):
        story.append(ctx.label_value(ctx.t(f"labels.{key}"), d[key], label_width=75 * mm))
    for key in ("plan_date", "quota_inclusion_date"):
        story.append(
            ctx.label_value(ctx.t(f"labels.{key}"), ctx.texts.date(d[key]), label_width=75 * mm)
        )
    heading = s.bold.clone("plan_heading", spaceBefore=8, spaceAfter=2)
    story += [
        CondPageBreak(HEADING_ROOM),
        Paragraph(ctx.t("persons_heading"), heading),
        Paragraph(ctx.t("terms_note"), s.appendix.clone("plan_note", spaceAfter=4)),
    ]
    people = [("kandas", d["kandas"])] + [("member", m) for m in d.get("members") or []]
    for number, (role, person) in enumerate(people, start=1):
        story += [
            CondPageBreak(HEADING_ROOM),
            _person_table(ctx, number, role, person),
            Spacer(1, 4 * mm),
        ]
    story += [
        CondPageBreak(HEADING_ROOM),
        Spacer(1, 2 * mm),
        Paragraph(ctx.t("formed_heading"), s.plain),
    ]
    formed = d["formed_by"]
    story += ctx.filled(f"{formed['full_name']}, {formed['position']}", ctx.t("formed_caption"))
    if d.get("agreement_date"):
        story += [CondPageBreak(HEADING_ROOM), Paragraph(ctx.t("agreed_heading"), s.plain)]
        story += ctx.filled(d["kandas"]["full_name"], ctx.t("agreed_caption"))
        story += ctx.filled(ctx.texts.date(d["agreement_date"]), ctx.t("agreed_date_caption"))
    approval = d.get("approval")
    if approval:
        official = approval["official"]
        story += [CondPageBreak(HEADING_ROOM), Paragraph(ctx.t("approval_heading"), s.plain)]
        story += ctx.filled(
            f"{approval['center']}, {official['position']}, {official['full_name']}",
            ctx.t("approval_caption"),
        )
        story += ctx.filled(ctx.texts.date(approval["date"]), ctx.t("approval_date_caption"))
        story.append(
            Paragraph(ctx.t("upload_line", date=ctx.texts.date(d["upload_deadline"])), s.bold)
        )
    return story
