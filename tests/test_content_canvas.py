"""Page content streams handed to ReportLab as bytes, and the body frame's cheaper deep
copy: the same PDF as ReportLab's own encoding of the streams and ``copy``'s own copy."""

from __future__ import annotations

import copy

import pytest
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Frame

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


def test_documents_are_the_same_as_with_the_frame_deep_copied_by_copy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every KeepTogether (the direction's members, kept together over 40 of them)
    measures its content on a deep copy of the frame."""
    kinds = sorted(k for k in all_kinds() if (EXAMPLES / f"{k}.json").is_file())
    ours = _render_all(kinds)
    monkeypatch.delattr(pdf.BodyFrame, "__deepcopy__")
    assert _render_all(kinds) == ours


def test_a_deep_copy_of_the_body_frame_is_copys_deep_copy() -> None:
    frames = [kind(10, 20, 300, 400, id="body") for kind in (pdf.BodyFrame, Frame)]
    for frame in frames:
        frame._frameBGs = [["a", [1, 2]]]
        frame._saveGeom(width=250)  # a dict of the saved geometry
        frame._atTop = 0
    ours, plain = (copy.deepcopy(frame) for frame in frames)
    assert type(ours) is pdf.BodyFrame and vars(ours) == vars(plain) == vars(frames[1])
    assert ours._frameBGs is not frames[0]._frameBGs
    assert ours._frameBGs[0][1] is not frames[0]._frameBGs[0][1]
    assert ours._savedGeom is not frames[0]._savedGeom
    ours.width = 100  # through ReportLab's __setattr__: the geometry is worked out again
    assert (ours._width, frames[0]._width) == (100, 250) and ours._aW == frames[0]._aW - 150
