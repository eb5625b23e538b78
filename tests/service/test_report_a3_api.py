"""``POST /v1/reports/a3`` (issue #17): a region's monthly Appendix 3 report from the activity
reports the calling client created, over a real socket on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from docservice import a3_from_activities as a3
from docservice.forms import get_kind
from docservice.rendering.xml import build_xml
from docservice.service.app import create_service_app
from docservice.service.clients import add_client
from docservice.service.documents import DocService
from tests.service.http import Client, serving
from tests.test_a3_from_activities import PREPARED, REGION, _month, _report
from tests.test_hostile_input import _assert_conforming

OTHER_CENTRE = "Аягөз қаласының мансап орталығы"
ASK = {
    "region": REGION,
    "month": "2026-11",
    "prepared_by": PREPARED,
    "issue_date": "2026-12-03",
    "lang": "kk+ru",
}


@pytest.fixture
def server(service: DocService) -> Iterator[tuple[str, dict[str, str]]]:
    keys = {}
    with service.db.session() as session:
        _, keys["centre"] = add_client(session, "career-centre", ["render"])
        _, keys["other"] = add_client(session, "other-system", ["render"])
    with serving(create_service_app(service=service)) as base:
        yield base, keys


def _create(api: Client, report: dict) -> None:
    answer = api.post("/v1/documents", {"kind": "activity_report", "data": report})
    assert answer.status == 201, answer.body[:500]


def _count(api: Client, kind: str) -> int:
    return api.get(f"/v1/documents?kind={kind}").json["total"]


def test_the_month_of_a_region_becomes_a_stored_report_a3(server) -> None:
    base, keys = server
    centre, other = Client(base, keys["centre"], "ru"), Client(base, keys["other"])
    for _, report in _month():
        _create(centre, report)
    # Another system's report of the same region and month is not the centre's to count.
    _create(other, _report(2, 12, "2026-11-20"))
    answer = centre.post("/v1/reports/a3", ASK)
    assert answer.status == 201, answer.body[:500]
    doc = answer.json
    assert answer.headers["Location"] == doc["links"]["self"] == f"/v1/documents/{doc['id']}"
    assert doc["kind"] == "report_a3" and doc["lang"] == "kk+ru" and doc["status"] == "ready"
    pdf, xml = centre.get(doc["links"]["pdf"]).body, centre.get(doc["links"]["xml"]).body
    _assert_conforming("report_a3", pdf, xml)
    # The same function the CLI uses, on the same reports, gives the same XML.
    kind = get_kind("report_a3")
    expected = a3.build(
        _month(), region=REGION, month="2026-11", prepared_by=PREPARED, issue_date="2026-12-03"
    )
    assert xml == build_xml(kind, kind.validate(expected), ("kk", "ru"))
    assert _count(centre, "report_a3") == 1 and _count(other, "report_a3") == 0


def test_bad_requests_name_the_field_and_store_nothing(server) -> None:
    base, keys = server
    centre, other = Client(base, keys["centre"], "en"), Client(base, keys["other"])
    for _, report in _month():
        _create(centre, report)
    _create(centre, _report(2, 12, "2026-11-20", career_center=OTHER_CENTRE))
    one = {**ASK, "career_center": OTHER_CENTRE}
    cases = [
        ({**ASK, "month": "2026-13"}, "month"),
        ({**ASK, "month": "2026-09"}, "region"),  # no reports in September
        ({**ASK, "region": "Жоқ облысы"}, "region"),
        (ASK, "career_center"),  # two centres in the region
        ({k: v for k, v in ASK.items() if k != "region"}, "region"),
        ({**one, "prepared_by": {"full_name": "Тоқтарова Әсем"}}, "prepared_by.position"),
        ({**one, "issue_date": "2026-02-30"}, "issue_date"),
        ({**one, "lang": "en"}, "lang"),
        ({**ASK, "rows": []}, "rows"),
    ]
    for request, field in cases:
        answer = centre.post("/v1/reports/a3", request)
        assert answer.status == 422, (request, answer.status, answer.body[:300])
        assert answer.headers["Content-Type"] == "application/problem+json"
        assert field in [e["field"] for e in answer.json["errors"]], (request, answer.json)
    twice = centre.post(
        "/v1/reports/a3",
        raw=b'{"month": "2026-11", "month": "2026-10"}',
        headers={"Content-Type": "application/json"},
    )
    assert twice.status == 422 and twice.json["errors"][0]["code"] == "duplicate_key"
    # Only the caller's own reports count: the other system has none.
    assert other.post("/v1/reports/a3", ASK).json["errors"][0]["field"] == "region"
    assert _count(centre, "report_a3") == 0
    named = centre.post("/v1/reports/a3", one)
    assert named.status == 201, named.body[:500]


def test_kk_and_ru_callers_get_their_language(server) -> None:
    base, keys = server
    _create(Client(base, keys["centre"]), _month()[0][1])
    for lang, needle in (("kk", "міндетті"), ("ru", "обязательно")):
        answer = Client(base, keys["centre"], lang).post(
            "/v1/reports/a3", {**ASK, "prepared_by": {"position": "маман"}}
        )
        assert answer.status == 422 and answer.headers["Content-Language"] == lang
        (error,) = answer.json["errors"]
        assert error["field"] == "prepared_by.full_name" and needle in error["message"], error


def test_the_endpoint_is_in_the_openapi_document(server) -> None:
    base, _ = server
    spec = Client(base).get("/openapi.json").json
    op = spec["paths"]["/v1/reports/a3"]["post"]
    assert op["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ReportA3Create"
    )
    assert "201" in op["responses"]
    assert set(spec["components"]["schemas"]["ReportA3Create"]["required"]) == {
        "region",
        "month",
        "prepared_by",
        "issue_date",
    }
