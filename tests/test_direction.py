"""The direction to the Center (Order 331, Appendix 1): long families, kinship, talons, rules."""

from __future__ import annotations

import copy
import io
import json

import pytest
from lxml import etree
from pypdf import PdfReader

from docservice.cli import main
from docservice.errors import InputError
from docservice.identifiers import check_digit
from docservice.render import render
from docservice.texts import texts_for

from .conftest import EXAMPLES, example, squash

NS = {"d": "urn:kz:docservice:direction:v2"}
KINSHIPS = ("son", "daughter", "grandson", "granddaughter", "brother", "sister")


def _iin(born: str, century_sex: int, serial: int) -> str:
    yy, mm, dd = born[2:4], born[5:7], born[8:10]
    while (digit := check_digit(f"{yy}{mm}{dd}{century_sex}{serial:04d}")) is None:
        serial += 1
    return f"{yy}{mm}{dd}{century_sex}{serial:04d}{digit}"


LETTERS = "АӘБВГҒДЕЖЗИЙКҚЛМНҢОӨПРСТУҰҮФХҺЦЧШЫІЭЮЯ"


def _mark(i: int) -> str:
    """Letters that tell member ``i`` apart (a name holds no digits): А, Ә, ..., ӘА, ӘӘ..."""
    n = len(LETTERS)
    return LETTERS[i] if i < n else LETTERS[i // n] + LETTERS[i % n]


def _family(count: int) -> list[dict]:
    talon = {"number": "МП-2026/200001", "date": "2026-11-10"}
    members = [
        {
            "full_name": "Төлеуова Гүлшат Маратқызы",
            "birth_date": "1981-08-23",
            "kinship": "wife",
            "iin": "810823401187",
            "talon": talon,
        }
    ]
    for i in range(1, count):
        born = f"{2000 + i % 20}-0{1 + i % 9}-1{i % 10}"
        members.append(
            {
                "full_name": f"Төлеуов Әлихан-{_mark(i)} Серікұлы",
                "birth_date": born,
                "kinship": KINSHIPS[i % len(KINSHIPS)],
                "iin": _iin(born, 5, 100 + i),
                "talon": talon,
            }
        )
    return members


def _pages(pdf: bytes) -> list[str]:
    return [squash(p.extract_text()) for p in PdfReader(io.BytesIO(pdf)).pages]


def _errors(data: dict, lang: str = "kk") -> InputError:
    with pytest.raises(InputError) as caught:
        render("direction", data, lang)
    return caught.value


def test_a_family_of_15_flows_past_the_six_lines_of_the_form():
    data = example("direction") | {"family": _family(15)}
    out = render("direction", data, "kk", validate_pdfa=False)
    pages = _pages(out.pdf)
    assert len(pages) >= 2
    printed = "".join(pages)
    for number, member in enumerate(data["family"], start=1):
        assert squash(f"{number}.{member['full_name']}") in printed, member["full_name"]
    caption = squash(texts_for("kk").get("direction", "member_caption"))
    assert printed.count(caption) == 15
    # the head of the body and the issue date follow the last member
    head = squash(texts_for("kk").get("direction", "head"))
    assert printed.index(head) > printed.index(squash(data["family"][-1]["full_name"]))
    members = etree.fromstring(out.xml).findall("d:family/d:member", NS)
    assert len(members) == 15
    assert members[0].findtext("d:kinship", namespaces=NS) == "wife"


def test_kinship_is_printed_in_the_document_language():
    for lang, wife, mother in (("kk", "әйелі", "анасы"), ("ru", "жена", "мать")):
        printed = squash(
            PdfReader(
                io.BytesIO(render("direction", example("direction"), lang, validate_pdfa=False).pdf)
            )
            .pages[0]
            .extract_text()
        )
        assert squash("Төлеуова Гүлшат Маратқызы") in printed
        assert wife in printed and mother in printed


def test_a_member_without_an_iin_is_accepted_and_has_no_iin_in_the_xml():
    out = render("direction", example("direction"), "ru", validate_pdfa=False)
    mother = [
        m
        for m in etree.fromstring(out.xml).findall("d:family/d:member", NS)
        if m.findtext("d:kinship", namespaces=NS) == "mother"
    ]
    assert len(mother) == 1 and mother[0].find("d:iin", NS) is None


def test_a_candidate_alone_prints_no_members():
    data = example("direction") | {"family": []}
    printed = squash(
        PdfReader(io.BytesIO(render("direction", data, "ru", validate_pdfa=False).pdf))
        .pages[0]
        .extract_text()
    )
    assert squash("Члены семьи:нет") in printed


def test_an_unknown_kinship_is_named_in_the_requested_language():
    data = copy.deepcopy(example("direction"))
    data["family"][2]["kinship"] = "cousin"
    (message,) = _errors(data, "ru").messages("ru")
    assert message["field"] == "family[2].kinship"
    assert message["code"] == "not_in_choices"
    assert "Степень родства" in message["message"] and "daughter" in message["message"]


def test_bad_member_iin_and_missing_candidate_name_are_both_named():
    data = copy.deepcopy(example("direction"))
    data["family"][1]["iin"] = data["family"][1]["iin"][:11] + str(
        (int(data["family"][1]["iin"][11]) + 1) % 10
    )
    del data["candidate"]["full_name"]
    caught = _errors(data, "kk")
    assert {(e.path, e.code) for e in caught.errors} == {
        ("family[1].iin", "iin_checksum"),
        ("candidate.full_name", "required"),
    }
    messages = {m["field"]: m["message"] for m in caught.messages("kk")}
    assert "бақылау разряды" in messages["family[1].iin"]
    assert "толтыру міндетті" in messages["candidate.full_name"]


def test_cross_field_rules():
    data = copy.deepcopy(example("direction"))
    data["family"][3]["birth_date"] = "2027-01-01"  # born after the issue date
    data["family"][4]["kinship"] = "husband"  # a second spouse
    data["family"][5]["iin"] = data["candidate"]["iin"]  # the candidate twice
    data["family"][0]["birth_date"] = "1981-08-24"  # IIN says the 23rd
    found = {(e.path, e.code) for e in _errors(data).errors}
    assert found == {
        ("family[3].birth_date", "not_after"),
        ("family[3].iin", "iin_birth_mismatch"),
        ("family[4].kinship", "duplicate"),
        ("family[5].iin", "duplicate"),
        ("family[5].iin", "iin_birth_mismatch"),
        ("family[0].iin", "iin_birth_mismatch"),
    }


def test_the_talons_are_printed_on_each_line_and_carried_in_the_xml():
    data = example("direction")
    out = render("direction", data, "kk+ru", validate_pdfa=False)
    printed = "".join(_pages(out.pdf))
    assert (
        squash(
            "ықтияр хатқа өтініш туралы ішкі істер органының талоны № МП-2026/118432, "
            '2026 жылғы "10" қараша'
        )
        in printed
    )
    assert (
        squash(
            "талон органа внутренних дел о заявлении на вид на жительство "
            '№ МП-2026/118433 от "10" ноября 2026 года'
        )
        in printed
    )
    doc = etree.fromstring(out.xml)
    assert doc.findtext("d:candidate/d:talon/d:number", namespaces=NS) == "МП-2026/118432"
    talons = [m.find("d:talon", NS) for m in doc.findall("d:family/d:member", NS)]
    # the son born in 2012 is a minor and has none
    assert [t is not None for t in talons] == [True, True, True, False, True, True]


def test_no_direction_before_the_talons_of_the_candidate_and_every_adult_member():
    data = copy.deepcopy(example("direction"))
    del data["candidate"]["talon"]
    assert [(e.path, e.code) for e in _errors(data).errors] == [("candidate.talon", "required")]
    data = copy.deepcopy(example("direction"))
    del data["family"][4]["talon"]  # the mother, born 1952
    caught = _errors(data, "ru")
    assert [(e.path, e.code) for e in caught.errors] == [("family[4].talon", "talon_required")]
    message = {m["field"]: m["message"] for m in caught.messages("ru")}["family[4].talon"]
    assert "талон органа внутренних дел" in message and "пункт 3" in message
    kk = {m["field"]: m["message"] for m in caught.messages("kk")}["family[4].talon"]
    assert "ішкі істер органының талоны" in kk


@pytest.mark.parametrize(
    ("born", "needs"), [("2008-11-18", True), ("2008-11-19", False), ("2012-06-15", False)]
)
def test_a_member_needs_a_talon_from_the_day_they_turn_18(born, needs):
    data = copy.deepcopy(example("direction"))
    member = data["family"][3]
    member.pop("iin"), member.pop("talon", None)
    member["birth_date"] = born
    if needs:
        assert [(e.path, e.code) for e in _errors(data).errors] == [
            ("family[3].talon", "talon_required")
        ]
    else:
        render("direction", data, "kk", validate_pdfa=False)


def test_a_talon_dated_after_the_direction_is_refused():
    data = copy.deepcopy(example("direction"))
    data["family"][0]["talon"]["date"] = "2026-11-19"
    assert [(e.path, e.code) for e in _errors(data).errors] == [
        ("family[0].talon.date", "not_after")
    ]


def test_too_many_members_is_refused():
    data = example("direction") | {"family": _family(51)}
    assert [(e.path, e.code) for e in _errors(data).errors] == [("family", "too_many")]


def test_cli_bad_input_writes_nothing(tmp_path, capsys):
    data = copy.deepcopy(example("direction"))
    data["issue_date"] = "2026-02-30"
    source = tmp_path / "bad.json"
    source.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "out"
    assert (
        main(["render", "direction", "--lang", "ru", "--data", str(source), "--out", str(out)]) == 2
    )
    err = capsys.readouterr().err
    assert "issue_date" in err and "ГГГГ-ММ-ДД" in err
    assert not out.exists() or not any(out.iterdir())


def test_cli_renders_both_languages_into_one_file(tmp_path, capsys):
    assert (
        main(
            [
                "render",
                "direction",
                "--lang",
                "kk+ru",
                "--data",
                str(EXAMPLES / "direction.json"),
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    printed = "".join(_pages((tmp_path / "direction-kk-ru.pdf").read_bytes()))
    assert printed.index("ЖОЛДАМА") < printed.index("НАПРАВЛЕНИЕ")
