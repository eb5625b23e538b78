"""Layout of the representation to end a stay in the Center and the body's decision.

The service's own design: Order 331 (points 13-17) names both documents but
prints no form. The first part is the Center's representation to the local
executive body that issued the direction (the residents, the requirements
broken, the head of the Center's signature); the second, once the body has
decided, its decision (keep or evict, the family or named members, the
grounds, the day to vacate by, the head of the body's signature). The
sentences of points 13-17 are printed as the basis.
"""

from __future__ import annotations

from reportlab.lib.enums import TA_CENTER
from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Flowable, KeepTogether, Spacer

from docservice.rendering.layout import LayoutContext, Paragraph, text

BASIS = ("p13", "p14", "p14_scope", "p15", "p16", "p17")


def _residents(ctx: LayoutContext) -> Flowable:
    rows: list[list] = [
        [ctx.t(f"columns.{c}") for c in ("number", "full_name", "birth_date", "iin")]
    ]
    for i, person in enumerate(ctx.data["residents"], start=1):
        rows.append(
            [
                str(i),
                text(person["full_name"]),
                ctx.date(person["birth_date"]),
                text(person.get("iin") or ""),
            ]
        )
    return ctx.grid(rows, [8, 80, 45, 35])


def _signature(ctx: LayoutContext, heading: str, name: str) -> Flowable:
    return KeepTogether(
        [
            Spacer(1, 3 * mm),
            Paragraph(ctx.t(heading), ctx.s.plain),
            *ctx.filled(name, ctx.t("head_caption")),
        ]
    )


def _decision(ctx: LayoutContext) -> list[Flowable]:
    d, s = ctx.data, ctx.s
    decision = d.get("decision")
    if decision is None:
        return [Spacer(1, 3 * mm), Paragraph(f"<i>{ctx.t('pending')}</i>", s.body)]
    centred = s.title.clone("csd_decision_title", spaceBefore=10)
    story: list[Flowable] = [
        CondPageBreak(60 * mm),
        Paragraph(ctx.t("decision_title", number=text(decision["number"])), centred),
        Paragraph(ctx.date(decision["date"]), s.right),
        Spacer(1, 2 * mm),
        Paragraph(
            "<b>"
            + ctx.t(
                "outcome_line",
                outcome=ctx.texts.get(ctx.kind.name, f"choices.outcome.{decision['outcome']}"),
                scope=ctx.texts.get(ctx.kind.name, f"choices.scope.{decision['scope']}"),
            )
            + "</b>",
            s.body,
        ),
    ]
    if decision.get("members"):
        names = ", ".join(m["full_name"] for m in decision["members"])
        story.append(Paragraph(ctx.t("members_line", names=names), s.body))
    story += [
        Paragraph(ctx.t("grounds_heading"), s.bold),
        Paragraph(text(decision["grounds"]).replace("\n", "<br/>"), s.body),
    ]
    if d["vacate_by"]:
        story.append(Paragraph(f"<b>{ctx.t('vacate', date=ctx.date(d['vacate_by']))}</b>", s.body))
    if d["decision_late"]:
        story.append(Paragraph(ctx.t("decision_late", date=ctx.date(decision["date"])), s.body))
    story.append(_signature(ctx, "authority_head", d["authority"]["head_full_name"]))
    return story


def build(ctx: LayoutContext) -> list[Flowable]:
    d, s = ctx.data, ctx.s
    center, representation = d["center"], d["representation"]
    centred = s.plain.clone("csd_centred", alignment=TA_CENTER)
    story: list[Flowable] = [
        Paragraph(f"<b>{text(center['name'])}</b>", centred),
        Spacer(1, 3 * mm),
        Paragraph(ctx.t("addressee", name=text(d["authority"]["name"])), s.right),
        ctx.title(),
        Paragraph(ctx.t("representation_title", number=text(d["number"])), s.bold),
        Paragraph(ctx.date(representation["date"]), s.right),
        Spacer(1, 2 * mm),
        Paragraph(
            ctx.t(
                "direction",
                date=ctx.date(d["direction"]["date"]),
                number=text(d["direction"]["number"]),
                placed=ctx.date(d["placement_date"]),
            ),
            s.body,
        ),
        Paragraph(ctx.t("stay_limit", date=ctx.date(d["stay_limit"])), s.body),
        Paragraph(ctx.t("residents_heading"), s.bold),
        _residents(ctx),
        Spacer(1, 2 * mm),
        Paragraph(ctx.t("violation_heading"), s.bold),
        Paragraph(text(representation["violation"]).replace("\n", "<br/>"), s.body),
        Paragraph(ctx.t("decision_deadline", date=ctx.date(d["decision_deadline"])), s.body),
        _signature(ctx, "center_head", center["head_full_name"]),
    ]
    story += _decision(ctx)
    # kept whole: a point cut by a page break would read as two sentences
    story.append(
        KeepTogether(
            [
                Spacer(1, 4 * mm),
                Paragraph(ctx.t("basis_heading"), s.appendix),
                *(Paragraph(ctx.t(f"basis.{key}"), s.appendix) for key in BASIS),
            ]
        )
    )
    return story
