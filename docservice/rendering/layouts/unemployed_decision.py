"""Layout of the draft decision to register a kandas as unemployed (the service's own design).

Point 18 names the document, its addressee (the labour mobility centre), its
channel (AIS "Рынок труда"), its deadline and its signer but prints no form. The
page reads like a centre's draft decision: the career centre at the top, the
title, number and date, the addressee, the kandas, the ground, the basis
(point 18 word for word), the proposal, the deadline, who prepared it and who
signs it (the director or the person acting for the director).
"""

from __future__ import annotations

from reportlab.lib.enums import TA_CENTER
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Spacer

from docservice.rendering.layout import LayoutContext, Paragraph, text

LABEL_WIDTH = 62 * mm


def build(ctx: LayoutContext) -> list[Flowable]:
    d, s = ctx.data, ctx.s
    centred = s.plain.clone("ud_centred", alignment=TA_CENTER)
    center, kandas = d["career_center"], d["kandas"]
    story: list[Flowable] = [
        Paragraph(f"<b>{text(center['name'])}</b>", centred),
        Paragraph(f"{ctx.common('fields.bin')} {text(center['bin'])}", s.caption),
        ctx.title(),
    ]
    number = ctx.t("number", number=text(d["number"])) + ", " if d.get("number") else ""
    story += [
        Paragraph(number + ctx.date(d["decision_date"]), centred),
        Spacer(1, 4 * mm),
        Paragraph(ctx.t("addressee", center=text(d["labour_mobility_center"])), s.plain),
        Paragraph(ctx.t("channel"), s.appendix),
        Spacer(1, 3 * mm),
    ]
    rows = [
        ("full_name", kandas["full_name"]),
        ("birth_date", ctx.texts.date(kandas["birth_date"])),
        ("iin", kandas["iin"]),
        ("ground", ctx.texts.get(ctx.kind.name, f"choices.ground.{d['ground']}")),
        ("ground_date", ctx.texts.date(d["ground_date"])),
        ("refused_work", d.get("refused_work")),
    ]
    story += [
        ctx.label_value(ctx.t(f"labels.{key}"), value, LABEL_WIDTH) for key, value in rows if value
    ]
    story += [
        Spacer(1, 3 * mm),
        Paragraph(ctx.t("basis_heading"), s.appendix),
        Paragraph(ctx.t("basis"), s.appendix),
        Spacer(1, 3 * mm),
        Paragraph(
            f"<b>{ctx.t('decision', name=text(kandas['full_name']), iin=kandas['iin'])}</b>",
            s.indent,
        ),
        Paragraph(ctx.t("deadline", date=ctx.date(d["send_deadline"])), s.body),
    ]
    if d["late"]:
        story.append(
            Paragraph(f"<b>{ctx.t('late', date=ctx.date(d['decision_date']))}</b>", s.body)
        )
    prepared, signer = d["prepared_by"], d["signer"]
    story.append(
        KeepTogether(
            [
                Spacer(1, 3 * mm),
                Paragraph(ctx.t("prepared_heading"), s.plain),
                *ctx.filled(
                    f"{prepared['position']}, {prepared['full_name']}", ctx.t("prepared_caption")
                ),
                Paragraph(
                    ctx.t("signer_heading")
                    + " "
                    + ctx.texts.get(ctx.kind.name, f"choices.role.{signer['role']}"),
                    s.plain,
                ),
                *ctx.filled(signer["full_name"], ctx.t("signer_caption")),
            ]
        )
    )
    return story
