"""Checks every document kind must pass: texts, schemas, PDF/A, fonts, bad input.

Each kind is rendered from its example in kk, ru and kk+ru and the output is
checked with tools independent of the code that produced it: pypdf for text,
pikepdf's PDF/A validator, lxml against the XSD file on disk.
"""

from __future__ import annotations

import io
import json
import re

import pikepdf
import pikepdf.pdfa
import pytest
from lxml import etree

from docservice.cli import main
from docservice.errors import InputError
from docservice.forms import all_kinds
from docservice.forms.fields import walk
from docservice.render import LANG_CHOICES, render
from docservice.rendering.fonts import KAZAKH_LETTERS, missing_glyphs
from docservice.resources import data_dir
from docservice.signature_area import SIGNATURE_DEST
from docservice.texts import LANGS, load_file, template_docs

from .conftest import EXAMPLES, example, official_corpus, pdf_text, squash

KINDS = list(all_kinds())
CASES = [(k, lang) for k in KINDS for lang in LANG_CHOICES]


def test_catalogue_has_every_kind_of_the_issue():
    assert set(KINDS) >= {"application"}
    for name in KINDS:
        assert (EXAMPLES / f"{name}.json").exists(), f"no example for {name}"


# Templates -------------------------------------------------------------------


def test_both_languages_have_the_same_template_files():
    assert template_docs("kk") == template_docs("ru")


@pytest.mark.parametrize("doc", template_docs("kk"))
def test_template_keys_are_the_same_in_both_languages(doc):
    kk, ru = load_file("kk", doc), load_file("ru", doc)
    assert sorted(set(kk) - set(ru)) == [] and sorted(set(ru) - set(kk)) == []


@pytest.mark.parametrize("doc", template_docs("kk"))
def test_a_translation_stands_for_a_seed_text_of_the_other_language(doc):
    files = {lang: load_file(lang, doc) for lang in LANGS}
    for lang, other in (("kk", "ru"), ("ru", "kk")):
        for key, text in files[lang].items():
            if text.section == "translation":
                assert files[other][key].section == "seed", f"{lang}/{doc}.yaml: {key}"


@pytest.mark.parametrize(("lang", "doc"), [(lg, d) for lg in LANGS for d in template_docs(lg)])
def test_seed_texts_are_word_for_word_from_the_official_texts(lang, doc):
    corpus = official_corpus()
    not_found = [
        key
        for key, text in load_file(lang, doc).items()
        if text.section == "seed" and squash(text.value) not in corpus
    ]
    assert not_found == [], f"templates_{lang}/{doc}.yaml: not in the seeds: {not_found}"


@pytest.mark.parametrize("name", KINDS)
def test_every_field_has_a_label_in_both_languages(name):
    kind = all_kinds()[name]
    for lang in LANGS:
        texts = load_file(lang, name)
        missing = [path for path, _ in walk(kind.fields) if f"fields.{path}" not in texts]
        assert missing == [], f"templates_{lang}/{name}.yaml lacks labels for {missing}"


def test_the_font_covers_every_kazakh_letter_and_every_template_text():
    assert missing_glyphs(KAZAKH_LETTERS) == set()
    for lang in LANGS:
        for doc in template_docs(lang):
            for key, text in load_file(lang, doc).items():
                assert missing_glyphs(text.value) == set(), f"{lang}/{doc}: {key}"


# XSD ---------------------------------------------------------------------------


def test_published_xsds_match_the_kind_definitions(capsys):
    assert main(["xsd"]) == 0, capsys.readouterr().out


def _schema(name: str) -> etree.XMLSchema:
    path = data_dir("xsd") / all_kinds()[name].xsd_filename
    return etree.XMLSchema(etree.parse(str(path)))


# Rendering ---------------------------------------------------------------------


@pytest.mark.parametrize(("name", "lang"), CASES)
def test_xml_is_valid_against_the_published_xsd(rendered_examples, name, lang):
    doc = etree.fromstring(rendered_examples[name, lang].xml)
    schema = _schema(name)
    assert schema.validate(doc), schema.error_log
    assert doc.get("lang") == lang.replace("+", " ")


@pytest.mark.parametrize(("name", "lang"), CASES)
def test_pdf_is_valid_pdfa_3b_with_the_xml_attached(rendered_examples, name, lang):
    out = rendered_examples[name, lang]
    report = pikepdf.pdfa.validate_written(io.BytesIO(out.pdf), "3b")
    assert report.passed, str(report)
    with pikepdf.open(io.BytesIO(out.pdf)) as pdf:
        spec = pdf.attachments[f"{out.stem}.xml"]
        assert spec.get_file().read_bytes() == out.xml
        assert spec.obj.AFRelationship == pikepdf.Name.Data
        # the XML first; any other file (evidence) is an associated file too
        assert pdf.Root.AF[0] == spec.obj
        assert len(pdf.Root.AF) == len(pdf.attachments)


@pytest.mark.parametrize(("name", "lang"), CASES)
def test_every_font_is_embedded_and_none_is_a_base_14_font(rendered_examples, name, lang):
    with pikepdf.open(io.BytesIO(rendered_examples[name, lang].pdf)) as pdf:
        fonts = [
            obj
            for obj in pdf.objects
            if isinstance(obj, pikepdf.Dictionary)
            and obj.get("/Type") == "/Font"
            and obj.get("/Subtype") != "/Type0"
        ]
        assert fonts
        for font in fonts:
            assert "/FontDescriptor" in font, font.get("/BaseFont")
            descriptor = font.FontDescriptor
            assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
            assert "Helvetica" not in str(font.get("/BaseFont"))


@pytest.mark.parametrize(("name", "lang"), CASES)
def test_every_static_text_of_the_form_is_printed(rendered_examples, name, lang):
    printed = squash(pdf_text(rendered_examples[name, lang].pdf))
    for lg in lang.split("+"):
        statics = {
            f"{doc}:{key}": text.value
            for doc in (name, "common")
            for key, text in load_file(lg, doc).items()
            if text.section in ("seed", "translation")
            and not key.startswith("choices.")
            and (doc == name or key in ("footer",))
        }
        missing = [key for key, value in statics.items() if squash(value) not in printed]
        assert missing == [], f"{name} {lang}: not printed: {missing}"


@pytest.mark.parametrize(("name", "lang"), CASES)
def test_kazakh_letters_survive_into_the_pdf_text(rendered_examples, name, lang):
    printed = pdf_text(rendered_examples[name, lang].pdf)
    if "kk" in lang:
        assert set("әғқңөұүһі") & set(printed.lower())
    assert "\ufffd" not in printed


@pytest.mark.parametrize(("name", "lang"), CASES)
def test_the_signature_area_is_named_on_the_last_page(rendered_examples, name, lang):
    with pikepdf.open(io.BytesIO(rendered_examples[name, lang].pdf)) as pdf:
        dest = pikepdf.NameTree(pdf.Root.Names.Dests)[SIGNATURE_DEST]
        assert dest[0].objgen == pdf.pages[-1].obj.objgen
        assert dest[1] == pikepdf.Name.FitR
        left, bottom, right, top = (float(v) for v in dest[2:6])
        assert right - left > 100 and top - bottom > 100


@pytest.mark.parametrize("name", KINDS)
def test_every_page_carries_the_equivalence_footer_in_each_language(rendered_examples, name):
    from pypdf import PdfReader

    pages = PdfReader(io.BytesIO(rendered_examples[name, "kk+ru"].pdf)).pages
    footers = [squash(load_file(lang, "common")["footer"].value) for lang in LANGS]
    for number, page in enumerate(pages, start=1):
        text = squash(page.extract_text())
        assert all(f in text for f in footers), f"{name}: page {number} lacks a footer"


# Bad input ---------------------------------------------------------------------


@pytest.mark.parametrize("name", KINDS)
def test_an_empty_input_names_every_required_field(name):
    kind = all_kinds()[name]
    with pytest.raises(InputError) as caught:
        render(name, {}, "ru")
    paths = {e.path for e in caught.value.errors}
    required = {f.name for f in kind.fields if f.required and not f.computed}
    assert required <= paths
    for message in caught.value.messages("ru"):
        assert "обязательно" in message["message"]


@pytest.mark.parametrize("name", KINDS)
def test_an_unknown_field_is_refused_not_ignored(name):
    data = example(name) | {"surprise": 1}
    with pytest.raises(InputError) as caught:
        render(name, data, "kk")
    assert [(e.path, e.code) for e in caught.value.errors] == [("surprise", "unknown_field")]
    assert "мұндай өріс жоқ" in caught.value.messages("kk")[0]["message"]


def _has_iin(name: str) -> bool:
    return any(path.endswith("iin") for path, _ in walk(all_kinds()[name].fields))


def test_the_kinds_without_an_iin_are_the_organisations_evaluations():
    assert [k for k in KINDS if not _has_iin(k)] == ["quality_evaluation", "evaluation_conclusion"]


@pytest.mark.parametrize("name", [k for k in KINDS if _has_iin(k)])
def test_a_bad_iin_anywhere_is_named_with_its_path(name):
    data = example(name)
    text = re.sub(
        r'"iin": "(\d{11})(\d)"',
        lambda m: f'"iin": "{m[1]}{(int(m[2]) + 1) % 10}"',
        json.dumps(data, ensure_ascii=False),
        count=1,
    )
    assert text != json.dumps(data, ensure_ascii=False), f"{name}: the example has no IIN"
    with pytest.raises(InputError) as caught:
        render(name, json.loads(text), "kk")
    assert any(e.code == "iin_checksum" and e.path.endswith("iin") for e in caught.value.errors)


def test_cli_bad_input_writes_nothing_and_exits_2(tmp_path, capsys):
    data = tmp_path / "bad.json"
    data.write_text(
        '{"applicant": {"full_name": "Ақан", "birth_date": "1985-02-30", "iin": "850314300272"}}',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    assert (
        main(["render", "application", "--lang", "ru", "--data", str(data), "--out", str(out)]) == 2
    )
    err = capsys.readouterr().err
    assert "applicant.birth_date" in err and "ГГГГ-ММ-ДД" in err
    assert "applicant.iin" in err and "контрольный разряд" in err
    assert "Traceback" not in err
    assert not out.exists() or not any(out.iterdir())


def test_cli_unreadable_json_is_a_clear_error(tmp_path, capsys):
    data = tmp_path / "bad.json"
    data.write_text("{not json", encoding="utf-8")
    assert (
        main(["render", "application", "--lang", "kk", "--data", str(data), "--out", str(tmp_path)])
        == 2
    )
    assert "JSON ретінде оқылмады" in capsys.readouterr().err


def test_cli_renders_pdf_and_xml_and_prints_their_paths(tmp_path, capsys):
    assert (
        main(
            [
                "render",
                "application",
                "--lang",
                "kk+ru",
                "--data",
                str(EXAMPLES / "application.json"),
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out.split()
    assert printed == [
        str(tmp_path / "application-kk-ru.pdf"),
        str(tmp_path / "application-kk-ru.xml"),
    ]
    assert (tmp_path / "application-kk-ru.pdf").read_bytes().startswith(b"%PDF-")


def test_cli_lists_the_kinds(capsys):
    assert main(["kinds"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == KINDS


def test_cli_output_folder_that_is_a_file_is_a_clear_error(tmp_path, capsys):
    blocker = tmp_path / "out"
    blocker.write_text("not a folder", encoding="utf-8")
    assert (
        main(
            [
                "render",
                "application",
                "--lang",
                "kk",
                "--data",
                str(EXAMPLES / "application.json"),
                "--out",
                str(blocker),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert str(blocker) in err and "Traceback" not in err
    assert blocker.read_text(encoding="utf-8") == "not a folder"


@pytest.mark.parametrize("name", KINDS)
def test_every_example_is_valid_against_its_published_json_schema(name):
    """An independent validator (jsonschema) agrees with the kind on its own example."""
    import jsonschema

    schema = all_kinds()[name].json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(example(name))
    broken = example(name) | {"surprise": 1}
    assert not jsonschema.Draft202012Validator(schema).is_valid(broken)
