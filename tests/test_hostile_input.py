"""Hostile and unusual input through ``docservice render`` (issue #13).

Every refused input ends in exit 2 with one line naming the field and the reason,
never a traceback, and writes nothing; every accepted one gives a PDF that passes
PDF/A-3b validation and an XML that passes its XSD, in which names and free text
in Arabic script, CJK and symbols print in the fallback fonts.
"""

from __future__ import annotations

import copy
import io
import itertools
import json
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pikepdf
import pikepdf.pdfa
import pytest
from lxml import etree

from docservice.cli import main
from docservice.errors import InputError
from docservice.forms import all_kinds, get_kind
from docservice.forms.fields import Group, Name, Text
from docservice.forms.json_input import MAX_INPUT_BYTES, parse_input
from docservice.render import render_valid
from docservice.rendering.xsd import schema_for

from .conftest import example

IIN = example("e_appeal")["iin"]
ARABIC_NAME = "ئەسەنوۆ"  # Kazakh in the Arabic script used in Xinjiang
CJK_NAME = "王小明"
MIXED = (
    "Сәлеметсіз бе! قازاق ءتىلى مەن قىتايدان كەلدىم. 我从中国新疆来，想办身份证。"
    " → ✓ ☎ € № α β γ שלום 😀"
)


def _cli(tmp_path: Path, raw: bytes, *args: str, kind: str = "e_appeal") -> tuple[int, str, Path]:
    """``docservice render`` in a process of its own: exit status, stderr, the output folder."""
    data, out = tmp_path / "input.json", tmp_path / "out"
    data.write_bytes(raw)
    out.mkdir(exist_ok=True)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "docservice",
            "render",
            kind,
            "--data",
            str(data),
            "--out",
            str(out),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done.returncode, done.stderr, out


def _main(
    tmp_path: Path, capsys, raw: bytes, *args: str, kind: str = "e_appeal"
) -> tuple[int, str, Path]:
    """The same command through ``docservice.cli.main`` in this process (a process start costs
    seconds on a loaded machine; the cases that could kill a process run in :func:`_cli`)."""
    data, out = tmp_path / "input.json", tmp_path / "out"
    data.write_bytes(raw)
    out.mkdir(exist_ok=True)
    code = main(["render", kind, "--data", str(data), "--out", str(out), *args])
    return code, capsys.readouterr().err, out


def _appeal(**changes: object) -> bytes:
    data = example("e_appeal")
    data.update(changes)
    return json.dumps(data, ensure_ascii=False).encode()


def _replace(raw: bytes, old: str, new: str) -> bytes:
    text = raw.decode()
    assert old in text
    return text.replace(old, new, 1).encode()


ONE_DOCUMENT = _appeal(documents=[{"name": "Паспорт", "sheets": 1}])
# (name, raw input, field named in the message, a word of the kk message)
REFUSED = [
    ("nesting 100,000 deep", b"[" * 100_000 + b"]" * 100_000, "($)", "тереңдігі"),
    (
        "nesting inside a field",
        _appeal(documents=json.loads("[" * 20 + "]" * 20)),
        "(documents[0]",
        "тереңдігі",
    ),
    ("not UTF-8", _appeal().replace("Серікқызы".encode(), b"Seri\xffk"), "($)", "UTF-8"),
    (
        "UTF-8-encoded surrogate (CESU-8)",
        _appeal().replace("Серікқызы".encode(), b"\xed\xa0\x80"),
        "($)",
        "UTF-8",
    ),
    ("UTF-16", _appeal().decode().encode("utf-16"), "($)", "UTF-8"),
    (
        "a lone surrogate as a key",
        _replace(_appeal(), '"surname"', '"\\ud800"'),
        "'\\ud800'",
        "латын",
    ),
    (
        "lone surrogate escape",
        _replace(_appeal(surname="@@"), "@@", "\\ud800x"),
        "(surname)",
        "U+D800",
    ),
    (
        "duplicate key",
        _replace(_appeal(), '"iin": ', f'"iin": "{IIN}", "iin": '),
        "(iin)",
        "екі рет",
    ),
    ("IIN as a number", _replace(_appeal(), f'"{IIN}"', IIN), "(iin)", "сан емес"),
    (
        "integer of 400 digits",
        _appeal(documents=[{"name": "Паспорт", "sheets": 10**400}]),
        "(documents[0].sheets)",
        "сыймайды",
    ),
    ("NaN", _replace(ONE_DOCUMENT, '"sheets": 1', '"sheets": NaN'), "(documents[0].sheets)", "NaN"),
    (
        "1e999",
        _replace(ONE_DOCUMENT, '"sheets": 1', '"sheets": 1e999'),
        "(documents[0].sheets)",
        "1e999",
    ),
    (
        "a key with a bidi override",
        _replace(_appeal(), '"surname"', '"x\\u202e"'),
        "'x\\u202e'",
        "латын",
    ),
    ("not JSON", b'{"iin": ', "($)", "JSON"),
    ("empty file", b"", "($)", "JSON"),
    ("a list instead of an object", b"[]", "($)", "JSON нысаны"),
    ("text too long", _appeal(content="ә" * 50_001), "(content)", "50000"),
    (
        "too many documents",
        _appeal(documents=[{"name": "x", "sheets": 1}] * 1001),
        "(documents)",
        "1000",
    ),
    ("RIGHT-TO-LEFT OVERRIDE in a name", _appeal(surname="Абай\u202eвеа"), "(surname)", "U+202E"),
    ("LEFT-TO-RIGHT EMBEDDING in a name", _appeal(name="Ай\u202aгерім"), "(name)", "U+202A"),
    ("an isolate in a name", _appeal(name="Ай\u2066герім\u2069"), "(name)", "U+2066"),
    ("RIGHT-TO-LEFT MARK in a name", _appeal(name="Айгерім\u200f"), "(name)", "U+200F"),
    ("ARABIC LETTER MARK in a name", _appeal(name="ئە\u061cسەن"), "(name)", "U+061C"),
    ("a bidi override in free text", _appeal(content="Өтініш \u202eтүсті"), "(content)", "U+202E"),
    ("ZERO WIDTH SPACE in a name", _appeal(name="Ай\u200bгерім"), "(name)", "U+200B"),
    ("ZERO WIDTH JOINER in a name", _appeal(name="Ай\u200dгерім"), "(name)", "U+200D"),
    ("BOM inside a name", _appeal(name="Ай\ufeffгерім"), "(name)", "U+FEFF"),
    ("SOFT HYPHEN in free text", _appeal(region="Қараған\u00adды"), "(region)", "U+00AD"),
    ("a control character", _appeal(region="Қарағанды\u0007"), "(region)", "U+0007"),
    ("LINE SEPARATOR", _appeal(content="бір\u2028екі"), "(content)", "U+2028"),
    ("private use", _appeal(content="мәтін \ue000"), "(content)", "U+E000"),
    ("unassigned", _appeal(content="мәтін \u0378"), "(content)", "U+0378"),
    ("noncharacter", _appeal(content="мәтін \uffff"), "(content)", "U+FFFF"),
    ("a digit in a name", _appeal(surname="Абай2"), "(surname)", "U+0032"),
    ("an emoji in a name", _appeal(name="Айгерім😀"), "(name)", "U+1F600"),
    ("a symbol in a name", _appeal(name="Айгерім✓"), "(name)", "U+2713"),
    ("a no-break space in a name", _appeal(name="Ай\u00a0герім"), "(name)", "U+00A0"),
    ("a hieroglyph no font has", _appeal(content="мәтін \U00013000"), "(content)", "U+13000"),
    ("an emoji no font has", _appeal(content="сәлем \U0001f680"), "(content)", "U+1F680"),
]


#: the cases that would crash or hang a process if mishandled, run as real processes
IN_A_PROCESS = ("nesting 100,000 deep", "not UTF-8", "lone surrogate escape", "IIN as a number")


@pytest.mark.parametrize(
    ("name", "raw", "field", "word"), [c for c in REFUSED if c[0] in IN_A_PROCESS], ids=IN_A_PROCESS
)
def test_refused_by_the_cli_process_with_the_field_named_and_nothing_written(
    tmp_path, name, raw, field, word
):
    code, err, out = _cli(tmp_path, raw)
    assert code == 2, err
    assert "Traceback" not in err and "Error" not in err, err
    assert field in err and word in err, err
    assert list(out.iterdir()) == []


@pytest.mark.parametrize(("name", "raw", "field", "word"), REFUSED, ids=[c[0] for c in REFUSED])
def test_refused_by_the_cli_with_the_field_named_and_nothing_written(
    tmp_path, capsys, name, raw, field, word
):
    code, err, out = _main(tmp_path, capsys, raw)
    assert code == 2, err
    assert "Traceback" not in err and "Error" not in err, err
    assert field in err and word in err, err
    assert list(out.iterdir()) == []


def test_a_choice_given_as_a_number_is_refused_not_coerced(tmp_path, capsys):
    data = example("roadmap")
    data["services"][0]["status"] = 1
    code, err, out = _main(tmp_path, capsys, json.dumps(data).encode(), kind="roadmap")
    assert code == 2 and "(services[0].status)" in err and "Traceback" not in err, err
    assert list(out.iterdir()) == []


def test_the_messages_are_in_russian_with_lang_ru(tmp_path, capsys):
    code, err, _ = _main(tmp_path, capsys, _appeal(surname="Абай\u202eвеа"), "--lang", "ru")
    assert code == 2
    assert "(surname)" in err
    assert "меняющий направление текста (U+202E)" in err


def test_an_input_over_the_size_limit_is_refused_unread(tmp_path):
    raw = b'{"content": "' + b"a" * MAX_INPUT_BYTES + b'"}'
    code, err, out = _cli(tmp_path, raw)
    assert code == 2 and "($)" in err and "64" in err, err
    assert list(out.iterdir()) == []


def _assert_conforming(kind_name: str, pdf: bytes, xml: bytes) -> None:
    report = pikepdf.pdfa.validate_written(io.BytesIO(pdf), "3b")
    assert report.passed, str(report)
    assert schema_for(get_kind(kind_name)).validate(etree.fromstring(xml))


def _fonts_of(pdf: bytes) -> set[str]:
    names: set[str] = set()
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        for page in doc.pages:
            for font in page.obj.Resources.get("/Font", {}).values():
                names.add(str(font.BaseFont))
                assert "/FontFile2" in font.FontDescriptor  # embedded
    return names


def test_other_scripts_print_through_the_cli_and_the_documents_conform(tmp_path):
    content = MIXED + "\n" + "中文" * 400 + "\n" + ("بۇل ۇزىن ارابشا مٵتىن " * 30).strip()
    raw = _appeal(
        surname=ARABIC_NAME,
        name=CJK_NAME,
        patronymic="مُحَمَّدقىزى",
        content=content,
        documents=[{"name": "护照 ✓", "sheets": 2, "note": "ۇيعۇر"}],
    )
    code, err, out = _cli(tmp_path, raw, "--lang", "kk+ru")
    assert code == 0, err
    pdf, xml = (out / "e_appeal-kk-ru.pdf").read_bytes(), (out / "e_appeal-kk-ru.xml").read_bytes()
    _assert_conforming("e_appeal", pdf, xml)
    fonts = _fonts_of(pdf)
    # every face subset (a "ABCDEF+" prefix) and the fallbacks used
    assert all(name[7] == "+" for name in fonts), fonts
    for face in ("NotoNaskhArabic", "DejaVuSans", "DroidSansFallback", "LiberationSerif"):
        assert any(face in name for name in fonts), (face, fonts)
    root = etree.fromstring(xml)
    assert root.findtext("{urn:kz:docservice:e_appeal:v1}surname") == ARABIC_NAME
    assert root.findtext("{urn:kz:docservice:e_appeal:v1}content") == content


def test_text_is_nfc_normalised_so_xml_pdf_and_signature_agree(tmp_path, capsys):
    decomposed = unicodedata.normalize("NFD", "Йорданов Ёрқын")
    assert decomposed != "Йорданов Ёрқын"
    code, err, out = _main(tmp_path, capsys, _appeal(surname=decomposed))
    assert code == 0, err
    xml = etree.fromstring((out / "e_appeal-kk.xml").read_bytes())
    assert xml.findtext("{urn:kz:docservice:e_appeal:v1}surname") == "Йорданов Ёрқын"


def _fill_text(
    value: object,
    fields: tuple,
    name_text: str,
    free_text: str,
    numbers: Iterator[int] | None = None,
    seen: dict | None = None,
) -> None:
    """Put ``name_text`` into every name and ``free_text`` into every other text field,
    numbered by the example's value: texts that differed still differ, and texts that were
    equal (one field naming another's value) stay equal."""
    numbers = numbers or itertools.count(1)
    seen = {} if seen is None else seen
    for f in fields:
        if f.computed or not isinstance(value, dict) or f.name not in value:
            continue
        if isinstance(f, Group):
            subs = value[f.name] if f.many else [value[f.name]]
            for sub in subs or []:
                _fill_text(sub, f.fields, name_text, free_text, numbers, seen)
        elif isinstance(f, Name):
            value[f.name] = name_text
        elif type(f) is Text:
            if value[f.name] not in seen:
                seen[value[f.name]] = f"{next(numbers)} {free_text}"
            value[f.name] = seen[value[f.name]][: f.max_length]


@pytest.mark.parametrize("kind_name", list(all_kinds()))
def test_every_layout_prints_fallback_text_and_conforms(kind_name):
    data = copy.deepcopy(example(kind_name))
    _fill_text(data, get_kind(kind_name).fields, f"{ARABIC_NAME} {CJK_NAME}", MIXED)
    cleaned = parse_input(kind_name, json.dumps(data, ensure_ascii=False))
    out = render_valid(get_kind(kind_name), cleaned, "kk+ru")
    _assert_conforming(kind_name, out.pdf, out.xml)


def test_parse_input_is_the_one_parser_and_names_every_field():
    with pytest.raises(InputError) as caught:
        parse_input("e_appeal", _replace(_appeal(name="Ай\u200bгерім"), f'"{IIN}"', IIN))
    assert {(e.path, e.code) for e in caught.value.errors} == {
        ("iin", "number_not_text"),
        ("name", "invisible_char"),
    }
