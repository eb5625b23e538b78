"""Assemble a kind's layout into pages: margins, footer, copy marks, signature area.

Every page carries the equivalence sentence of Art. 7 p. 1 of Law No. 370-II in
the document's language(s) and its page number. The last page ends with the
signature area; the PDF/A pass records it as the named destination
``docservice-signatures`` (a ``/FitR`` rectangle) so that the signing step knows
where stamps go.
"""

from __future__ import annotations

import copy
import importlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageBreak, PageTemplate

from docservice.forms.kind import Kind
from docservice.rendering import fonts
from docservice.rendering.layout import LayoutContext, Paragraph, styles
from docservice.signature_area import SIGNATURE_HINT_BAND
from docservice.texts import texts_for

#: Height of the signature area: two rows of stamps, two stamps a row.
SIGNATURE_AREA_HEIGHT = 2 * 36 * mm
MARGINS = {"left": 25 * mm, "right": 12 * mm, "top": 15 * mm, "bottom": 12 * mm}

Layout = Callable[[LayoutContext], list[Flowable]]


def layout_for(kind: Kind) -> Layout:
    """The ``build`` function of ``docservice/rendering/layouts/<kind>.py``."""
    module = importlib.import_module(f"docservice.rendering.layouts.{kind.name}")
    return module.build


class CopyMark(Flowable):
    """Zero-size marker: the pages from here on belong to copy ``number``."""

    def __init__(self, number: int, label: str) -> None:
        super().__init__()
        self.number, self.label = number, label

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        self.canv._docservice_copy = self.label  # read by the page decoration


@dataclass(frozen=True)
class SignaturePlace:
    """Where the signature area ended up: 0-based page index and (l, b, r, t) in points."""

    page: int
    rect: tuple[float, float, float, float]


class SignatureArea(Flowable):
    """The box where the signing step places one stamp per signer."""

    def __init__(self, width: float, caption: str, hint: str) -> None:
        super().__init__()
        self.width, self.height = width, SIGNATURE_AREA_HEIGHT + 7 * mm
        self.caption, self.hint = caption, hint
        self.placed: SignaturePlace | None = None

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        c = self.canv
        c.setFont(fonts.BOLD, 9)
        c.drawString(0, self.height - 4 * mm, self.caption)
        c.setStrokeColor(colors.grey)
        c.setDash(2, 2)
        c.rect(0, 0, self.width, SIGNATURE_AREA_HEIGHT)
        c.setDash()
        c.setFont(fonts.REGULAR, 7)
        c.setFillColor(colors.grey)
        c.drawString(2 * mm, SIGNATURE_AREA_HEIGHT - SIGNATURE_HINT_BAND + 1 * mm, self.hint)
        left, bottom = c.absolutePosition(0, 0)
        right, top = c.absolutePosition(self.width, SIGNATURE_AREA_HEIGHT)
        self.placed = SignaturePlace(c.getPageNumber() - 1, (left, bottom, right, top))


_ATOMS = (int, float, str, bool, type(None))


class BodyFrame(Frame):
    """ReportLab's frame with a cheaper deep copy, the same copy.

    Why: every ``KeepTogether`` measures its content on a deep copy of the current frame
    (``reportlab.platypus.flowables._listWrapOn``), and ``copy.deepcopy``'s generic walk
    over the frame's two dozen attributes was a fiftieth of rendering a form with a family.
    A frame's attributes are numbers, strings and a few containers; numbers and strings
    are what ``deepcopy`` returns as they are, and the rest is deep-copied as before.
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> BodyFrame:
        twin = object.__new__(type(self))
        memo[id(self)] = twin
        twin.__dict__.update(
            {
                key: value if type(value) in _ATOMS else copy.deepcopy(value, memo)
                for key, value in self.__dict__.items()
            }
        )
        return twin


#: Characters PDFDocEncoding (ReportLab's ``extpdfdoc`` codec) leaves undefined below 128.
_NOT_PDFDOC = tuple(map(chr, range(0x18, 0x20)))


class ContentCanvas(Canvas):
    """ReportLab's canvas that hands each page's content stream over as bytes.

    Why: ReportLab encodes the stream's text with its PDFDocEncoding codec, a Python
    mapping per character: about 2 % of rendering a form. The stream is ASCII (text
    is written in escapes), where that encoding is ASCII's own, except for eight
    control characters it leaves undefined; a stream with one is left to ReportLab.
    """

    def showPage(self) -> None:  # noqa: N802 - ReportLab's name
        super().showPage()
        page = self._doc.Pages.pages[-1]
        stream = page.stream
        if (
            isinstance(stream, str)
            and stream.isascii()
            and not any(c in stream for c in _NOT_PDFDOC)
        ):
            page.stream = stream.encode("ascii")


def _footer_paragraphs(langs: tuple[str, ...]) -> list[Paragraph]:
    return [Paragraph(texts_for(lang).get("common", "footer"), styles().small) for lang in langs]


def _decorate(langs: tuple[str, ...], page_width: float, frame_width: float) -> Callable:
    footers = _footer_paragraphs(langs)
    page_label = texts_for(langs[0]).get("common", "page")

    def on_page_end(canvas: Canvas, doc: BaseDocTemplate) -> None:
        canvas.saveState()
        y = MARGINS["bottom"]
        for para in reversed(footers):
            _, h = para.wrap(frame_width - 20 * mm, 100)
            para.drawOn(canvas, MARGINS["left"], y)
            y += h + 1
        canvas.setFont(fonts.REGULAR, 8)
        canvas.drawRightString(
            page_width - MARGINS["right"], MARGINS["bottom"], page_label.format(page=doc.page)
        )
        label = getattr(canvas, "_docservice_copy", None)
        if label:
            canvas.setFont(fonts.BOLD, 9)
            canvas.drawString(MARGINS["left"], canvas._pagesize[1] - MARGINS["top"] + 3 * mm, label)
        canvas.restoreState()

    return on_page_end


@cache
def footer_height(langs: tuple[str, ...], frame_width: float) -> float:
    """The height the footers take (the same for every document in these languages)."""
    return sum(p.wrap(frame_width - 20 * mm, 100)[1] + 1 for p in _footer_paragraphs(langs))


def render_pdf(
    kind: Kind, data: dict[str, Any], langs: tuple[str, ...], *, title: str
) -> tuple[bytes, SignaturePlace]:
    """Lay out every copy in every language, one after the other, into one PDF."""
    fonts.register()
    pagesize = landscape(A4) if kind.landscape else A4
    frame_width = pagesize[0] - MARGINS["left"] - MARGINS["right"]
    bottom = MARGINS["bottom"] + footer_height(langs, frame_width) + 3 * mm
    buf = io.BytesIO()
    doc = BaseDocTemplate(
        buf,
        pagesize=pagesize,
        title=title,
        author="docservice",
        creator="docservice",
        subject=kind.name,
        lang=langs[0],
        initialFontName=fonts.REGULAR,
        invariant=1,
        # the PDF/A pass compresses the page streams, faster (see pdfa.py); the font
        # programs come compressed already (docservice.typefaces.SubsetCache)
        pageCompression=0,
        leftMargin=MARGINS["left"],
        rightMargin=MARGINS["right"],
        topMargin=MARGINS["top"],
        bottomMargin=bottom,
    )
    frame = BodyFrame(
        doc.leftMargin,
        bottom,
        frame_width,
        pagesize[1] - MARGINS["top"] - bottom,
        id="body",
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )
    frame.height = frame._height
    doc.addPageTemplates(
        [PageTemplate("page", [frame], onPageEnd=_decorate(langs, pagesize[0], frame_width))]
    )
    build = layout_for(kind)
    story: list[Flowable] = []
    copies = kind.copies or (None,)
    for number, copy_key in enumerate(copies, start=1):
        for lang in langs:
            if story:
                story.append(PageBreak())
            texts = texts_for(lang)
            if copy_key:
                story.append(
                    CopyMark(
                        number,
                        texts.get(
                            kind.name,
                            "copy_label",
                            number=number,
                            addressee=texts.get(kind.name, copy_key),
                        ),
                    )
                )
            story.extend(
                build(LayoutContext(kind, data, texts, frame_width, number, copy_key, frame.height))
            )
    sig_texts = [texts_for(lang) for lang in langs]
    area = SignatureArea(
        frame_width,
        " / ".join(t.get("common", "signatures") for t in sig_texts),
        " / ".join(t.get("common", "signatures_hint") for t in sig_texts),
    )
    story.append(area)
    doc.build(story, canvasmaker=ContentCanvas)
    assert area.placed is not None
    return buf.getvalue(), area.placed
