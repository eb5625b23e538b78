"""ЦРТР's quarterly evaluation (Rules p. 47-49): the scale as printed, the band as read."""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from lxml import etree

from docservice.cli import main
from docservice.errors import InputError
from docservice.forms.quality_evaluation import band, deadline
from docservice.render import render
from docservice.texts import texts_for

from .conftest import example, pdf_text, squash

NS = {"q": "urn:kz:docservice:quality_evaluation:v1"}


def _scored(relevance: int, effectiveness: int, social_effect: int) -> dict:
    data = copy.deepcopy(example("quality_evaluation"))
    for name, score in (
        ("relevance", relevance),
        ("effectiveness", effectiveness),
        ("social_effect", social_effect),
    ):
        data["criteria"][name]["score"] = score
    return data


def _xml(data: dict, lang: str = "kk") -> etree._Element:
    return etree.fromstring(render("quality_evaluation", data, lang, validate_pdfa=False).xml)


@pytest.mark.parametrize(
    ("total", "expected"),
    [(3, "low"), (9, "low"), (10, "medium"), (14, "medium"), (15, "high"), (25, "high")],
)
def test_the_band_reads_the_scale_as_half_open_intervals(total, expected):
    assert band(total) == expected


def test_a_total_outside_the_printed_scale_is_a_bug_not_a_band():
    with pytest.raises(ValueError):
        band(26)


@pytest.mark.parametrize(
    ("scores", "total", "expected"),
    [
        ((1, 1, 1), 3, "low"),
        ((3, 3, 3), 9, "low"),
        ((4, 3, 3), 10, "medium"),
        ((5, 5, 4), 14, "medium"),
        ((5, 5, 5), 15, "high"),
    ],
)
def test_total_and_band_are_computed_into_the_xml(scores, total, expected):
    doc = _xml(_scored(*scores))
    assert doc.findtext("q:total", namespaces=NS) == str(total)
    assert doc.findtext("q:band", namespaces=NS) == expected


def test_the_inconsistent_scale_is_printed_as_it_stands_with_the_reading_and_the_band():
    out = render("quality_evaluation", example("quality_evaluation"), "kk+ru", validate_pdfa=False)
    printed = squash(pdf_text(out.pdf))
    for line in (
        "0-ден10-ға дейін – төмен және (немесе) қызметтер қанағаттанарлықсыз көрсетілген",
        "15-тен 25-ке дейін – жоғары және (немесе) қызметтер сәтті көрсетілді",
        "от 0 до 10 – низкий и (или) услуги оказаны неудовлетворительно",
        "от 10 до 15 – средний и (или) услуги оказаны удовлетворительно",
        "от 15 до 25 – высокий и (или) услуги оказаны успешно",
    ):
        assert squash(line) in printed, line
    # the example totals 10, where two bands of the source meet: medium by the reading
    assert (
        squash("Общий вывод: 10 балл(ов) – средний и (или) услуги оказаны удовлетворительно.")
        in printed
    )
    assert (
        squash("от 10 до 15 – средний и (или) услуги оказаны удовлетворительно◄ настоящая оценка")
        in printed
    )
    assert squash("по полуоткрытым интервалам") in printed
    assert squash("жартылай ашық аралықтар бойынша") in printed


def test_the_deadline_is_the_5th_after_the_quarter_and_late_evaluations_are_flagged():
    assert deadline(2026, 4) == dt.date(2027, 1, 5)
    assert deadline(2026, 1) == dt.date(2026, 4, 5)
    doc = _xml(example("quality_evaluation"))
    assert doc.findtext("q:deadline", namespaces=NS) == "2026-10-05"
    assert doc.findtext("q:late", namespaces=NS) == "false"
    late = example("quality_evaluation") | {"issue_date": "2026-10-06"}
    out = render("quality_evaluation", late, "ru", validate_pdfa=False)
    assert etree.fromstring(out.xml).findtext("q:late", namespaces=NS) == "true"
    assert squash('Срок нарушен: оценка проведена "06" октября 2026 года.') in squash(
        pdf_text(out.pdf)
    )


def test_a_quarter_is_evaluated_only_once_it_is_over():
    data = example("quality_evaluation") | {"issue_date": "2026-09-30"}
    with pytest.raises(InputError) as caught:
        render("quality_evaluation", data, "ru")
    (message,) = caught.value.messages("ru")
    assert message["field"] == "issue_date" and "окончания отчетного периода" in message["message"]


@pytest.mark.parametrize("score", [0, 6, "4", 3.5])
def test_each_criterion_scores_1_to_5(score):
    data = _scored(4, score, 3)
    with pytest.raises(InputError) as caught:
        render("quality_evaluation", data, "kk")
    assert [e.path for e in caught.value.errors] == ["criteria.effectiveness.score"]


def test_the_computed_values_cannot_be_supplied():
    data = example("quality_evaluation") | {"band": "high", "total": 15}
    with pytest.raises(InputError) as caught:
        render("quality_evaluation", data, "kk")
    assert sorted(e.path for e in caught.value.errors) == ["band", "total"]


def test_the_evaluated_organisation_kind_prints_in_the_document_language():
    data = copy.deepcopy(example("quality_evaluation"))
    data["evaluated"]["kind"] = "labour_mobility_center"
    for lang in ("kk", "ru"):
        label = texts_for(lang).get("quality_evaluation", "choices.kind.labour_mobility_center")
        out = render("quality_evaluation", data, lang, validate_pdfa=False)
        assert squash(label) in squash(pdf_text(out.pdf))


def test_cli_renders_the_example(tmp_path):
    assert (
        main(
            [
                "render",
                "quality_evaluation",
                "--lang",
                "kk+ru",
                "--data",
                "examples/quality_evaluation.json",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    assert (tmp_path / "quality_evaluation-kk-ru.pdf").read_bytes().startswith(b"%PDF-")
