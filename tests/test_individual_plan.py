"""The individual plan (Rules 2024, points 19, 28, 32-34): states, sections, derived due dates."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from lxml import etree
from pypdf import PdfReader

from docservice.cli import main
from docservice.errors import InputError
from docservice.forms.individual_plan import KIND, MAX_TERM_DAYS, SIGNERS, STATES
from docservice.render import render
from docservice.texts import texts_for

from .conftest import example, pdf_text, squash

NS = {"p": "urn:kz:docservice:individual_plan:v2"}


def _errors(data: dict, lang: str = "ru") -> list[tuple[str, str]]:
    with pytest.raises(InputError) as caught:
        render("individual_plan", data, lang)
    return [(e.path, e.code) for e in caught.value.errors]


def test_due_dates_are_counted_from_the_quota_inclusion_date():
    data = example("individual_plan")
    cleaned = KIND.validate(data)
    quota = dt.date(2026, 9, 1)
    assert cleaned["quota_inclusion_date"] == quota
    first = cleaned["kandas"]["services"][0]
    assert (first["term_days"], first["deadline"], first["days_from_quota"]) == (
        3,
        dt.date(2026, 9, 4),
        3,
    )
    by_date = cleaned["kandas"]["services"][-1]  # given as a due date, not a term
    assert by_date["deadline"] == dt.date(2027, 3, 1)
    assert by_date["days_from_quota"] == (dt.date(2027, 3, 1) - quota).days == 181
    school = cleaned["members"][2]["services"][1]
    assert (school["deadline"], school["days_from_quota"]) == (quota, 0)


def test_a_new_quota_date_moves_every_term_given_in_days():
    data = example("individual_plan") | {"quota_inclusion_date": "2026-08-25"}
    cleaned = KIND.validate(data)
    father = cleaned["members"][3]["services"]
    assert [s["deadline"] for s in father] == [
        dt.date(2026, 9, 4),
        dt.date(2026, 9, 8),
        dt.date(2026, 9, 24),
        dt.date(2026, 9, 24),
    ]
    school = cleaned["members"][2]["services"][1]  # a due date stays, its distance changes
    assert (school["deadline"], school["days_from_quota"]) == (dt.date(2026, 9, 1), 7)


def test_the_xml_carries_the_term_and_the_computed_due_date():
    out = render("individual_plan", example("individual_plan"), "kk", validate_pdfa=False)
    root = etree.fromstring(out.xml)
    services = root.findall(".//p:service", NS)
    assert len(services) == 30
    for service in services:
        assert service.find("p:deadline", NS) is not None
        assert service.find("p:days_from_quota", NS) is not None
    first = root.find("p:kandas/p:services/p:service", NS)
    assert first.findtext("p:term_days", namespaces=NS) == "3"
    assert first.findtext("p:deadline", namespaces=NS) == "2026-09-04"
    assert len(root.findall("p:members/p:member", NS)) == 4


def test_the_computed_fields_cannot_be_supplied():
    data = example("individual_plan")
    data["kandas"]["services"][0]["deadline"] = "2026-09-02"
    assert _errors(data) == [("kandas.services[0].deadline", "unknown_field")]


def test_a_family_of_five_flows_over_pages_each_section_headed_by_its_name():
    data = example("individual_plan")
    note = "Орындалуы мансап орталығының қызметкерімен фото және бейнетіркеу арқылы расталады"
    people = [data["kandas"], *data["members"]]
    for person in people:
        person["services"] = [
            {
                "code": code,
                "term_days": code * 7,
                "note": note,
                "responsible": "Көкшетау қаласының мансап орталығы",
            }
            for code in range(1, 16)
        ]
    out = render("individual_plan", data, "ru", validate_pdfa=False)
    pages = [squash(p.extract_text() or "") for p in PdfReader(io.BytesIO(out.pdf)).pages]
    assert len(pages) >= 6
    texts = texts_for("ru")
    headings = [
        squash(
            texts.get(
                "individual_plan",
                "person_heading",
                number=n,
                role=texts.get("individual_plan", "role.kandas" if n == 1 else "role.member"),
                name=p["full_name"],
            )
        )
        for n, p in enumerate(people, start=1)
    ]
    first_pages = [next(i for i, page in enumerate(pages) if h in page) for h in headings]
    assert first_pages == sorted(first_pages) and len(set(first_pages)) >= 3
    column = squash(texts.get("individual_plan", "columns.code"))
    for number, page in enumerate(pages, start=1):
        if column in page:  # every page of a section names the person it belongs to
            assert any(h in page for h in headings), f"page {number}"
    assert sum(page.count(h) for page in pages for h in headings) > len(headings)
    for person in people:
        assert squash(person["iin"]) in "".join(pages)


def test_a_bad_service_code_is_named_with_its_person_and_position():
    data = example("individual_plan")
    data["members"][2]["services"][1]["code"] = 26
    data["kandas"]["services"][0]["code"] = 0
    with pytest.raises(InputError) as caught:
        render("individual_plan", data, "ru")
    assert [(e.path, e.code) for e in caught.value.errors] == [
        ("kandas.services[0].code", "out_of_range"),
        ("members[2].services[1].code", "out_of_range"),
    ]
    message = caught.value.messages("ru")[1]["message"]
    assert "Номер услуги по Перечню (1–25)" in message and "от 1 до 25" in message
    assert "Қызметтің Тізбедегі нөмірі" in caught.value.messages("kk")[1]["message"]


def test_a_service_twice_for_one_person_is_refused_but_not_across_people():
    data = example("individual_plan")
    data["members"][0]["services"][3]["code"] = 1
    assert _errors(data) == [("members[0].services[3].code", "duplicate")]


def test_each_service_needs_exactly_one_term():
    data = example("individual_plan")
    del data["kandas"]["services"][2]["term_days"]
    data["members"][1]["services"][0]["due_date"] = "2026-09-04"
    assert _errors(data) == [
        ("kandas.services[2].term_days", "required"),
        ("members[1].services[0].due_date", "one_of"),
    ]
    with pytest.raises(InputError) as caught:
        render("individual_plan", data, "ru")
    message = caught.value.messages("ru")[1]["message"]
    assert "укажите только одно" in message and "term_days" not in message


def test_terms_stay_within_five_years_of_the_quota_inclusion():
    data = example("individual_plan")
    data["members"][0]["services"][0]["term_days"] = MAX_TERM_DAYS + 1
    assert _errors(data) == [("members[0].services[0].term_days", "out_of_range")]
    data["members"][0]["services"][0]["term_days"] = MAX_TERM_DAYS
    data["kandas"]["services"][9]["due_date"] = "2026-08-31"
    data["members"][1]["services"][0] = {"code": 1, "due_date": "2031-09-02"}
    with pytest.raises(InputError) as caught:
        render("individual_plan", data, "ru")
    assert [(e.path, e.code) for e in caught.value.errors] == [
        ("kandas.services[9].due_date", "out_of_range"),
        ("members[1].services[0].due_date", "out_of_range"),
    ]
    assert "от 2026-09-01 до 2031-09-01" in caught.value.messages("ru")[0]["message"]
    data["kandas"]["services"][9]["due_date"] = "2026-09-01"
    data["members"][1]["services"][0]["due_date"] = "2031-09-01"
    KIND.validate(data)


def test_the_kandas_agrees_after_the_plan_is_formed():
    data = example("individual_plan") | {"agreement_date": "2026-08-19"}
    with pytest.raises(InputError) as caught:
        render("individual_plan", data, "kk")
    assert [(e.path, e.code) for e in caught.value.errors] == [("agreement_date", "date_before")]
    assert "Қандаспен келісілген күн" in caught.value.messages("kk")[0]["message"]


def test_a_person_without_services_is_refused():
    data = example("individual_plan")
    data["members"][3]["services"] = []
    assert _errors(data) == [("members[3].services", "required")]


def test_member_identity_errors_are_named_in_the_requested_language():
    data = example("individual_plan")
    iin = data["members"][1]["iin"]
    data["members"][1]["iin"] = iin[:11] + str((int(iin[11]) + 1) % 10)
    del data["members"][0]["kinship"]
    with pytest.raises(InputError) as caught:
        render("individual_plan", data, "kk")
    assert {(e.path, e.code) for e in caught.value.errors} == {
        ("members[0].kinship", "required"),
        ("members[1].iin", "iin_checksum"),
    }
    messages = " ".join(m["message"] for m in caught.value.messages("kk"))
    assert "туыстық қатынасы" in messages and "бақылау разряды" in messages


def test_a_member_iin_must_match_the_birth_date():
    data = example("individual_plan")
    data["members"][3]["birth_date"] = "1946-06-16"
    assert _errors(data) == [("members[3].iin", "iin_birth_mismatch")]


def test_cli_bad_input_writes_nothing(tmp_path, capsys):
    data = example("individual_plan")
    data["members"][0]["services"][0]["code"] = 99
    source = tmp_path / "plan.json"
    source.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "out"
    assert (
        main(
            ["render", "individual_plan", "--lang", "kk", "--data", str(source), "--out", str(out)]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "members[0].services[0].code" in err and "Traceback" not in err
    assert not out.exists() or not any(out.iterdir())


def _in_state(state: str) -> dict:
    data = example("individual_plan") | {"state": state}
    if state != "approved":
        del data["approval"]
    if state == "draft":
        del data["agreement_date"]
    return data


def test_the_approved_plan_names_its_approver_and_the_one_working_day_upload_deadline():
    data = example("individual_plan")
    out = render("individual_plan", data, "kk", validate_pdfa=False)
    # approved on Friday 21 August 2026: due on Monday 24
    assert etree.fromstring(out.xml).findtext("p:upload_deadline", namespaces=NS) == "2026-08-24"
    data["approval"]["date"] = "2027-03-19"
    out = render("individual_plan", data, "kk+ru", validate_pdfa=False)
    doc = etree.fromstring(out.xml)
    assert doc.findtext("p:state", namespaces=NS) == "approved"
    assert (
        doc.findtext("p:approval/p:official/p:full_name", namespaces=NS)
        == "Жақсыбеков Ерлан Мұратұлы"
    )
    # approved on Friday 19 March 2027: the weekend, then Nauryz (21-23 March, a Sunday
    # among them, so 24 March is the observed day off) come first
    assert doc.findtext("p:upload_deadline", namespaces=NS) == "2027-03-25"
    printed = squash("".join(p.extract_text() for p in PdfReader(io.BytesIO(out.pdf)).pages))
    assert squash("БЕКІТІЛДІ") in printed and squash("УТВЕРЖДЕН") in printed
    assert squash('жүктеу мерзімі: 2027 жылғы "25" наурыз қоса алғанда') in printed
    assert (
        squash(
            "Ақмола облысының еңбек мобильділігі орталығы, директордың орынбасары, "
            "Жақсыбеков Ерлан Мұратұлы"
        )
        in printed
    )


def test_a_draft_is_marked_and_has_neither_agreement_nor_approval():
    out = render("individual_plan", _in_state("draft"), "ru", validate_pdfa=False)
    doc = etree.fromstring(out.xml)
    assert doc.findtext("p:state", namespaces=NS) == "draft"
    assert doc.find("p:agreement_date", NS) is None and doc.find("p:upload_deadline", NS) is None
    first = squash(PdfReader(io.BytesIO(out.pdf)).pages[0].extract_text())
    assert squash("Индивидуальный план адаптации и интеграцииПРОЕКТ") in first
    printed = squash(pdf_text(out.pdf))
    assert squash("План согласован с кандасом") not in printed
    assert squash("Утвержден центром трудовой мобильности") not in printed


def test_an_agreed_plan_awaits_approval():
    out = render("individual_plan", _in_state("agreed"), "kk", validate_pdfa=False)
    printed = squash(pdf_text(out.pdf))
    assert squash("Жоспар қандаспен келісілді") in printed
    assert squash("Қабылдау өңірінің еңбек мобильділігі орталығы бекітті") not in printed
    assert etree.fromstring(out.xml).find("p:approval", NS) is None


@pytest.mark.parametrize(
    ("state", "drop", "add", "expected"),
    [
        ("approved", ["approval"], [], [("approval", "required")]),
        ("agreed", ["agreement_date"], [], [("agreement_date", "required")]),
        ("agreed", [], ["approval"], [("approval", "not_in_state")]),
        ("draft", [], ["agreement_date"], [("agreement_date", "not_in_state")]),
    ],
)
def test_each_state_has_what_its_step_needs_and_nothing_of_a_later_one(state, drop, add, expected):
    data = _in_state(state)
    full = example("individual_plan")
    for key in drop:
        data.pop(key, None)
    for key in add:
        data[key] = full[key]
    assert _errors(data) == expected


def test_not_in_state_names_the_state_in_the_callers_language():
    data = _in_state("draft") | {"agreement_date": "2026-08-20"}
    with pytest.raises(InputError) as caught:
        render("individual_plan", data, "ru")
    assert "«draft»" in caught.value.messages("ru")[0]["message"]


def test_approval_comes_after_the_agreement():
    data = example("individual_plan")
    data["approval"]["date"] = "2026-08-19"
    assert _errors(data) == [("approval.date", "date_before")]


def test_an_unknown_state_is_refused():
    assert _errors(example("individual_plan") | {"state": "signed"}) == [
        ("state", "not_in_choices")
    ]


def test_every_state_has_its_signers_and_approval_is_the_mobility_centres():
    assert set(SIGNERS) == set(STATES)
    assert SIGNERS["approved"][-1] == "labour_mobility_center"
