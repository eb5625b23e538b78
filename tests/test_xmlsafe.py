"""The one hardened XML parser: each hostile input against it, and no other parser in the code."""

from __future__ import annotations

import ast
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from docservice import xmlsafe
from tests.conftest import ROOT


@pytest.fixture
def dtd_server() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server that records every request (an external DTD must never reach it)."""
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            body = b'<!ENTITY leak "fetched">'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requests
    finally:
        server.shutdown()
        server.server_close()


def _xxe(path: Path) -> bytes:
    return (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file://{path}">]><r>&x;</r>'
    ).encode()


def _laughs(levels: int = 9) -> bytes:
    entities = '<!ENTITY l0 "lol">' + "".join(
        f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, levels + 1)
    )
    return (f'<?xml version="1.0"?><!DOCTYPE lolz [{entities}]><lolz>&l{levels};</lolz>').encode()


def test_xxe_does_not_read_the_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    with pytest.raises(xmlsafe.XmlRefusedError) as err:
        xmlsafe.parse(_xxe(secret))
    assert err.value.reason == "dtd"
    # Even where a DOCTYPE is allowed, the entity is neither loaded nor expanded.
    root = xmlsafe.parse(_xxe(secret), allow_doctype=True)
    assert b"TOP-SECRET" not in etree.tostring(root)
    assert b"TOP-SECRET" not in etree.tostring(etree.fromstring(_xxe(secret), xmlsafe.PARSER))


def test_billion_laughs_is_not_expanded() -> None:
    with pytest.raises(xmlsafe.XmlRefusedError) as err:
        xmlsafe.parse(_laughs())
    assert err.value.reason == "dtd"
    # Where a DOCTYPE is allowed: libxml2 stops the amplification, or nothing is expanded.
    for levels in (3, 9):
        try:
            root = xmlsafe.parse(_laughs(levels), allow_doctype=True)
        except xmlsafe.XmlRefusedError as exc:
            assert exc.reason == "unreadable"
            continue
        assert len(etree.tostring(root)) < 2000  # 10**levels "lol"s if it were expanded
        assert "lol" not in "".join(root.itertext())


def test_external_dtd_is_never_fetched(dtd_server: tuple[str, list[str]]) -> None:
    url, requests = dtd_server
    data = f'<?xml version="1.0"?><!DOCTYPE r SYSTEM "{url}/evil.dtd"><r>&leak;</r>'.encode()
    with pytest.raises(xmlsafe.XmlRefusedError):
        xmlsafe.parse(data)
    root = xmlsafe.parse(data, allow_doctype=True)
    assert b"fetched" not in etree.tostring(root)
    assert requests == []


def test_utf16_is_refused_before_parsing() -> None:
    data = "<?xml version='1.0' encoding='UTF-16'?><!DOCTYPE r []><r/>".encode("utf-16")
    with pytest.raises(xmlsafe.XmlRefusedError) as err:
        xmlsafe.parse(data)
    assert err.value.reason == "dtd"


def test_limits() -> None:
    with pytest.raises(xmlsafe.XmlRefusedError) as err:
        xmlsafe.parse(b"<a>" * 20 + b"</a>" * 20, max_depth=10)
    assert err.value.reason == "too_big"
    with pytest.raises(xmlsafe.XmlRefusedError) as err:
        xmlsafe.parse(b"<a>" + b"<b/>" * 20 + b"</a>", max_elements=10)
    assert err.value.reason == "too_big"
    # huge_tree stays off: libxml2's own depth cap holds without any max_depth.
    with pytest.raises(xmlsafe.XmlRefusedError) as err:
        xmlsafe.parse(b"<a>" * 5000 + b"</a>" * 5000)
    assert err.value.reason == "unreadable"
    with pytest.raises(xmlsafe.XmlRefusedError) as err:
        xmlsafe.parse(b"<a>")
    assert err.value.reason == "unreadable"


def test_what_signatures_cover_is_kept() -> None:
    data = b"<?xml version='1.0'?><r>\n  <!-- c --><?pi x?><a>t</a>\n</r>"
    root = xmlsafe.parse(data)
    assert etree.tostring(root) == b"<r>\n  <!-- c --><?pi x?><a>t</a>\n</r>"


def test_no_other_xml_parser_is_constructed() -> None:
    """Every ``XMLParser(...)`` of the runtime code is the one in docservice/xmlsafe.py."""
    found = []
    for package in ("docservice", "signing", "docservice_testing"):
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                name = (
                    node.func.attr
                    if isinstance(node.func, ast.Attribute)
                    else getattr(node.func, "id", "")
                )
                if name in ("XMLParser", "ETCompatXMLParser", "XMLPullParser"):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == ["docservice/xmlsafe.py:41"]
