"""Layout of the registration journal (Order 331 Rules of residence, Appendix 3), landscape.

A journal runs to hundreds or thousands of entries. One ReportLab table re-measures
every remaining row at each page break (quadratic), so the rows are measured once
here and packed into page-sized tables, each opening with the form's header row:
the header is on every page and the cost stays linear. "Басталды" / "Аяқталды"
(started / ended) follow the table, as on the form.
"""

from __future__ import annotations

import datetime as dt

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.platypus import Flowable, PageBreak, Spacer

from docservice.rendering.layout import LayoutContext, Lines, Paragraph, Table, table_style

COLUMNS = ("number", "full_name", "birth", "country", "registration", "direction")
#: relative column widths (the № column narrow, the name widest)
WEIGHTS = (12, 62, 50, 36, 50, 50)
PADDING = 2.0  # left/right cell padding of ctx.grid
VERTICAL_PADDING = 6.0  # ReportLab's default top + bottom cell padding
SAFETY = 4.0  # points kept free on each page against rounding in the table's own sums
PERIOD_LABEL_WIDTH, PERIOD_VALUE_WIDTH = 30 * mm, 60 * mm


def _short(date: dt.date) -> str:
    """Dates in table cells: short, the same in both languages."""
    return date.strftime("%d.%m.%Y")


def _cells(ctx: LayoutContext, number: int, entry: dict) -> list[str]:
    name = entry["full_name"]
    if entry.get("iin"):
        name += "\n" + ctx.texts.get(ctx.kind.name, "iin", iin=entry["iin"])
    direction = ""
    if entry.get("direction_number"):
        direction = f"№ {entry['direction_number']}, {_short(entry['direction_date'])}"
    return [
        str(number),
        name,
        f"{entry['birth_place']}, {_short(entry['birth_date'])}",
        entry["country"],
        f"{_short(entry['registration_date'])}, № {entry['registration_number']}",
        direction,
    ]


def _height(row: list[str], widths: list[float], font: str, size: float, leading: float) -> float:
    """The height ReportLab gives the row: the tallest cell's wrapped lines plus padding."""
    lines = max(
        len(simpleSplit(value, font, size, width - 2 * PADDING) or [""])
        for value, width in zip(row, widths, strict=True)
    )
    return lines * leading + VERTICAL_PADDING


def _pages(heights: list[float], first: float, others: float) -> list[tuple[int, int]]:
    """Cut the rows into (start, end) slices that fit the room of each page."""
    pages, start, used, room = [], 0, 0.0, first
    for index, height in enumerate(heights):
        if used + height > room and index > start:
            pages.append((start, index))
            start, used, room = index, 0.0, others
        used += height
    pages.append((start, len(heights)))
    return pages


def _period(ctx: LayoutContext) -> Table:
    d = ctx.data
    rows = [
        [
            Paragraph(ctx.t(key), ctx.s.plain),
            Lines(ctx.texts.date(d[key]) if d.get(key) else "", ctx.s.plain),
        ]
        for key in ("started", "ended")
    ]
    table = Table(rows, colWidths=[PERIOD_LABEL_WIDTH, PERIOD_VALUE_WIDTH], hAlign="LEFT")
    table.setStyle(
        table_style(
            [
                ("LINEBELOW", (1, 0), (1, -1), 0.5, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table


def build(ctx: LayoutContext) -> list[Flowable]:
    widths = [w * ctx.frame_width / sum(WEIGHTS) for w in WEIGHTS]
    header = [ctx.t(f"columns.{c}") for c in COLUMNS]
    story: list[Flowable] = [*ctx.appendix_block(), ctx.title()]
    used = sum(
        f.wrap(ctx.frame_width, ctx.frame_height)[1] + f.getSpaceBefore() + f.getSpaceAfter()
        for f in story
    )
    header_height = ctx.grid([header], widths).wrap(ctx.frame_width, ctx.frame_height)[1]

    style = ctx.s.cell
    rows = [_cells(ctx, n, e) for n, e in enumerate(ctx.data["entries"], start=1)]
    heights = [_height(r, widths, style.fontName, style.fontSize, style.leading) for r in rows]
    room = ctx.frame_height - header_height - SAFETY
    for index, (start, end) in enumerate(_pages(heights, room - used, room)):
        if index:
            story.append(PageBreak())
        # Lines cells: caller data is drawn as plain text, never parsed as mark-up
        body = [[Lines(value, style) for value in row] for row in rows[start:end]]
        story.append(ctx.grid([header, *body], widths))
    story += [Spacer(1, 6 * mm), _period(ctx), Spacer(1, 4 * mm)]
    return story
