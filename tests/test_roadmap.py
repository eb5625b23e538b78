"""The road map (Rules 2024, point 38): three copies, a flowing service list, its rules."""

from __future__ import annotations

import copy
import io
import json

import pytest
from lxml import etree
from pypdf import PdfReader

from docservice.cli import main
from docservice.errors import InputError
from docservice.forms.roadmap import COPIES, KIND
from docservice.render import render
from docservice.texts import texts_for

from .conftest import example, squash

NS = {"r": "urn:kz:docservice:roadmap:v1"}


def _pages(pdf: bytes) -> list[str]:
    return [squash(page.extract_text() or "") for page in PdfReader(io.BytesIO(pdf)).pages]


def _label(lang: str, number: int) -> str:
    texts = texts_for(lang)
    return squash(
        texts.get(
            "roadmap",
            "copy_label",
            number=number,
            addressee=texts.get("roadmap", COPIES[number - 1]),
        )
    )


def _parts(pdf: bytes, langs: tuple[str, ...]) -> list[tuple[int, str]]:
    """(copy number, language) of each run of pages, read from the labels on the pages."""
    labels = {(n, lg): _label(lg, n) for n in (1, 2, 3) for lg in langs}
    parts: list[tuple[int, str]] = []
    for number, page in enumerate(_pages(pdf), start=1):
        found = [key for key, label in labels.items() if label in page]
        assert len(found) == 1, f"page {number}: copy labels {found}"
        if not parts or parts[-1] != found[0]:
            parts.append(found[0])
    return parts


def _with_services(count: int, note: str = "") -> dict:
    data = example("roadmap")
    data["services"] = [
        {
            "code": code,
            "responsible": "Айыртау ауданының мансап орталығы",
            "deadline": "2027-01-15",
            "status": "planned",
            **({"note": note} if note else {}),
        }
        for code in range(1, count + 1)
    ]
    return data


def _errors(data: dict, lang: str = "kk") -> list[tuple[str, str]]:
    with pytest.raises(InputError) as caught:
        render("roadmap", data, lang)
    return [(e.path, e.code) for e in caught.value.errors]


def test_the_addressees_are_those_of_point_38():
    assert KIND.copies == COPIES and len(COPIES) == 3
    assert [texts_for("ru").get("roadmap", key) for key in COPIES] == [
        "акиму района",
        "акиму сельского округа",
        "карьерному центру",
    ]
    assert [texts_for("kk").get("roadmap", key) for key in COPIES] == [
        "аудан әкіміне",
        "ауылдық округ әкіміне",
        "мансап орталығына",
    ]


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_one_render_gives_three_copies_each_marked_on_every_page(lang):
    out = render("roadmap", example("roadmap"), lang, validate_pdfa=False)
    assert _parts(out.pdf, (lang,)) == [(1, lang), (2, lang), (3, lang)]
    title = squash(texts_for(lang).get("roadmap", "title"))
    assert "".join(_pages(out.pdf)).count(title) == 3


def test_kk_ru_gives_six_parts_each_copy_in_both_languages():
    out = render("roadmap", example("roadmap"), "kk+ru", validate_pdfa=False)
    assert _parts(out.pdf, ("kk", "ru")) == [
        (1, "kk"),
        (1, "ru"),
        (2, "kk"),
        (2, "ru"),
        (3, "kk"),
        (3, "ru"),
    ]


def test_the_xml_carries_the_data_once_not_per_copy():
    out = render("roadmap", example("roadmap"), "kk", validate_pdfa=False)
    root = etree.fromstring(out.xml)
    services = root.findall("r:services/r:service", NS)
    assert len(services) == len(example("roadmap")["services"])
    assert services[2].findtext("r:status", namespaces=NS) == "not_needed"
    assert services[2].find("r:deadline", NS) is None
    assert root.findtext("r:approval_date", namespaces=NS) == "2026-11-20"


def test_a_long_service_list_flows_over_pages_with_its_header_and_copy_mark():
    note = "Отбасының әрбір мүшесіне жеке көрсетіледі; орындалуы туралы ақпарат ауылдық " * 3
    data = _with_services(25, note.strip())
    out = render("roadmap", data, "ru", validate_pdfa=False)
    pages = _pages(out.pdf)
    texts = texts_for("ru")
    first_copy = [p for p in pages if _label("ru", 1) in p]
    assert len(first_copy) >= 3
    heading = squash(texts.get("roadmap", "columns.code"))
    table_pages = [p for p in first_copy if heading in p]
    assert len(table_pages) >= 2  # the header row repeats on the continuation page
    printed = "".join(first_copy)
    missing = [
        code
        for code in range(1, 26)
        if squash(texts.get("services", f"items.{code}")) not in printed
    ]
    assert missing == []
    assert _parts(out.pdf, ("ru",)) == [(1, "ru"), (2, "ru"), (3, "ru")]


@pytest.mark.parametrize("code", [0, 26, -1])
def test_a_service_outside_appendix_1_is_refused(code):
    data = example("roadmap")
    data["services"][1]["code"] = code
    assert _errors(data) == [("services[1].code", "out_of_range")]


def test_a_service_listed_twice_is_refused_with_its_code():
    data = example("roadmap")
    data["services"][4]["code"] = data["services"][0]["code"]
    with pytest.raises(InputError) as caught:
        render("roadmap", data, "ru")
    assert [(e.path, e.code) for e in caught.value.errors] == [("services[4].code", "duplicate")]
    message = caught.value.messages("ru")[0]["message"]
    assert "Номер услуги по Перечню" in message and "повторяется: 1" in message


def test_more_than_25_services_is_refused():
    data = _with_services(25)
    data["services"].append(dict(data["services"][0]))
    assert ("services", "too_many") in _errors(data)


def test_an_open_service_cannot_be_due_before_the_approval_date():
    data = example("roadmap")
    data["services"][3].update(deadline="2026-11-19", status="in_progress")
    data["services"][7].update(deadline="2026-10-01", status="planned")
    assert _errors(data) == [
        ("services[3].deadline", "date_before"),
        ("services[7].deadline", "date_before"),
    ]


def test_a_done_service_may_carry_an_earlier_date_and_an_unneeded_one_none():
    data = example("roadmap")
    data["services"][0].update(deadline="2026-10-01", status="done")
    data["services"][5].pop("deadline")
    data["services"][5]["status"] = "not_needed"
    render("roadmap", data, "kk", validate_pdfa=False)


def test_a_service_still_to_do_needs_a_deadline():
    data = example("roadmap")
    del data["services"][4]["deadline"]
    with pytest.raises(InputError) as caught:
        render("roadmap", data, "kk")
    assert [(e.path, e.code) for e in caught.value.errors] == [("services[4].deadline", "required")]
    assert "Орындау мерзімі" in caught.value.messages("kk")[0]["message"]


def test_a_wrong_status_is_named_in_the_requested_language():
    data = example("roadmap")
    data["services"][0]["status"] = "finished"
    with pytest.raises(InputError) as caught:
        render("roadmap", data, "kk")
    (error,) = caught.value.messages("kk")
    assert error["field"] == "services[0].status" and error["code"] == "not_in_choices"
    assert "Қызметтің мәртебесі" in error["message"] and "not_needed" in error["message"]


def test_missing_settlement_and_bad_member_iin_are_all_named():
    data = example("roadmap")
    del data["settlement"]["rural_district"]
    iin = data["family"]["members"][1]["iin"]
    data["family"]["members"][1]["iin"] = iin[:11] + str((int(iin[11]) + 1) % 10)
    with pytest.raises(InputError) as caught:
        render("roadmap", data, "ru")
    errors = {(e.path, e.code) for e in caught.value.errors}
    assert errors == {
        ("settlement.rural_district", "required"),
        ("family.members[1].iin", "iin_checksum"),
    }
    messages = " ".join(m["message"] for m in caught.value.messages("ru"))
    assert "Сельский округ" in messages and "контрольный разряд" in messages


def test_the_head_of_family_iin_must_match_the_birth_date():
    data = example("roadmap")
    data["family"]["head"]["birth_date"] = "1976-05-13"
    assert _errors(data) == [("family.head.iin", "iin_birth_mismatch")]


def test_cli_bad_input_writes_nothing(tmp_path, capsys):
    data = copy.deepcopy(example("roadmap"))
    data["services"][0]["code"] = 30
    source = tmp_path / "roadmap.json"
    source.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "out"
    assert (
        main(["render", "roadmap", "--lang", "ru", "--data", str(source), "--out", str(out)]) == 2
    )
    err = capsys.readouterr().err
    assert "services[0].code" in err and "от 1 до 25" in err
    assert not out.exists() or not any(out.iterdir())
