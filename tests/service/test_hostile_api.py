"""The hostile-input corpus of ``tests/test_hostile_input.py`` through ``POST /v1/documents``
(issue #13): the API reads its body with the CLI's parser, so every input the CLI refuses is
a problem+json naming the same field (never a 5xx) and nothing is stored; accepted documents
pass PDF/A-3b and their XSD."""

from __future__ import annotations

import dataclasses
import json
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from docservice.service.app import create_service_app
from docservice.service.clients import add_client
from docservice.service.documents import DocService
from tests.conftest import example
from tests.service.conftest import make_settings
from tests.service.http import Client, serving
from tests.test_hostile_input import (
    ARABIC_NAME,
    CJK_NAME,
    IIN,
    MIXED,
    REFUSED,
    _appeal,
    _assert_conforming,
    _replace,
)


@pytest.fixture(scope="module")
def api(
    tmp_path_factory: pytest.TempPathFactory, trust_dir: Path
) -> Iterator[tuple[str, str, DocService]]:
    """One SQLite service for the module: the corpus is a hundred requests."""
    settings = make_settings(tmp_path_factory.mktemp("hostile"), trust_dir)
    # async_rows=5: a report of more rows is a job; its input is refused before one is made.
    svc = DocService(dataclasses.replace(settings, async_rows=5))
    with svc.db.session() as session:
        _, key = add_client(session, "portal", ["render"])
    with serving(create_service_app(service=svc)) as base:
        yield base, key, svc
    svc.db.dispose()


def _post(api: tuple[str, str, DocService], raw_data: bytes, lang: str = "kk"):
    base, key, _ = api
    body = b'{"kind": "e_appeal", "lang": "kk", "data": ' + raw_data + b"}"
    return Client(base, key, lang).post(
        "/v1/documents", raw=body, headers={"Content-Type": "application/json"}
    )


def _stored(api: tuple[str, str, DocService]) -> tuple[int, list[Path]]:
    base, key, svc = api
    files = [p for p in svc.settings.files_dir.rglob("*") if p.is_file()]
    return Client(base, key).get("/v1/documents").json["total"], files


@pytest.mark.parametrize(("name", "raw", "field", "word"), REFUSED, ids=[c[0] for c in REFUSED])
def test_refused_over_http_with_the_field_named_and_nothing_stored(api, name, raw, field, word):
    before = _stored(api)
    answer = _post(api, raw)
    assert answer.status in (400, 422), (answer.status, answer.body[:500])
    assert answer.headers["Content-Type"] == "application/problem+json"
    errors = answer.json["errors"]
    named = field.strip("()")
    assert any(named in e["field"] and word in e["message"] for e in errors), errors
    assert _stored(api) == before


def test_a_body_that_is_not_json_is_a_400_naming_the_body(api) -> None:
    answer = _post(api, b'{"iin": ')
    assert answer.status == 400 and answer.json["errors"][0]["field"] == "$"
    assert answer.json["errors"][0]["code"] == "not_json"


def test_the_envelope_is_checked_too(api) -> None:
    base, key, _ = api
    twice = b'{"kind": "e_appeal", "kind": "roadmap", "data": {}}'
    answer = Client(base, key).post(
        "/v1/documents", raw=twice, headers={"Content-Type": "application/json"}
    )
    assert answer.status == 422
    assert ("kind", "duplicate_key") in {(e["field"], e["code"]) for e in answer.json["errors"]}


@pytest.mark.parametrize(
    ("lang", "needle"), [("kk", "сан емес"), ("ru", "а не числом"), ("en", "not a number")]
)
def test_an_iin_sent_as_a_number_is_refused_in_the_callers_language(api, lang, needle) -> None:
    answer = _post(api, _replace(_appeal(), f'"{IIN}"', IIN), lang)
    assert answer.status == 422 and answer.headers["Content-Language"] == lang
    (error,) = answer.json["errors"]
    assert error["field"] == "iin" and error["code"] == "number_not_text"
    assert needle in error["message"], error


@pytest.mark.parametrize(
    ("lang", "needle"),
    [("kk", "U+1F680"), ("ru", "нет в шрифтах"), ("en", "no font of the document")],
)
def test_a_character_no_font_has_is_named_in_the_callers_language(api, lang, needle) -> None:
    answer = _post(api, _appeal(content="сәлем \U0001f680"), lang)
    assert answer.status == 422
    (error,) = answer.json["errors"]
    assert error["field"] == "content" and error["code"] == "no_glyph"
    assert needle in error["message"] and "U+1F680" in error["message"], error


def test_other_scripts_are_accepted_over_http_and_conform(api) -> None:
    base, key, _ = api
    decomposed = unicodedata.normalize("NFD", "Йорданов Ёрқын")
    raw = _appeal(
        surname=decomposed,
        name=CJK_NAME,
        patronymic=ARABIC_NAME,
        content=MIXED + "\n" + "中文" * 50,
    )
    answer = _post(api, raw)
    assert answer.status == 201, answer.body[:500]
    client = Client(base, key)
    pdf = client.get(answer.json["links"]["pdf"]).body
    xml = client.get(answer.json["links"]["xml"]).body
    _assert_conforming("e_appeal", pdf, xml)
    root = etree.fromstring(xml)
    ns = "{urn:kz:docservice:e_appeal:v1}"
    assert root.findtext(f"{ns}surname") == "Йорданов Ёрқын"  # NFC, as the CLI stores it
    assert root.findtext(f"{ns}patronymic") == ARABIC_NAME


def test_a_report_rendered_as_a_job_is_refused_before_the_job(api) -> None:
    base, key, _ = api
    before = _stored(api)
    data = example("report_a3")
    assert len(data["rows"]) > 5
    data["career_center"] += " \U0001f680"
    answer = Client(base, key).post("/v1/documents", {"kind": "report_a3", "data": data})
    assert answer.status == 422, answer.body[:300]
    assert [(e["field"], e["code"]) for e in answer.json["errors"]] == [
        ("career_center", "no_glyph")
    ]
    assert _stored(api) == before
    raw = json.dumps({"kind": "report_a3", "data": example("report_a3")}).encode()
    raw = raw.replace(b'"rows": [', b'"rows": [], "rows": [', 1)
    twice = Client(base, key).post(
        "/v1/documents", raw=raw, headers={"Content-Type": "application/json"}
    )
    assert twice.status == 422 and twice.json["errors"][0]["field"] == "rows"
    assert _stored(api) == before
