"""ЦРТР's conclusion to the authorised body (Rules p. 50-51): the quarter's bands, due the 25th."""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from lxml import etree

from docservice.cli import main
from docservice.errors import InputError
from docservice.forms.evaluation_conclusion import deadline
from docservice.render import render

from .conftest import example, pdf_text, squash

NS = {"e": "urn:kz:docservice:evaluation_conclusion:v1"}


def _codes(data: dict) -> list[tuple[str, str]]:
    with pytest.raises(InputError) as caught:
        render("evaluation_conclusion", data, "kk")
    return [(e.path, e.code) for e in caught.value.errors]


def test_each_evaluation_is_totalled_and_banded_as_quality_evaluation_does():
    doc = etree.fromstring(
        render(
            "evaluation_conclusion", example("evaluation_conclusion"), "kk", validate_pdfa=False
        ).xml
    )
    rows = doc.findall("e:evaluations/e:evaluation", NS)
    assert [
        (r.findtext("e:total", namespaces=NS), r.findtext("e:band", namespaces=NS)) for r in rows
    ] == [("10", "medium"), ("15", "high"), ("8", "low")]
    assert [doc.findtext(f"e:count_{b}", namespaces=NS) for b in ("low", "medium", "high")] == [
        "1",
        "1",
        "1",
    ]


def test_due_the_25th_after_the_quarter_and_flagged_late_after_it():
    assert deadline(2026, 4) == dt.date(2027, 1, 25)
    late = example("evaluation_conclusion") | {"issue_date": "2026-10-26"}
    out = render("evaluation_conclusion", late, "ru", validate_pdfa=False)
    assert etree.fromstring(out.xml).findtext("e:late", namespaces=NS) == "true"
    assert squash('Срок нарушен: заключение представлено "26" октября 2026 года.') in squash(
        pdf_text(out.pdf)
    )


def test_the_three_parts_of_point_50_and_point_51_are_printed():
    printed = squash(
        pdf_text(
            render(
                "evaluation_conclusion",
                example("evaluation_conclusion"),
                "kk+ru",
                validate_pdfa=False,
            ).pdf
        )
    )
    for sentence in (
        "1) итоговый отчет об оценке качества оказания адаптационных и интеграционных услуг;",
        "рассматриваются в месячный срок для принятия соответствующих мер",
        "результаты реализации ранее данных",
        "выполнена частично",
        "По уровням: низкий – 1, средний – 1, высокий – 1.",
    ):
        assert squash(sentence) in printed, sentence


def test_without_earlier_recommendations_the_section_says_so():
    data = copy.deepcopy(example("evaluation_conclusion"))
    del data["earlier_recommendations"]
    printed = squash(pdf_text(render("evaluation_conclusion", data, "ru", validate_pdfa=False).pdf))
    assert squash("Ранее данных рекомендаций нет.") in printed


def test_recommendations_go_to_evaluated_organisations_each_evaluated_once():
    data = copy.deepcopy(example("evaluation_conclusion"))
    data["recommendations"][0]["organisation"] = "Үржар ауданының мансап орталығы"
    assert _codes(data) == [("recommendations[0].organisation", "not_evaluated")]
    data = copy.deepcopy(example("evaluation_conclusion"))
    data["evaluations"][2]["name"] = data["evaluations"][0]["name"]
    assert ("evaluations[2].name", "duplicate") in _codes(data)


def test_a_score_outside_1_to_5_and_an_early_conclusion_are_refused():
    data = copy.deepcopy(example("evaluation_conclusion"))
    data["evaluations"][0]["relevance"] = 6
    assert _codes(data) == [("evaluations[0].relevance", "out_of_range")]
    assert _codes(example("evaluation_conclusion") | {"issue_date": "2026-09-30"}) == [
        ("issue_date", "before_period_end")
    ]


def test_cli_renders_the_example(tmp_path):
    assert (
        main(
            [
                "render",
                "evaluation_conclusion",
                "--lang",
                "ru",
                "--data",
                "examples/evaluation_conclusion.json",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    assert (tmp_path / "evaluation_conclusion-ru.pdf").read_bytes().startswith(b"%PDF-")
