"""The registration journal (Order 331, Appendix 3): many rows, header on every page, rules."""

from __future__ import annotations

import copy
import datetime as dt
import io
import json

import pytest
from lxml import etree
from pypdf import PdfReader

from docservice.cli import main
from docservice.errors import InputError
from docservice.render import render
from docservice.texts import texts_for

from .conftest import example, squash

NS = {"j": "urn:kz:docservice:journal:v1"}
COLUMNS = ("number", "full_name", "birth", "country", "registration", "direction")
COUNTRIES = ("Өзбекстан", "Қытай", "Моңғолия", "Түрікменстан", "Ресей")


LETTERS = "АӘБВГҒДЕЖЗИЙКҚЛМНҢОӨПРСТУҰҮФХҺЦЧШЫІЭЮЯ"


def _mark(i: int) -> str:
    """Two letters that tell entry ``i`` apart (a name holds no digits)."""
    return LETTERS[i // len(LETTERS)] + LETTERS[i % len(LETTERS)]


def _entries(count: int) -> list[dict]:
    start = dt.date(2026, 1, 5)
    entries = []
    for i in range(count):
        registered = start + dt.timedelta(days=i // 2)
        entry = {
            "full_name": f"Жақыпов Ерғали-{_mark(i)} Сейітұлы",
            "birth_place": "Баян-Өлгий аймағы, Өлгий қаласы" if i % 3 else "Нөкіс қаласы",
            "birth_date": f"{1950 + i % 50}-0{1 + i % 9}-15",
            "country": COUNTRIES[i % len(COUNTRIES)],
            "registration_date": registered.isoformat(),
            "registration_number": str(i + 1),
        }
        if i % 4:
            entry |= {
                "direction_number": f"Ж-{i + 1}",
                "direction_date": (registered + dt.timedelta(days=2)).isoformat(),
            }
        entries.append(entry)
    return entries


@pytest.fixture(scope="module")
def big_journal():
    data = example("journal") | {"entries": _entries(300)}
    return data, render("journal", data, "ru")


def test_300_entries_flow_over_pages_with_the_header_on_every_page(big_journal):
    data, out = big_journal
    reader = PdfReader(io.BytesIO(out.pdf))
    assert all(float(p.mediabox.width) > float(p.mediabox.height) for p in reader.pages)
    pages = [squash(p.extract_text()) for p in reader.pages]
    assert len(pages) > 5
    headings = [squash(texts_for("ru").get("journal", f"columns.{c}")) for c in COLUMNS]
    table_pages = [p for p in pages if "Ерғали-" in p]
    assert len(table_pages) >= len(pages) - 1  # the last page may hold only the signatures
    for number, page in enumerate(table_pages, start=1):
        assert all(h in page for h in headings), f"page {number} lacks the header"
    printed = "".join(pages)
    missing = [e["full_name"] for e in data["entries"] if squash(e["full_name"]) not in printed]
    assert missing == []
    # rows are numbered in order and the journal's dates close the table
    last, before_last = f"Ерғали-{_mark(299)}", f"Ерғали-{_mark(298)}"
    assert printed.index(before_last) < printed.index(last)
    assert printed.index(last) < printed.index(squash('Начат"05" января 2026 года'))
    assert squash('Окончен"30" декабря 2026 года') in printed


def test_pages_are_filled_not_left_half_empty(big_journal):
    _, out = big_journal
    counts = [
        squash(p.extract_text()).count("Ерғали-") for p in PdfReader(io.BytesIO(out.pdf)).pages
    ]
    with_rows = [c for c in counts if c]
    full = with_rows[1:-1]  # neither the first page (title) nor the last page of rows
    assert full and min(full) >= max(full) - 3, counts


def test_the_xml_holds_every_entry(big_journal):
    _, out = big_journal
    entries = etree.fromstring(out.xml).findall("j:entries/j:entry", NS)
    assert len(entries) == 300
    assert entries[0].find("j:direction_number", NS) is None  # no direction yet
    assert entries[1].findtext("j:direction_number", namespaces=NS) == "Ж-2"


def test_an_open_journal_has_no_end_date():
    data = {k: v for k, v in example("journal").items() if k != "ended"}
    out = render("journal", data, "kk", validate_pdfa=False)
    assert etree.fromstring(out.xml).find("j:ended", NS) is None
    printed = squash(PdfReader(io.BytesIO(out.pdf)).pages[0].extract_text())
    assert "Аяқталды" in printed


def _errors(data: dict, lang: str = "kk") -> InputError:
    with pytest.raises(InputError) as caught:
        render("journal", data, lang)
    return caught.value


def test_ended_before_started_is_refused():
    data = example("journal") | {"ended": "2025-12-31"}
    found = {(e.path, e.code) for e in _errors(data).errors}
    assert ("ended", "date_before") in found


def test_entry_dates_must_follow_one_another():
    data = copy.deepcopy(example("journal"))
    data["entries"][0]["direction_date"] = "2026-11-15"  # before its registration
    data["entries"][1]["registration_date"] = "2025-12-20"  # before the journal started
    data["entries"][2]["direction_number"] = "50"  # a number without a date
    data["entries"][3].pop("direction_number")  # a date without a number
    data["entries"][4]["birth_date"] = "2026-12-01"  # born after registering
    data["entries"][4]["registration_number"] = "118"  # entry 0's number again
    caught = _errors(data, "ru")
    assert {(e.path, e.code) for e in caught.errors} == {
        ("entries[0].direction_date", "date_before"),
        ("entries[1].registration_date", "date_before"),
        ("entries[2].direction_date", "required"),
        ("entries[3].direction_number", "required"),
        ("entries[4].birth_date", "not_after"),
        ("entries[4].registration_number", "duplicate"),
    }
    messages = {m["field"]: m["message"] for m in caught.messages("ru")}
    assert "Дата выдачи направления" in messages["entries[0].direction_date"]
    assert "registration_date" in messages["entries[0].direction_date"]


def test_registration_after_the_journal_ended_is_refused():
    data = example("journal") | {"ended": "2026-11-20"}
    found = {(e.path, e.code) for e in _errors(data).errors}
    assert found == {
        ("entries[3].registration_date", "not_after"),
        ("entries[4].registration_date", "not_after"),
    }


def test_bad_iin_missing_country_and_no_entries():
    data = copy.deepcopy(example("journal"))
    data["entries"][0]["iin"] = "790512302150"
    del data["entries"][2]["country"]
    assert {(e.path, e.code) for e in _errors(data).errors} == {
        ("entries[0].iin", "iin_checksum"),
        ("entries[2].country", "required"),
    }
    caught = _errors(example("journal") | {"entries": []}, "kk")
    assert [(e.path, e.code) for e in caught.errors] == [("entries", "required")]
    assert "Журнал жазбалары" in caught.messages("kk")[0]["message"]


def test_cli_bad_input_writes_nothing(tmp_path, capsys):
    data = example("journal") | {"started": "2026-13-01"}
    source = tmp_path / "bad.json"
    source.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "out"
    assert (
        main(["render", "journal", "--lang", "kk", "--data", str(source), "--out", str(out)]) == 2
    )
    err = capsys.readouterr().err
    assert "started" in err and "ЖЖЖЖ-АА-КК" in err
    assert not out.exists() or not any(out.iterdir())
