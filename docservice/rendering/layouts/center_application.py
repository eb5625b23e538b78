"""Layout of the application for placement in the Center (Order 331, Appendix 2).

The addressee block stands at the top right as on the form; the number of family
members is written into the blank of the request sentence itself (the form's
``саны "____" адамнан``), then the date and signature lines with their captions.
"""

from __future__ import annotations

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer

from docservice.rendering.layout import LayoutContext, Lines, Paragraph, Table, table_style

ADDRESSEE_WIDTH = 95 * mm
DATE_WIDTH, GAP_WIDTH, SIGNATURE_WIDTH = 60 * mm, 20 * mm, 50 * mm


def _addressee(ctx: LayoutContext) -> Table:
    d = ctx.data
    candidate = ctx.texts.get(ctx.kind.name, "candidate", **d["candidate"])
    rows = [
        [Paragraph(ctx.t("to_head"), ctx.s.plain)],
        [Lines(d["authority"], ctx.s.plain)],
        [Paragraph(ctx.t("authority_caption"), ctx.s.caption)],
        [Lines(candidate, ctx.s.plain)],
        [Paragraph(ctx.t("candidate_caption"), ctx.s.caption)],
    ]
    width = min(ADDRESSEE_WIDTH, ctx.frame_width)
    table = Table(rows, colWidths=[width], hAlign="RIGHT")
    table.setStyle(
        table_style(
            [
                ("LINEBELOW", (0, 1), (0, 1), 0.5, colors.black),
                ("LINEBELOW", (0, 3), (0, 3), 0.5, colors.black),
                ("LEFTPADDING", (0, 0), (-1, -1), 2),
                ("RIGHTPADDING", (0, 0), (-1, -1), 2),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                ("TOPPADDING", (0, 3), (0, 3), 6),
            ]
        )
    )
    return table


def _date_and_signature(ctx: LayoutContext) -> Table:
    rows = [
        [Lines(ctx.texts.date(ctx.data["application_date"]), ctx.s.plain), "", ""],
        [
            Paragraph(ctx.t("date_caption"), ctx.s.caption),
            "",
            Paragraph(ctx.t("signature_caption"), ctx.s.caption),
        ],
    ]
    table = Table(rows, colWidths=[DATE_WIDTH, GAP_WIDTH, SIGNATURE_WIDTH], hAlign="LEFT")
    table.setStyle(
        table_style(
            [
                ("LINEBELOW", (0, 0), (0, 0), 0.5, colors.black),
                ("LINEBELOW", (2, 0), (2, 0), 0.5, colors.black),
                ("LEFTPADDING", (0, 0), (-1, -1), 2),
                ("RIGHTPADDING", (0, 0), (-1, -1), 2),
                ("TOPPADDING", (0, 1), (-1, 1), 1),
            ]
        )
    )
    return table


def build(ctx: LayoutContext) -> list[Flowable]:
    count = ctx.data["family_members"]
    request = f"{ctx.t('request_start')}<u>{count}</u>{ctx.t('request_end')}"
    return [
        *ctx.appendix_block(),
        _addressee(ctx),
        Spacer(1, 8 * mm),
        ctx.title(),
        Paragraph(request, ctx.s.indent),
        Spacer(1, 8 * mm),
        _date_and_signature(ctx),
        Spacer(1, 6 * mm),
    ]
