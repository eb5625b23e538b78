"""Paragraphs and Lines break their lines once per width: the same PDF as breaking them anew."""

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

TEXTS = [
    "Қандастар мен олардың отбасы мүшелеріне арналған бейімдеу және кіріктіру орталығы",
    "<b>Жолдама</b> № 17 &amp; тағы басқа, " * 6,
    "שלום עליכם 中华人民共和国 Нұрлан",
]


def _render_all(kinds: list[str]) -> list[bytes]:
    out = []
    for name in kinds:
        kind = get_kind(name)
        for langs in (("kk",), ("ru",), ("kk", "ru")):
            pdf, _place = render_pdf(kind, kind.validate(example(name)), langs, title="t")
            out.append(pdf)
    data = example("direction")
    data["family"] = _family(40)  # members flow onto further pages, kept together
    kind = get_kind("direction")
    out.append(render_pdf(kind, kind.validate(data), ("kk",), title="t")[0])
    return out


def test_documents_are_the_same_as_with_lines_broken_at_every_wrap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kinds = sorted(k for k in all_kinds() if (EXAMPLES / f"{k}.json").is_file())
    remembered = _render_all(kinds)
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
