"""Layout of the application (Rules 2024, Appendix 2), in the order of the form."""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer

from docservice.forms.application import ATTACHMENTS
from docservice.rendering.layout import LayoutContext, Paragraph, text

CATEGORIES = ("spouse", "parents", "children", "siblings")


def _members(ctx: LayoutContext, members: list[dict]) -> Flowable:
    if not members:
        return Paragraph(ctx.t("no_members"), ctx.s.plain)
    head = [ctx.t(f"columns.{c}") for c in ("number", "full_name", "birth_date", "iin")]
    rows = [
        [str(i), text(m["full_name"]), ctx.date(m["birth_date"]), text(m.get("iin") or "")]
        for i, m in enumerate(members, start=1)
    ]
    return ctx.grid([head, *rows], [8, 80, 40, 32])


def build(ctx: LayoutContext) -> list[Flowable]:
    d, s = ctx.data, ctx.s
    applicant = d["applicant"]
    story: list[Flowable] = [*ctx.appendix_block(), ctx.title()]
    iin_label = ctx.texts.get("common", "fields.iin")
    story.append(
        ctx.label_value(
            ctx.t("applicant"),
            f"{applicant['full_name']}, "
            f"{ctx.texts.date(applicant['birth_date'])}, "
            f"{iin_label} {applicant['iin']}",
        )
    )
    story += [
        Spacer(1, 4 * mm),
        Paragraph(ctx.t("request"), s.indent),
        Paragraph(ctx.t("members_heading"), s.indent),
    ]
    family = d.get("family") or {}
    for category in CATEGORIES:
        story += [
            Paragraph(ctx.t(f"category.{category}"), s.indent),
            _members(ctx, family.get(category) or []),
            Spacer(1, 2 * mm),
        ]
    story += [Spacer(1, 2 * mm), Paragraph(ctx.t("consent"), s.indent), Spacer(1, 4 * mm)]
    story += ctx.filled(ctx.texts.date(d["application_date"]), ctx.t("applicant_signature"))
    story += [Paragraph(ctx.t("received"), s.plain)]
    received = d["received_by"]
    story += ctx.filled(
        f"{received['full_name']}, {received['position']}", ctx.t("received_caption")
    )
    story += ctx.filled(ctx.texts.date(d["received_date"]), ctx.t("receiver_signature"))
    attached = [a["document"] for a in d.get("attachments") or []]
    if attached:
        story.append(Paragraph(ctx.t("attachments"), s.plain))
        ordered = [doc for doc in ATTACHMENTS if doc in attached]
        for i, doc in enumerate(ordered, start=1):
            story.append(Paragraph(f"{i}) {ctx.choice('document', doc)}", s.indent))
    return story
