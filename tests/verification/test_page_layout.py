"""The verification page as officials meet it: on a phone and at a desk, by keyboard, on paper.

Real headless Chromium (Debian's package) over DevTools, the app on 127.0.0.1. For every
view (the empty form, the QR-link note, an unusable file, and reports that pass, fail and
stay indeterminate, for PDF, XML and CMS with one and several signatures), at 360×740 and
1280×800, in Kazakh and Russian: nothing is wider than the screen, the verdict (a word,
a colour and an icon) is on the first screen, axe-core finds nothing serious or critical,
there is one ``main``, the language is set and every control has a label. Keyboard alone
reaches every control and submits the form; printing gives the verdict and every
signature's facts on A4 without the form. Each view's screenshot goes to one folder
(``$DOCSERVICE_SCREENSHOTS`` or a pytest temporary folder, printed at the end) with an
``index.html`` that shows them all.
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pikepdf
import pytest
from asn1crypto import cms
from pypdf import PdfReader

from docservice.archive.card import build_card
from docservice.pki.anchors import TrustAnchors
from docservice.verification import Verifier
from docservice.verification.messages import INDICATIONS, ui
from docservice.web import create_app
from signing.cades import CadesOptions, sign_detached
from signing.cms_util import to_der
from signing.keys import Pkcs12Key
from tests.browser import Cdp, axe_source, chromium, serve
from tests.conftest import pdf_text, squash
from tests.pki import TestPki
from tests.verification.conftest import Docs
from tests.verification.fixtures import Signers, incremental_update_attack

ORIGINAL = "Өтініш / заявление № 17, 2026".encode()
SCREENS = {"phone": (360, 740), "desk": (1280, 800)}
LANGS = ("kk", "ru")
QR_DOC = hashlib.sha256(b"a document the archive does not hold yet").hexdigest()


@dataclass(frozen=True)
class View:
    """One page state: a GET or an upload, and the verdict it must show (None: no report)."""

    name: str
    verdict: str | None = None
    files: tuple[str, ...] = ()
    query: str = ""


VIEWS = [
    View("form"),
    View("qr-note", query=f"doc={QR_DOC}"),
    View("unreadable", files=("junk.pdf",)),
    View("pdf-4-signatures-passed", "TOTAL_PASSED", ("four.pdf",)),
    View("pdf-tampered-failed", "TOTAL_FAILED", ("tampered.pdf",)),
    View("cms-2-signers-no-original-indeterminate", "INDETERMINATE", ("two.p7s",)),
    View("cms-2-signers-passed", "TOTAL_PASSED", ("two.p7s", "original.txt")),
    View("xml-passed", "TOTAL_PASSED", ("signed.xml",)),
    View("card-2-signatures-passed", "TOTAL_PASSED", ("card.pdf",)),
    View("card-swapped-original-failed", "TOTAL_FAILED", ("card-swapped.pdf",)),
]


def document_card(pki: TestPki, verifier: Verifier) -> tuple[bytes, bytes]:
    """A ДДК of two officials' detached CAdES over ORIGINAL, and one whose original was
    swapped for other bytes afterwards (as ``tests/archive/test_card.py`` makes them)."""
    options = CadesOptions(tsa_url=pki.tsa_url, trust=TrustAnchors((pki.root,), (pki.ca,)))
    signed = []
    for label in ("head", "career"):
        key = Pkcs12Key.load(pki.p12(label), pki.password)
        signed.append(to_der(sign_detached(ORIGINAL, key, options)))
        time.sleep(1.1)  # distinct time-stamp seconds: the card orders by them
    card = build_card(ORIGINAL, "өтініш-17.txt", signed, verifier, title="Өтініш / Заявление № 17")
    with pikepdf.open(io.BytesIO(card)) as pdf:
        tree = pikepdf.NameTree(pdf.Root.Names.EmbeddedFiles)
        tree[next(iter(tree.keys()))].EF.F.write(ORIGINAL.replace(b"17", b"18"))
        out = io.BytesIO()
        pdf.save(out)
    return card, out.getvalue()


@pytest.fixture(scope="module")
def files(
    docs: Docs,
    signers: Signers,
    pki: TestPki,
    verifier: Verifier,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    folder = tmp_path_factory.mktemp("uploads")
    two: cms.ContentInfo = signers.cms(ORIGINAL, ["career", "head"])
    card, swapped = document_card(pki, verifier)
    for name, data in {
        "card.pdf": card,
        "card-swapped.pdf": swapped,
        "junk.pdf": b"%PDF-1.7 this is not really a PDF",
        "four.pdf": docs.four(),
        "tampered.pdf": incremental_update_attack(docs.bb()),
        "two.p7s": two.dump(),
        "original.txt": ORIGINAL,
        "signed.xml": docs.xml(),
    }.items():
        (folder / name).write_bytes(data)
    return folder


@pytest.fixture(scope="module")
def server(verifier) -> Iterator[str]:  # type: ignore[no-untyped-def]
    with serve(create_app({"VERIFIER": verifier, "ARCHIVE_LOOKUP": lambda _doc: None})) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Cdp]:
    with chromium() as cdp:
        yield cdp


@pytest.fixture(scope="module")
def axe() -> str:
    return axe_source()


@pytest.fixture(scope="module")
def shots(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    """The screenshot folder; an ``index.html`` there shows every view side by side."""
    chosen = os.environ.get("DOCSERVICE_SCREENSHOTS")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    yield folder
    pngs = sorted(folder.glob("*.png"))
    cells = "\n".join(
        f'<figure><a href="{html.escape(p.name)}"><img src="{html.escape(p.name)}" '
        f'alt="{html.escape(p.stem)}" loading="lazy"></a><figcaption>{html.escape(p.stem)}'
        "</figcaption></figure>"
        for p in pngs
    ) + "".join(
        f'<p><a href="{html.escape(p.name)}">{html.escape(p.name)}</a></p>'
        for p in sorted(folder.glob("*.pdf"))
    )
    (folder / "index.html").write_text(
        '<!doctype html><html lang="en"><meta charset="utf-8"><title>docservice pages</title>'
        "<style>body{font-family:sans-serif;display:flex;flex-wrap:wrap;gap:1rem;"
        "align-items:flex-start}figure{margin:0;width:380px}img{width:100%;border:1px solid "
        "#999}figcaption{font-size:.8rem}</style>" + cells + "</html>",
        encoding="utf-8",
    )
    # Said on the terminal past pytest's output capture, so a person sees where to look.
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if reporter is not None and capture is not None and pngs:
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"\nscreenshots of the pages ({len(pngs)}): {folder}/index.html")


def open_view(browser: Cdp, server: str, files: Path, view: View, lang: str) -> None:
    query = f"lang={lang}" + (f"&{view.query}" if view.query else "")
    browser.goto(f"{server}/verify?{query}")
    if view.files:
        original = files / view.files[1] if len(view.files) > 1 else None
        browser.upload_and_submit(files / view.files[0], original)
    browser.js("window.scrollTo(0, 0)")


#: What the page must hold, measured in the live page.
MEASURE = """(() => {
  const doc = document.documentElement, vw = window.innerWidth;
  const wide = [...document.querySelectorAll('body *')].filter(e => {
    const r = e.getBoundingClientRect();
    return r.width > 0 && (r.right > vw + 0.5 || r.left < -0.5);
  }).slice(0, 5).map(e => e.tagName.toLowerCase() + '.' + e.className + ' ' +
                       Math.round(e.getBoundingClientRect().right));
  const controls = [...document.querySelectorAll('input, select, textarea, button')]
    .filter(e => e.type !== 'hidden');
  const unlabelled = controls.filter(e => {
    const named = (e.labels && [...e.labels].some(l => l.textContent.trim())) ||
      (e.getAttribute('aria-label') || '').trim() || e.getAttribute('aria-labelledby');
    return !(named || (e.tagName === 'BUTTON' && e.textContent.trim()));
  }).map(e => e.id || e.name);
  const verdict = document.getElementById('verdict');
  const title = document.getElementById('verdict-title');
  const icon = verdict && verdict.querySelector('svg.icon');
  const box = verdict && getComputedStyle(verdict);
  const error = document.getElementById('error');
  return {
    errorBottom: error && error.getBoundingClientRect().bottom,
    scrollWidth: Math.max(doc.scrollWidth, document.body.scrollWidth), innerWidth: vw,
    innerHeight: window.innerHeight, wide, unlabelled, lang: doc.lang,
    mains: document.querySelectorAll('main, [role=main]').length,
    controls: controls.length,
    verdict: verdict && {
      code: verdict.dataset.verdict, top: verdict.getBoundingClientRect().top,
      titleBottom: title && title.getBoundingClientRect().bottom,
      text: title && title.textContent,
      icon: icon && icon.dataset.icon, iconWidth: icon && icon.getBoundingClientRect().width,
      border: box.borderLeftColor, background: box.backgroundColor,
      word: title && title.querySelector('.status') &&
            getComputedStyle(title.querySelector('.status')).color},
  };
})()"""


def run_axe(browser: Cdp, axe: str) -> list[dict]:
    """axe-core's violations in the page (injected fresh: every view is a new document)."""
    if not browser.js("typeof window.axe === 'object'"):
        browser.call("Runtime.evaluate", expression=axe)
    found = browser.js(
        "axe.run(document, {resultTypes: ['violations']}).then(r => JSON.stringify("
        "r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, "
        "nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))))",
        await_promise=True,
    )
    return json.loads(found)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("view", VIEWS, ids=lambda v: v.name)
def test_view_fits_reads_first_and_passes_axe(
    browser: Cdp,
    server: str,
    files: Path,
    axe: str,
    shots: Path,
    view: View,
    screen: str,
    lang: str,
) -> None:
    width, height = SCREENS[screen]
    browser.viewport(width, height)
    open_view(browser, server, files, view, lang)
    browser.screenshot(shots / f"{lang}-{screen}-{view.name}.png")
    page = browser.js(MEASURE)
    # No sideways scrolling: the page and every box in it fit the screen's width.
    assert page["innerWidth"] == width
    assert page["scrollWidth"] <= width and not page["wide"], page["wide"]
    assert page["lang"] == lang and page["mains"] == 1
    assert page["controls"] >= 3 and not page["unlabelled"], page["unlabelled"]
    if view.name == "unreadable":  # the reason the file was refused, on the first screen
        assert page["errorBottom"] is not None and page["errorBottom"] <= height
    verdict = page["verdict"]
    if view.verdict is None:
        assert verdict is None
    else:
        assert verdict["code"] == view.verdict
        # The verdict's title (with its word) is wholly on the first screen.
        assert verdict["top"] >= 0 and verdict["titleBottom"] <= height, verdict
        # A word, a colour and an icon: the word names the outcome, the icon's shape is
        # the outcome's own, and the box and the word carry the outcome's colour.
        word = INDICATIONS[view.verdict][LANGS.index(lang)]
        assert verdict["text"].strip().endswith(word)
        assert verdict["icon"] == view.verdict.lower() and verdict["iconWidth"] >= 12
        tone = {
            "TOTAL_PASSED": "rgb(27, 110, 44)",
            "TOTAL_FAILED": "rgb(164, 0, 28)",
            "INDETERMINATE": "rgb(138, 83, 0)",
        }[view.verdict]
        assert verdict["border"] == tone and verdict["word"] == tone
        assert verdict["background"] != "rgba(0, 0, 0, 0)"
    # Nothing serious or critical, as required; and nothing moderate or minor either, which
    # holds today (the page before this layout had two moderate ones: no main landmark,
    # content outside landmarks) and is kept.
    found = run_axe(browser, axe)
    bad = [v for v in found if v["impact"] in ("serious", "critical")]
    assert not bad, json.dumps(bad, ensure_ascii=False, indent=1)
    assert not found, json.dumps(found, ensure_ascii=False, indent=1)


def test_axe_finds_what_it_must(browser: Cdp, server: str, axe: str) -> None:
    """The harness is live: a control without a label and grey-on-grey text are caught."""
    browser.viewport(*SCREENS["phone"])
    browser.goto(f"{server}/verify?lang=kk")
    browser.js("""document.querySelector('main').insertAdjacentHTML('beforeend',
      '<input type="text" id="nameless"><p style="color:#bbb;background:#fff">бозғылт</p>')""")
    found = {v["id"]: v["impact"] for v in run_axe(browser, axe)}
    assert found.get("label") == "critical" and found.get("color-contrast") == "serious", found


def tab_order(browser: Cdp, limit: int = 12) -> list[dict]:
    """Press Tab from the top of the page; what gets focus, and whether focus is visible."""
    browser.js(
        "document.activeElement && document.activeElement.blur(); "
        "window.getSelection().removeAllRanges()"
    )
    seen: list[dict] = []
    for _ in range(limit):
        browser.press("Tab")
        focused = browser.js("""(() => { const e = document.activeElement;
          if (!e || e === document.body) return null;
          const s = getComputedStyle(e);
          return {id: e.id, outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2};
        })()""")
        if focused is None or (seen and focused["id"] == seen[0]["id"]):
            break
        seen.append(focused)
    return seen


@pytest.mark.parametrize("lang", LANGS)
def test_keyboard_alone_reaches_every_control_and_checks_a_file(
    browser: Cdp, server: str, files: Path, lang: str
) -> None:
    browser.viewport(*SCREENS["phone"])
    browser.goto(f"{server}/verify?lang={lang}")
    order = tab_order(browser)
    assert [f["id"] for f in order] == ["lang-kk", "lang-ru", "file", "original", "submit"]
    assert all(f["outline"] for f in order), order
    # The file is picked in the dialog (which a key opens; headless Chromium has none to
    # show), then the form is sent with the keyboard: Tab to the button, Enter.
    browser.set_files("#file", files / "four.pdf")
    browser.js("document.getElementById('original').focus()")
    browser.press("Tab")
    assert browser.js("document.activeElement.id") == "submit"
    browser.events.clear()
    browser.press("Enter")
    browser.wait_load()
    assert browser.js("document.getElementById('verdict').dataset.verdict") == "TOTAL_PASSED"
    # On the report, keyboard focus still reaches the language links and the new form.
    after = [f["id"] for f in tab_order(browser)]
    assert after == ["lang-kk", "lang-ru", "file", "original", "submit"]
    # The language links answer the keyboard too.
    other = "ru" if lang == "kk" else "kk"
    browser.js(f"document.getElementById('lang-{other}').focus()")
    browser.events.clear()
    browser.press("Enter")
    browser.wait_load()
    assert browser.js("document.documentElement.lang") == other


def printed(browser: Cdp, server: str, files: Path, view: View, lang: str) -> bytes:
    browser.viewport(*SCREENS["desk"])
    open_view(browser, server, files, view, lang)
    return browser.print_pdf()


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(
    "view",
    [
        v
        for v in VIEWS
        if v.name
        in (
            "pdf-4-signatures-passed",
            "cms-2-signers-no-original-indeterminate",
            "pdf-tampered-failed",
        )
    ],
    ids=lambda v: v.name,
)
def test_print_gives_verdict_and_every_signature_on_a4(
    browser: Cdp, server: str, files: Path, shots: Path, view: View, lang: str
) -> None:
    pdf = printed(browser, server, files, view, lang)
    (shots / f"{lang}-print-{view.name}.pdf").write_bytes(pdf)
    reader = PdfReader(io.BytesIO(pdf))
    for page in reader.pages:  # A4 portrait: 210 × 297 mm in points
        assert abs(float(page.mediabox.width) - 595.3) < 2
        assert abs(float(page.mediabox.height) - 841.9) < 2
    text = squash(pdf_text(pdf))
    facts = browser.js("""[...document.querySelectorAll(
      '#report dd, #report h2, #report h3, #report li')].map(e => e.textContent)""")
    assert facts and browser.js("document.querySelectorAll('.signature').length") >= 1
    assert squash(ui("verdict", lang)) in text
    assert squash(INDICATIONS[str(view.verdict)][LANGS.index(lang)]) in text
    missing = [f for f in facts if squash(f) not in text]
    assert not missing, missing
    # Not the form nor the navigation.
    for absent in (ui("intro", lang), ui("file", lang), ui("another", lang), "Русский", "Қазақша"):
        assert squash(absent) not in text, absent


def test_print_of_the_standalone_report(
    browser: Cdp,
    verifier,
    docs: Docs,  # type: ignore[no-untyped-def]
    axe: str,
    tmp_path: Path,
) -> None:
    """``format=html`` / ``render_report``: the same layout, both languages' reasons."""
    from docservice.verification.html import render_report

    page = tmp_path / "report.html"
    page.write_text(
        render_report(verifier.verify(docs.four(), file_name="4.pdf"), "kk"), encoding="utf-8"
    )
    width, height = SCREENS["phone"]
    browser.viewport(width, height)
    browser.goto(page.as_uri())
    assert browser.js("document.documentElement.scrollWidth") <= width
    assert browser.js("document.querySelectorAll('main').length") == 1
    assert (
        browser.js("document.getElementById('verdict-title').getBoundingClientRect().bottom")
        <= height
    )
    assert run_axe(browser, axe) == []
    text = squash(pdf_text(browser.print_pdf()))
    assert "ӘБІЛҚАСЫМОВА" in text and "ИВАНОВА" in text and squash("Жарамды") in text


# -- The officials' signing pages: the signing link (/sign/<token>) and eGov mobile ----------


@dataclass(frozen=True)
class Page:
    """A signing page's state: its URL key, the element that must be on the first screen
    (the main action, or the outcome once there is one), and the page's state line."""

    name: str
    first: str
    state_line: str
    state: str | None = None


PAGES = [
    Page("sign-link", "sign", "status"),
    Page("sign-link-spent", "status", "status", "invalid"),
    Page("sign-link-route", "sign", "status"),
    Page("egov-waiting", "open", "result", "pending"),
    Page("egov-signed", "result", "result", "signed"),
    Page("egov-unknown", "result", "result", "unknown"),
]


@pytest.fixture(scope="module")
def signing_pages(pki: TestPki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The service on a real socket with one document: a signing link, an eGov request
    still waiting and one the eGov mobile emulator has signed; the pages' URLs by name."""
    from contextlib import contextmanager

    from docservice.service.documents import DocService
    from docservice_testing.egov_mobile import EgovMobileEmulator
    from docservice_testing.ncalayer.keystore import EmulatorKey
    from tests.service.conftest import make_settings
    from tests.service.test_egov import _document, _request, _served

    trust = tmp_path_factory.mktemp("service-trust")
    (trust / "root.pem").write_bytes(pki.root_pem.read_bytes())
    (trust / "ca.pem").write_bytes(pki.ca_pem.read_bytes())
    svc = DocService(make_settings(tmp_path_factory.mktemp("service"), trust))
    key = EmulatorKey.from_p12(pki.p12("career"), pki.password, alias="career")
    try:
        with contextmanager(_served)(svc) as (client, _served_svc):
            doc_id = _document(client)
            link = client.post(f"/v1/documents/{doc_id}/signing-links", {"expires_in": 3600})
            assert link.status == 201, link.body
            routed = _routed_link(svc, client, pki, tmp_path_factory.mktemp("pw"))
            waiting = _request(client, doc_id, key)
            signed = _request(client, doc_id, key)
            assert EgovMobileEmulator(key).run(signed["qr"]["payload"]).status == 200
            yield {
                "sign-link": link.json["url"],
                "sign-link-spent": f"{client.base}/sign/no-such-token",
                "sign-link-route": routed,
                "egov-waiting": waiting["links"]["page"],
                "egov-signed": signed["links"]["page"],
                "egov-unknown": f"{client.base}/egov/no-such-request",
            }
    finally:
        svc.db.dispose()


def _routed_link(svc, client, pki: TestPki, secret: Path) -> str:  # type: ignore[no-untyped-def]
    """A signing link at point 9 of an application's route, its first version returned
    once with remarks: the page shows the step, the deadline, the remarks, both actions."""
    from docservice.service.keys import add_key
    from docservice.service.models import Client as ClientRow
    from tests.conftest import example
    from tests.service.test_route_api import DEPARTURE, SETTLEMENT, directory

    password = secret / "pw.txt"
    password.write_text(pki.password + "\n", encoding="utf-8")
    with svc.db.session() as session:
        for label in ("career", "head"):
            add_key(session, f"layout-{label}", pki.p12(label), password, ["portal"])
    directory(svc)
    assert (
        client.post(
            "/v1/cases",
            {"case_ref": "LAYOUT", "departure_region": DEPARTURE, "settlement_region": SETTLEMENT},
        ).status
        == 201
    )
    doc = client.post(
        "/v1/documents",
        {
            "kind": "application",
            "data": example("application"),
            "case_ref": "LAYOUT",
            "route": "application",
        },
    ).json
    with svc.db.sessions() as session:
        owner = session.query(ClientRow).filter_by(name="portal").one()
    svc.sign_with_key(owner, doc["id"], "layout-career")
    svc.return_with_key(
        owner, doc["id"], "layout-head", "Отбасы мүшелерінің құжаттарын толықтырыңыз"
    )
    v2 = svc.revise(owner, doc["id"], example("application"))
    svc.sign_with_key(owner, v2.id, "layout-career")
    link = client.post(f"/v1/documents/{v2.id}/signing-links", {"expires_in": 3600})
    assert link.status == 201, link.body
    return link.json["url"]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_signing_page_fits_acts_first_and_passes_axe(
    browser: Cdp, signing_pages: dict, axe: str, shots: Path, page: Page, screen: str, lang: str
) -> None:
    width, height = SCREENS[screen]
    browser.viewport(width, height)
    browser.goto(f"{signing_pages[page.name]}?lang={lang}")
    browser.js("window.scrollTo(0, 0)")
    browser.screenshot(shots / f"{lang}-{screen}-{page.name}.png")
    measured = browser.js(MEASURE)
    assert measured["innerWidth"] == width
    assert measured["scrollWidth"] <= width and not measured["wide"], measured["wide"]
    assert measured["lang"] == lang and measured["mains"] == 1
    assert not measured["unlabelled"], measured["unlabelled"]
    # The main action (or the outcome) is wholly on the first screen, and visible.
    first = browser.js(f"""(() => {{ const e = document.getElementById({json.dumps(page.first)});
      const r = e.getBoundingClientRect();
      return {{top: r.top, bottom: r.bottom, height: r.height, text: e.textContent.trim()}};
    }})()""")
    assert first["height"] > 0 and first["top"] >= 0 and first["bottom"] <= height, first
    assert first["text"], first
    # The state line is a live region a screen reader announces; it says the state in words.
    line = browser.js(f"""(() => {{
      const e = document.getElementById({json.dumps(page.state_line)});
      return {{state: e.dataset.state || null, role: e.getAttribute('role'),
               text: e.textContent.trim()}}; }})()""")
    assert line["role"] in ("status", "alert"), line
    assert line["state"] == page.state and (page.state is None or line["text"]), line
    found = run_axe(browser, axe)
    bad = [v for v in found if v["impact"] in ("serious", "critical")]
    assert not bad, json.dumps(bad, ensure_ascii=False, indent=1)
    assert not found, json.dumps(found, ensure_ascii=False, indent=1)


@pytest.mark.parametrize(
    "name, controls",
    [
        ("sign-link", ["lang-kk", "lang-ru", "sign", "open"]),
        ("sign-link-route", ["lang-kk", "lang-ru", "sign", "remarks", "return", "open"]),
        ("egov-waiting", ["lang-kk", "lang-ru", "open"]),
    ],
)
def test_keyboard_alone_reaches_the_signing_pages_controls(
    browser: Cdp, signing_pages: dict, name: str, controls: list[str]
) -> None:
    browser.viewport(*SCREENS["phone"])
    browser.goto(f"{signing_pages[name]}?lang=kk")
    order = tab_order(browser)
    assert [f["id"] for f in order][: len(controls)] == controls, order
    assert all(f["outline"] for f in order[: len(controls)]), order
    # The language link answers Enter.
    browser.js("document.getElementById('lang-ru').focus()")
    browser.events.clear()
    browser.press("Enter")
    browser.wait_load()
    assert browser.js("document.documentElement.lang") == "ru"
