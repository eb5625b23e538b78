"""The "Электронное обращение" application: long content flows, a documents table of any length."""

from __future__ import annotations

import copy
import io
import json

import pytest
from lxml import etree
from pypdf import PdfReader

from docservice.cli import main
from docservice.errors import InputError
from docservice.render import render
from docservice.texts import texts_for

from .conftest import example, pdf_text, squash

NS = {"a": "urn:kz:docservice:e_appeal:v1"}


def _long_content(chars: int = 6000) -> tuple[str, int]:
    """Numbered sentences in paragraphs, so a lost line shows as a missing number."""
    sentences, n = [], 0
    while sum(len(s) + 1 for s in sentences) < chars:
        n += 1
        sentences.append(f"Сөйлем{n:04d}: отбасымның жағдайы туралы қосымша мәлімет береміз.")
        if n % 12 == 0:
            sentences.append("\n")
    return " ".join(sentences).replace(" \n ", "\n").strip(), n


def test_the_title_and_appendix_are_the_seed_wording_with_its_quotes():
    ru = texts_for("ru")
    assert ru.get("e_appeal", "title") == (
        "Форма электронного заявления на оказание социальных и государственных услуг через "
        "сервис «Электронное обращение» на веб-портале «Электронного правительства»"
    )
    assert ru.get("e_appeal", "appendix") == (
        "Приложение к Правилам оказания некоторых государственных услуг в социально-трудовой "
        "сфере на период чрезвычайного положения"
    )
    out = render("e_appeal", example("e_appeal"), "ru", validate_pdfa=False)
    first = squash(PdfReader(io.BytesIO(out.pdf)).pages[0].extract_text())
    assert squash(ru.get("e_appeal", "title")) in first
    assert squash("Почтовый адрес (адрес проживания услугополучателя)") in first


def test_6000_characters_of_content_flow_onto_further_pages_without_loss():
    content, count = _long_content()
    assert len(content) >= 6000
    data = example("e_appeal") | {"content": content}
    out = render("e_appeal", data, "kk+ru")
    reader = PdfReader(io.BytesIO(out.pdf))
    short = render("e_appeal", example("e_appeal"), "kk+ru", validate_pdfa=False)
    assert len(reader.pages) > len(PdfReader(io.BytesIO(short.pdf)).pages)
    printed = squash(pdf_text(out.pdf))
    missing = [n for n in range(1, count + 1) if printed.count(f"Сөйлем{n:04d}:") != 2]
    assert missing == []  # each sentence once in Kazakh and once in Russian
    assert etree.fromstring(out.xml).findtext("a:content", namespaces=NS) == content


def test_many_documents_repeat_the_table_header_on_every_page():
    docs = [{"name": f"Құжат-{i:03d} анықтамасы", "sheets": i % 7 + 1} for i in range(1, 121)]
    data = example("e_appeal") | {"documents": docs}
    out = render("e_appeal", data, "ru", validate_pdfa=False)
    pages = [squash(p.extract_text()) for p in PdfReader(io.BytesIO(out.pdf)).pages]
    header = squash("Количество листов в документе")
    table_pages = [p for p in pages if "Құжат-" in p]
    assert len(table_pages) >= 2
    assert all(header in p for p in table_pages)
    printed = "".join(pages)
    assert all(f"Құжат-{i:03d}" in printed for i in range(1, 121))
    items = etree.fromstring(out.xml).findall("a:documents/a:document", NS)
    assert [int(i.findtext("a:sheets", namespaces=NS)) for i in items] == [
        d["sheets"] for d in docs
    ]


def test_no_patronymic_and_no_documents_are_allowed():
    data = copy.deepcopy(example("e_appeal"))
    del data["patronymic"], data["documents"]
    out = render("e_appeal", data, "kk", validate_pdfa=False)
    doc = etree.fromstring(out.xml)
    assert doc.find("a:patronymic", NS) is None and doc.find("a:documents", NS) is None
    assert squash("құжаттар қоса берілмеген") in squash(pdf_text(out.pdf))


@pytest.mark.parametrize(
    ("sheets", "code"),
    [(0, "out_of_range"), (-2, "out_of_range"), ("3", "not_integer"), (1.5, "not_integer")],
)
def test_the_number_of_sheets_is_a_whole_number_from_1(sheets, code):
    data = copy.deepcopy(example("e_appeal"))
    data["documents"][1]["sheets"] = sheets
    with pytest.raises(InputError) as caught:
        render("e_appeal", data, "ru")
    assert [(e.path, e.code) for e in caught.value.errors] == [("documents[1].sheets", code)]
    assert "Количество листов в документе" in caught.value.messages("ru")[0]["message"]


def test_bad_iin_email_phone_and_missing_surname_are_each_named_in_kazakh():
    data = copy.deepcopy(example("e_appeal"))
    data["iin"] = "870912450238"
    data["email"] = "aigerim.mail.kz"
    data["phone"] = "нөмір жоқ"
    del data["surname"]
    with pytest.raises(InputError) as caught:
        render("e_appeal", data, "kk")
    found = {(e.path, e.code) for e in caught.value.errors}
    assert found == {
        ("iin", "iin_checksum"),
        ("email", "bad_email"),
        ("phone", "bad_phone"),
        ("surname", "required"),
    }
    text = " ".join(m["message"] for m in caught.value.messages("kk"))
    assert "«Тегі» (surname): толтыру міндетті" in text
    assert "электрондық пошта мекенжайы дұрыс емес" in text


def test_a_document_row_without_a_name_is_named_by_its_row():
    data = copy.deepcopy(example("e_appeal"))
    data["documents"][2] = {"sheets": 1, "pages": 3}
    with pytest.raises(InputError) as caught:
        render("e_appeal", data, "ru")
    assert {(e.path, e.code) for e in caught.value.errors} == {
        ("documents[2].name", "required"),
        ("documents[2].pages", "unknown_field"),
    }


def test_cli_bad_input_writes_nothing(tmp_path, capsys):
    data = example("e_appeal") | {"email": "no-at-sign"}
    source = tmp_path / "bad.json"
    source.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "out"
    assert (
        main(["render", "e_appeal", "--lang", "ru", "--data", str(source), "--out", str(out)]) == 2
    )
    err = capsys.readouterr().err
    assert "email" in err and "неверный адрес электронной почты" in err
    assert "Traceback" not in err
    assert not out.exists() or not any(out.iterdir())
