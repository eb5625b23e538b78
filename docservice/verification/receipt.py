"""Printable PDF receipt of a verification (ReportLab, the shipped Liberation Serif).

Why a receipt: an official files a paper trace of what was checked, when, against which
anchors and with what result. Liberation Serif covers every Kazakh letter (Ә, Ғ, Қ, Ң, Ө,
Ұ, Ү, Һ, І); the built-in PDF fonts do not, so the TTF is embedded (ReportLab subsets it).
"""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer
from reportlab.platypus.flowables import HRFlowable

from docservice import typefaces
from docservice.verification import messages
from docservice.verification.html import fmt_time
from docservice.verification.report import Report, SignatureKind, SignatureReport, TimestampKind

FONT, FONT_BOLD = typefaces.REGULAR, typefaces.BOLD


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=FONT, fontSize=10, leading=13)
    return {
        "title": ParagraphStyle(
            "title", parent=base, fontName=FONT_BOLD, fontSize=14, leading=18, spaceAfter=6
        ),
        "h": ParagraphStyle(
            "h", parent=base, fontName=FONT_BOLD, fontSize=11, leading=15, spaceBefore=6
        ),
        "p": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8.5, leading=11),
    }


def _line(label: str, value: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(f"<b>{escape(label)}:</b> {escape(value)}", style)


def _signature(sig: SignatureReport, lang: str, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    ui = messages.ui
    pick = 0 if lang == "kk" else 1
    title = ui("doc_timestamp" if sig.kind is SignatureKind.PDF_TIMESTAMP else "signature", lang)
    verdict = messages.INDICATIONS[sig.indication][pick]
    out: list[Flowable] = [
        Paragraph(
            escape(
                f"#{sig.index} {title}: {verdict}"
                f"{' / ' + sig.sub_indication if sig.sub_indication else ''}"
            ),
            st["h"],
        )
    ]
    signer = sig.signer
    if signer is not None:
        out.append(_line(ui("signer", lang), signer.full_name or signer.common_name, st["p"]))
        if signer.iin:
            out.append(_line(ui("iin", lang), signer.iin, st["p"]))
        if signer.organisation:
            out.append(
                _line(
                    ui("organisation", lang),
                    f"{signer.organisation}, {ui('bin', lang)} {signer.bin or '-'}",
                    st["p"],
                )
            )
        if signer.roles:
            out.append(
                _line(
                    ui("roles", lang),
                    "; ".join(r.kk if lang == "kk" else r.ru for r in signer.roles),
                    st["p"],
                )
            )
        if signer.certificate:
            cert = signer.certificate
            out.append(
                _line(
                    ui("certificate", lang),
                    f"{cert.serial_hex}, {fmt_time(cert.not_before)} – {fmt_time(cert.not_after)}",
                    st["small"],
                )
            )
    if sig.signing_time_claimed:
        out.append(_line(ui("signing_time", lang), fmt_time(sig.signing_time_claimed), st["p"]))
    for ts in sig.timestamps:
        trust = ui("trusted" if ts.trusted else "untrusted", lang)
        label = ui("archive_poe" if ts.kind is TimestampKind.ARCHIVE else "timestamp", lang)
        out.append(_line(label, f"{fmt_time(ts.time)} ({trust})", st["p"]))
    for reason in [*sig.reasons, *sig.warnings]:
        out.append(Paragraph("• " + escape(reason.kk), st["small"]))
        out.append(Paragraph("  " + escape(reason.ru), st["small"]))
    return out


def render_receipt(report: Report, lang: str = "kk") -> bytes:
    """The receipt as PDF bytes; headings in ``lang``, every reason in kk and ru."""
    typefaces.register()
    st = _styles()
    ui = messages.ui
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=ui("receipt", lang),
        author="docservice",
        initialFontName=FONT,
        initialFontSize=10,
    )
    pick = 0 if lang == "kk" else 1
    story: list[Flowable] = [
        Paragraph(escape(ui("receipt", lang)), st["title"]),
        _line(ui("document", lang), report.document.file_name or report.document.format, st["p"]),
        _line(ui("sha256", lang), report.document.sha256, st["small"]),
        _line(ui("verified_at", lang), fmt_time(report.verified_at), st["p"]),
        _line(ui("trust", lang), "; ".join(report.trust_anchors), st["small"]),
        _line(ui("verdict", lang), messages.INDICATIONS[report.verdict][pick], st["h"]),
        Paragraph(escape(report.verdict_reason.kk), st["p"]),
        Paragraph(escape(report.verdict_reason.ru), st["p"]),
        Spacer(1, 4 * mm),
        HRFlowable(width="100%"),
    ]
    for sig in report.signatures:
        story.extend(_signature(sig, lang, st))
        story.append(HRFlowable(width="100%"))
    doc.build(story)
    return buf.getvalue()
