"""The verify page in real headless Chromium (Debian's package), driven over DevTools.

A real threaded HTTP server on 127.0.0.1 serves the app; Chromium loads the page, a file
is put into the form's file input (``DOM.setFileInputFiles``, as a user would pick it),
the form is submitted, and the rendered report is read from the live DOM. Skips when
Chromium is absent unless ``DOCSERVICE_REQUIRE_SERVICES=1``. The driver is
``tests.browser``; layout and accessibility are ``test_page_layout.py``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from docservice.web import create_app
from tests.browser import Cdp, chromium, serve
from tests.verification.conftest import Docs
from tests.verification.fixtures import incremental_update_attack


@pytest.fixture(scope="module")
def server(verifier) -> Iterator[str]:  # type: ignore[no-untyped-def]
    with serve(create_app({"VERIFIER": verifier, "ARCHIVE_LOOKUP": lambda _doc: None})) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Cdp]:
    with chromium() as cdp:
        yield cdp


def test_upload_in_chromium_shows_report_in_both_languages(
    browser: Cdp, server: str, docs: Docs, tmp_path: Path
) -> None:
    signed = tmp_path / "four-officials.pdf"
    signed.write_bytes(docs.four())
    browser.goto(f"{server}/verify?lang=ru")
    assert browser.js("document.querySelector('h1').textContent") == (
        "Проверка электронной подписи"
    )
    browser.upload_and_submit(signed)
    assert browser.js("document.getElementById('verdict').dataset.verdict") == "TOTAL_PASSED"
    names = browser.js("[...document.querySelectorAll('.signer-name')].map(e => e.textContent)")
    assert names == [
        "ӘБІЛҚАСЫМОВА ГҮЛНАР СЕРІКҚЫЗЫ",
        "ЖҰМАБЕКОВ ДӘУРЕН ҒАЛЫМҰЛЫ",
        "ҚҰРМАНҒАЛИЕВ НҰРЛАН ӨМІРЗАҚҰЛЫ",
        "ИВАНОВА ЕЛЕНА ПЕТРОВНА",
    ]
    roles = browser.js("document.querySelectorAll('.roles')[1].textContent")
    assert "Первый руководитель" in roles
    # The rendered page is visible (not just in the DOM): the verdict box has a size.
    height = browser.js("document.getElementById('verdict').getBoundingClientRect().height")
    assert height > 20
    shot = browser.call("Page.captureScreenshot", format="png")["data"]
    assert len(shot) > 1000
    # Switch to Kazakh on the empty form and verify a tampered copy there.
    browser.js("document.getElementById('lang-kk').click()")
    browser.wait_load()
    assert browser.js("document.querySelector('h1').textContent") == (
        "Электрондық қолтаңбаны тексеру"
    )
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(incremental_update_attack(docs.bb()))
    browser.upload_and_submit(tampered)
    assert browser.js("document.getElementById('verdict').dataset.verdict") == "TOTAL_FAILED"
    reason = browser.js("document.querySelector('#sig-1 .reasons li[lang=kk]').textContent")
    assert "рұқсат етілмеген өзгерістер" in reason


def test_qr_link_and_bad_file_in_chromium(browser: Cdp, server: str, tmp_path: Path) -> None:
    doc_id = hashlib.sha256(b"document not yet archived").hexdigest()
    browser.goto(f"{server}/verify?doc={doc_id}&lang=kk")
    note = browser.js("document.getElementById('note').textContent")
    assert doc_id in note and "мұрағатта" in note
    assert browser.js("!!document.getElementById('verify-form')")
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"%PDF-1.7 this is not really a PDF")
    browser.upload_and_submit(junk)
    error = browser.js("document.getElementById('error').textContent")
    assert "PDF" in error and "бүлінген" in error
