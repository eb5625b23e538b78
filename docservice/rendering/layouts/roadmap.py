"""Layout of the road map (Rules 2024, point 38): the service's own design.

The Rules name the road map but give no form, so the page follows the usual
shape of an approved plan: the approval block at the top right, the title, the
point-38 sentences as the basis, then the settlement, the family and the table
of services (Appendix 1 number and name, responsible party, deadline, status,
note). The table repeats its header row, so a long list flows over pages. The
copy number and addressee are printed on every page by the page decoration
(``copy_label``), not here.
"""

from __future__ import annotations

import datetime as dt

from reportlab.lib.enums import TA_CENTER
from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Flowable, Spacer

from docservice.rendering.layout import LayoutContext, Paragraph, Table, cell, table_style, text

SERVICE_WIDTHS = [7, 16, 52, 33, 20, 24, 29]
#: room a section heading needs below it: the heading and a few lines of what follows
HEADING_ROOM = 35 * mm
FAMILY_WIDTHS = [7, 62, 24, 26, 30]


def short_date(value: dt.date | None) -> str:
    """DD.MM.YYYY: the usual way of writing a date in a table cell, in both languages."""
    return value.strftime("%d.%m.%Y") if value else ""


def _approval(ctx: LayoutContext) -> Table:
    d, s = ctx.data, ctx.s
    who = d["approved_by"]
    rows = [
        [Paragraph(ctx.t("approve"), s.bold)],
        [cell(text(who["position"]), s.plain)],
        [cell(text(who["full_name"]), s.plain)],
        [Paragraph(ctx.date(d["approval_date"]), s.plain)],
    ]
    block = Table(rows, colWidths=[min(80 * mm, ctx.frame_width / 2)], hAlign="RIGHT")
    block.setStyle(
        table_style(
            [
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
            ]
        )
    )
    return block


def _settlement(ctx: LayoutContext) -> list[Flowable]:
    place = ctx.data["settlement"]
    return [
        ctx.label_value(ctx.t(f"labels.{key}"), place[key], label_width=60 * mm)
        for key in ("region", "district", "rural_district", "settlement")
    ]


def _family(ctx: LayoutContext) -> Table:
    family = ctx.data["family"]
    head = [ctx.t(f"columns.{c}") for c in ("number", "full_name", "birth_date", "iin", "kinship")]
    people = [(family["head"], ctx.t("head_of_family"))]
    people += [(m, text(m["kinship"])) for m in family.get("members") or []]
    rows = [
        [str(i), text(p["full_name"]), short_date(p["birth_date"]), text(p["iin"]), kin]
        for i, (p, kin) in enumerate(people, start=1)
    ]
    return ctx.grid([head, *rows], FAMILY_WIDTHS)


def _services(ctx: LayoutContext) -> Table:
    head = [
        ctx.t(f"columns.{c}")
        for c in ("number", "code", "service", "responsible", "deadline", "status", "note")
    ]
    rows = [
        [
            str(i),
            str(item["code"]),
            ctx.service(item["code"]),
            text(item["responsible"]),
            short_date(item.get("deadline")),
            ctx.choice("status", item["status"]),
            text(item.get("note") or ""),
        ]
        for i, item in enumerate(ctx.data["services"], start=1)
    ]
    return ctx.grid([head, *rows], SERVICE_WIDTHS)


def build(ctx: LayoutContext) -> list[Flowable]:
    d, s = ctx.data, ctx.s
    heading = s.bold.clone("roadmap_heading", spaceBefore=6, spaceAfter=3)
    story: list[Flowable] = [_approval(ctx), Spacer(1, 6 * mm), ctx.title()]
    if d.get("number"):
        story.append(
            Paragraph(
                ctx.t("number", number=d["number"]), s.plain.clone("number", alignment=TA_CENTER)
            )
        )
    story += [
        Spacer(1, 3 * mm),
        Paragraph(ctx.t("basis_heading"), s.appendix),
        Paragraph(ctx.t("basis.purpose"), s.appendix),
        Paragraph(ctx.t("basis.copies"), s.appendix),
        Spacer(1, 5 * mm),
    ]
    # a heading starts a new page rather than stand alone at the foot of one
    story += [
        CondPageBreak(HEADING_ROOM),
        Paragraph(ctx.t("settlement_heading"), heading),
        *_settlement(ctx),
    ]
    story += [
        CondPageBreak(HEADING_ROOM),
        Paragraph(ctx.t("family_heading"), heading),
        _family(ctx),
    ]
    note = s.appendix.clone("roadmap_note", spaceAfter=3)
    story += [
        CondPageBreak(HEADING_ROOM),
        Paragraph(ctx.t("services_heading"), heading),
        Paragraph(ctx.t("services_note"), note),
        _services(ctx),
        Spacer(1, 6 * mm),
    ]
    return story
