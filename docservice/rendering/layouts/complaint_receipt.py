"""Layout of the confirmation that a complaint was registered (the service's own design).

Point 10 of the standard makes the registration itself (stamp, incoming number
and date, who accepted it, when and where the reply comes) the confirmation of
acceptance. The page puts those in a framed stamp, then the applicant, how and
to whom the complaint was given, its short content, point 10's sentences (the
review term of the addressee only) and the signature line of who accepted it.
"""

from __future__ import annotations

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Spacer

from docservice.forms.complaint_receipt import REVIEW_WORKING_DAYS, review_basis
from docservice.rendering.layout import LayoutContext, Paragraph, Table, cell, table_style, text

STAMP_WIDTH = 105 * mm


def _stamp(ctx: LayoutContext) -> Table:
    d, s = ctx.data, ctx.s
    accepted = d["accepted_by"]
    deadline = ctx.texts.get(
        ctx.kind.name,
        "deadline_line",
        date=ctx.texts.date(d["review_deadline"]),
        days=REVIEW_WORKING_DAYS[d["addressee"]],
    )
    values = [
        ("organisation", text(d["organisation"])),
        ("incoming_number", text(d["incoming_number"])),
        ("registration_date", ctx.date(d["registration_date"])),
        ("accepted_by", text(f"{accepted['full_name']}, {accepted['position']}")),
        ("review_deadline", f"<b>{text(deadline)}</b>"),
        ("reply_place", text(d["reply_place"])),
    ]
    rows = [[Paragraph(f"<b>{ctx.t('stamp_heading')}</b>", s.cell_bold), ""]]
    rows += [[cell(ctx.t(f"stamp.{key}"), s.cell), cell(value, s.cell)] for key, value in values]
    table = Table(rows, colWidths=[35 * mm, STAMP_WIDTH - 35 * mm], hAlign="RIGHT")
    table.setStyle(
        table_style(
            [
                ("SPAN", (0, 0), (-1, 0)),
                ("BOX", (0, 0), (-1, -1), 1.5, colors.HexColor("#1F3A93")),
                ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.HexColor("#1F3A93")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def build(ctx: LayoutContext) -> list[Flowable]:
    d, s = ctx.data, ctx.s
    applicant = d["applicant"]
    story: list[Flowable] = [
        ctx.title(),
        _stamp(ctx),
        Spacer(1, 5 * mm),
        Paragraph(ctx.t("applicant_heading"), s.bold),
        Paragraph(
            ctx.t(
                "applicant_line",
                name=text(applicant["full_name"]),
                iin=applicant["iin"],
                birth_date=ctx.date(applicant["birth_date"]),
            ),
            s.plain,
        ),
    ]
    rows = [
        ("address", applicant.get("address")),
        ("phone", applicant.get("phone")),
        ("addressee", ctx.texts.get(ctx.kind.name, f"choices.addressee.{d['addressee']}")),
        ("channel", ctx.texts.get(ctx.kind.name, f"choices.channel.{d['channel']}")),
        (
            "complaint_date",
            ctx.texts.date(d["complaint_date"]) if d.get("complaint_date") else None,
        ),
    ]
    story += [
        ctx.label_value(ctx.t(f"labels.{key}"), value, 45 * mm) for key, value in rows if value
    ]
    story += [
        Spacer(1, 3 * mm),
        Paragraph(ctx.t("subject_heading"), s.bold),
        Paragraph(text(d["subject"]).replace("\n", "<br/>"), s.body),
        Spacer(1, 3 * mm),
        KeepTogether(
            [
                Paragraph(ctx.t("basis_heading"), s.appendix),
                Paragraph(ctx.t("submission"), s.appendix),
                Paragraph(ctx.t("registration"), s.appendix),
                Paragraph(ctx.t(f"choices.review.{review_basis(d['addressee'])}"), s.appendix),
            ]
        ),
    ]
    accepted = d["accepted_by"]
    story.append(
        KeepTogether(
            [
                Spacer(1, 4 * mm),
                *ctx.filled(
                    f"{accepted['position']}, {accepted['full_name']}", ctx.t("accepted_caption")
                ),
            ]
        )
    )
    return story
