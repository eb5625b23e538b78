"""The Flask app: API JSON, 4xx errors in the request's language, page, QR link, receipt."""

from __future__ import annotations

import io

import jsonschema
import pytest
from flask import Flask
from pypdf import PdfReader

from docservice.verification import Limits, VerificationInputError, Verifier
from docservice.web import create_app
from tests.verification.conftest import Docs
from tests.verification.fixtures import incremental_update_attack


@pytest.fixture(scope="module")
def app(verifier: Verifier, docs: Docs) -> Flask:
    archive = {}

    def lookup(doc_id: str) -> bytes | None:
        return archive.get(doc_id)

    app = create_app({"VERIFIER": verifier, "ARCHIVE_LOOKUP": lookup, "TESTING": True})
    app.config["archive"] = archive
    return app


def _post(client, data: bytes, name: str = "doc.pdf", **extra):  # type: ignore[no-untyped-def]
    form = {"file": (io.BytesIO(data), name), **extra}
    return client.post("/v1/verify", data=form, content_type="multipart/form-data")


def test_api_returns_schema_valid_report(app: Flask, docs: Docs, schema: dict) -> None:
    response = _post(app.test_client(), docs.four())
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.get_json()
    jsonschema.validate(body, schema)
    assert body["verdict"] == "TOTAL_PASSED" and len(body["signatures"]) == 4
    assert response.headers["X-Verification-Verdict"] == "TOTAL_PASSED"
    assert body["document"]["file_name"] == "doc.pdf"


def test_api_failed_document_is_still_200(app: Flask, docs: Docs) -> None:
    body = _post(app.test_client(), incremental_update_attack(docs.bb())).get_json()
    assert body["verdict"] == "TOTAL_FAILED"


@pytest.mark.parametrize(("lang", "needle"), [("kk", "жіберілмеген"), ("ru", "не передан")])
def test_missing_file_names_field_in_language(app: Flask, lang: str, needle: str) -> None:
    response = app.test_client().post(
        f"/v1/verify?lang={lang}", data={"lang": lang}, content_type="multipart/form-data"
    )
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["field"] == "file" and error["code"] == "missing" and needle in error["message"]


def test_bad_inputs_are_4xx_json(app: Flask, docs: Docs) -> None:
    client = app.test_client()
    cases = [
        (b"garbage", 415, "unknown_format"),
        (docs.bb()[:3000], 422, "pdf_unreadable"),
        (b'<!DOCTYPE a [<!ENTITY b SYSTEM "file:///etc/passwd">]><a>&b;</a>', 422, "xml_dtd"),
    ]
    for data, status, code in cases:
        response = _post(client, data, lang="ru")
        assert response.status_code == status, (code, response.get_json())
        error = response.get_json()["error"]
        assert error["code"] == code and error["lang"] == "ru" and error["messages"]["kk"]


def test_request_too_large(verifier: Verifier) -> None:
    small = create_app(
        {"VERIFIER": verifier, "LIMITS": Limits(max_file_bytes=2048, max_original_bytes=1024)}
    )
    response = _post(small.test_client(), b"%PDF-" + b"0" * 200_000, lang="kk")
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"


def test_page_upload_and_language_switch(app: Flask, docs: Docs) -> None:
    client = app.test_client()
    page = client.get("/verify?lang=ru")
    assert page.status_code == 200 and "Проверка электронной подписи" in page.text
    kk = client.get("/verify", headers={"Accept-Language": "kk"})
    assert "Электрондық қолтаңбаны тексеру" in kk.text
    result = client.post(
        "/verify?lang=kk",
        data={"file": (io.BytesIO(docs.bb()), "a.pdf"), "lang": "kk"},
        content_type="multipart/form-data",
    )
    assert result.status_code == 200
    assert 'data-verdict="TOTAL_PASSED"' in result.text and "ЖСН" in result.text
    assert "850301300121" in result.text


def test_qr_link_without_archive_shows_note(app: Flask, docs: Docs) -> None:
    import hashlib

    client = app.test_client()
    doc_id = hashlib.sha256(b"not archived").hexdigest()
    page = client.get(f"/verify?doc={doc_id}&lang=ru")
    assert page.status_code == 200 and 'id="note"' in page.text and doc_id in page.text
    assert 'id="verify-form"' in page.text
    bad = client.get("/verify?doc=../../etc/passwd")
    assert bad.status_code == 400
    archived = hashlib.sha256(docs.bb()).hexdigest()
    app.config["archive"][archived] = docs.bb()
    page = client.get(f"/verify?doc={archived}")
    assert 'data-verdict="TOTAL_PASSED"' in page.text


def test_html_escapes_certificate_text(app: Flask, docs: Docs) -> None:
    response = _post(
        app.test_client(), docs.bb(), name="<script>alert(1)</script>.pdf", format="html"
    )
    assert response.status_code == 200
    assert "<script>alert(1)" not in response.text and "&lt;script&gt;" in response.text


def test_receipt_pdf(app: Flask, docs: Docs) -> None:
    response = _post(app.test_client(), docs.four(), format="pdf", lang="kk")
    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "ҚҰРМАНҒАЛИЕВ" in text and "Жарамды" in text and "Қорытынды" in text
    fonts = {
        str(f.get("/BaseFont"))
        for page in reader.pages
        for f in (page["/Resources"].get("/Font") or {}).values()
        for f in [f.get_object()]
    }
    assert fonts and all("LiberationSerif" in f for f in fonts), fonts


@pytest.mark.parametrize("path", ["/v1/verify", "/verify?lang=ru"])
def test_a_bug_is_a_logged_500_with_the_request_id_not_the_callers_fault(
    verifier: Verifier,
    docs: Docs,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    path: str,
) -> None:
    """A failure of ours deep in the verification is a 500, never 422 "unknown format"."""
    from docservice.verification import report as report_module

    def broken(signatures):  # type: ignore[no-untyped-def]
        raise RuntimeError("IIN 850301300121 leaked into a message")

    monkeypatch.setattr("docservice.verification.document_verdict", broken)
    assert report_module.document_verdict is not broken  # the real app's own import
    client = create_app({"VERIFIER": verifier}).test_client()
    with caplog.at_level("ERROR"):
        response = client.post(
            path,
            data={"file": (io.BytesIO(docs.bb()), "a.pdf")},
            headers={"X-Request-ID": "bug-7"},
            content_type="multipart/form-data",
        )
    assert response.status_code == 500 and response.headers["X-Request-ID"] == "bug-7"
    body = response.get_data(as_text=True)
    assert "Traceback" not in body and "850301300121" not in body
    assert (
        all(VerificationInputError("unknown_format").message(lg) not in body for lg in ("kk", "ru"))
        and "unknown_format" not in body
    )
    assert "bug-7" in body
    if path.startswith("/v1/"):
        assert response.mimetype == "application/problem+json"
        problem = response.get_json()
        assert (problem["status"], problem["code"], problem["request_id"]) == (
            500,
            "internal",
            "bug-7",
        )
    else:
        assert response.mimetype == "text/html" and "Внутренняя ошибка" in body
    logged = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(logged) == 1 and "RuntimeError" in logged[0].getMessage()
    assert "850301300121" not in logged[0].getMessage()


def test_an_unusable_file_is_still_the_callers_4xx(app: Flask) -> None:
    response = _post(app.test_client(), b"garbage", lang="en")
    assert response.status_code == 415
    assert response.get_json()["error"]["code"] == "unknown_format"
