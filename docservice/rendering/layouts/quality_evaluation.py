"""Layout of ЦРТР's quarterly quality evaluation (the service's own design).

The Rules (points 47-49) say who evaluates, when, by which criteria and on
which scale, but print no form. The page reads like an evaluation sheet: the
period and the organisation evaluated, the legal basis (point 47), a table with
one row per criterion of point 48 (its full text, the score, the comment) and
the total, then the scale of point 49 exactly as the Rules print it with the
band of this evaluation marked, the note on how the band was read off that
scale, the deadline and the evaluator's signature line.
"""

from __future__ import annotations

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Spacer

from docservice.forms.quality_evaluation import BANDS, CRITERIA
from docservice.rendering.layout import LayoutContext, Paragraph, text

LABEL_WIDTH = 60 * mm


def _criteria_table(ctx: LayoutContext) -> Flowable:
    d = ctx.data
    rows: list[list] = [
        [ctx.t("columns.criterion"), ctx.t("columns.score"), ctx.t("columns.comment")]
    ]
    for name in CRITERIA:
        item = d["criteria"][name]
        rows.append([ctx.t(f"criteria.{name}"), str(item["score"]), text(item.get("comment"))])
    rows.append([f"<b>{ctx.t('total_row')}</b>", f"<b>{d['total']}</b>", ""])
    return ctx.grid(rows, [95, 18, 60])


def _scale(ctx: LayoutContext) -> list[Flowable]:
    d, s = ctx.data, ctx.s
    rows = []
    for name, _, _ in BANDS:
        line = f"{ctx.t(f'bands.{name}.range')} – {ctx.t(f'bands.{name}.text')}"
        mark = ctx.t("selected") if name == d["band"] else ""
        rows.append([f"<b>{line}</b>" if mark else line, mark])
    table = ctx.grid(rows, [130, 40], header_rows=0)
    table.setStyle(
        [
            (
                "BACKGROUND",
                (0, BANDS_INDEX[d["band"]]),
                (-1, BANDS_INDEX[d["band"]]),
                colors.HexColor("#EEEEEE"),
            )
        ]
    )
    return [
        Paragraph(ctx.t("scale_heading"), s.bold),
        Spacer(1, 1 * mm),
        Paragraph(ctx.t("scale_points"), s.body),
        Paragraph(ctx.t("scale_intro"), s.body),
        table,
        Spacer(1, 2 * mm),
        Paragraph(
            "<b>"
            + ctx.t(
                "conclusion",
                total=d["total"],
                band=ctx.texts.get(ctx.kind.name, f"bands.{d['band']}.text"),
            )
            + "</b>",
            s.body,
        ),
        Paragraph(ctx.t("reading_note"), s.appendix),
    ]


BANDS_INDEX = {name: i for i, (name, _, _) in enumerate(BANDS)}


def build(ctx: LayoutContext) -> list[Flowable]:
    d, s = ctx.data, ctx.s
    centred = s.plain.clone("qe_centred", alignment=TA_CENTER)
    story: list[Flowable] = [ctx.title()]
    if d.get("number"):
        story.append(Paragraph(ctx.t("number", number=text(d["number"])), centred))
    story += [
        Paragraph(ctx.t("period", year=d["year"], quarter=d["quarter"]), centred),
        Spacer(1, 4 * mm),
    ]
    evaluated = d["evaluated"]
    rows = [
        ("kind", ctx.texts.get(ctx.kind.name, f"choices.kind.{evaluated['kind']}")),
        ("name", evaluated["name"]),
        ("bin", evaluated.get("bin")),
        ("region", evaluated["region"]),
        ("issue_date", ctx.texts.date(d["issue_date"])),
    ]
    story += [
        ctx.label_value(ctx.t(f"labels.{key}"), value, LABEL_WIDTH) for key, value in rows if value
    ]
    story += [
        Spacer(1, 3 * mm),
        Paragraph(ctx.t("basis"), s.indent),
        Spacer(1, 2 * mm),
        Paragraph(ctx.t("criteria_heading"), s.body),
        _criteria_table(ctx),
        Spacer(1, 4 * mm),
        *_scale(ctx),
        Spacer(1, 3 * mm),
        Paragraph(ctx.t("deadline", date=ctx.texts.date(d["deadline"])), s.body),
    ]
    if d["late"]:
        story.append(
            Paragraph(f"<b>{ctx.t('late', date=ctx.texts.date(d['issue_date']))}</b>", s.body)
        )
    evaluator = d["evaluator"]
    story.append(
        KeepTogether(
            [
                Spacer(1, 3 * mm),
                Paragraph(ctx.t("evaluator_heading"), s.plain),
                *ctx.filled(
                    f"{evaluator['position']}, {evaluator['full_name']}", ctx.t("evaluator_caption")
                ),
            ]
        )
    )
    return story
