"""Layout of the direction to an active employment measure (the service's own design).

The state service standard names the direction as the result of the service
(point 6) but prints no form, so this layout follows the directions career
centres issue: the issuer at the top, number and date, the kind of direction,
who is directed, where to and by when, the consequence of not reporting, the
official's signature, and a part for the employer's (training organisation's)
mark on the outcome.
"""

from __future__ import annotations

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Spacer

from docservice.forms.employment_direction import REPORT_TERMS
from docservice.rendering import fonts
from docservice.rendering.layout import LayoutContext, Lines, Paragraph, Table, table_style, text

LABEL_WIDTH = 72 * mm
HEADER = ParagraphStyle(
    "issuer", fontName=fonts.REGULAR, fontSize=12, leading=14, alignment=TA_CENTER
)


def _rows(ctx: LayoutContext, rows: list[tuple[str, str | None]]) -> list[Flowable]:
    """Label/value lines; optional values that were not given are left out."""
    return [
        ctx.label_value(ctx.t(f"labels.{key}"), value, LABEL_WIDTH) for key, value in rows if value
    ]


def _heading(ctx: LayoutContext, key: str) -> list[Flowable]:
    return [Spacer(1, 2 * mm), Paragraph(ctx.t(key), ctx.s.bold)]


def _issuer_header(ctx: LayoutContext) -> list[Flowable]:
    issuer = ctx.data["issuer"]
    bin_label = ctx.t("labels.bin")
    return [
        Paragraph(f"<b>{text(issuer['name'])}</b>", HEADER),
        Paragraph(f"{bin_label} {text(issuer['bin'])}", ctx.s.caption),
        Spacer(1, 1 * mm),
    ]


def _number_and_date(ctx: LayoutContext) -> Table:
    half = ctx.frame_width / 2
    row = [
        Lines(ctx.texts.get(ctx.kind.name, "number_line", number=ctx.data["number"]), ctx.s.plain),
        Lines(ctx.texts.date(ctx.data["issue_date"]), ctx.s.right),
    ]
    table = Table([row], colWidths=[half, half])
    table.setStyle(
        table_style([("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0)])
    )
    return table


def _lines_with_captions(
    ctx: LayoutContext, values: list[str], captions: list[str], shares: list[float]
) -> Flowable:
    """Values on underlines side by side, each with its caption below (a form's signing row)."""
    widths = [ctx.frame_width * share for share in shares]
    row: list = []
    under: list = []
    style: list[tuple] = []
    for i, (value, caption) in enumerate(zip(values, captions, strict=True)):
        if i:
            row.append("")
            under.append("")
        row.append(Paragraph(value, ctx.s.plain))
        under.append(Paragraph(caption, ctx.s.caption))
        style.append(("LINEBELOW", (2 * i, 0), (2 * i, 0), 0.5, colors.black))
    spacer = (ctx.frame_width - sum(widths)) / max(len(values) - 1, 1)
    col_widths: list[float] = []
    for i, width in enumerate(widths):
        col_widths += ([spacer] if i else []) + [width]
    table = Table([row, under], colWidths=col_widths)
    table.setStyle(
        table_style(
            [
                *style,
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return KeepTogether([table])


def _signature(ctx: LayoutContext) -> list[Flowable]:
    official = ctx.data["issuer"]["official"]
    return [
        Spacer(1, 3 * mm),
        _lines_with_captions(
            ctx,
            [f"{text(official['position'])}, {text(official['full_name'])}", ""],
            [ctx.t("issuer_caption"), ctx.t("signature_caption")],
            [0.64, 0.30],
        ),
    ]


def build(ctx: LayoutContext) -> list[Flowable]:
    d, s = ctx.data, ctx.s
    recipient, destination = d["recipient"], d["destination"]
    story: list[Flowable] = [
        Paragraph(ctx.t("standard"), s.appendix),
        Spacer(1, 2 * mm),
        *_issuer_header(ctx),
        ctx.title(),
        _number_and_date(ctx),
        Spacer(1, 2 * mm),
    ]
    story += [
        Paragraph(f"{ctx.t('service_label')} {ctx.t('service')}", s.body),
        Paragraph(
            f"{ctx.t('kind_label')} <b>{ctx.choice('direction_kind', d['direction_kind'])}</b>",
            s.body,
        ),
    ]
    story += _heading(ctx, "recipient_heading")
    story += _rows(
        ctx,
        [
            ("full_name", recipient["full_name"]),
            ("iin", recipient["iin"]),
            ("birth_date", ctx.texts.date(recipient["birth_date"])),
            ("address", recipient.get("address")),
            ("phone", recipient.get("phone")),
        ],
    )
    story += _heading(ctx, "destination_heading")
    story += _rows(
        ctx,
        [
            ("organisation", destination["name"]),
            ("bin", destination.get("bin")),
            ("address", destination["address"]),
            ("vacancy", destination.get("vacancy")),
        ],
    )
    term = REPORT_TERMS[d["direction_kind"]]
    deadline = ctx.texts.get(
        ctx.kind.name,
        f"deadline_text.{term.basis}",
        date=ctx.texts.date(d["report_deadline"]),
        days=term.working_days,
    )
    story += [
        Spacer(1, 2 * mm),
        Paragraph(f"<b>{ctx.t('deadline_heading')}: {text(deadline)}</b>", s.body),
        Paragraph(
            ctx.t(
                "consequence_sentence",
                text=ctx.texts.get(ctx.kind.name, f"choices.consequence.{term.basis}"),
            ),
            s.body,
        ),
    ]
    story += _signature(ctx)
    story += [
        *_heading(ctx, "employer_heading"),
        Spacer(1, 3 * mm),
        _lines_with_captions(
            ctx,
            ["", ""],
            [ctx.t("employer_result_caption"), ctx.t("employer_sign_caption")],
            [0.52, 0.44],
        ),
    ]
    return story
