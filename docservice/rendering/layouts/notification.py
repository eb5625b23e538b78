"""Layout of a notice to the applicant (the service's own design).

The provider at the top, the notice's heading by its type (result, refusal,
receipt), number and date, the addressee, the application it answers, its
content (the result, the reasons for a refusal, or for a receipt the day the
application will be reviewed by), how it was sent, the source it rests on (and
for a refusal, how to appeal) and the official's signature line.
"""

from __future__ import annotations

from reportlab.lib.enums import TA_CENTER
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Spacer

from docservice.forms.notification import basis
from docservice.rendering.layout import LayoutContext, Paragraph, text


def build(ctx: LayoutContext) -> list[Flowable]:
    d, s = ctx.data, ctx.s
    kind, provider, recipient, application = (
        d["notice_type"],
        d["provider"],
        d["recipient"],
        d["application"],
    )
    centred = s.plain.clone("nt_centred", alignment=TA_CENTER)
    number = (
        ctx.t("application_number", number=text(application["number"]))
        if application.get("number")
        else ""
    )
    story: list[Flowable] = [
        Paragraph(f"<b>{text(provider['name'])}</b>", centred),
        Paragraph(f"{ctx.common('fields.bin')} {text(provider['bin'])}", s.caption),
        ctx.title(),
        Paragraph(f"<b>{ctx.t(f'heading.{kind}')}</b>", centred),
        Paragraph(
            f"{ctx.t('number', number=text(d['number']))}, {ctx.date(d['issue_date'])}", centred
        ),
        Spacer(1, 4 * mm),
        Paragraph(ctx.t("to", name=text(recipient["full_name"]), iin=recipient["iin"]), s.plain),
        Spacer(1, 2 * mm),
        Paragraph(
            ctx.t(
                "application",
                service=text(application["service"]),
                number=number,
                date=ctx.date(application["date"]),
            ),
            s.body,
        ),
        Paragraph(ctx.t(f"content_heading.{kind}"), s.bold),
        Paragraph(text(d["content"]).replace("\n", "<br/>"), s.body),
    ]
    if d.get("review_deadline"):
        story.append(
            Paragraph(
                f"<b>{ctx.t('review_deadline', date=ctx.date(d['review_deadline']))}</b>", s.body
            )
        )
    means = ", ".join(
        ctx.texts.get(ctx.kind.name, f"choices.means.{c['means']}") for c in d["channels"]
    )
    story += [
        Paragraph(ctx.t("channels", channels=text(means)), s.body),
        Spacer(1, 2 * mm),
        Paragraph(ctx.t("basis_heading"), s.appendix),
        Paragraph(ctx.t(f"choices.basis.{basis(kind)}"), s.appendix),
    ]
    if kind == "receipt":
        story.append(Paragraph(ctx.t("choices.review.receipt"), s.appendix))
    if kind == "refusal":
        story.append(Paragraph(ctx.t("choices.appeal.refusal"), s.appendix))
    official = d["official"]
    story.append(
        KeepTogether(
            [
                Spacer(1, 4 * mm),
                *ctx.filled(
                    f"{official['position']}, {official['full_name']}", ctx.t("official_caption")
                ),
            ]
        )
    )
    return story
