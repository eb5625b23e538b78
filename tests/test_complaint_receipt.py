"""The registration of a complaint (standard p. 10): stamp data, review in 5 or 15 working days."""

from __future__ import annotations

import copy

import pytest
from lxml import etree

from docservice.cli import main
from docservice.errors import InputError
from docservice.render import render

from .conftest import example, pdf_text, squash

NS = {"c": "urn:kz:docservice:complaint_receipt:v1"}


def _deadline(data: dict) -> str:
    out = render("complaint_receipt", data, "kk", validate_pdfa=False)
    return etree.fromstring(out.xml).findtext("c:review_deadline", namespaces=NS)


@pytest.mark.parametrize(
    ("addressee", "registered", "due"),
    [
        ("provider_head", "2026-06-19", "2026-06-26"),
        ("akim", "2026-07-01", "2026-07-09"),  # 6 July (Capital Day) is off
        ("quality_body", "2026-06-19", "2026-07-13"),  # 15 working days, Capital Day skipped
    ],
)
def test_the_review_term_is_counted_in_working_days_from_registration(addressee, registered, due):
    data = example("complaint_receipt") | {"addressee": addressee, "registration_date": registered}
    assert _deadline(data) == due


def test_the_stamp_carries_what_point_10_asks_for_and_only_the_addressees_term():
    out = render("complaint_receipt", example("complaint_receipt"), "kk+ru", validate_pdfa=False)
    printed = squash(pdf_text(out.pdf))
    for value in (
        "ЖТ-02-14/2318",
        "Сейітова Мадина Ерланқызы",
        "104-кабинет",
        'по "26" июня 2026 года включительно (в течение 5 рабочих дней)',
        "ЖАЛОБА ЗАРЕГИСТРИРОВАНА",
        "ШАҒЫМ ТІРКЕЛДІ",
    ):
        assert squash(value) in printed, value
    assert (
        squash("(мөртаңба, кіріс нөмірі және күні), оның қабылданғанын растау болып табылады")
        in printed
    )
    assert squash("5 (бес) жұмыс күні ішінде қаралуға тиіс") in printed
    assert squash("15 (он бес) жұмыс күні") not in printed


def test_a_complaint_to_the_quality_body_prints_the_15_day_sentence():
    data = example("complaint_receipt") | {"addressee": "quality_body"}
    printed = squash(pdf_text(render("complaint_receipt", data, "ru", validate_pdfa=False).pdf))
    assert squash("в течение 15 (пятнадцати) рабочих дней со дня ее регистрации") in printed
    assert squash("5 (пяти)") not in printed


def test_the_complaint_is_not_dated_after_its_registration_and_the_iin_is_checked():
    data = example("complaint_receipt") | {"complaint_date": "2026-06-20"}
    with pytest.raises(InputError) as caught:
        render("complaint_receipt", data, "ru")
    assert [(e.path, e.code) for e in caught.value.errors] == [("complaint_date", "not_after")]
    data = copy.deepcopy(example("complaint_receipt"))
    data["applicant"]["iin"] = "980605300121"
    with pytest.raises(InputError) as caught:
        render("complaint_receipt", data, "kk")
    assert [(e.path, e.code) for e in caught.value.errors] == [("applicant.iin", "iin_checksum")]


def test_cli_renders_the_example(tmp_path):
    assert (
        main(
            [
                "render",
                "complaint_receipt",
                "--lang",
                "kk",
                "--data",
                "examples/complaint_receipt.json",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    assert (tmp_path / "complaint_receipt-kk.pdf").read_bytes().startswith(b"%PDF-")
