"""The report model: every reason has both languages, HTML/receipt render, fuzzed input."""

from __future__ import annotations

import io
import random
import re
from pathlib import Path

from docservice.verification import messages
from docservice.verification.html import render_report
from docservice.verification.report import FAILED_SUBINDICATIONS, load_schema
from docservice.web import create_app
from tests.verification.conftest import Docs

PACKAGE = Path(__file__).resolve().parents[2] / "docservice" / "verification"


def test_every_reason_code_used_has_kazakh_and_russian_text() -> None:
    used = set()
    for source in PACKAGE.glob("*.py"):
        used |= set(re.findall(r'Reason\.of\("([A-Z_]+)"', source.read_text(encoding="utf-8")))
    used |= FAILED_SUBINDICATIONS
    missing = sorted(code for code in used if code not in messages.TEXTS)
    assert not missing
    for code, (kk, ru) in messages.TEXTS.items():
        assert kk and ru and kk != ru, code
    for code, (kk, ru) in messages.INPUT_ERRORS.items():
        assert "{field}" in kk and "{field}" in ru, code


def test_schema_lists_every_failed_subindication() -> None:
    enum = set(load_schema()["$defs"]["subIndication"]["enum"])
    assert enum >= FAILED_SUBINDICATIONS


def test_standalone_html_is_bilingual(verifier, docs: Docs) -> None:  # type: ignore[no-untyped-def]
    page = render_report(verifier.verify(docs.four(), file_name="4.pdf"), "ru")
    assert page.count('lang="kk"') >= 5 and page.count('lang="ru"') >= 5
    assert "Первый руководитель" in page and "ЖҰМАБЕКОВ" in page


def test_fuzzed_uploads_never_500(verifier, docs: Docs) -> None:  # type: ignore[no-untyped-def]
    client = create_app({"VERIFIER": verifier}).test_client()
    rng = random.Random(4)
    seeds = [docs.bb(), docs.xml()]
    for i in range(24):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 20)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if i % 3 == 0:
            data = data[: rng.randrange(1, len(data))]
        response = client.post(
            "/v1/verify",
            data={"file": (io.BytesIO(bytes(data)), "f")},
            content_type="multipart/form-data",
        )
        assert response.status_code in (200, 400, 413, 415, 422), response.status_code
        body = response.get_json()
        assert ("verdict" in body) == (response.status_code == 200)
