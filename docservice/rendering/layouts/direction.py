"""Layout of the direction to the Center (Order 331, Rules and terms of residence, Appendix 1).

The form prints six numbered lines for family members, each with its caption
under it. A family has as many lines as it has members: each member is one small
two-row table (number and filled line, then the caption) kept together, so the
list flows onto further pages instead of being cut at six. A person's line ends
with the police talon of point 3 when there is one.
"""

from __future__ import annotations

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Spacer

from docservice.rendering.layout import LayoutContext, Lines, Paragraph, Table, table_style, text

NUMBER_WIDTH = 10 * mm
DATE_LINE_WIDTH = 70 * mm


def _line(ctx: LayoutContext, value: str, caption: str, width: float, number: str = "") -> Table:
    """A filled line with the form's caption under it, numbered on the left for members."""
    line, under = Lines(value, ctx.s.plain), Paragraph(caption, ctx.s.caption)
    if number:
        rows = [[Lines(number, ctx.s.plain), line], ["", under]]
        widths = [NUMBER_WIDTH, width - NUMBER_WIDTH]
    else:
        rows, widths = [[line], [under]], [width]
    column = len(widths) - 1
    table = Table(rows, colWidths=widths, hAlign="LEFT")
    table.setStyle(
        table_style(
            [
                ("LINEBELOW", (column, 0), (column, 0), 0.5, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                ("LEFTPADDING", (0, 0), (-1, -1), 2),
                ("RIGHTPADDING", (0, 0), (-1, -1), 2),
                ("TOPPADDING", (0, 1), (-1, 1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, 0), 1),
            ]
        )
    )
    return table


def _person(ctx: LayoutContext, person: dict, kinship: str | None = None) -> str:
    """The words written on a person's line: name, date of birth, kinship, IIN, talon."""
    parts = [person["full_name"], ctx.texts.date(person["birth_date"])]
    if kinship:
        parts.append(ctx.texts.get(ctx.kind.name, f"choices.kinship.{kinship}"))
    if person.get("iin"):
        parts.append(f"{ctx.texts.get('common', 'fields.iin')} {person['iin']}")
    if person.get("talon"):
        talon = person["talon"]
        parts.append(
            ctx.texts.get(
                ctx.kind.name,
                "talon_line",
                number=talon["number"],
                date=ctx.texts.date(talon["date"]),
            )
        )
    return ", ".join(parts)


def _number_and_date(ctx: LayoutContext) -> Table:
    d = ctx.data
    row = [
        [
            Paragraph(ctx.t("number", number=text(d["number"])), ctx.s.plain),
            Paragraph(ctx.date(d["issue_date"]), ctx.s.right),
        ]
    ]
    table = Table(row, colWidths=[ctx.frame_width / 2] * 2)
    table.setStyle(
        table_style([("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0)])
    )
    return table


def build(ctx: LayoutContext) -> list[Flowable]:
    d, s = ctx.data, ctx.s
    width = ctx.frame_width
    story: list[Flowable] = [
        *ctx.appendix_block(),
        ctx.title(),
        _number_and_date(ctx),
        Spacer(1, 4 * mm),
        Paragraph(ctx.t("sent"), s.indent),
        _line(ctx, _person(ctx, d["candidate"]), ctx.t("candidate_caption"), width),
        Spacer(1, 4 * mm),
        Paragraph(ctx.t("members_heading"), s.indent),
    ]
    family = d.get("family") or []
    for number, member in enumerate(family, start=1):
        story.append(
            KeepTogether(
                [
                    _line(
                        ctx,
                        _person(ctx, member, member["kinship"]),
                        ctx.t("member_caption"),
                        width,
                        f"{number}.",
                    ),
                    Spacer(1, 2 * mm),
                ]
            )
        )
    if not family:
        story.append(Paragraph(ctx.t("no_members"), s.indent))
    authority = d["authority"]
    story.append(
        KeepTogether(
            [
                Spacer(1, 4 * mm),
                Paragraph(ctx.t("head"), s.plain),
                Spacer(1, 1 * mm),
                _line(ctx, authority["name"], ctx.t("authority_caption"), width),
                Spacer(1, 2 * mm),
                _line(ctx, authority["head_full_name"], ctx.t("head_caption"), width),
                Spacer(1, 2 * mm),
                _line(
                    ctx,
                    ctx.texts.date(d["issue_date"]),
                    ctx.t("issue_date_caption"),
                    DATE_LINE_WIDTH,
                ),
                Spacer(1, 4 * mm),
            ]
        )
    )
    return story
