"""The month's Appendix 3 report of a region from its activity reports (Rules p. 35-39)."""

from __future__ import annotations

import copy
import json

import pytest
from lxml import etree

from docservice import a3_from_activities as a3
from docservice.cli import main
from docservice.identifiers import check_digit

from .conftest import example

A3 = {"r": "urn:kz:docservice:report_a3:v1"}
REGION = "Абай облысы, Аягөз ауданы"
PREPARED = {"full_name": "Тоқтарова Әсем Жұмабайқызы", "position": "мансап орталығының бас маманы"}


def _iin(born: str, century_sex: int, serial: int) -> str:
    stem = f"{born[2:4]}{born[5:7]}{born[8:10]}{century_sex}"
    while (digit := check_digit(f"{stem}{serial:04d}")) is None:
        serial += 1
    return f"{stem}{serial:04d}{digit}"


PEOPLE = [
    ("kandas", "Нұрланұлы Ерболат", "1985-03-14", "850314387792"),
    ("member", "Нұрланова Гүлназ Серікқызы", "1988-07-02", _iin("1988-07-02", 4, 210)),
    ("member", "Ерболатұлы Әлихан", "2012-09-21", _iin("2012-09-21", 5, 311)),
]


def _report(person: int, code: int, day: str, **change) -> dict:
    data = copy.deepcopy(example("activity_report"))
    role, name, born, iin = PEOPLE[person]
    data.update(
        service_code=code,
        activity_date=day,
        report_date=day,
        person={"role": role, "full_name": name, "birth_date": born, "iin": iin},
    )
    data.update(change)
    return data


def _month() -> list[tuple[str, dict]]:
    reports = [
        _report(0, 7, "2026-11-09"),
        _report(0, 2, "2026-11-03"),
        _report(1, 7, "2026-11-09"),
        _report(1, 20, "2026-11-05"),
        _report(1, 20, "2026-11-19"),  # the same service again
        _report(2, 9, "2026-11-02"),
        _report(2, 10, "2026-10-30", report_date="2026-11-02"),  # October: left out
        _report(0, 15, "2026-11-12", region="Абай облысы, Үржар ауданы"),
    ]  # other region
    return [(f"r{i:02d}.json", r) for i, r in enumerate(reports)]


def test_the_month_of_a_region_becomes_one_row_per_person_with_the_last_date_of_each_service():
    data = a3.build(
        _month(), region=REGION, month="2026-11", prepared_by=PREPARED, issue_date="2026-12-03"
    )
    assert data["career_center"] == "Аягөз ауданының мансап орталығы"
    assert data["rows"] == [
        {
            "iin": "850314387792",
            "services": [{"code": 2, "date": "2026-11-03"}, {"code": 7, "date": "2026-11-09"}],
        },
        {
            "iin": PEOPLE[1][3],
            "services": [{"code": 7, "date": "2026-11-09"}, {"code": 20, "date": "2026-11-19"}],
        },
        {"iin": PEOPLE[2][3], "services": [{"code": 9, "date": "2026-11-02"}]},
    ]


def test_several_career_centres_in_a_region_must_be_told_apart():
    other = _report(2, 12, "2026-11-20", career_center="Аягөз қаласының мансап орталығы")
    reports = [*_month(), ("x.json", other)]
    with pytest.raises(a3.AggregationError, match="2 career centres"):
        a3.build(
            reports, region=REGION, month="2026-11", prepared_by=PREPARED, issue_date="2026-12-03"
        )
    data = a3.build(
        reports,
        region=REGION,
        month="2026-11",
        prepared_by=PREPARED,
        issue_date="2026-12-03",
        career_center="Аягөз қаласының мансап орталығы",
    )
    assert data["rows"] == [{"iin": PEOPLE[2][3], "services": [{"code": 12, "date": "2026-11-20"}]}]


def test_an_invalid_report_is_named_by_its_source_and_fields():
    reports = _month()
    reports[3][1]["service_code"] = 26
    with pytest.raises(a3.ActivityReportError) as caught:
        a3.build(
            reports, region=REGION, month="2026-11", prepared_by=PREPARED, issue_date="2026-12-03"
        )
    assert caught.value.source == "r03.json"
    assert [e.path for e in caught.value.error.errors] == ["service_code"]


def test_no_report_in_the_month_is_an_error_not_an_empty_report():
    with pytest.raises(a3.AggregationError, match="no activity reports"):
        a3.build(
            _month(), region=REGION, month="2026-09", prepared_by=PREPARED, issue_date="2026-10-03"
        )


def _folder(tmp_path, reports):
    folder = tmp_path / "reports"
    folder.mkdir()
    for name, report in reports:
        (folder / name).write_text(json.dumps(report, ensure_ascii=False), encoding="utf-8")
    return folder


def _cli(folder, out, *extra):
    return main(
        [
            "report-a3",
            "--reports",
            str(folder),
            "--region",
            REGION,
            "--month",
            "2026-11",
            "--prepared-by",
            PREPARED["full_name"],
            "--position",
            PREPARED["position"],
            "--issue-date",
            "2026-12-07",
            "--out",
            str(out),
            *extra,
        ]
    )


def test_cli_renders_the_report_a3_of_the_month_flagged_late_after_the_5th(tmp_path, capsys):
    out = tmp_path / "out"
    assert _cli(_folder(tmp_path, _month()), out, "--lang", "kk+ru") == 0
    assert capsys.readouterr().out.split() == [
        str(out / "report_a3-kk-ru.pdf"),
        str(out / "report_a3-kk-ru.xml"),
    ]
    doc = etree.fromstring((out / "report_a3-kk-ru.xml").read_bytes())
    assert [r.findtext("r:iin", namespaces=A3) for r in doc.findall("r:rows/r:row", A3)] == [
        p[3] for p in PEOPLE
    ]
    assert doc.findtext("r:late", namespaces=A3) == "true"


def test_cli_data_only_prints_the_report_a3_input(tmp_path, capsys):
    assert _cli(_folder(tmp_path, _month()), tmp_path / "out", "--data-only") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["period"] == "2026-11" and len(data["rows"]) == 3
    assert not (tmp_path / "out").exists()


def test_cli_names_the_bad_file_and_field_in_the_callers_language(tmp_path, capsys):
    reports = _month()
    del reports[1][1]["result"]
    out = tmp_path / "out"
    assert _cli(_folder(tmp_path, reports), out, "--lang", "ru") == 2
    err = capsys.readouterr().err
    assert "r01.json" in err and "result" in err and "обязательно" in err
    assert "Traceback" not in err and not out.exists()


def test_cli_a_missing_folder_is_one_clear_line(tmp_path, capsys):
    assert _cli(tmp_path / "nowhere", tmp_path / "out") == 2
    assert "not a folder" in capsys.readouterr().err
