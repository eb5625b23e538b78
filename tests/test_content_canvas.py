"""Page content streams handed to ReportLab as bytes: the same PDF as ReportLab's own
encoding of them."""

from __future__ import annotations

import pytest
from reportlab.pdfgen.canvas import Canvas

from docservice.forms import all_kinds
from docservice.rendering import pdf

from .conftest import EXAMPLES
from .test_layout_wrap import _render_all


def test_documents_are_the_same_as_with_reportlab_encoding_the_streams(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kinds = sorted(k for k in all_kinds() if (EXAMPLES / f"{k}.json").is_file())
    ours = _render_all(kinds)
    monkeypatch.setattr(pdf.ContentCanvas, "showPage", Canvas.showPage)
    assert _render_all(kinds) == ours


def _stream_of(draw: str) -> object:
    canvas = pdf.ContentCanvas(None, invariant=1)
    canvas._code.append(draw)
    canvas.showPage()
    return canvas._doc.Pages.pages[-1].stream


def test_an_ascii_stream_is_bytes_and_one_pdfdocencoding_lacks_is_left_to_reportlab() -> None:
    stream = _stream_of("0 0 m 10 10 l S")
    assert isinstance(stream, bytes) and b"0 0 m 10 10 l S" in stream
    for draw in ("% \x1f", "% Қ"):
        stream = _stream_of(draw)
        assert isinstance(stream, str) and draw in stream
