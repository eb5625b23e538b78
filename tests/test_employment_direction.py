"""The direction to an active employment measure: six kinds, each with its source's deadline."""

from __future__ import annotations

import copy
import io
import json

import pytest
from lxml import etree
from pypdf import PdfReader

from docservice.cli import main
from docservice.errors import InputError
from docservice.forms.employment_direction import DIRECTION_KINDS, REPORT_TERMS
from docservice.render import render
from docservice.texts import texts_for
from docservice.workdays import ENV_VAR

from .conftest import example, squash

NS = {"e": "urn:kz:docservice:employment_direction:v1"}


def _first_page(pdf: bytes) -> str:
    return squash(PdfReader(io.BytesIO(pdf)).pages[0].extract_text())


def test_the_deadline_skips_nauryz_and_is_printed_and_in_the_xml():
    data = example("employment_direction")
    assert data["issue_date"] == "2026-03-19"
    out = render("employment_direction", data, "kk+ru", validate_pdfa=False)
    assert etree.fromstring(out.xml).findtext("e:report_deadline", namespaces=NS) == "2026-03-31"
    text = squash("".join(p.extract_text() for p in PdfReader(io.BytesIO(out.pdf)).pages))
    assert squash('2026 жылғы "31" наурыз қоса алғанда') in text
    assert squash('по "31" марта 2026 года включительно') in text


def test_the_deadline_cannot_be_given_by_the_caller():
    data = example("employment_direction") | {"report_deadline": "2026-03-20"}
    with pytest.raises(InputError) as caught:
        render("employment_direction", data, "kk")
    assert [(e.path, e.code) for e in caught.value.errors] == [("report_deadline", "unknown_field")]


@pytest.mark.parametrize(
    ("issued", "due"),
    [
        ("2026-02-02", "2026-02-09"),  # a plain week
        ("2026-03-06", "2026-03-16"),  # 8 March observed
        # 1-2 January (2 Jan a Saturday, off on 4), 7 January
        ("2026-12-31", "2027-01-12"),
    ],
)
def test_the_deadline_counts_kazakh_working_days(issued, due):
    data = example("employment_direction") | {"issue_date": issued}
    out = render("employment_direction", data, "ru", validate_pdfa=False)
    assert etree.fromstring(out.xml).findtext("e:report_deadline", namespaces=NS) == due


def test_a_configured_transfer_day_moves_the_deadline(tmp_path, monkeypatch):
    config = tmp_path / "transfers.yaml"
    config.write_text("transfers:\n  - {working: 2026-03-28, rest: 2026-03-30}\n", encoding="utf-8")
    monkeypatch.setenv(ENV_VAR, str(config))
    out = render("employment_direction", example("employment_direction"), "kk", validate_pdfa=False)
    # 20, 26, 27, 28 (the worked Saturday), 31 (30 March is the day off given for it)
    assert etree.fromstring(out.xml).findtext("e:report_deadline", namespaces=NS) == "2026-03-31"
    config.write_text("transfers:\n  - {working: 2026-03-28, rest: 2026-04-06}\n", encoding="utf-8")
    out = render("employment_direction", example("employment_direction"), "kk", validate_pdfa=False)
    assert etree.fromstring(out.xml).findtext("e:report_deadline", namespaces=NS) == "2026-03-30"


@pytest.mark.parametrize("kind", DIRECTION_KINDS)
def test_each_of_the_six_kinds_prints_its_label_from_point_6(kind):
    data = example("employment_direction") | {"direction_kind": kind}
    for lang in ("kk", "ru"):
        out = render("employment_direction", data, lang, validate_pdfa=False)
        label = texts_for(lang).get("employment_direction", f"choices.direction_kind.{kind}")
        assert squash(label) in _first_page(out.pdf)


def test_the_consequence_sentence_of_the_manual_is_printed():
    out = render("employment_direction", example("employment_direction"), "kk", validate_pdfa=False)
    assert squash("жолдама берген күннен бастап 5 жұмыс күні ішінде") in _first_page(out.pdf)
    assert squash("үш жұмыс күні") not in _first_page(out.pdf)


def test_only_career_guidance_is_an_invitation_to_the_centre_within_three_working_days():
    assert {k: t.working_days for k, t in REPORT_TERMS.items()} == {
        "employment": 5,
        "public_works": 5,
        "vocational_training": 5,
        "social_jobs": 5,
        "youth_practice": 5,
        "career_guidance": 3,
    }
    data = example("employment_direction") | {
        "direction_kind": "career_guidance",
        "issue_date": "2026-03-19",
    }
    out = render("employment_direction", data, "kk+ru", validate_pdfa=False)
    # Thursday 19 March: 20 (Fri), then 21-25 Nauryz and its observed days, 26, 27
    assert etree.fromstring(out.xml).findtext("e:report_deadline", namespaces=NS) == "2026-03-27"
    text = squash("".join(p.extract_text() for p in PdfReader(io.BytesIO(out.pdf)).pages))
    assert (
        squash(
            "шақыру бойынша халықты жұмыспен қамтуға жәрдемдесудің белсенді шараларына "
            "қатысу үшін үш жұмыс күні ішінде халықты жұмыспен қамту орталығына"
        )
        in text
    )
    assert squash("5 жұмыс күні ішінде") not in text
    assert squash('2026 жылғы "27" наурыз қоса алғанда') in text


@pytest.mark.parametrize(
    ("kind", "due"),
    [
        ("employment", "2026-02-09"),
        ("public_works", "2026-02-09"),
        ("career_guidance", "2026-02-05"),
    ],
)
def test_each_kind_counts_its_own_term(kind, due):
    data = example("employment_direction") | {"direction_kind": kind, "issue_date": "2026-02-02"}
    out = render("employment_direction", data, "ru", validate_pdfa=False)
    assert etree.fromstring(out.xml).findtext("e:report_deadline", namespaces=NS) == due


def test_optional_contacts_and_destination_bin_may_be_left_out():
    data = copy.deepcopy(example("employment_direction"))
    for key in ("address", "phone"):
        del data["recipient"][key]
    del data["destination"]["bin"], data["destination"]["vacancy"]
    out = render("employment_direction", data, "ru", validate_pdfa=False)
    doc = etree.fromstring(out.xml)
    assert doc.find("e:recipient/e:phone", NS) is None
    assert doc.find("e:destination/e:bin", NS) is None


def test_an_unknown_kind_of_direction_is_refused_in_the_requested_language():
    data = example("employment_direction") | {"direction_kind": "internship"}
    with pytest.raises(InputError) as caught:
        render("employment_direction", data, "ru")
    (message,) = caught.value.messages("ru")
    assert message["field"] == "direction_kind"
    assert "Вид направления" in message["message"] and "career_guidance" in message["message"]


def test_bad_bin_wrong_iin_and_missing_issuer_name_are_each_named():
    data = copy.deepcopy(example("employment_direction"))
    data["issuer"]["bin"] = data["issuer"]["bin"][:11] + str(
        (int(data["issuer"]["bin"][11]) + 1) % 10
    )
    data["recipient"]["iin"] = "980605300121"
    del data["issuer"]["name"]
    with pytest.raises(InputError) as caught:
        render("employment_direction", data, "kk")
    found = {(e.path, e.code) for e in caught.value.errors}
    assert found == {
        ("issuer.bin", "bin_checksum"),
        ("recipient.iin", "iin_checksum"),
        ("issuer.name", "required"),
    }
    messages = " ".join(m["message"] for m in caught.value.messages("kk"))
    assert "БСН-нің бақылау разряды дұрыс емес" in messages and "толтыру міндетті" in messages


def test_the_iin_must_match_the_birth_date_and_precede_the_issue():
    data = copy.deepcopy(example("employment_direction"))
    data["recipient"]["birth_date"] = "1998-06-06"
    with pytest.raises(InputError) as caught:
        render("employment_direction", data, "kk")
    assert [(e.path, e.code) for e in caught.value.errors] == [
        ("recipient.iin", "iin_birth_mismatch")
    ]
    data = example("employment_direction") | {"issue_date": "1998-01-01"}
    with pytest.raises(InputError) as caught:
        render("employment_direction", data, "ru")
    assert [(e.path, e.code) for e in caught.value.errors] == [
        ("recipient.birth_date", "not_after")
    ]


def test_cli_bad_input_writes_nothing(tmp_path, capsys):
    data = example("employment_direction") | {"direction_kind": "internship"}
    source = tmp_path / "bad.json"
    source.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "out"
    assert (
        main(
            [
                "render",
                "employment_direction",
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
    assert "direction_kind" in err and "Жолдама түрі" in err and "Traceback" not in err
    assert not out.exists() or not any(out.iterdir())


def test_cli_renders_the_example(tmp_path, capsys):
    assert (
        main(
            [
                "render",
                "employment_direction",
                "--lang",
                "ru",
                "--data",
                "examples/employment_direction.json",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    assert (tmp_path / "employment_direction-ru.pdf").read_bytes().startswith(b"%PDF-")
    assert (tmp_path / "employment_direction-ru.xml").exists()
