"""Paragraphs are parsed once per text and style, and they and Lines break their lines once
per width: the same PDF as parsing and breaking them anew every time."""

from __future__ import annotations

import copy

import pytest
from reportlab.platypus import Paragraph as ReportLabParagraph

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
    style = styles().body
    para = Paragraph(markup, style)
    for width in (400.0, 120.0, 400.0):
        fresh = ReportLabParagraph(markup, style)
        para.wrap(width, 800)
        fresh.wrap(width, 800)
        assert [p.wrap(width, 800) for p in para.split(width, style.leading * 1.5)] == [
            p.wrap(width, 800) for p in fresh.split(width, style.leading * 1.5)
        ]


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
