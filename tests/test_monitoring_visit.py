"""A monitoring visit (Rules p. 42-43): both bodies, quality per service, period, next visit."""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from lxml import etree

from docservice.cli import main
from docservice.errors import InputError
from docservice.forms.monitoring_visit import monitoring_period
from docservice.render import render

from .conftest import example, pdf_text, squash

NS = {"m": "urn:kz:docservice:monitoring_visit:v1"}
INCLUDED = dt.date(2025, 3, 10)


@pytest.mark.parametrize(
    ("visit", "year", "periodicity", "number", "end", "next_end"),
    [
        ("2025-03-10", 1, "quarterly", 1, "2025-06-09", "2025-09-09"),
        ("2025-06-10", 1, "quarterly", 2, "2025-09-09", "2025-12-09"),
        ("2028-03-09", 3, "quarterly", 4, "2028-03-09", "2028-09-09"),  # next: a half-year
        ("2028-03-10", 4, "half_yearly", 1, "2028-09-09", "2029-03-09"),
        ("2029-09-10", 5, "half_yearly", 2, "2030-03-09", None),  # the last period
    ],
)
def test_quarters_in_years_1_to_3_and_half_years_in_4_and_5(
    visit, year, periodicity, number, end, next_end
):
    period = monitoring_period(INCLUDED, dt.date.fromisoformat(visit))
    assert (period["year"], period["periodicity"], period["number"]) == (year, periodicity, number)
    assert period["end"].isoformat() == end
    assert (period["next_end"].isoformat() if period["next_end"] else None) == next_end


def test_a_month_shorter_than_the_inclusion_day_keeps_periods_back_to_back():
    first = monitoring_period(dt.date(2025, 1, 31), dt.date(2025, 4, 29))
    second = monitoring_period(dt.date(2025, 1, 31), dt.date(2025, 4, 30))
    assert (first["number"], first["end"]) == (1, dt.date(2025, 4, 29))
    assert second["number"] == 2


def test_the_period_and_next_visit_are_in_the_xml_and_printed():
    out = render("monitoring_visit", example("monitoring_visit"), "kk+ru", validate_pdfa=False)
    doc = etree.fromstring(out.xml)
    assert [
        doc.findtext(f"m:{k}", namespaces=NS)
        for k in ("monitoring_year", "periodicity", "period_number", "period_end", "next_visit_due")
    ] == ["2", "quarterly", "3", "2026-12-09", "2027-03-09"]
    printed = squash(pdf_text(out.pdf))
    assert squash('2-й год, 3-й квартал (по "09" декабря 2026 года)') in printed
    assert squash("Тілдерді, тарихты, мәдениет пен дәстүрлерді") in printed
    assert squash("оказана с замечаниями") in printed
    assert (
        squash(
            "первые три года на ежеквартальной, а последующие четвертые и пятые годы на "
            "полугодовой основе"
        )
        in printed
    )


def test_the_last_period_has_no_next_visit():
    data = example("monitoring_visit") | {"visit_date": "2029-12-01"}
    out = render("monitoring_visit", data, "ru", validate_pdfa=False)
    assert etree.fromstring(out.xml).find("m:next_visit_due", NS) is None
    assert squash("последний период пятилетнего мониторинга") in squash(pdf_text(out.pdf))


def _codes(data: dict, lang: str = "kk") -> list[tuple[str, str]]:
    with pytest.raises(InputError) as caught:
        render("monitoring_visit", data, lang)
    return [(e.path, e.code) for e in caught.value.errors]


def test_both_bodies_of_point_42_must_go():
    data = copy.deepcopy(example("monitoring_visit"))
    data["visitors"][1]["body"] = "social_protection_body"
    assert _codes(data) == [("visitors", "body_missing")]


@pytest.mark.parametrize("visit", ["2025-03-09", "2030-03-10"])
def test_a_visit_outside_the_five_years_is_refused(visit):
    data = example("monitoring_visit") | {"visit_date": visit}
    assert _codes(data, "ru") == [("visit_date", "outside_monitoring")]


def test_a_service_is_assessed_once_per_family():
    data = copy.deepcopy(example("monitoring_visit"))
    data["families"][1]["services"][2]["code"] = 7
    assert _codes(data) == [("families[1].services[2].code", "duplicate")]


def test_cli_renders_the_example(tmp_path):
    assert (
        main(
            [
                "render",
                "monitoring_visit",
                "--lang",
                "kk",
                "--data",
                "examples/monitoring_visit.json",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    assert (tmp_path / "monitoring_visit-kk.pdf").read_bytes().startswith(b"%PDF-")
