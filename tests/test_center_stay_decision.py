"""Ending a stay in the Center (Order 331 p. 13-17): representation, decision, computed terms."""

from __future__ import annotations

import copy

import pytest
from lxml import etree

from docservice.cli import main
from docservice.errors import InputError
from docservice.render import render

from .conftest import example, pdf_text, squash

NS = {"c": "urn:kz:docservice:center_stay_decision:v1"}


def _errors(data: dict, lang: str = "kk") -> list[tuple[str, str]]:
    with pytest.raises(InputError) as caught:
        render("center_stay_decision", data, lang)
    return [(e.path, e.code) for e in caught.value.errors]


def _representation_only() -> dict:
    data = example("center_stay_decision") | {"stage": "representation"}
    del data["decision"]
    return data


def test_the_decision_is_due_in_one_working_day_and_the_evicted_vacate_in_three_calendar_days():
    out = render(
        "center_stay_decision", example("center_stay_decision"), "kk+ru", validate_pdfa=False
    )
    doc = etree.fromstring(out.xml)
    # representation on Thursday 3 December: decision due Friday 4 December
    assert doc.findtext("c:decision_deadline", namespaces=NS) == "2026-12-04"
    assert doc.findtext("c:decision_late", namespaces=NS) == "false"
    assert doc.findtext("c:vacate_by", namespaces=NS) == "2026-12-07"
    # six months from the placement on 19 November (point 15)
    assert doc.findtext("c:stay_limit", namespaces=NS) == "2027-05-19"
    printed = squash(pdf_text(out.pdf))
    assert squash('Үй-жайды 2026 жылғы "07" желтоқсан қоса алғанда босату қажет') in printed
    assert squash("Решение: выселить из Центра; в отношении отдельных членов семьи.") in printed
    assert squash("Решение касается членов семьи: Төлеуов Нұрсұлтан Серікұлы.") in printed


def test_a_representation_over_a_weekend_and_a_late_decision():
    data = example("center_stay_decision")
    data["representation"]["date"] = "2026-12-04"  # Friday
    data["decision"]["date"] = "2026-12-08"
    doc = etree.fromstring(render("center_stay_decision", data, "ru", validate_pdfa=False).xml)
    assert doc.findtext("c:decision_deadline", namespaces=NS) == "2026-12-07"
    assert doc.findtext("c:decision_late", namespaces=NS) == "true"


def test_keeping_them_sets_no_day_to_vacate():
    data = example("center_stay_decision")
    data["decision"] |= {"outcome": "keep", "scope": "family"}
    del data["decision"]["members"]
    doc = etree.fromstring(render("center_stay_decision", data, "kk", validate_pdfa=False).xml)
    assert doc.find("c:vacate_by", NS) is None


def test_a_representation_awaits_the_decision_and_carries_none():
    out = render("center_stay_decision", _representation_only(), "ru", validate_pdfa=False)
    assert etree.fromstring(out.xml).find("c:decision", NS) is None
    assert squash("Решение местного исполнительного органа еще не вынесено.") in squash(
        pdf_text(out.pdf)
    )
    data = _representation_only() | {"decision": example("center_stay_decision")["decision"]}
    assert _errors(data) == [("decision", "not_in_state")]
    assert _errors(_representation_only() | {"stage": "decided"}) == [("decision", "required")]


def test_the_decision_names_only_residents_and_members_only_when_it_says_so():
    data = copy.deepcopy(example("center_stay_decision"))
    data["decision"]["members"] = [{"full_name": "Бөтен Адам Адамұлы"}]
    assert _errors(data) == [("decision.members[0].full_name", "not_a_resident")]
    data = copy.deepcopy(example("center_stay_decision"))
    del data["decision"]["members"]
    assert _errors(data) == [("decision.members", "required")]
    data = copy.deepcopy(example("center_stay_decision"))
    data["decision"]["scope"] = "family"
    assert _errors(data) == [("decision.members", "not_in_choice")]


def test_dates_follow_the_steps():
    data = copy.deepcopy(example("center_stay_decision"))
    data["decision"]["date"] = "2026-12-02"
    assert _errors(data) == [("decision.date", "date_before")]
    data = copy.deepcopy(example("center_stay_decision"))
    data["placement_date"] = "2026-11-17"
    assert _errors(data) == [("placement_date", "date_before")]


def test_the_kazakh_seed_and_its_russian_translation_are_printed():
    out = render(
        "center_stay_decision", example("center_stay_decision"), "kk+ru", validate_pdfa=False
    )
    printed = squash(pdf_text(out.pdf))
    assert (
        squash(
            "бір жұмыс күні ішінде оларды Орталықта қалдыру немесе Орталықтан шығару "
            "туралы шешім шығарады"
        )
        in printed
    )
    assert squash("не позднее трех календарных дней по окончании срока их пребывания") in printed


def test_cli_renders_the_example(tmp_path):
    assert (
        main(
            [
                "render",
                "center_stay_decision",
                "--lang",
                "kk",
                "--data",
                "examples/center_stay_decision.json",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    assert (tmp_path / "center_stay_decision-kk.pdf").read_bytes().startswith(b"%PDF-")
