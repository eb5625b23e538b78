"""The draft decision to register a kandas as unemployed (Rules p. 18): one working day, signer."""

from __future__ import annotations

import pytest
from lxml import etree

from docservice.cli import main
from docservice.errors import InputError
from docservice.render import render

from .conftest import example, pdf_text, squash

NS = {"u": "urn:kz:docservice:unemployed_decision:v1"}


def _errors(data: dict, lang: str = "kk") -> InputError:
    with pytest.raises(InputError) as caught:
        render("unemployed_decision", data, lang)
    return caught.value


@pytest.mark.parametrize(
    ("ground_date", "decision_date", "due", "late"),
    [
        ("2026-04-13", "2026-04-14", "2026-04-14", "false"),  # Monday -> Tuesday
        ("2026-04-10", "2026-04-13", "2026-04-13", "false"),  # Friday -> Monday
        ("2026-05-06", "2026-05-08", "2026-05-08", "false"),  # 7 May (Defender's Day) is off
        ("2026-04-13", "2026-04-15", "2026-04-14", "true"),
    ],
)
def test_the_draft_is_due_within_one_working_day_of_the_ground(
    ground_date, decision_date, due, late
):
    data = example("unemployed_decision") | {
        "ground_date": ground_date,
        "decision_date": decision_date,
    }
    doc = etree.fromstring(render("unemployed_decision", data, "kk", validate_pdfa=False).xml)
    assert doc.findtext("u:send_deadline", namespaces=NS) == due
    assert doc.findtext("u:late", namespaces=NS) == late


def test_the_signer_point_18_and_the_ground_are_printed_in_both_languages():
    out = render(
        "unemployed_decision", example("unemployed_decision"), "kk+ru", validate_pdfa=False
    )
    printed = squash(pdf_text(out.pdf))
    assert squash("Қол қойған: Мансап орталығының директорын алмастыратын адам") in printed
    assert squash("Подписал: Лицо, замещающее директора карьерного центра") in printed
    assert (
        squash("подписанный директором карьерного центра или лицом, которое его замещает")
        in printed
    )
    assert squash("кандас отказался от предложенной работы") in printed
    assert squash("мал шаруашылығы операторы") in printed
    doc = etree.fromstring(out.xml)
    assert doc.findtext("u:signer/u:role", namespaces=NS) == "acting_director"


def test_the_refused_work_is_named_exactly_when_refusal_is_the_ground():
    data = example("unemployed_decision")
    del data["refused_work"]
    assert [(e.path, e.code) for e in _errors(data).errors] == [("refused_work", "required")]
    data = example("unemployed_decision") | {"ground": "no_suitable_work"}
    caught = _errors(data, "ru")
    assert [(e.path, e.code) for e in caught.errors] == [("refused_work", "not_in_choice")]
    assert "no_suitable_work" in caught.messages("ru")[0]["message"]
    del data["refused_work"]
    render("unemployed_decision", data, "ru", validate_pdfa=False)


def test_the_draft_follows_its_ground_and_a_bad_iin_is_named():
    data = example("unemployed_decision") | {"decision_date": "2026-04-12"}
    assert [(e.path, e.code) for e in _errors(data).errors] == [("decision_date", "date_before")]
    data = example("unemployed_decision")
    data["kandas"]["birth_date"] = "1998-06-06"
    assert [(e.path, e.code) for e in _errors(data).errors] == [
        ("kandas.iin", "iin_birth_mismatch")
    ]


def test_an_unknown_signer_role_is_refused():
    data = example("unemployed_decision")
    data["signer"]["role"] = "specialist"
    assert [(e.path, e.code) for e in _errors(data).errors] == [("signer.role", "not_in_choices")]


def test_cli_renders_the_example(tmp_path):
    assert (
        main(
            [
                "render",
                "unemployed_decision",
                "--lang",
                "ru",
                "--data",
                "examples/unemployed_decision.json",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    assert (tmp_path / "unemployed_decision-ru.pdf").read_bytes().startswith(b"%PDF-")
