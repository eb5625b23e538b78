"""The monthly Appendix 3 report: thousands of rows, headings on every page, late flag."""

from __future__ import annotations

import copy
import io

import pytest
from lxml import etree
from pypdf import PdfReader

from docservice.errors import InputError
from docservice.forms.report_a3 import deadline
from docservice.identifiers import check_digit
from docservice.render import render
from docservice.texts import texts_for

from .conftest import example, squash

NS = {"r": "urn:kz:docservice:report_a3:v1"}


def _rows(count: int) -> list[dict]:
    rows, serial = [], 0
    while len(rows) < count:
        first = f"9001013{serial:04d}"
        serial += 1
        digit = check_digit(first)
        if digit is None:
            continue
        code = len(rows) % 25 + 1
        rows.append({"iin": f"{first}{digit}", "services": [{"code": code, "date": "2026-10-15"}]})
    return rows


@pytest.fixture(scope="module")
def big_report():
    data = example("report_a3") | {"rows": _rows(3000)}
    return data, render("report_a3", data, "kk", validate_pdfa=False)


def test_a_3000_row_report_prints_every_row_with_headings_on_every_page(big_report):
    data, out = big_report
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(out.pdf)).pages]
    assert len(pages) > 50
    texts = texts_for("kk")
    iin_heading = squash(texts.get("report_a3", "iin_column"))
    last_heading = squash(texts.get("report_a3", "columns.25"))
    continued = squash(texts.get("report_a3", "continued"))
    table_pages = [squash(p) for p in pages if iin_heading in squash(p)]
    assert len(table_pages) >= len(pages) - 1  # the last page may hold only the signatures
    for number, page in enumerate(table_pages):
        assert last_heading in page
        assert (continued in page) == (number > 0), f"page {number + 1}"
    printed = squash("".join(pages))
    missing = [row["iin"] for row in data["rows"] if row["iin"] not in printed]
    assert missing == []
    assert "Барлығыжолдар:3000" in printed


def test_the_xml_of_a_big_report_holds_every_row(big_report):
    _, out = big_report
    doc = etree.fromstring(out.xml)
    assert len(doc.findall("r:rows/r:row", NS)) == 3000
    assert doc.findtext("r:late", namespaces=NS) == "false"


def test_columns_are_numbered_1_to_27_in_both_languages():
    out = render("report_a3", example("report_a3"), "kk+ru", validate_pdfa=False)
    first_page = PdfReader(io.BytesIO(out.pdf)).pages[0].extract_text()
    assert "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27" in " ".join(
        first_page.split()
    )


@pytest.mark.parametrize(
    ("period", "due"),
    [("2026-10", "2026-11-05"), ("2026-12", "2027-01-05"), ("2024-02", "2024-03-05")],
)
def test_the_deadline_is_the_5th_of_the_next_month(period, due):
    import datetime as dt

    year, month = map(int, period.split("-"))
    assert deadline(dt.date(year, month, 1)).isoformat() == due


def test_a_report_issued_after_the_5th_is_flagged_in_pdf_and_xml():
    data = example("report_a3") | {"issue_date": "2026-11-06"}
    out = render("report_a3", data, "ru", validate_pdfa=False)
    assert etree.fromstring(out.xml).findtext("r:late", namespaces=NS) == "true"
    text = squash(PdfReader(io.BytesIO(out.pdf)).pages[0].extract_text())
    assert squash("Срок нарушен") in text
    on_time = render("report_a3", example("report_a3"), "ru", validate_pdfa=False)
    assert squash("Срок нарушен") not in squash(
        PdfReader(io.BytesIO(on_time.pdf)).pages[0].extract_text()
    )


def test_services_after_the_period_and_repeated_codes_are_refused():
    data = copy.deepcopy(example("report_a3"))
    data["rows"][0]["services"][0]["date"] = "2026-11-02"
    data["rows"][1]["services"].append(dict(data["rows"][1]["services"][0]))
    with pytest.raises(InputError) as caught:
        render("report_a3", data, "kk")
    found = {(e.path, e.code) for e in caught.value.errors}
    assert ("rows[0].services[0].date", "outside_period") in found
    dup = f"rows[1].services[{len(data['rows'][1]['services']) - 1}].code"
    assert (dup, "duplicate") in found


def test_a_service_code_outside_1_to_25_names_the_cell():
    data = copy.deepcopy(example("report_a3"))
    data["rows"][2]["services"][0]["code"] = 26
    with pytest.raises(InputError) as caught:
        render("report_a3", data, "ru")
    (message,) = caught.value.messages("ru")
    assert message["field"] == "rows[2].services[0].code"
    assert "от 1 до 25" in message["message"]


def test_the_same_person_twice_is_refused():
    data = copy.deepcopy(example("report_a3"))
    data["rows"].append(copy.deepcopy(data["rows"][0]))
    with pytest.raises(InputError) as caught:
        render("report_a3", data, "kk")
    assert [e.code for e in caught.value.errors] == ["duplicate"]
