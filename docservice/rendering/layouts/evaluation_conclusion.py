"""Layout of ЦРТР's quarterly conclusion to the authorised body (the service's own design).

Point 50 lists what the conclusion contains, and the page follows it: after the
addressee and the period, section 1) the final report (a table of the quarter's
evaluations with their scores, totals and bands, the count per band, the note
on how the band is read), 2) the earlier recommendations and their outcome,
3) the conclusions and the new recommendations per organisation; then the
deadline, point 51 and the signature line.
"""

from __future__ import annotations

from reportlab.lib.enums import TA_CENTER
from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Flowable, KeepTogether, Spacer

from docservice.forms.quality_evaluation import CRITERIA
from docservice.rendering.layout import LayoutContext, Paragraph, text


def _body(value: str, ctx: LayoutContext) -> Paragraph:
    return Paragraph(text(value).replace("\n", "<br/>"), ctx.s.body)


def _evaluations(ctx: LayoutContext) -> Flowable:
    head = ["number", "organisation", "region", *CRITERIA, "total", "band"]
    rows: list[list] = [[ctx.t(f"columns.{c}") for c in head]]
    for i, item in enumerate(ctx.data["evaluations"], start=1):
        kind = ctx.t(f"choices.kind.{item['kind']}")
        rows.append(
            [
                str(i),
                f"{text(item['name'])} ({kind})",
                text(item["region"]),
                *(str(item[c]) for c in CRITERIA),
                str(item["total"]),
                ctx.t(f"choices.band.{item['band']}"),
            ]
        )
    return ctx.grid(rows, [6, 52, 28, 18, 20, 18, 13, 15])


def build(ctx: LayoutContext) -> list[Flowable]:
    d, s = ctx.data, ctx.s
    centred = s.plain.clone("ec_centred", alignment=TA_CENTER)
    story: list[Flowable] = [
        Paragraph(ctx.t("addressee", name=text(d["addressee"])), s.right),
        Spacer(1, 2 * mm),
        ctx.title(),
        Paragraph(ctx.t("number", number=text(d["number"])), centred),
        Paragraph(ctx.t("period", year=d["year"], quarter=d["quarter"]), centred),
        Paragraph(ctx.date(d["issue_date"]), s.right),
        Spacer(1, 2 * mm),
        Paragraph(ctx.t("basis.p50"), s.indent),
        Paragraph(ctx.t("sections.final_report"), s.bold),
        _evaluations(ctx),
        Paragraph(
            ctx.t("summary", low=d["count_low"], medium=d["count_medium"], high=d["count_high"]),
            s.body,
        ),
        Paragraph(ctx.t("reading_note"), s.appendix),
        Spacer(1, 2 * mm),
        _body(d["final_report"], ctx),
        CondPageBreak(30 * mm),
        Paragraph(ctx.t("sections.earlier"), s.bold),
    ]
    earlier = d.get("earlier_recommendations") or []
    if earlier:
        rows: list[list] = [
            [ctx.t(f"earlier_columns.{c}") for c in ("number", "text", "outcome", "note")]
        ]
        rows += [
            [
                str(i),
                text(r["text"]),
                ctx.t(f"choices.outcome.{r['outcome']}"),
                text(r.get("note") or ""),
            ]
            for i, r in enumerate(earlier, start=1)
        ]
        story.append(ctx.grid(rows, [6, 80, 25, 55]))
    else:
        story.append(Paragraph(ctx.t("no_earlier"), s.body))
    story += [
        Spacer(1, 2 * mm),
        CondPageBreak(30 * mm),
        Paragraph(ctx.t("sections.recommendations"), s.bold),
        Paragraph(ctx.t("conclusions_heading"), s.plain),
        _body(d["conclusions"], ctx),
    ]
    rows = [[ctx.t(f"recommendations_columns.{c}") for c in ("number", "organisation", "text")]]
    rows += [
        [str(i), text(r["organisation"]), text(r["text"])]
        for i, r in enumerate(d["recommendations"], start=1)
    ]
    story += [
        ctx.grid(rows, [6, 55, 105]),
        Spacer(1, 3 * mm),
        Paragraph(ctx.t("deadline", date=ctx.date(d["deadline"])), s.body),
    ]
    if d["late"]:
        story.append(Paragraph(f"<b>{ctx.t('late', date=ctx.date(d['issue_date']))}</b>", s.body))
    story.append(Paragraph(ctx.t("basis.p51"), s.appendix))
    signer = d["signer"]
    story.append(
        KeepTogether(
            [
                Spacer(1, 4 * mm),
                *ctx.filled(
                    f"{signer['position']}, {signer['full_name']}", ctx.t("signer_caption")
                ),
            ]
        )
    )
    return story
