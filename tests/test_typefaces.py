"""One way to find and register a font: the forms, the receipt and the stamps agree."""

from __future__ import annotations

import subprocess
import sys
import zlib
from functools import partial
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import TTFontFace as ReportLabFace

from docservice import typefaces
from docservice.resources import FONTS_DIR

ROOT = Path(__file__).resolve().parent.parent


def test_the_shipped_file_is_found() -> None:
    assert typefaces.font_file(typefaces.REGULAR_FILE) == FONTS_DIR / typefaces.REGULAR_FILE


def test_an_override_wins_and_a_wrong_one_falls_back(tmp_path: Path) -> None:
    own = tmp_path / "Own.ttf"
    own.write_bytes((FONTS_DIR / "DejaVuSans.ttf").read_bytes())
    assert typefaces.font_file(typefaces.REGULAR_FILE, own) == own
    assert (
        typefaces.font_file(typefaces.REGULAR_FILE, tmp_path / "missing.ttf")
        == FONTS_DIR / typefaces.REGULAR_FILE
    )
    with pytest.raises(FileNotFoundError, match=r"NoSuchFont\.ttf"):
        typefaces.font_file("NoSuchFont.ttf")


def test_forms_and_receipt_print_in_one_registered_face() -> None:
    from docservice.rendering import fonts
    from docservice.verification import receipt

    assert fonts.register() == typefaces.register() == receipt.FONT == fonts.REGULAR
    assert receipt.FONT_BOLD == fonts.BOLD == typefaces.BOLD
    face = pdfmetrics.getFont(typefaces.REGULAR).face
    assert Path(face.filename) == FONTS_DIR / typefaces.REGULAR_FILE


def test_the_stamp_font_is_the_same_face(monkeypatch: pytest.MonkeyPatch) -> None:
    from signing.stamp import FONT_ENV, stamp_font

    monkeypatch.delenv(FONT_ENV, raising=False)
    with TTFont(stamp_font()) as stamp, TTFont(str(FONTS_DIR / typefaces.REGULAR_FILE)) as main:
        assert stamp["name"].getDebugName(6) == main["name"].getDebugName(6)
        assert stamp.getBestCmap() == main.getBestCmap()
        assert stamp["head"].unitsPerEm == 1000  # scaled for pyHanko, same outlines


def test_finding_a_font_loads_no_reportlab() -> None:
    program = (
        "import sys, docservice.typefaces as t\n"
        "t.font_file(t.REGULAR_FILE)\n"
        "print(sorted(m for m in sys.modules if m.startswith('reportlab')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


def _subset_objects(add: object, subset: list[int]) -> tuple[bytes, int, bytes]:
    """(the descriptor as written, /Length1, the decoded program) that ``add`` makes."""
    doc = pdfdoc.PDFDocument(invariant=1, compression=0)
    ref = add(doc, "AAAAAA+LiberationSerif", subset)  # type: ignore[operator]
    descriptor = doc.idToObject[ref.name]
    program = doc.idToObject[descriptor.dict["FontFile2"].name]
    content = program.content
    if "Filter" in program.dictionary.dict:
        assert program.dictionary.dict["Filter"] == "/FlateDecode"  # a name, not an array
        content = zlib.decompress(content)
    return descriptor.format(doc), program.dictionary.dict["Length1"], content


def test_cached_font_subsets_are_what_reportlab_writes() -> None:
    """The registered faces take their subsets from the cache, and what they write is
    ReportLab's own descriptor and program, on a miss and on a hit."""
    face = pdfmetrics.getFont(typefaces.register()).face
    subsets = [
        [0, *range(32, 127)],
        [ord(c) for c in "Қандастар мен олардың отбасы мүшелері"],
        list(range(0x400, 0x4FF))[:255],
    ]
    for subset in subsets:
        plain = _subset_objects(partial(ReportLabFace.addSubsetObjects, face), subset)
        misses = typefaces.SUBSETS.misses
        assert _subset_objects(face.addSubsetObjects, subset) == plain
        assert _subset_objects(face.addSubsetObjects, subset) == plain
        assert typefaces.SUBSETS.misses <= misses + 1


def test_the_subset_cache_is_bounded() -> None:
    cache = typefaces.SubsetCache(size=2)
    face = pdfmetrics.getFont(typefaces.register()).face
    for subset in ([0, 65], [0, 66], [0, 67]):
        length, program = cache.program(face, subset)
        assert len(zlib.decompress(program)) == length
    assert cache.misses == 3
    cache.program(face, [0, 67])
    assert cache.misses == 3
    cache.program(face, [0, 65])
    assert cache.misses == 4


def test_cached_widths_give_the_pdf_reportlab_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Documents (one with the fallback faces and a second subset) are the same bytes
    when ReportLab formats every /Widths array itself."""
    from reportlab.pdfbase.ttfonts import TTFont as ReportLabFont

    from docservice.forms import get_kind
    from docservice.rendering.pdf import render_pdf

    from .conftest import example
    from .test_hostile_input import ARABIC_NAME, CJK_NAME, MIXED, _fill_text

    kind = get_kind("e_appeal")
    mixed = example("e_appeal")
    _fill_text(mixed, kind.fields, f"{ARABIC_NAME} {CJK_NAME}", MIXED)
    letters = [*range(0x100, 0x180), *range(0xC0, 0x100), *range(0x410, 0x450)]
    mixed["content"] = " ".join(chr(c) * 2 for c in letters)  # over 256 glyphs
    cases = [kind.validate(example("e_appeal")), kind.validate(mixed)]

    def render_all() -> list[bytes]:
        return [render_pdf(kind, data, ("kk", "ru"), title="t")[0] for data in cases]

    render_all()
    cached = render_all()
    assert b"/F1+1 " in cached[1]  # a second subset of Liberation Serif
    monkeypatch.setattr(typefaces._caching_font_class(), "addObjects", ReportLabFont.addObjects)
    assert render_all() == cached


def test_subsets_cut_by_many_threads_at_once_are_whole() -> None:
    """ReportLab reads a TrueType face through one shared file position (``seek`` and
    ``read_*`` on the face), so two threads cutting subsets of the same face at once read
    each other's bytes: a gunicorn worker's threads rendering at the same moment got an
    IndexError (a 500) or, worse, could embed a wrong font. Cut here by eight threads with
    the interpreter switching threads every microsecond, each subset must be the one a
    single thread cuts."""
    import sys
    import threading

    from reportlab.pdfbase import pdfmetrics

    from docservice import typefaces

    face = pdfmetrics.getFont(typefaces.register()).face
    letters = [ord(c) for c in "АӘБВГҒДЕЖЗИЙКҚЛМНҢОӨПРСТУҰҮФХҺЦЧШЫІЭЮЯабвгдежзийклмнопрстуфхцчшщ"]
    subsets = [[32, *letters[i : i + 24]] for i in range(0, len(letters) - 24, 3)]
    expected = [face.makeSubset(subset) for subset in subsets]
    results: dict[tuple[int, int], bytes | BaseException] = {}

    def cut(worker: int) -> None:
        for i, subset in enumerate(subsets):
            cache = typefaces.SubsetCache()  # a fresh cache: every subset is cut again
            try:
                _, program = cache.program(face, subset)
                results[worker, i] = zlib.decompress(program)
            except Exception as exc:  # an error is a wrong answer too
                results[worker, i] = exc

    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=cut, args=(w,)) for w in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    finally:
        sys.setswitchinterval(switch)
    wrong = [key for key, got in results.items() if got != expected[key[1]]]
    assert len(results) == 8 * len(subsets)
    example = repr(results[wrong[0]])[:80] if wrong else ""
    assert not wrong, f"{len(wrong)} of {len(results)} subsets cut wrong, e.g. {example}"


def test_subset_codes_are_reportlabs_with_the_seed_numbered_first() -> None:
    """The fast path codes text as ReportLab's own ``splitString`` does once the seed has
    been numbered: the same (subset, bytes) for every string and the same subsets after,
    with new letters, a no-break space, Latin-1 letters, a character the face lacks
    and more than 256 glyphs (a second subset)."""
    from reportlab.pdfbase.ttfonts import TTFont as ReportLabFont

    font = pdfmetrics.getFont(typefaces.register())
    assert font.seed == typefaces.SEEDED_LETTERS
    many = "".join(chr(c) for c in [*range(0x100, 0x180), *range(0x390, 0x3CA)])
    strings = [
        "Қандастар мен олардың отбасы мүшелері",
        "",
        "No 12\u00a0345, café, Ñandú",
        "中 Ω ß",
        many,
        "Ab\u00a0é" + many[::7],
        "Ёлка ҺҮ",
    ]
    fast, plain = pdfdoc.PDFDocument(), pdfdoc.PDFDocument()
    ReportLabFont.splitString(font, typefaces.SEEDED_LETTERS, plain)
    for text in strings * 2:
        assert font.splitString(text, fast) == ReportLabFont.splitString(font, text, plain), text
    assert len(font.state[fast].subsets) == 2
    assert font.state[fast].subsets == font.state[plain].subsets
    assert font.state[fast].assignments == font.state[plain].assignments


def test_documents_with_other_names_share_the_regular_subset() -> None:
    """Names in other letters of the alphabet, in another order, give the same glyph
    sequence (one font program for all): the seed numbers the letters, not the names."""
    font = pdfmetrics.getFont(typefaces.register())
    docs = [pdfdoc.PDFDocument(), pdfdoc.PDFDocument()]
    for doc, name in zip(docs, ["Жұмабаев Ғани", "Үсенова Әйгерім Щукина"], strict=True):
        font.splitString("Жолдама", doc)
        font.splitString(name, doc)
    assert font.state[docs[0]].subsets == font.state[docs[1]].subsets


def test_a_subset_seen_before_takes_its_unicode_map_from_the_cache(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The ToUnicode CMap of a glyph sequence is made once: the second document of a
    kind (the same subsets, thanks to the seed) makes none."""
    from reportlab.pdfbase import ttfonts

    from docservice.forms import get_kind
    from docservice.rendering.pdf import render_pdf

    from .conftest import example

    kind = get_kind("direction")
    data = kind.validate(example("direction"))
    first = render_pdf(kind, data, ("kk",), title="t")[0]
    made: list[str] = []
    plain = ttfonts.makeToUnicodeCMap
    monkeypatch.setattr(ttfonts, "makeToUnicodeCMap", lambda *a: made.append(a[0]) or plain(*a))
    assert render_pdf(kind, data, ("kk",), title="t")[0] == first
    assert made == []
