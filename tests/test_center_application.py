"""The application for placement in the Center (Order 331, Appendix 2)."""

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

from .conftest import example, squash

NS = {"a": "urn:kz:docservice:center_application:v1"}


def _first_page(data: dict, lang: str) -> str:
    out = render("center_application", data, lang, validate_pdfa=False)
    return squash(PdfReader(io.BytesIO(out.pdf)).pages[0].extract_text())


def _errors(data: dict, lang: str = "kk") -> InputError:
    with pytest.raises(InputError) as caught:
        render("center_application", data, lang)
    return caught.value


@pytest.mark.parametrize("lang", ["kk", "ru"])
@pytest.mark.parametrize("count", [0, 6, 50])
def test_the_number_of_family_members_fills_the_blank_of_the_request(lang, count):
    texts = texts_for(lang)
    sentence = (
        texts.get("center_application", "request_start")
        + str(count)
        + texts.get("center_application", "request_end")
    )
    data = example("center_application") | {"family_members": count}
    assert squash(sentence) in _first_page(data, lang)


def test_the_addressee_and_the_candidate_stand_above_the_title():
    data = example("center_application")
    printed = _first_page(data, "kk")
    authority, title = squash(data["authority"]), squash("Өтініш")
    candidate = squash(f"{data['candidate']['full_name']}, ЖСН {data['candidate']['iin']}")
    assert (
        printed.index(squash("Басшыға"))
        < printed.index(authority)
        < printed.index(candidate)
        < printed.index(title + "Cізден")
    )


def test_the_xml_carries_the_count_as_a_number():
    out = render("center_application", example("center_application"), "ru", validate_pdfa=False)
    assert etree.fromstring(out.xml).findtext("a:family_members", namespaces=NS) == "6"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (-1, "out_of_range"),
        (51, "out_of_range"),
        ("6", "not_integer"),
        (2.5, "not_integer"),
        (True, "not_integer"),
    ],
)
def test_a_bad_number_of_family_members_is_refused(value, code):
    data = example("center_application") | {"family_members": value}
    caught = _errors(data, "ru")
    assert [(e.path, e.code) for e in caught.errors] == [("family_members", code)]
    assert "Количество членов семьи" in caught.messages("ru")[0]["message"]


def test_a_bad_iin_and_a_missing_authority_are_named_in_kazakh():
    data = copy.deepcopy(example("center_application"))
    data["candidate"]["iin"] = "790512302152"
    del data["authority"]
    caught = _errors(data)
    assert {(e.path, e.code) for e in caught.errors} == {
        ("candidate.iin", "iin_checksum"),
        ("authority", "required"),
    }
    messages = {m["field"]: m["message"] for m in caught.messages("kk")}
    assert "Үміткердің ЖСН" in messages["candidate.iin"]
    assert "толтыру міндетті" in messages["authority"]


def test_cli_bad_input_writes_nothing(tmp_path, capsys):
    data = example("center_application") | {"family_members": 500}
    source = tmp_path / "bad.json"
    source.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "out"
    assert (
        main(
            [
                "render",
                "center_application",
                "--lang",
                "kk",
                "--data",
                str(source),
                "--out",
                str(out),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "family_members" in err and "0 мен 50 аралығында" in err
    assert not out.exists() or not any(out.iterdir())
