"""Layout of a monitoring visit's summary (the service's own design).

Points 42-43 name the visit and its rhythm but print no form. The page gives
where and when, the monitoring period the visit belongs to and when the next
one is due, who went (one line each, signed), each family visited with a table
of the services checked and their quality, the problems and the proposals, and
the sentences of points 42(4) and 43.
"""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Flowable, KeepTogether, Spacer

from docservice.rendering.layout import LayoutContext, Paragraph, text

LABEL_WIDTH = 65 * mm


def _family(ctx: LayoutContext, number: int, family: dict) -> list[Flowable]:
    rows: list[list] = [[ctx.t(f"columns.{c}") for c in ("code", "service", "quality", "note")]]
    for item in family["services"]:
        rows.append(
            [
                str(item["code"]),
                ctx.service(item["code"]),
                ctx.t(f"choices.quality.{item['quality']}"),
                text(item.get("note") or ""),
            ]
        )
    return [
        CondPageBreak(35 * mm),
        Paragraph(
            ctx.t(
                "family_line",
                number=number,
                name=text(family["full_name"]),
                iin=family["iin"],
                members=family["members"],
            ),
            ctx.s.bold,
        ),
        ctx.grid(rows, [14, 70, 30, 50]),
        Spacer(1, 3 * mm),
    ]


def build(ctx: LayoutContext) -> list[Flowable]:
    d, s = ctx.data, ctx.s
    story: list[Flowable] = [ctx.title()]
    if d.get("number"):
        story.append(
            Paragraph(
                ctx.t("number", number=text(d["number"])), s.plain.clone("mv_number", alignment=1)
            )
        )
    period = ctx.texts.get(
        ctx.kind.name,
        f"period_line.{d['periodicity']}",
        year=d["monitoring_year"],
        number=d["period_number"],
        end=ctx.texts.date(d["period_end"]),
    )
    next_due = (
        ctx.texts.get(ctx.kind.name, "next_visit_due", date=ctx.texts.date(d["next_visit_due"]))
        if d.get("next_visit_due")
        else ctx.texts.get(ctx.kind.name, "last_period")
    )
    rows = [
        ("visit_date", ctx.texts.date(d["visit_date"])),
        ("region", d["region"]),
        ("settlement", d["settlement"]),
        ("career_center", d["career_center"]),
        ("quota_inclusion_date", ctx.texts.date(d["quota_inclusion_date"])),
        ("period", period),
        ("next_visit_due", next_due),
    ]
    story += [Spacer(1, 3 * mm)] + [
        ctx.label_value(ctx.t(f"labels.{k}"), v, LABEL_WIDTH) for k, v in rows
    ]
    story += [Spacer(1, 3 * mm), Paragraph(ctx.t("families_heading"), s.bold), Spacer(1, 1 * mm)]
    for number, family in enumerate(d["families"], start=1):
        story += _family(ctx, number, family)
    story += [
        Paragraph(ctx.t("problems_heading"), s.bold),
        Paragraph(text(d["problems"]).replace("\n", "<br/>"), s.body),
        Paragraph(ctx.t("proposals_heading"), s.bold),
        Paragraph(text(d["proposals"]).replace("\n", "<br/>"), s.body),
        KeepTogether(
            [
                Spacer(1, 2 * mm),
                Paragraph(ctx.t("basis_heading"), s.appendix),
                Paragraph(ctx.t("intro"), s.appendix),
                Paragraph(ctx.t("visit"), s.appendix),
                Paragraph(ctx.t("frequency"), s.appendix),
            ]
        ),
        Spacer(1, 3 * mm),
        Paragraph(ctx.t("visitors_heading"), s.plain),
    ]
    for visitor in d["visitors"]:
        story.append(
            KeepTogether(
                ctx.filled(
                    f"{visitor['organisation']}, {visitor['position']}, {visitor['full_name']}",
                    ctx.t("visitor_caption"),
                )
            )
        )
    return story
