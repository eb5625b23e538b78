"""Layout of the monthly report (Rules 2024, Appendix 3): 27 columns, landscape.

Reports run to thousands of rows, so the rows are not a ReportLab table: its
splitting re-measures every remaining row at each page break (quadratic) and it
styles and draws every cell, though most cells of this form are empty. The rows
are cut into page-sized blocks here and each block draws its grid and its
non-empty cells directly. Each page repeats the two header rows (headings, then
the column numbers 1-27, a ReportLab table) and every page after the first is
marked with the form's own "table continued" line.
"""

from __future__ import annotations

from itertools import pairwise

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, PageBreak, Spacer

from docservice.forms.report_a3 import SERVICES
from docservice.rendering import fonts
from docservice.rendering.layout import LayoutContext, Paragraph, Table, table_style, text

HEADER_LENGTH = 62 * mm  # height of the heading row; headings are printed vertically
ROW_HEIGHT = 11.0
NUMBER_ROW_HEIGHT = 10.0
NO_WIDTH, IIN_WIDTH = 8 * mm, 23 * mm
HEADING_SIZES = (6.5, 6.0, 5.5, 5.0, 4.5)


class VerticalHeading(Flowable):
    """A heading turned 90°, shrunk until it fits its column (never clipped)."""

    def __init__(self, markup: str, column_width: float) -> None:
        super().__init__()
        self.markup, self.column_width = markup, column_width - 3

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        if getattr(self, "para", None) is None:  # the same heading repeats on every page
            self._fit()
        return self.depth, HEADER_LENGTH - 4

    def _fit(self) -> None:
        for size in HEADING_SIZES:
            style = ParagraphStyle(
                "vh",
                fontName=fonts.REGULAR,
                fontSize=size,
                leading=size * 1.12,
                alignment=TA_CENTER,
            )
            self.para = Paragraph(self.markup, style)
            _, self.depth = self.para.wrap(HEADER_LENGTH - 4, 10_000)
            if self.depth <= self.column_width:
                break
        else:
            raise ValueError(f"column heading does not fit its column: {self.markup[:40]}…")

    def draw(self) -> None:
        self.canv.saveState()
        self.canv.rotate(90)
        self.para.drawOn(self.canv, 0, -self.depth)
        self.canv.restoreState()


def _header(ctx: LayoutContext, service_width: float) -> list[list]:
    cell = ParagraphStyle(
        "h", fontName=fonts.REGULAR, fontSize=6.5, leading=7.3, alignment=TA_CENTER
    )
    headings = [
        Paragraph(ctx.t("number_column"), cell),
        VerticalHeading(ctx.t("iin_column"), IIN_WIDTH),
    ]
    headings += [
        VerticalHeading(ctx.t(f"columns.{code}"), service_width) for code in range(1, SERVICES + 1)
    ]
    return [headings, [str(n) for n in range(1, SERVICES + 3)]]


class RowsBlock(Flowable):
    """One page of data rows: ruled grid, text only where a cell has any."""

    def __init__(self, rows: list[list[str]], widths: list[float]) -> None:
        super().__init__()
        self.rows, self.widths = rows, widths
        self.width, self.height = sum(widths), ROW_HEIGHT * len(rows)

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        c = self.canv
        c.setLineWidth(0.4)
        edges = [0.0]
        for w in self.widths:
            edges.append(edges[-1] + w)
        c.lines(
            [(x, 0, x, self.height) for x in edges]
            + [(0, y * ROW_HEIGHT, self.width, y * ROW_HEIGHT) for y in range(len(self.rows) + 1)]
        )
        c.setFont(fonts.REGULAR, 7)
        centres = [(a + b) / 2 for a, b in pairwise(edges)]
        for i, row in enumerate(self.rows):
            baseline = self.height - (i + 1) * ROW_HEIGHT + 3.2
            for x, value in zip(centres, row, strict=True):
                if value:
                    c.drawCentredString(x, baseline, value)


def _header_table(header: list[list], widths: list[float]) -> Table:
    table = Table(header, colWidths=widths, rowHeights=[HEADER_LENGTH, NUMBER_ROW_HEIGHT])
    table.setStyle(
        table_style(
            [
                ("FONTSIZE", (0, 0), (-1, -1), 7),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
                ("ALIGN", (0, 0), (-1, -1), "CENTER"),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("VALIGN", (1, 0), (-1, 0), "BOTTOM"),
                ("LEFTPADDING", (0, 0), (-1, -1), 1),
                ("RIGHTPADDING", (0, 0), (-1, -1), 1),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ("BACKGROUND", (0, 1), (-1, 1), colors.HexColor("#eeeeee")),
            ]
        )
    )
    return table


def _cells(rows: list[dict]) -> list[list[str]]:
    out = []
    for number, row in enumerate(rows, start=1):
        cells = [str(number), row["iin"]] + [""] * SERVICES
        for service in row["services"]:
            cells[service["code"] + 1] = service["date"].strftime("%d.%m")
        out.append(cells)
    return out


def _heading_block(ctx: LayoutContext) -> list[Flowable]:
    d = ctx.data
    story: list[Flowable] = [*ctx.appendix_block(), ctx.title()]
    facts = [
        (ctx.t("period"), ctx.texts.month(d["period"])),
        (ctx.t("region"), d["region"]),
        (ctx.t("career_center"), d["career_center"]),
        (ctx.t("issue_date"), ctx.texts.date(d["issue_date"])),
        (ctx.t("deadline"), ctx.texts.date(d["deadline"])),
    ]
    story.append(
        ctx.grid(
            [[f"<b>{label}</b>", text(value)] for label, value in facts], [45, 215], header_rows=0
        )
    )
    if d["late"]:
        warning = Table(
            [[Paragraph(ctx.t("late", deadline=ctx.texts.date(d["deadline"])), ctx.s.bold)]],
            colWidths=[ctx.frame_width],
        )
        warning.setStyle(
            table_style(
                [
                    ("BOX", (0, 0), (-1, -1), 1.2, colors.red),
                    ("TEXTCOLOR", (0, 0), (-1, -1), colors.red),
                ]
            )
        )
        story += [Spacer(1, 2 * mm), warning]
    story.append(Spacer(1, 3 * mm))
    return story


def build(ctx: LayoutContext) -> list[Flowable]:
    d = ctx.data
    service_width = (ctx.frame_width - NO_WIDTH - IIN_WIDTH) / SERVICES
    widths = [NO_WIDTH, IIN_WIDTH] + [service_width] * SERVICES
    header = _header(ctx, service_width)
    story = _heading_block(ctx)

    frame_height = ctx.frame_height
    used = sum(
        f.wrap(ctx.frame_width, frame_height)[1] + f.getSpaceBefore() + f.getSpaceAfter()
        for f in story
    )
    continued = Paragraph(ctx.t("continued"), ctx.s.right)
    continued_height = continued.wrap(ctx.frame_width, frame_height)[1]
    table_top = HEADER_LENGTH + NUMBER_ROW_HEIGHT + 2
    first = max(int((frame_height - used - table_top) // ROW_HEIGHT) - 1, 1)
    per_page = max(int((frame_height - continued_height - table_top) // ROW_HEIGHT) - 1, 1)

    cells = _cells(d["rows"])
    chunks = [cells[:first]]
    rest = cells[first:]
    chunks += [rest[i : i + per_page] for i in range(0, len(rest), per_page)]
    for index, chunk in enumerate(chunks):
        if index:
            story += [PageBreak(), continued]
        story += [_header_table(header, widths), RowsBlock(chunk, widths)]

    served = sum(len(row["services"]) for row in d["rows"])
    story += [
        Spacer(1, 3 * mm),
        Paragraph(ctx.t("rows_total", rows=len(d["rows"]), services=served), ctx.s.plain),
        Paragraph(ctx.t("cell_note"), ctx.s.small),
        Spacer(1, 4 * mm),
        ctx.label_value(
            ctx.t("prepared_by"), f"{d['prepared_by']['full_name']}, {d['prepared_by']['position']}"
        ),
    ]
    return story
