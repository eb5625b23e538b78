"""The hot path's PDF/A-3b check (``pdfa.conforms``): the full validator once per document
shape, a structural comparison afterwards; it must agree with pikepdf's full validator.
"""

from __future__ import annotations

import copy
import io
import re
from decimal import Decimal

import pikepdf
import pytest

from docservice.forms import all_kinds, get_kind
from docservice.render import render
from docservice.rendering import pdfa
from docservice.service.documents import PdfaCheckError, render_checked

from .conftest import EXAMPLES, example
from .test_hostile_input import ARABIC_NAME, CJK_NAME, MIXED, _fill_text


def _renamed(data: dict, suffix: str) -> dict:
    """``data`` with every ``full_name`` longer: other glyphs, other line breaks."""
    out = copy.deepcopy(data)

    def walk(value):  # type: ignore[no-untyped-def]
        if isinstance(value, dict):
            for key, sub in value.items():
                if key == "full_name" and isinstance(sub, str):
                    value[key] = f"{sub} {suffix}"
                else:
                    walk(sub)
        elif isinstance(value, list):
            for sub in value:
                walk(sub)

    walk(out)
    return out


def _pdf(data: dict, lang: str = "kk") -> bytes:
    return render("direction", data, lang, validate_pdfa=False).pdf


def test_a_known_shape_skips_the_full_validator_and_agrees_with_it() -> None:
    cache = pdfa.ConformanceCache()
    first = _pdf(example("direction"))
    assert pdfa.conforms(first, cache=cache) and cache.full_checks == 1
    for data, lang in (
        (_renamed(example("direction"), "Жаңабайұлы Әбілқасым"), "kk"),
        (example("direction"), "ru"),
    ):
        other = _pdf(data, lang)
        assert other != first and pdfa.shape_of(other) == pdfa.shape_of(first)
        assert pdfa.conforms(other, cache=cache)
        assert pdfa.validate(other).passed  # the full validator says the same
    assert cache.full_checks == 1


def test_a_new_shape_is_validated_in_full() -> None:
    cache = pdfa.ConformanceCache()
    assert pdfa.conforms(_pdf(example("direction")), cache=cache)
    arabic = _pdf(_renamed(example("direction"), "محمد"))  # a fallback face: new fonts
    assert pdfa.conforms(arabic, cache=cache) and cache.full_checks == 2


def _with_page_key(pdf_bytes: bytes, key: str, value: pikepdf.Object) -> bytes:
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        pdf.pages[0].obj[key] = value
        out = io.BytesIO()
        pdf.save(out)
        return out.getvalue()


@pytest.mark.parametrize(
    "key, value",
    [
        ("/Trans", pikepdf.Dictionary()),  # what ReportLab writes and PDF/A forbids
        (
            "/AA",
            pikepdf.Dictionary(
                O=pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)"))
            ),
        ),
    ],
)
def test_a_violation_in_a_known_kind_is_caught(key: str, value: pikepdf.Object) -> None:
    cache = pdfa.ConformanceCache()
    good = _pdf(example("direction"))
    assert pdfa.conforms(good, cache=cache)
    bad = _with_page_key(good, key, value)
    assert not pdfa.validate(bad).passed
    assert pdfa.shape_of(bad) != pdfa.shape_of(good)
    assert not pdfa.conforms(bad, cache=cache)
    assert pdfa.conforms(good, cache=cache)  # the good shape is still known


def test_render_checked_refuses_what_does_not_conform(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(pdfa, "CONFORMANCE", pdfa.ConformanceCache())
    assert render_checked("direction", example("direction"), "kk").pdf
    real = pdfa.to_pdfa3

    def with_trans(*args, **kwargs):  # type: ignore[no-untyped-def]
        return _with_page_key(real(*args, **kwargs), "/Trans", pikepdf.Dictionary())

    monkeypatch.setattr(pdfa, "to_pdfa3", with_trans)
    with pytest.raises(PdfaCheckError):
        render_checked("direction", example("direction"), "kk")


def _packet_without_date(pdf: pikepdf.Pdf) -> bytes:
    return re.sub(rb"<xmp:MetadataDate>[^<]*<", b"<", pdf.Root.Metadata.read_bytes())


def _intent(pdf: pikepdf.Pdf) -> tuple[int, dict[str, str], int, bytes]:
    """The output intents: how many, the first one's entries, its profile's /N and bytes."""
    intent = pdf.Root.OutputIntents[0]
    profile = intent.DestOutputProfile
    entries = {k: repr(v) for k, v in intent.items() if k != "/DestOutputProfile"}
    return len(pdf.Root.OutputIntents), entries, int(profile.N), profile.read_bytes()


KINDS = sorted(k for k in all_kinds() if (EXAMPLES / f"{k}.json").is_file())


def _assert_prepare_has_nothing_to_do(written: bytes) -> None:
    with pikepdf.open(io.BytesIO(written)) as pdf:
        packet, info, intent = _packet_without_date(pdf), repr(pdf.docinfo), _intent(pdf)
        result = pikepdf.pdfa.prepare(pdf, "3b")
        assert not result.changed, result.describe()
        assert _packet_without_date(pdf) == packet
        assert repr(pdf.docinfo) == info
        assert _intent(pdf) == intent
    with pikepdf.open(io.BytesIO(written)) as pdf:
        del pdf.Root.OutputIntents
        assert pikepdf.pdfa.prepare(pdf, "3b").output_intent_replaced
        assert _intent(pdf) == intent


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("lang", ["kk", "ru", "kk+ru"])
def test_pikepdf_prepare_finds_nothing_left_to_do(kind: str, lang: str) -> None:
    """``to_pdfa3`` makes the changes ``pikepdf.pdfa.prepare`` would make, itself (faster):
    on its output ``prepare`` changes nothing and writes the same XMP, DocInfo and output
    intent; on the output without its output intent, ``prepare`` installs the same one."""
    _assert_prepare_has_nothing_to_do(render(kind, example(kind), lang, validate_pdfa=False).pdf)


@pytest.mark.parametrize("kind", ["e_appeal", "direction"])
def test_pikepdf_prepare_finds_nothing_left_to_do_with_the_fallback_faces(kind: str) -> None:
    data = copy.deepcopy(example(kind))
    _fill_text(data, get_kind(kind).fields, f"{ARABIC_NAME} {CJK_NAME}", MIXED)
    _assert_prepare_has_nothing_to_do(render(kind, data, "kk+ru", validate_pdfa=False).pdf)


def _reference_shape(obj: object, top: bool = False) -> object:
    """:func:`pdfa._shape` as first written, with ``isinstance`` checks (the oracle)."""
    if not top and isinstance(obj, pikepdf.Object) and obj.is_indirect:
        return "ref"
    if isinstance(obj, pikepdf.Stream):
        return ("stream", _reference_shape(obj.stream_dict))
    if isinstance(obj, pikepdf.Dictionary):
        return ("d", tuple(sorted((key, _reference_shape(obj.get(key))) for key in obj)))
    if isinstance(obj, pikepdf.Array):
        items = [_reference_shape(item) for item in obj]
        if len(items) <= 16:
            return ("a", tuple(items))
        return ("A", tuple(sorted(set(items), key=repr)), len(items) > 8191)
    if isinstance(obj, pikepdf.Name):
        return str(obj)
    if isinstance(obj, pikepdf.String):
        return "s" if len(bytes(obj)) <= 32767 else "s!"
    if isinstance(obj, bool):
        return "b"
    if isinstance(obj, int):
        return "i" if -(2**31) <= obj < 2**31 else "i!"
    if isinstance(obj, (float, Decimal)):
        return "r" if abs(float(obj)) < 3.4e38 else "r!"
    return type(obj).__name__


def _odd_objects() -> bytes:
    """A file with what the examples lack: long strings, big numbers, null, booleans."""
    pdf = pikepdf.new()
    pdf.add_blank_page()
    odd = pikepdf.Dictionary(
        Long=pikepdf.String("x" * 40000),
        Short=pikepdf.String(b"\x00\xff"),
        Big=2**40,
        Small=-(2**31),
        Huge=Decimal("1e39"),
        Real=Decimal("-0.5"),
        Yes=True,
        No=False,
        Nothing=None,
        Page=pdf.pages[0].obj,
        Many=pikepdf.Array([*range(20), Decimal("2.5"), pikepdf.Name.X, pdf.pages[0].obj]),
        Few=pikepdf.Array([1, pikepdf.Array([pikepdf.Name.Y]), pikepdf.Dictionary(Z=1)]),
    )
    pdf.Root.Odd = pdf.make_indirect(odd)
    pdf.Root.OddStream = pdf.make_stream(b"data", Extra=pikepdf.Array([1.5] * 9000))
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def test_shapes_are_those_of_the_isinstance_version() -> None:
    fallback = copy.deepcopy(example("e_appeal"))
    _fill_text(fallback, get_kind("e_appeal").fields, f"{ARABIC_NAME} {CJK_NAME}", MIXED)
    files = [render(kind, example(kind), "kk+ru", validate_pdfa=False).pdf for kind in KINDS]
    files += [render("e_appeal", fallback, "kk", validate_pdfa=False).pdf, _odd_objects()]
    for written in files:
        with pikepdf.open(io.BytesIO(written)) as pdf:
            for obj in pdf.objects:
                assert pdfa._shape(obj, top=True) == _reference_shape(obj, top=True)


def _one_value(value: object) -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.Root.Value = pdf.make_indirect(pikepdf.Dictionary(V=value))
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def test_memoised_shapes_are_the_shapes() -> None:
    """``shape_of`` with its memo (cold, then warm) says what shaping every object says,
    and objects that differ only where the shape looks (1 and 1.0, string lengths,
    a reference or the object itself) stay apart."""
    fallback = copy.deepcopy(example("e_appeal"))
    _fill_text(fallback, get_kind("e_appeal").fields, f"{ARABIC_NAME} {CJK_NAME}", MIXED)
    files = [
        render(kind, example(kind), lang, validate_pdfa=False).pdf
        for kind in KINDS
        for lang in ("kk", "kk+ru")
    ]
    files += [render("e_appeal", fallback, "kk", validate_pdfa=False).pdf, _odd_objects()]
    values = [1, Decimal("1.0"), 2**31, pikepdf.String("x" * 32767), pikepdf.String("x" * 32768)]
    files += [_one_value(value) for value in values]
    memo = pdfa.ShapeMemo()
    for _warm in (False, True):
        for written in files:
            assert pdfa.shape_of(written, memo) == pdfa.shape_of(written, None)
    assert len({pdfa.shape_of(_one_value(value), memo) for value in values}) == len(values)
