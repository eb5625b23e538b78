"""What a kind's layout works with: its data, its texts and a few building blocks.

A layout is a function ``build(ctx) -> list[Flowable]`` in
``docservice/rendering/layouts/<kind>.py`` that lays out one copy in one
language. Everything on the page that is not data comes from ``ctx.t`` (the
kind's template) or ``ctx.common`` (shared texts), never from a literal.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT, TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.textobject import rtlSupport
from reportlab.platypus import Flowable, Spacer, TableStyle
from reportlab.platypus import Paragraph as ReportLabParagraph
from reportlab.platypus import Table as ReportLabTable
from reportlab.rl_config import _FUZZ

from docservice.forms.kind import Kind
from docservice.rendering import fonts
from docservice.texts import Texts
from docservice.ttl_cache import TtlCache


def _style(name: str, size: float, **kw: Any) -> ParagraphStyle:
    return ParagraphStyle(
        name,
        fontName=kw.pop("font", fonts.REGULAR),
        fontSize=size,
        leading=kw.pop("leading", size * 1.2),
        **kw,
    )


class Styles:
    """The paragraph styles of every form (12 pt body, as official documents use)."""

    def __init__(self) -> None:
        fonts.register()
        self.body = _style("body", 12, alignment=TA_JUSTIFY, spaceAfter=4)
        self.plain = _style("plain", 12, alignment=TA_LEFT)
        self.indent = _style(
            "indent", 12, alignment=TA_JUSTIFY, firstLineIndent=12 * mm, spaceAfter=4
        )
        self.title = _style(
            "title", 13, font=fonts.BOLD, alignment=TA_CENTER, spaceBefore=6, spaceAfter=10
        )
        self.appendix = _style("appendix", 10, alignment=TA_LEFT)
        self.caption = _style("caption", 8, alignment=TA_CENTER, textColor=colors.black)
        self.right = _style("right", 12, alignment=TA_RIGHT)
        self.cell = _style("cell", 9, leading=10.5)
        self.cell_bold = _style("cell_bold", 9, font=fonts.BOLD, leading=10.5, alignment=TA_CENTER)
        self.small = _style("small", 7, leading=8.4)
        self.bold = _style("bold", 12, font=fonts.BOLD)


STYLES: Styles | None = None


def styles() -> Styles:
    """The shared styles (built once: fonts must be registered first)."""
    global STYLES
    if STYLES is None:
        STYLES = Styles()
    return STYLES


class ParsedParagraphs:
    """What ReportLab's mark-up parser made of (text, style), bounded (LRU).

    Why: most paragraphs of a form are its static texts, the same in every document,
    and parsing them was half of building a form's flowables. A paragraph gets copies
    of the fragments (ReportLab sets attributes on them while breaking lines), never
    the cached ones.
    """

    def __init__(self, size: int = 2048) -> None:
        self.size = size
        self._parsed: TtlCache[tuple[str, int], tuple[ParagraphStyle, str, Any, list]] = TtlCache(
            max_entries=size
        )

    def get(self, text: str, style: ParagraphStyle) -> tuple[str, Any, list] | None:
        """(cleaned text, the parser's style, fragment copies), or None if not parsed yet."""
        found = self._parsed.get((text, id(style)))
        if found is None or found[0] is not style:  # an id reused by another style
            return None
        _style, clean, parsed_style, frags = found
        return clean, parsed_style, [frag.clone() for frag in frags]

    def put(self, text: str, style: ParagraphStyle, para: ReportLabParagraph) -> None:
        """Remember what parsing ``text`` in ``style`` gave ``para`` (just made)."""
        frags = [frag.clone() for frag in para.frags]
        self._parsed.put((text, id(style)), (style, para.text, para.style, frags), ttl=math.inf)


PARSED = ParsedParagraphs()


class BrokenLines:
    """The lines ReportLab broke a paragraph's text into, by (text, style, width), shared
    by every paragraph of that text, style and width; bounded (LRU).

    Why: the static texts of a form (captions under every member's line, headings,
    sentences) are broken into the same lines in every document; breaking them was about
    a tenth of rendering a form. Sound because ReportLab's ``breakLines`` reads only the
    paragraph's fragments (a function of the text and the style, see
    :class:`ParsedParagraphs`), the style and the widths, and because drawing only reads
    the broken lines (``drawPara`` and the ``_*DrawParaLine*`` functions write to the text
    object, never to a line or a fragment of one). Two things do write to them, and the
    :class:`Paragraph` keeps both off the shared lines: ``split`` (it appends spaces to
    fragments and changes the class of a hyphenated word; a paragraph breaks its own lines
    before it is split) and right-to-left word wrapping (``drawPara`` reverses each line's
    words; such styles are never shared). ``tests/test_layout_wrap.py`` checks that drawing
    leaves every shared line as it was and that documents are the bytes they were.
    """

    #: what ReportLab's ``wrap`` and ``breakLines`` set on the paragraph besides its lines
    ATTRIBUTES = ("_width_max", "_splitLongWordCount", "_hyphenations")

    def __init__(self, size: int = 2048) -> None:
        self.size = size
        self._broken: TtlCache[tuple[str, int, float], tuple[ParagraphStyle, Any, float, dict]] = (
            TtlCache(max_entries=size)
        )

    def get(self, text: str, style: ParagraphStyle, width: float) -> tuple[Any, float, dict] | None:
        """(the shared lines, the height, the other attributes) or None if not broken yet."""
        found = self._broken.get((text, id(style), width))
        if found is None or found[0] is not style:  # an id reused by another style
            return None
        return found[1:]

    def put(self, text: str, style: ParagraphStyle, width: float, para: ReportLabParagraph) -> None:
        """Share the lines ``para`` (of ``text`` in ``style``) was just broken into."""
        extra = {name: para.__dict__[name] for name in self.ATTRIBUTES if name in para.__dict__}
        self._broken.put(
            (text, id(style), width), (style, para.blPara, para.height, extra), ttl=math.inf
        )


BROKEN = BrokenLines()


class Paragraph(ReportLabParagraph):
    """ReportLab's paragraph that parses a text once per style and breaks its lines
    once per width: the lines are shared by every paragraph of the same text, style and
    width (:class:`BrokenLines`).

    Why once per width within a paragraph too: a flowable in a table cell is wrapped when
    the table is measured, again when a ``KeepTogether`` around the table measures it, and
    again when the cell is drawn, each time at the same width. The lines depend only on the
    text, the style and the width (not the height).
    """

    _wrapped: tuple[float, float, float, Any] | None = None
    #: (text as given, style) when the lines may be shared; None for a paragraph made
    #: from fragments (a split's halves), with a bullet or in a right-to-left style
    _source: tuple[str, ParagraphStyle] | None = None
    #: the lines this paragraph holds from the shared cache (never to be changed)
    _shared: Any = None

    def __init__(
        self,
        text: Any,
        style: ParagraphStyle | None = None,
        bulletText: Any = None,  # noqa: N803 - ReportLab's names (its split passes them)
        frags: list | None = None,
        caseSensitive: int = 1,  # noqa: N803
        encoding: str = "utf8",
    ) -> None:
        plain = frags is None and bulletText is None and caseSensitive == 1
        if not (plain and style is not None and isinstance(text, str)):
            super().__init__(text, style, bulletText, frags, caseSensitive, encoding)
            return
        parsed = PARSED.get(text, style)
        if parsed is not None:
            clean, parsed_style, copies = parsed
            super().__init__(clean, parsed_style, frags=copies, encoding=encoding)
        else:
            super().__init__(text, style, encoding=encoding)
            if self.bulletText is not None or getattr(self.style, "bulletText", None) is not None:
                return
            PARSED.put(text, style, self)
        if self.style.wordWrap not in ("RTL", "CJK"):  # see BrokenLines
            self._source = (text, style)

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        done = self._wrapped
        if done is not None and done[0] == availWidth and done[3] is self.__dict__.get("blPara"):
            return done[1], done[2]
        source = self._source
        found = BROKEN.get(*source, availWidth) if source is not None else None
        if found is not None:
            # what ReportLab's wrap sets, from the lines it broke for another paragraph
            lines, height, extra = found
            style = self.style
            first = availWidth - style.leftIndent - style.firstLineIndent - style.rightIndent
            self._wrapWidths = [first, availWidth - style.leftIndent - style.rightIndent]
            self.__dict__.update(extra)
            self.width, self.height, self.blPara = availWidth, height, lines
            width = availWidth
        else:
            width, height = super().wrap(availWidth, availHeight)
            if source is not None and availWidth >= _FUZZ:  # (narrower: no lines broken)
                BROKEN.put(*source, availWidth, self)
        self._shared = self.__dict__.get("blPara") if source is not None else None
        self._wrapped = (availWidth, width, height, self.__dict__.get("blPara"))
        return width, height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:  # noqa: N803
        """ReportLab's split, on lines of this paragraph's own: splitting changes the
        fragments of the lines it splits (see :class:`BrokenLines`)."""
        if self._shared is not None and self.__dict__.get("blPara") is self._shared:
            ReportLabParagraph.wrap(self, self.width, availHeight)  # breaks them anew
            self._wrapped = None
        self._shared = None
        return super().split(availWidth, availHeight)  # type: ignore[no-any-return]


class Table(ReportLabTable):
    """ReportLab's table that measures its cells once per width.

    Why: a table inside a ``KeepTogether`` (a family member's line, a signature block)
    is wrapped when the ``KeepTogether`` measures its content and again when the frame
    places it, each time walking every cell: a twentieth of rendering a form. ReportLab's
    ``_calc`` fixes the column widths on the first wrap (``_width_calculated_once``) and
    measures each row from its cells, which are offered a fixed height (72000 pt), not the
    table's; the height offered to the table only lets a long table stop measuring rows
    once they overflow it (``longTableOptimize``). So a wrap that measured every row gives
    the same sizes and row positions at the same width, whatever the height; with row
    spans, ReportLab stops measuring once the rows overflow the height offered, so there
    a lower height is measured again (it answers with the rows up to the overflow). A
    later ``_calc`` (``split`` runs one) makes new row positions, and then the table is
    measured again; so does a new style.
    """

    _measured: tuple[float, list[float]] | None = None

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        done = self._measured
        if (
            done is not None
            and done[0] == availWidth
            and done[1] is self.__dict__.get("_rowpositions")
            and (availHeight >= self._height or not self._spanCmds)
        ):
            self.availWidth = availWidth
            return self._width, self._height
        width, height = super().wrap(availWidth, availHeight)
        every_row = self._hmax == self._nrows
        self._measured = (availWidth, self._rowpositions) if every_row else None
        return width, height

    def setStyle(self, tblstyle: Any) -> None:  # noqa: N802 - ReportLab's name
        self._measured = None
        super().setStyle(tblstyle)


class Lines(Flowable):
    """Plain text wrapped at spaces, without ReportLab's mark-up parser.

    Data cells are the bulk of every form and never carry mark-up; parsing each
    one as a Paragraph was the largest single cost of rendering. Text with
    characters Liberation Serif lacks, or right-to-left text, is measured and
    drawn run by run in the fallback faces and put into visual order line by line.
    """

    def __init__(self, value: str, style: ParagraphStyle) -> None:
        super().__init__()
        self.value, self.style = value, style
        self.mixed = fonts.needs_fallback(value)
        self._wrapped_at: float | None = None

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        if avail_width == self._wrapped_at:  # broken at this width already (see Paragraph)
            return self.width, self.height
        st = self.style
        if self.mixed:
            self.lines = split_runs(fonts.shape(self.value), st.fontName, st.fontSize, avail_width)
        else:
            self.lines = simpleSplit(self.value, st.fontName, st.fontSize, avail_width) or [""]
        self.width = avail_width
        self.height = len(self.lines) * st.leading
        self._wrapped_at = avail_width
        return self.width, self.height

    def draw(self) -> None:
        st, c = self.style, self.canv
        c.setFont(st.fontName, st.fontSize)
        y = self.height - st.fontSize
        for line in self.lines:
            if self.mixed:
                self._draw_runs(fonts.visual(line), y)
            elif st.alignment == TA_CENTER:
                c.drawCentredString(self.width / 2, y, line)
            elif st.alignment == TA_RIGHT:
                c.drawRightString(self.width, y, line)
            else:
                _draw_string(c, 0, y, line)
            y -= st.leading

    def _draw_runs(self, line: str, y: float) -> None:
        st, c = self.style, self.canv
        pieces = fonts.runs(line, st.fontName)
        widths = [stringWidth(piece, face, st.fontSize) for face, piece in pieces]
        align = st.alignment
        if align not in (TA_CENTER, TA_RIGHT) and fonts.starts_rtl(self.value):
            align = TA_RIGHT
        x = {TA_CENTER: (self.width - sum(widths)) / 2, TA_RIGHT: self.width - sum(widths)}.get(
            align, 0.0
        )
        for (face, piece), w in zip(pieces, widths, strict=True):
            c.setFont(face, st.fontSize)
            c.drawString(x, y, piece)
            x += w
        c.setFont(st.fontName, st.fontSize)


def _draw_string(canvas: Any, x: float, y: float, line: str) -> None:
    """``canvas.drawString(x, y, line)``, the same operators, without measuring the line.

    Why: without ReportLab's optional bidi module, ``drawString`` measures the string it
    is given (``bidiShapedText`` returns the width with the text) and throws the width
    away; that was a tenth of drawing a data cell. With the bidi module ``drawString``
    may reorder the text, and is called.
    """
    if rtlSupport:
        canvas.drawString(x, y, line)
        return
    text = canvas.beginText(x, y)
    text.textLine(line)
    canvas.drawText(text)


def split_runs(value: str, base: str, size: float, width: float) -> list[str]:
    """Greedy line breaking at spaces, measuring run by run; a word wider than the
    line (CJK text has no spaces) is cut between characters."""
    lines: list[str] = []
    space = fonts.width(" ", base, size)
    for para in value.splitlines() or [""]:
        current, used = "", 0.0
        for word in para.split():
            word_width = fonts.width(word, base, size)
            if current and used + space + word_width <= width:
                current, used = f"{current} {word}", used + space + word_width
                continue
            if not current and word_width <= width:
                current, used = word, word_width
                continue
            if current:
                lines.append(current)
            while len(word) > 1 and word_width > width:
                cut, taken = 0, 0.0
                for cut, char in enumerate(word):  # noqa: B007 - cut is used after the loop
                    char_width = fonts.width(char, base, size)
                    if taken + char_width > width:
                        break
                    taken += char_width
                cut = max(cut, 1)
                lines.append(word[:cut])
                word = word[cut:]
                word_width = fonts.width(word, base, size)
            current, used = word, word_width
        lines.append(current)
    return lines


class Data(str):
    """Caller data already escaped for mark-up that remembers its plain value.

    :func:`cell` lays it out as :class:`Lines` from the plain value, so a value in
    a table cell is broken into lines before it is put into visual order.
    """

    plain: str


def cell(markup: Any, style: ParagraphStyle) -> Flowable:
    """A flowable for ``markup``: plain :class:`Lines` unless it really has mark-up."""
    if isinstance(markup, Flowable):
        return markup
    if isinstance(markup, Data):
        return Lines(markup.plain, style)
    value = str(markup)
    if "<" in value or "&" in value:
        return Paragraph(value, style)
    return Lines(value, style)


def table_style(commands: list[tuple]) -> TableStyle:
    """A table style that starts from the embedded font.

    ReportLab's table cells default to Helvetica, which is never embedded and
    so would break PDF/A even when every visible glyph is in a paragraph.
    """
    return TableStyle([("FONT", (0, 0), (-1, -1), fonts.REGULAR), *commands])


def text(value: Any) -> str:
    """Caller data made safe for ReportLab's paragraph mark-up.

    Characters Liberation Serif lacks are wrapped in ``<font>`` tags of the
    fallback face that has them; right-to-left text is shaped and put into
    visual order as one unit (right for a name or a short value inside a sentence).
    """
    plain = "" if value is None else str(value)
    if fonts.needs_fallback(plain):
        markup = "".join(
            escape(piece)
            if face == fonts.REGULAR
            else f'<font name="{face}">{escape(piece)}</font>'
            for face, piece in fonts.runs(fonts.for_display(plain))
        )
    else:
        markup = escape(plain)
    out = Data(markup)
    out.plain = plain
    return out


def _template(template: str, params: dict[str, Any]) -> str:
    if not params:
        return escape(template)
    return escape(template).format(
        **{k: v if isinstance(v, Data) else text(v) for k, v in params.items()}
    )


@dataclass
class LayoutContext:
    """One copy of one document in one language, as a layout sees it."""

    kind: Kind
    data: dict[str, Any]
    texts: Texts
    frame_width: float
    #: 1-based copy number and the template key of its addressee (kinds with copies)
    copy_number: int = 1
    copy_key: str | None = None
    #: height of the page's text frame, for layouts that plan their own page breaks
    frame_height: float = 0.0

    @property
    def lang(self) -> str:
        return self.texts.lang

    @property
    def s(self) -> Styles:
        return styles()

    def t(self, key: str, **params: Any) -> str:
        """A text of this kind's template, escaped for paragraph mark-up.

        Parameters go through :func:`text` (escaped, fallback ``<font>`` tags added)
        unless they are its result already.
        """
        return _template(self.texts.get(self.kind.name, key), params)

    def common(self, key: str, **params: Any) -> str:
        return _template(self.texts.get("common", key), params)

    def service(self, code: int | str) -> str:
        """The name of service ``code`` (1-25) from Appendix 1 in this language."""
        return escape(self.texts.get("services", f"items.{int(code)}"))

    def choice(self, field: str, value: str) -> str:
        return self.t(f"choices.{field}.{value}")

    def date(self, value: dt.date | None) -> str:
        return escape(self.texts.date(value)) if value else ""

    # Building blocks -------------------------------------------------------

    def appendix_block(self, key: str = "appendix", form: bool = True) -> list[Flowable]:
        """The block at the top right: "... қағидаларына N-қосымша" and "Нысан"."""
        lines = [Paragraph(self.t(key), self.s.appendix)]
        if form:
            lines.append(Spacer(1, 2 * mm))
            lines.append(Paragraph(self.common("form"), self.s.appendix))
        width = min(75 * mm, self.frame_width / 2)
        block = Table([[line] for line in lines], colWidths=[width], hAlign="RIGHT")
        block.setStyle(
            table_style(
                [
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                    ("TOPPADDING", (0, 0), (-1, -1), 0),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
                ]
            )
        )
        return [block, Spacer(1, 6 * mm)]

    def title(self, key: str = "title") -> Paragraph:
        return Paragraph(self.t(key), self.s.title)

    def filled(self, value: Any, caption: str | None = None) -> list[Flowable]:
        """A value written on the form's line, with the form's caption under it."""
        line = Table([[Lines(str(value), self.s.plain)]], colWidths=[self.frame_width])
        line.setStyle(
            table_style(
                [
                    ("LINEBELOW", (0, 0), (-1, -1), 0.5, colors.black),
                    ("LEFTPADDING", (0, 0), (-1, -1), 2),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                ]
            )
        )
        out: list[Flowable] = [line]
        if caption:
            out.append(Paragraph(caption, self.s.caption))
        out.append(Spacer(1, 3 * mm))
        return out

    def label_value(self, label: str, value: Any, label_width: float = 55 * mm) -> Table:
        """``label`` on the left, the value on an underline to its right."""
        table = Table(
            [[cell(label, self.s.plain), Lines(str(value), self.s.plain)]],
            colWidths=[label_width, self.frame_width - label_width],
        )
        table.setStyle(
            table_style(
                [
                    ("LINEBELOW", (1, 0), (1, 0), 0.5, colors.black),
                    ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ]
            )
        )
        return table

    def grid(
        self,
        rows: list[list[Any]],
        widths: list[float],
        header_rows: int = 1,
        font_size: float | None = None,
    ) -> Table:
        """A ruled table; cells are paragraphs so long values wrap instead of being cut."""
        style = self.s.cell if font_size is None else _style("cellx", font_size)
        head = (
            self.s.cell_bold
            if font_size is None
            else _style("cellhx", font_size, font=fonts.BOLD, alignment=TA_CENTER)
        )
        body = [
            [cell(c, head if i < header_rows else style) for c in row] for i, row in enumerate(rows)
        ]
        scale = self.frame_width / sum(widths)
        table = Table(body, colWidths=[w * scale for w in widths], repeatRows=header_rows)
        table.setStyle(
            table_style(
                [
                    ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 2),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 2),
                ]
            )
        )
        return table
