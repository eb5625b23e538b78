"""Notices to the applicant (Order 109 p. 10-11; Rules p. 14-15): result, refusal, receipt."""

from __future__ import annotations

import copy

import pytest
from lxml import etree

from docservice.cli import main
from docservice.errors import InputError
from docservice.render import render

from .conftest import example, pdf_text, squash

NS = {"n": "urn:kz:docservice:notification:v1"}


def _errors(data: dict, lang: str = "kk") -> list[tuple[str, str]]:
    with pytest.raises(InputError) as caught:
        render("notification", data, lang)
    return [(e.path, e.code) for e in caught.value.errors]


def _receipt() -> dict:
    data = copy.deepcopy(example("notification"))
    data.update(
        notice_type="receipt",
        issue_date="2026-06-15",
        channels=[{"means": "mobile_app"}, {"means": "whatsapp"}],
        content="Сіздің электрондық өтінішіңіз еңбек мобильділігі орталығына келіп түсті.",
    )
    data["application"] = {
        "service": "Қандастарға бейімдеу және ықпалдастыру қызметтерін көрсету",
        "date": "2026-06-12",
    }
    return data


def test_a_refusal_prints_point_10_the_reasons_and_how_to_appeal():
    out = render("notification", example("notification"), "kk+ru", validate_pdfa=False)
    printed = squash(pdf_text(out.pdf))
    assert squash("Уведомление об отказе в оказании государственной услуги") in printed
    assert (
        squash(
            "Уведомление о результате оказания государственной услуги (отказе в оказании) "
            "направляется посредством sms-сообщения"
        )
        in printed
    )
    assert squash("Обжалование результата оказания государственной услуги") in printed
    assert squash("Направлено: sms-сообщением, в личный кабинет на Портале.") in printed
    assert etree.fromstring(out.xml).find("n:review_deadline", NS) is None


def test_a_result_notice_has_no_appeal_paragraph():
    data = example("notification") | {"notice_type": "result"}
    printed = squash(pdf_text(render("notification", data, "ru", validate_pdfa=False).pdf))
    assert squash("Уведомление о результате оказания государственной услуги") in printed
    assert squash("Обжалование результата") not in printed


def test_a_receipt_states_the_three_working_day_review_of_point_14():
    out = render("notification", _receipt(), "kk+ru", validate_pdfa=False)
    # received on Friday 12 June 2026: Monday 15, Tuesday 16, Wednesday 17
    assert etree.fromstring(out.xml).findtext("n:review_deadline", namespaces=NS) == "2026-06-17"
    printed = squash(pdf_text(out.pdf))
    assert squash("1) электрондық өтінішті алғанын растау;") in printed
    assert squash('Өтініш 2026 жылғы "17" маусым қоса алғанда қаралады') in printed
    assert squash("в течение трех рабочих дней рассматривает через Портал заявление") in printed
    assert squash("sms-сообщения") not in printed


def test_a_receipt_is_confirmed_in_the_mobile_app():
    data = _receipt() | {"channels": [{"means": "whatsapp"}]}
    assert _errors(data, "ru") == [("channels", "receipt_in_app")]


def test_each_channel_needs_the_recipients_contact():
    data = copy.deepcopy(example("notification"))
    del data["recipient"]["phone"]
    data["channels"] = [{"means": "sms"}, {"means": "whatsapp"}, {"means": "email"}]
    assert _errors(data) == [("recipient.email", "required"), ("recipient.phone", "required")]


def test_a_channel_once_and_the_notice_after_the_application():
    data = example("notification") | {"channels": [{"means": "sms"}, {"means": "sms"}]}
    assert _errors(data) == [("channels[1].means", "duplicate")]
    data = example("notification") | {"issue_date": "2026-06-13"}
    assert _errors(data) == [("issue_date", "date_before")]


def test_cli_renders_the_example(tmp_path):
    assert (
        main(
            [
                "render",
                "notification",
                "--lang",
                "ru",
                "--data",
                "examples/notification.json",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    assert (tmp_path / "notification-ru.pdf").read_bytes().startswith(b"%PDF-")
