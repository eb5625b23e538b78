"""Paragraphs are parsed once per text and style, and they and Lines break their lines once
per width (a paragraph's lines shared by every paragraph of its text, style and width);
tables measure their cells once per width; data lines are drawn without measuring them: the
same PDF as parsing, breaking, measuring them anew and drawing with ``drawString``."""

from __future__ import annotations

import copy

import pytest
from reportlab.platypus import Paragraph as ReportLabParagraph
from reportlab.platypus import Table as ReportLabTable

from docservice.forms import all_kinds, get_kind
from docservice.rendering import layout
from docservice.rendering.layout import Lines, Paragraph, styles
from docservice.rendering.pdf import render_pdf

from .conftest import EXAMPLES, example
from .test_direction import _family
from .test_hostile_input import ARABIC_NAME, CJK_NAME, MIXED, _fill_text

TEXTS = [
    "Қандастар мен олардың отбасы мүшелеріне арналған бейімдеу және кіріктіру орталығы",
    "<b>Жолдама</b> № 17 &amp; тағы басқа, " * 6,
    "שלום עליכם 中华人民共和国 Нұрлан",
]


def _render_all(kinds: list[str]) -> list[bytes]:
    out = []
    for name in kinds:
        kind = get_kind(name)
        fallback = copy.deepcopy(example(name))
        _fill_text(fallback, kind.fields, f"{ARABIC_NAME} {CJK_NAME}", MIXED)
        for langs in (("kk",), ("ru",), ("kk", "ru")):
            pdf, _place = render_pdf(kind, kind.validate(example(name)), langs, title="t")
            out.append(pdf)
        pdf, _place = render_pdf(kind, kind.validate(fallback), ("kk", "ru"), title="t")
        out.append(pdf)
    data = example("direction")
    data["family"] = _family(40)  # members flow onto further pages, kept together
    kind = get_kind("direction")
    out.append(render_pdf(kind, kind.validate(data), ("kk",), title="t")[0])
    return out


def test_documents_are_the_same_as_with_texts_parsed_and_lines_broken_every_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kinds = sorted(k for k in all_kinds() if (EXAMPLES / f"{k}.json").is_file())
    _render_all(kinds)  # every static text parsed once already
    remembered = _render_all(kinds)
    monkeypatch.setattr(layout.Paragraph, "__init__", ReportLabParagraph.__init__)
    monkeypatch.setattr(layout.Paragraph, "wrap", ReportLabParagraph.wrap)
    monkeypatch.setattr(layout.Table, "wrap", ReportLabTable.wrap)
    monkeypatch.setattr(layout, "_draw_string", lambda c, x, y, line: c.drawString(x, y, line))
    # never remembered: every Lines.wrap breaks its lines again
    never = property(lambda self: None, lambda self, value: None)
    monkeypatch.setattr(layout.Lines, "_wrapped_at", never, raising=False)
    assert _render_all(kinds) == remembered


@pytest.mark.parametrize("markup", TEXTS)
def test_a_paragraph_rewrapped_at_another_width_breaks_as_a_new_one(markup: str) -> None:
    style = styles().body
    para = Paragraph(markup, style)
    for width in (400.0, 120.0, 400.0, 400.0, 60.0):
        fresh = ReportLabParagraph(markup, style)
        assert para.wrap(width, 800) == fresh.wrap(width, 800)
        assert repr(para.blPara.lines) == repr(fresh.blPara.lines)


@pytest.mark.parametrize("markup", TEXTS)
def test_a_paragraph_split_over_a_page_splits_as_a_new_one(markup: str) -> None:
    """Also when its lines are shared: the other paragraph's lines stay as they were."""
    style = styles().body
    para = Paragraph(markup, style)
    for width, lines in ((400.0, 1.5), (120.0, 1.5), (400.0, 2.5), (120.0, 2.5), (120.0, 4.5)):
        height = style.leading * lines
        fresh = ReportLabParagraph(markup, style)
        para.wrap(width, 800)
        other = Paragraph(markup, style)
        other.wrap(width, 800)
        assert other.blPara is para.blPara  # shared
        before = _picture(other.blPara)
        fresh.wrap(width, 800)
        halves = [p.wrap(width, 800) for p in fresh.split(width, height)]
        assert [p.wrap(width, 800) for p in para.split(width, height)] == halves
        assert _picture(other.blPara) == before
        assert [p.wrap(width, 800) for p in other.split(width, height)] == halves


def _picture(value: object) -> object:
    """Everything broken lines hold, recursively: classes, attributes, items, values."""
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [_picture(item) for item in value])
    if hasattr(value, "__dict__"):
        items = sorted(vars(value).items(), key=lambda item: item[0])
        return (type(value).__name__, [(key, _picture(item)) for key, item in items])
    return (type(value).__name__, repr(value))


def test_drawing_and_splitting_leave_the_shared_lines_as_they_were(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Lines broken once are drawn (and the paragraphs holding them split) in many
    documents: every example in each language, twice, and a direction whose members flow
    over pages. Each shared line is afterwards what it was when it was broken."""
    shared = layout.BrokenLines()
    monkeypatch.setattr(layout, "BROKEN", shared)
    broken: list[tuple[object, object]] = []
    put, get = shared.put, shared.get
    hits = []

    def remember(text: str, style: object, width: float, para: ReportLabParagraph) -> None:
        put(text, style, width, para)  # type: ignore[arg-type]
        broken.append((para.blPara, _picture(para.blPara)))

    def found(text: str, style: object, width: float) -> object:
        lines = get(text, style, width)  # type: ignore[arg-type]
        hits.append(lines is not None)
        return lines

    monkeypatch.setattr(shared, "put", remember)
    monkeypatch.setattr(shared, "get", found)
    kinds = sorted(k for k in all_kinds() if (EXAMPLES / f"{k}.json").is_file())
    _render_all(kinds)
    _render_all(kinds)
    assert len(broken) > 100 and sum(hits) > len(broken)
    assert [_picture(lines) for lines, _ in broken] == [picture for _, picture in broken]


@pytest.mark.parametrize("span", [[], [("SPAN", (0, 0), (0, 1))]])
def test_a_table_measured_again_at_the_same_width_has_the_same_rows(span: list) -> None:
    """Measured at an unbounded height (as a KeepTogether does), then at a page's, then
    split where a page ends: the sizes and the halves of ReportLab's table. With a row
    span, ReportLab's stops measuring rows where they overflow the page."""
    style = styles().plain
    rows = [[Lines(f"{i}.", style), Paragraph(TEXTS[0], style)] for i in range(30)]

    def table(kind: type[ReportLabTable]) -> ReportLabTable:
        made = kind(rows, colWidths=[40, 300])
        made.setStyle(layout.table_style([("GRID", (0, 0), (-1, -1), 0.5, "black"), *span]))
        return made

    ours, fresh = table(layout.Table), table(ReportLabTable)
    assert ours.wrap(340, 0xFFFFFFF) == fresh.wrap(340, 0xFFFFFFF)
    for height in (1100.0, 700.0, 200.0):
        assert ours.wrap(340, height) == fresh.wrap(340, height)
        assert ours._rowpositions == fresh._rowpositions
        assert [t.wrap(340, 800) for t in ours.split(340, height)] == [
            t.wrap(340, 800) for t in table(ReportLabTable).split(340, height)
        ]
        assert ours.wrap(340, height) == table(ReportLabTable).wrap(340, height)


@pytest.mark.parametrize("value", TEXTS)
def test_lines_rewrapped_at_another_width_break_as_new_ones(value: str) -> None:
    style = styles().plain
    lines = Lines(value, style)
    for width in (400.0, 120.0, 400.0, 400.0, 60.0):
        fresh = Lines(value, style)
        assert lines.wrap(width, 800) == fresh.wrap(width, 800)
        assert lines.lines == copy.copy(fresh.lines)


def test_a_parsed_paragraph_is_a_new_one() -> None:
    """From the cache, a paragraph has the text, style and fragments of a fresh parse,
    as copies: breaking its lines leaves the cached fragments as they were."""
    style = styles().body
    for markup in TEXTS:
        first = Paragraph(markup, style)
        again = Paragraph(markup, style)
        fresh = ReportLabParagraph(markup, style)
        assert (again.text, again.style, again.bulletText) == (fresh.text, fresh.style, None)
        assert repr(again.frags) == repr(fresh.frags) == repr(first.frags)
        assert not set(map(id, again.frags)) & set(map(id, first.frags))
        again.wrap(50, 800)
        again.split(50, style.leading)
        assert repr(Paragraph(markup, style).frags) == repr(fresh.frags)
    other = layout._style("other", 12)  # a style made per call is a key of its own
    assert Paragraph(TEXTS[0], other).style is other
