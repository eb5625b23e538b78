"""Layout of the electronic application of the "Электронное обращение" service (Order No. 109).

The form's order and captions: identity and contacts on labelled lines, the
postal address with its caption on a line of its own, then the service, region,
recipient, the content and the table of attached documents. The content is
free text of any length, so it is laid out as paragraphs that flow onto further
pages (a table cell could not split); the documents table repeats its header on
every page.
"""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer

from docservice.rendering import fonts
from docservice.rendering.layout import LayoutContext, Lines, Paragraph, text

LABEL_WIDTH = 78 * mm


def _content(ctx: LayoutContext, value: str) -> list[Flowable]:
    """The applicant's text, paragraph by paragraph; blank lines kept as space.

    A right-to-left paragraph is laid out as :class:`Lines`, which breaks it into
    lines before putting each into visual order (a Paragraph would reverse the
    order of its lines).
    """
    out: list[Flowable] = []
    for line in value.splitlines():
        if line.strip() and fonts.has_rtl(line):
            out.append(Lines(line.strip(), ctx.s.body))
        elif line.strip():
            out.append(Paragraph(text(line.strip()), ctx.s.body))
        else:
            out.append(Spacer(1, 2 * mm))
    return out


def _documents(ctx: LayoutContext, documents: list[dict]) -> Flowable:
    head = [ctx.t(f"columns.{c}") for c in ("number", "name", "sheets", "note")]
    rows = [
        [str(i), text(doc["name"]), str(doc["sheets"]), text(doc.get("note") or "")]
        for i, doc in enumerate(documents, start=1)
    ]
    if not rows:
        rows = [["", ctx.t("no_documents"), "", ""]]
    return ctx.grid([head, *rows], [12, 80, 30, 48])


def build(ctx: LayoutContext) -> list[Flowable]:
    d, s = ctx.data, ctx.s
    story: list[Flowable] = [*ctx.appendix_block(form=False), ctx.title()]

    def line(key: str, value: str | None) -> None:
        story.extend([ctx.label_value(ctx.t(key), value or "", LABEL_WIDTH), Spacer(1, 2 * mm)])

    for key in ("iin", "surname", "name", "patronymic", "email"):
        line(key, d.get(key))
    story.append(Paragraph(f"{ctx.t('postal_address')} {ctx.t('postal_address_caption')}", s.plain))
    story.extend(ctx.filled(d["postal_address"]))
    for key in ("phone", "service_name", "region", "recipient"):
        line(key, d[key])
    story += [
        Paragraph(ctx.t("content"), s.plain),
        Spacer(1, 1 * mm),
        *_content(ctx, d["content"]),
        Spacer(1, 3 * mm),
        Paragraph(ctx.t("documents"), s.plain),
        Spacer(1, 2 * mm),
        _documents(ctx, d.get("documents") or []),
    ]
    return story
