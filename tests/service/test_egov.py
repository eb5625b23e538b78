"""eGov mobile / eGov Business signing over real HTTP: the emulator plays the app.

Every test runs the service on a real socket and the emulator makes the app's calls as
the specification describes; refusals are checked for their 403 ``{"message"}`` in the
app's language and for leaving the document exactly as it was. The tests that take
``keys`` run twice: with the RSA test keys and with the GOST ones (GOST 34.10-2015 in NCA's
encodings, tests/pki/gost.py); a GOST CMS is checked by OpenSSL's Streebog and BouncyCastle,
as tests/gost does, where an RSA one is checked by ``openssl cms``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import shutil
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from asn1crypto import pem
from pyhanko.pdf_utils.reader import PdfFileReader

from docservice.service.app import create_service_app
from docservice.service.clients import add_client
from docservice.service.documents import DocService
from docservice.service.egov import MESSAGES
from docservice_testing.egov_mobile import EgovMobileEmulator, api1_url
from docservice_testing.ncalayer.keystore import EmulatorKey
from tests.conftest import example
from tests.pki import TestPki
from tests.service.http import Client

LABELS = ("career", "head", "career_auth", "authonly")


@pytest.fixture(scope="module")
def trust_dir(pki: TestPki, gpki, tmp_path_factory: pytest.TempPathFactory) -> Path:  # type: ignore[no-untyped-def]
    """Both hierarchies' anchors: the service trusts the RSA and the GOST test PKI."""
    folder = tmp_path_factory.mktemp("trust-both")
    shutil.copy(pki.root_pem, folder / "root.pem")
    shutil.copy(pki.ca_pem, folder / "ca.pem")
    for name in ("root", "ca"):
        cert = getattr(gpki, name)
        (folder / f"gost_{name}.pem").write_bytes(pem.armor("CERTIFICATE", cert.dump()))
    return folder


@pytest.fixture(scope="module", params=["rsa", "gost"])
def keys(request: pytest.FixtureRequest, pki: TestPki, gpki) -> dict[str, EmulatorKey]:  # type: ignore[no-untyped-def]
    """The same officials' keys, RSA or GOST (``gost_`` labels in the GOST PKI)."""
    if request.param == "rsa":
        return {
            label: EmulatorKey.from_p12(pki.p12(label), pki.password, alias=label)
            for label in LABELS
        }
    return {
        label: EmulatorKey.from_p12(gpki.p12(f"gost_{label}"), gpki.password, alias=label)
        for label in LABELS
    }


@pytest.fixture(scope="module")
def bc():  # type: ignore[no-untyped-def]
    from tests.gost.oracles import BouncyCastle

    oracle = BouncyCastle()
    yield oracle
    oracle.close()


def _independent_cms_check(
    cms_der: bytes, data: bytes, key: EmulatorKey, trust_dir: Path, tmp_path: Path, bc
) -> None:  # type: ignore[no-untyped-def]
    """Not our code: ``openssl cms -verify`` (RSA); OpenSSL's Streebog + BouncyCastle (GOST)."""
    from asn1crypto import cms

    if key.is_gost:
        from tests.gost.oracles import check_gost_signer_info

        info = cms.ContentInfo.load(cms_der)["content"]["signer_infos"][-1]
        check_gost_signer_info(bc, info, key.certificate, data)
        return
    (tmp_path / "sig.p7s").write_bytes(cms_der)
    (tmp_path / "data.bin").write_bytes(data)
    (tmp_path / "ca.pem").write_bytes(
        (trust_dir / "root.pem").read_bytes() + (trust_dir / "ca.pem").read_bytes()
    )
    check = subprocess.run(
        [
            "openssl",
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            str(tmp_path / "sig.p7s"),
            "-content",
            str(tmp_path / "data.bin"),
            "-CAfile",
            str(tmp_path / "ca.pem"),
            "-purpose",
            "any",
            "-out",
            "/dev/null",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 0, check.stderr


def _independent_xml_check(xml: bytes, key: EmulatorKey, bc) -> None:  # type: ignore[no-untyped-def]
    """The root's last enveloped signature, checked without our code or signxml: lxml's
    c14n, then OpenSSL's Streebog + BouncyCastle (GOST) or hashlib + cryptography (RSA)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    from lxml import etree

    ns = {"ds": "http://www.w3.org/2000/09/xmldsig#"}
    root = etree.fromstring(xml)
    signature = root.findall("ds:Signature", ns)[-1]
    signed_info = signature.find("ds:SignedInfo", ns)
    (reference,) = signed_info.findall("ds:Reference", ns)
    assert reference.get("URI") == ""
    transforms = [t.get("Algorithm") for t in reference.findall("ds:Transforms/ds:Transform", ns)]
    assert transforms[0] == "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
    c14n = (
        transforms[-1] if len(transforms) > 1 else "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
    )
    info_c14n = signed_info.find("ds:CanonicalizationMethod", ns).get("Algorithm")
    doc = etree.fromstring(xml)
    doc.remove(doc.findall("ds:Signature", ns)[-1])
    doc_bytes = etree.tostring(
        doc,
        method="c14n",
        exclusive="exc-c14n" in c14n,
        with_comments=c14n.endswith("WithComments"),
    )
    info_bytes = etree.tostring(
        signed_info,
        method="c14n",
        exclusive="exc-c14n" in info_c14n,
        with_comments=info_c14n.endswith("WithComments"),
    )
    digest_value = base64.b64decode(reference.find("ds:DigestValue", ns).text)
    value = base64.b64decode(signature.find("ds:SignatureValue", ns).text)
    method = signed_info.find("ds:SignatureMethod", ns).get("Algorithm")
    if key.is_gost:
        import signing.gost as gost
        from tests.gost.oracles import bc_verifies, openssl_streebog

        bits = 512 if method.endswith("-512") else 256
        assert method.startswith("urn:ietf:params:xml:ns:pkigovkz:xmlsec:algorithms:")
        assert digest_value == openssl_streebog(doc_bytes, bits)
        pub = gost.parse_public_key(
            key.certificate["tbs_certificate"]["subject_public_key_info"].dump()
        )
        assert bc_verifies(
            bc,
            pub.key,
            pub.curve.bouncycastle,
            pub.curve.size,
            openssl_streebog(info_bytes, bits),
            value,
        )
        return
    import hashlib

    from cryptography import x509 as pyca_x509

    assert method == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    assert digest_value == hashlib.sha256(doc_bytes).digest()
    public = pyca_x509.load_der_x509_certificate(key.certificate.dump()).public_key()
    public.verify(value, info_bytes, padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr]


def _served(
    service: DocService, ttl: float = 60, tsa_url: str | None = None
) -> Iterator[tuple[Client, DocService]]:
    """The app on a real socket, with DOCSERVICE_PUBLIC_URL set to where it listens."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    svc = DocService(
        service.settings.with_(
            public_url=f"http://127.0.0.1:{port}",
            egov_ttl=ttl,
            tsa_url=tsa_url,
            org_name_ru="Центр занятости",
            org_name_kz="Жұмыспен қамту орталығы",
            org_name_en="Employment centre",
            org_bin="051140004562",
            egov_back_url="https://portal.example.kz/done",
        ),
        db=service.db,
        store=service.store,
    )
    from werkzeug.serving import make_server

    app = create_service_app(service=svc)
    httpd = make_server("127.0.0.1", port, app, threaded=True)
    import threading

    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    with svc.db.session() as session:
        _, key = add_client(session, "portal", ["render", "sign"])
    try:
        yield Client(f"http://127.0.0.1:{port}", key, "ru"), svc
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def api(service: DocService) -> Iterator[tuple[Client, DocService]]:
    yield from _served(service)


def _app(
    link: str, p12: Path, password_file: Path, lang: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The eGov mobile app emulator's CLI (its console script) opening ``link``; without
    ``lang`` it answers in its default language."""
    script = Path(sys.executable).with_name("egov-mobile-emulator")
    args = [str(script), link, "--p12", str(p12), "--password-file", str(password_file)]
    if lang is not None:
        args += ["--lang", lang]
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


def _pem(key: EmulatorKey) -> str:
    return pem.armor("CERTIFICATE", key.certificate.dump()).decode()


def _document(client: Client) -> str:
    created = client.post("/v1/documents", {"kind": "direction", "data": example("direction")})
    assert created.status == 201, created.body
    return created.json["id"]


def _document_with_callback(client: Client, url: str) -> str:
    created = client.post(
        "/v1/documents", {"kind": "direction", "data": example("direction"), "callback_url": url}
    )
    assert created.status == 201, created.body
    return created.json["id"]


def _request(client: Client, doc_id: str, signer: EmulatorKey, **extra: str) -> dict:
    made = client.post(
        f"/v1/documents/{doc_id}/signatures/egov",
        {"app": "egov_mobile", "expected_signer": _pem(signer), **extra},
    )
    assert made.status == 201, made.body
    return made.json


def _count(client: Client, doc_id: str) -> int:
    return client.get(f"/v1/documents/{doc_id}").json["signature_count"]


@pytest.mark.parametrize("backend_url", ["sqlite", "postgresql"], indirect=True)
def test_qr_request_signed_by_the_app_joins_the_document(
    api,
    keys,
    trust_dir: Path,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    bc,
) -> None:
    client, _ = api
    doc_id = _document(client)
    made = _request(client, doc_id, keys["career"])
    payload = made["qr"]["payload"]
    assert payload.startswith("mobileSign:http://127.0.0.1:") and "mgovSign" in payload
    assert base64.b64decode(made["qr"]["png"])[:8] == b"\x89PNG\r\n\x1a\n"
    assert made["qr"]["svg"].lstrip().startswith("<?xml") and "<svg" in made["qr"]["svg"]
    link = made["links"]["egov_mobile"]
    assert link.startswith("https://m.egov.kz/mobileSign/?link=")
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)["link"][
        0
    ] == payload.removeprefix("mobileSign:")
    business = made["links"]["egov_business"]
    assert business.startswith("https://egovbusiness.page.link/?link=")
    assert "apn=kz.mobile.mgov.business" in business and "isi=1597880144" in business
    assert api1_url(business) == api1_url(payload)
    assert dt.datetime.fromisoformat(made["expires_at"]) > dt.datetime.now(dt.UTC)

    phone = EgovMobileEmulator(keys["career"], lang="kk")
    first = phone.fetch_api1(payload)
    assert first.status == 200
    assert first.body["organisation"] == {
        "nameRu": "Центр занятости",
        "nameKz": "Жұмыспен қамту орталығы",
        "nameEn": "Employment centre",
        "bin": "051140004562",
    }
    assert first.body["document"]["auth_type"] == "Token"
    assert first.body["document"]["uri"].startswith(client.base + "/egov/mgovSign/")
    docs = phone.fetch_documents()
    assert docs.status == 200 and docs.body["signMethod"] == "CMS_SIGN_ONLY"
    item = docs.body["documentsToSign"][0]
    assert item["document"]["file"]["mime"] == "application/pdf"
    assert {"nameRu", "nameKz", "nameEn", "meta", "id"} <= set(item)
    phone.sign()
    done = phone.put()
    assert done.status == 200, done.body
    assert done.body == {"status": "success", "backUrl": "https://portal.example.kz/done"}

    status = client.get(made["links"]["status"]).json
    assert status["state"] == "signed" and status["signature"]["n"] == 1
    assert status["signature"]["timestamp"] == "none"
    got = client.get(f"/v1/documents/{doc_id}").json
    assert got["signature_count"] == 1
    assert got["signatures"][0]["method"] == "egov_mobile"
    assert got["verification"]["verdict"] == "TOTAL_PASSED", got["verification"]
    # The same archive entries as any signature: the PDF revision and its CMS.
    pdf = client.get(f"/v1/documents/{doc_id}/pdf").body
    sigs = PdfFileReader(__import__("io").BytesIO(pdf)).embedded_regular_signatures
    assert len(sigs) == 1
    assert sigs[0].signer_cert.dump() == keys["career"].certificate.dump()
    # What the app signed is exactly the embedded signature's ByteRange (PAdES).
    o1, l1, o2, l2 = (int(v) for v in sigs[0].sig_object["/ByteRange"])
    assert pdf[o1 : o1 + l1] + pdf[o2 : o2 + l2] == base64.b64decode(
        item["document"]["file"]["data"]
    )
    cms_der = client.get(f"/v1/documents/{doc_id}/signatures/1").body
    # An implementation other than ours agrees: the app's CMS signs the bytes it was given.
    _independent_cms_check(
        cms_der,
        base64.b64decode(item["document"]["file"]["data"]),
        keys["career"],
        trust_dir,
        tmp_path,
        bc,
    )

    # One use: the replayed PUT and a fresh read of API №1 are refused.
    again = phone.put()
    assert again.status == 403 and again.body["message"] == MESSAGES["used"]["kk"]
    assert phone.fetch_api1(payload).status == 403
    assert _count(client, doc_id) == 1

    # A second official signs the next revision the same way, through eGov Business.
    made2 = client.post(
        f"/v1/documents/{doc_id}/signatures/egov",
        {"app": "egov_business", "expected_signer": _pem(keys["head"])},
    ).json
    assert EgovMobileEmulator(keys["head"]).run(made2["links"]["egov_business"]).status == 200
    got = client.get(f"/v1/documents/{doc_id}").json
    assert [s["method"] for s in got["signatures"]] == ["egov_mobile", "egov_business"]
    assert got["verification"]["verdict"] == "TOTAL_PASSED", got["verification"]


@pytest.mark.parametrize("backend_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_refusals_store_nothing_and_speak_the_apps_language(api, keys, lang: str) -> None:  # type: ignore[no-untyped-def]
    client, _ = api
    doc_id = _document(client)
    made = _request(client, doc_id, keys["career"])
    payload = made["qr"]["payload"]

    # Signed by another person.
    other = EgovMobileEmulator(keys["head"], lang=lang)
    assert other.fetch_api1(payload).status == 200 and other.fetch_documents().status == 200
    other.sign()
    refused = other.put()
    assert refused.status == 403
    assert refused.body["message"] == MESSAGES["other_person"][lang]
    assert refused.headers["Content-Language"] == lang

    # Data altered before signing (the CMS signs other bytes).
    phone = EgovMobileEmulator(keys["career"], lang=lang)
    phone.fetch_api1(payload)
    phone.fetch_documents()
    phone.alter_data = lambda data: data.replace(b"/Type", b"/Typo", 1)
    phone.sign()
    refused = phone.put()
    assert refused.status == 403 and refused.body["message"] == MESSAGES["altered"][lang]

    # The object changed around the data (another document id in meta).
    phone.alter_data = None
    signed = phone.sign()
    tampered = json.loads(json.dumps(signed))
    tampered["documentsToSign"][0]["meta"][0]["value"] = "0" * 32
    refused = phone.put(tampered)
    assert refused.status == 403 and refused.body["message"] == MESSAGES["altered"][lang]

    # No token, or another token.
    no_auth = phone.call("PUT", phone.api1["document"]["uri"], signed)
    assert no_auth.status == 403
    assert no_auth.body["message"] == MESSAGES["unauthorized"][lang]
    assert (
        phone.call(
            "GET", phone.api1["document"]["uri"], headers={"Authorization": "Bearer nope"}
        ).status
        == 403
    )

    assert _count(client, doc_id) == 0
    # None of that used the request up: the right official still signs.
    assert phone.put().status == 200
    assert _count(client, doc_id) == 1


@pytest.mark.parametrize("backend_url", ["sqlite"], indirect=True)
def test_without_an_nca_time_stamp_the_service_adds_its_own(
    service: DocService,
    keys,  # type: ignore[no-untyped-def]
    pki: TestPki,
) -> None:
    from asn1crypto import cms

    for client, _ in _served(service, tsa_url=pki.tsa_url):
        doc_id = _document(client)
        made = _request(client, doc_id, keys["career"])
        phone = EgovMobileEmulator(keys["career"])
        assert phone.run(made["qr"]["payload"]).status == 200
        status = client.get(made["links"]["status"]).json
        assert status["signature"]["timestamp"] == "service_tsa"
        der = client.get(f"/v1/documents/{doc_id}/signatures/1").body
        info = cms.ContentInfo.load(der)["content"]["signer_infos"][0]
        assert [a["type"].native for a in info["unsigned_attrs"]] == ["signature_time_stamp_token"]
        got = client.get(f"/v1/documents/{doc_id}").json
        assert got["verification"]["verdict"] == "TOTAL_PASSED", got["verification"]


@pytest.mark.parametrize("backend_url", ["sqlite"], indirect=True)
def test_a_late_put_is_refused(service: DocService, keys) -> None:  # type: ignore[no-untyped-def]
    for client, svc in _served(service):
        doc_id = _document(client)
        made = client.post(
            f"/v1/documents/{doc_id}/signatures/egov",
            {"app": "egov_mobile", "expected_signer": _pem(keys["career"])},
        )
        assert made.status == 201
        phone = EgovMobileEmulator(keys["career"], lang="ru")
        phone.fetch_api1(made.json["qr"]["payload"])
        phone.fetch_documents()
        phone.sign()
        from sqlalchemy import update

        from docservice.service.models import EgovRequest

        # Late: the request's expiry passes between signing and the PUT.
        with svc.db.session() as session:
            session.execute(
                update(EgovRequest).values(
                    expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
                )
            )
        late = phone.put()
        assert late.status == 403 and late.body["message"] == MESSAGES["expired"]["ru"]
        assert _count(client, doc_id) == 0
        assert client.get(made.json["links"]["status"]).json["state"] == "expired"


@pytest.mark.parametrize("backend_url", ["sqlite"], indirect=True)
def test_real_expiry_and_bad_requests(service: DocService, keys) -> None:  # type: ignore[no-untyped-def]
    for client, _ in _served(service, ttl=1.5):
        doc_id = _document(client)
        base = f"/v1/documents/{doc_id}/signatures/egov"
        bad = client.post(base, {"app": "kaspi", "expected_signer": _pem(keys["career"])})
        assert bad.status == 422 and bad.json["errors"][0]["field"] == "app"
        bad = client.post(base, {"app": "egov_mobile"})
        assert bad.status == 422 and bad.json["errors"][0]["field"] == "expected_signer"
        bad = client.post(
            base,
            {
                "app": "egov_mobile",
                "expected_signer": _pem(keys["career"]),
                "sign_method": "SIGN_BYTES_ARRAY",
            },
        )
        assert bad.status == 422 and bad.json["errors"][0]["field"] == "sign_method"
        auth_only = client.post(
            base, {"app": "egov_mobile", "expected_signer": _pem(keys["authonly"])}
        )
        assert auth_only.status == 422
        assert (
            client.post(
                "/v1/documents/nope/signatures/egov",
                {"app": "egov_mobile", "expected_signer": _pem(keys["career"])},
            ).status
            == 404
        )
        assert Client(client.base).post(base, {"app": "egov_mobile"}).status == 401
        made = _request(client, doc_id, keys["career"])
        time.sleep(1.6)
        phone = EgovMobileEmulator(keys["career"], lang="en")
        answer = phone.fetch_api1(made["qr"]["payload"])
        assert answer.status == 403 and answer.body["message"] == MESSAGES["expired"]["en"]
        unknown = phone.call("GET", client.base + "/egov/mgovSign/nothing-here")
        assert unknown.status == 403
        assert unknown.body["message"] == MESSAGES["unknown_request"]["en"]


@pytest.mark.parametrize("backend_url", ["sqlite"], indirect=True)
def test_eds_login_with_the_officials_authentication_key(api, keys, bc) -> None:  # type: ignore[no-untyped-def]
    client, _ = api
    doc_id = _document(client)
    made = _request(client, doc_id, keys["career"], auth_type="Eds")
    payload = made["qr"]["payload"]
    uri_phone = EgovMobileEmulator(keys["career"], auth_key=keys["career"], lang="ru")
    assert uri_phone.fetch_api1(payload).body["document"]["auth_type"] == "Eds"

    # A signing key is not an authentication key.
    refused = uri_phone.fetch_documents()
    assert refused.status == 403
    assert refused.body["message"] == MESSAGES["login_certificate"]["ru"]
    # Another person's authentication key (and one that cannot sign: keyEncipherment only).
    stranger = EgovMobileEmulator(keys["career"], auth_key=keys["authonly"], lang="ru")
    stranger.fetch_api1(payload)
    assert stranger.fetch_documents().status == 403
    # A login signed too long ago.
    phone = EgovMobileEmulator(keys["career"], auth_key=keys["career_auth"], lang="ru")
    phone.fetch_api1(payload)
    old = phone.fetch_documents(login_time=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    assert old.status == 403 and old.body["message"] == MESSAGES["login_late"]["ru"]
    # A login for another request's URL, and a tampered login.
    from docservice_testing.egov_mobile import login_xml

    wrong_url = login_xml(keys["career_auth"], client.base + "/egov/mgovSign/other/documents")
    assert phone.call("POST", phone.api1["document"]["uri"], {"xml": wrong_url}).status == 403
    good = login_xml(keys["career_auth"], phone.api1["document"]["uri"])
    _independent_xml_check(good.encode(), keys["career_auth"], bc)
    forged = good.replace("<timeStamp>", "<timeStamp>2", 1)
    refused = phone.call("POST", phone.api1["document"]["uri"], {"xml": forged})
    assert refused.status == 403 and refused.body["message"] == MESSAGES["login_invalid"]["ru"]
    # A PUT before any login is refused.
    phone.documents = {"signMethod": "CMS_SIGN_ONLY", "version": 1, "documentsToSign": []}
    assert phone.put().status == 403
    assert _count(client, doc_id) == 0

    assert phone.run(payload).status == 200
    got = client.get(f"/v1/documents/{doc_id}").json
    assert got["signature_count"] == 1
    assert got["verification"]["verdict"] == "TOTAL_PASSED"


@pytest.mark.parametrize("backend_url", ["sqlite"], indirect=True)
def test_console_emulator(
    api,
    keys,
    pki: TestPki,
    gpki,
    password_file: Path,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    client, _ = api
    doc_id = _document(client)
    made = _request(client, doc_id, keys["career"])
    if keys["career"].is_gost:
        p12 = {label: gpki.p12(f"gost_{label}") for label in ("career", "head")}
        password_file = tmp_path / "gost-password.txt"
        password_file.write_text(gpki.password + "\n", encoding="utf-8")
    else:
        p12 = {label: pki.p12(label) for label in ("career", "head")}
    wrong = _app(made["qr"]["payload"], p12["head"], password_file, "kk")
    assert wrong.returncode == 1, wrong.stderr
    assert json.loads(wrong.stdout)["body"]["message"] == MESSAGES["other_person"]["kk"]
    ok = _app(made["links"]["egov_mobile"], p12["career"], password_file)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["body"]["status"] == "success"
    assert _count(client, doc_id) == 1
    got = client.get(f"/v1/documents/{doc_id}").json
    assert got["verification"]["verdict"] == "TOTAL_PASSED", got["verification"]


def test_the_runtime_never_imports_the_emulator() -> None:
    code = (
        "import sys, docservice.service.app, docservice.cli; "
        "print(any(m.startswith('docservice_testing') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


def test_settings_from_the_environment() -> None:
    from docservice.service.config import from_env

    settings = from_env(
        {
            "DOCSERVICE_PUBLIC_URL": "https://docs.example.kz",
            "DOCSERVICE_EGOV_TTL": "120",
            "DOCSERVICE_ORG_BIN": "051140004562",
            "DOCSERVICE_ORG_NAME_RU": "Центр",
            "DOCSERVICE_EGOV_BACK_URL": "x",
        }
    )
    assert settings.public_url == "https://docs.example.kz" and settings.egov_ttl == 120
    assert settings.org_bin == "051140004562" and settings.org_name_ru == "Центр"


@pytest.mark.parametrize("backend_url", ["sqlite"], indirect=True)
def test_mix_sign_signs_the_pdf_and_the_xml_together(api, keys, bc) -> None:  # type: ignore[no-untyped-def]
    from lxml import etree

    client, _ = api
    doc_id = _document(client)
    made = _request(client, doc_id, keys["career"], sign_method="MIX_SIGN")
    phone = EgovMobileEmulator(keys["career"], lang="ru")
    phone.fetch_api1(made["qr"]["payload"])
    docs = phone.fetch_documents().body
    assert docs["signMethod"] == "MIX_SIGN"
    pdf_item, xml_item = docs["documentsToSign"]
    assert pdf_item["signMethod"] == "CMS_SIGN_ONLY" and "document" in pdf_item
    assert xml_item["signMethod"] == "XML"
    assert xml_item["documentXml"].encode() == client.get(f"/v1/documents/{doc_id}/xml").body

    # The XML signed by another person: refused, and neither the PDF nor the XML changes.
    other = EgovMobileEmulator(keys["head"])
    other.documents = docs
    mixed = phone.sign()
    mixed["documentsToSign"][1] = other.sign()["documentsToSign"][1]
    refused = phone.put(mixed)
    assert refused.status == 403 and refused.body["message"] == MESSAGES["other_person"]["ru"]
    # The XML changed inside the signed document: refused as well.
    tampered = phone.sign()
    xml_signed = tampered["documentsToSign"][1]["documentXml"]
    tampered["documentsToSign"][1]["documentXml"] = xml_signed.replace("</", " </", 1)
    assert phone.put(tampered).status == 403
    before = client.get(f"/v1/documents/{doc_id}/xml").body
    assert before.decode() == xml_item["documentXml"] and _count(client, doc_id) == 0

    assert phone.put(phone.sign()).status == 200
    got = client.get(f"/v1/documents/{doc_id}").json
    assert got["signature_count"] == 1
    assert got["verification"]["verdict"] == "TOTAL_PASSED"
    signed_xml = client.get(f"/v1/documents/{doc_id}/xml").body
    root = etree.fromstring(signed_xml)
    assert len(root.findall("{http://www.w3.org/2000/09/xmldsig#}Signature")) == 1
    _independent_xml_check(signed_xml, keys["career"], bc)
    with pytest.raises(AssertionError):  # the oracle sees a changed document
        _independent_xml_check(signed_xml.replace(b"</", b" </", 1), keys["career"], bc)
    assert client.get(made["links"]["status"]).json["xml_signed"] is True

    # XML alone, by the next official: one more enveloped signature, no PDF revision.
    only = _request(client, doc_id, keys["head"], sign_method="XML")
    assert EgovMobileEmulator(keys["head"]).run(only["qr"]["payload"]).status == 200
    signed_xml = client.get(f"/v1/documents/{doc_id}/xml").body
    root = etree.fromstring(signed_xml)
    assert len(root.findall("{http://www.w3.org/2000/09/xmldsig#}Signature")) == 2
    _independent_xml_check(signed_xml, keys["head"], bc)
    assert _count(client, doc_id) == 1


def test_under_gunicorn_with_the_console_emulator(
    tmp_path: Path, trust_dir: Path, pki: TestPki, password_file: Path
) -> None:
    """The production server (``docservice serve``, two workers) and the app's emulator
    as a separate program: configuration from the environment only."""
    import os
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    env = dict(
        os.environ,
        DOCSERVICE_DATA_DIR=str(tmp_path / "var"),
        DOCSERVICE_TRUST_DIR=str(trust_dir),
        DOCSERVICE_PUBLIC_URL=base,
        DOCSERVICE_ORG_NAME_RU="Центр",
        DOCSERVICE_ORG_NAME_KZ="Орталық",
        DOCSERVICE_ORG_NAME_EN="Centre",
        DOCSERVICE_ORG_BIN="051140004562",
        DOCSERVICE_EGOV_TTL="120",
        DOCSERVICE_EGOV_BACK_URL="https://portal.kz/back",
    )
    env.pop("DOCSERVICE_DATABASE_URL", None)
    docservice = [sys.executable, "-m", "docservice"]
    key = subprocess.run(
        [*docservice, "clients", "add", "portal", "--scopes", "render,sign"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout.strip()
    proc = subprocess.Popen(
        [*docservice, "serve", "--port", str(port), "--workers", "2"],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        assert f":{port}/" in proc.stdout.readline()
        client = Client(base, key, "ru")
        doc_id = _document(client)
        made = client.post(
            f"/v1/documents/{doc_id}/signatures/egov",
            {
                "app": "egov_business",
                "expected_signer": _pem(EmulatorKey.from_p12(pki.p12("career"), pki.password)),
            },
        )
        assert made.status == 201, made.body
        assert made.json["qr"]["payload"] == f"mobileSign:{base}/egov/mgovSign/{made.json['id']}"
        ran = _app(made.json["links"]["egov_business"], pki.p12("career"), password_file, "en")
        assert ran.returncode == 0, ran.stdout + ran.stderr
        assert json.loads(ran.stdout)["body"] == {
            "status": "success",
            "backUrl": "https://portal.kz/back",
        }
        replay = _app(made.json["qr"]["payload"], pki.p12("career"), password_file, "en")
        assert replay.returncode == 1
        assert json.loads(replay.stdout)["body"]["message"] == MESSAGES["used"]["en"]
        got = client.get(f"/v1/documents/{doc_id}").json
        assert got["signatures"][0]["method"] == "egov_business"
        assert got["verification"]["verdict"] == "TOTAL_PASSED"
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


@pytest.mark.parametrize("backend_url", ["sqlite"], indirect=True)
def test_the_apps_endpoints_answer_json_even_to_nonsense(api, keys) -> None:  # type: ignore[no-untyped-def]
    client, _ = api
    doc_id = _document(client)
    made = _request(client, doc_id, keys["career"])
    phone = EgovMobileEmulator(keys["career"], lang="kk")
    phone.fetch_api1(made["qr"]["payload"])
    uri = phone.api1["document"]["uri"]
    auth = {"Authorization": f"Bearer {phone.api1['document']['auth_token']}"}
    for body in (None, [], {"documentsToSign": "x"}, {"signMethod": "XML", "documentsToSign": []}):
        answer = Client("", lang="ru").request(
            "PUT", uri, body, headers=auth, raw=b"not json" if body is None else None
        )
        assert answer.status == 403, answer.body
        assert answer.json["message"] == MESSAGES["altered"]["ru"]
    # A Token request does not take an Eds login.
    assert phone.call("POST", uri, {"xml": "<login/>"}).status == 403
    assert _count(client, doc_id) == 0


@pytest.mark.parametrize("backend_url", ["sqlite"], indirect=True)
def test_a_webhook_fires_when_an_egov_signature_joins(api, keys) -> None:  # type: ignore[no-untyped-def]
    """The client's callback_url, a real HTTP receiver: one ``document.signed`` for the PDF
    signature from the phone and one for an XML-only signature, HMAC-signed; a refused PUT
    announces nothing."""
    from sqlalchemy import select

    from docservice.service.models import Client as ClientRow
    from docservice.service.webhooks import HEADER, Deliverer, verify
    from tests.service.test_webhooks import Receiver, _deliver_until

    client, svc = api
    receiver = Receiver(fail_first=0)
    try:
        doc_id = _document_with_callback(client, receiver.url)
        made = _request(client, doc_id, keys["career"])
        other = EgovMobileEmulator(keys["head"])
        assert other.run(made["qr"]["payload"]).status == 403
        deliverer = Deliverer(svc, base_delay=0.1)
        assert deliverer.deliver_due() == 0 and receiver.received == []
        assert EgovMobileEmulator(keys["career"]).run(made["qr"]["payload"]).status == 200
        _deliver_until(deliverer, lambda: len(receiver.received) == 1)
        only = _request(client, doc_id, keys["head"], sign_method="XML")
        assert EgovMobileEmulator(keys["head"]).run(only["qr"]["payload"]).status == 200
        _deliver_until(deliverer, lambda: len(receiver.received) == 2)
    finally:
        receiver.close()
    with svc.db.sessions() as session:
        secret = session.scalar(select(ClientRow.webhook_secret).where(ClientRow.name == "portal"))
    (h1, b1), (h2, b2) = receiver.received
    assert verify(h1[HEADER], b1, secret) and verify(h2[HEADER], b2, secret)
    pdf_event, xml_event = json.loads(b1), json.loads(b2)
    assert pdf_event["event"] == xml_event["event"] == "document.signed"
    assert pdf_event["data"] == {
        "document_id": doc_id,
        "signature": 1,
        "signature_count": 1,
        "status": "signed",
        "method": "egov_mobile",
    }
    assert xml_event["data"] == {
        "document_id": doc_id,
        "signature": None,
        "signature_count": 1,
        "status": "signed",
        "method": "egov_mobile",
        "xml_signed": True,
    }


@pytest.mark.parametrize("backend_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("keys", ["rsa"], indirect=True)  # the GOST test keys carry no BIN
def test_egov_signing_follows_the_route(api, keys) -> None:  # type: ignore[no-untyped-def]
    """The route's who-may-act check on the eGov path: at the request (the expected signer)
    and again when the app's signature comes back (the directory may have changed)."""
    from sqlalchemy import delete

    from docservice.pki.person import person_of
    from docservice.service.models import Organisation
    from docservice.service.route import add_org

    client, svc = api
    career_bin = person_of(keys["career"].certificate).bin

    def directory() -> None:
        with svc.db.session() as session:
            add_org(session, career_bin, "career_centre", "Region A")

    directory()
    assert (
        client.post(
            "/v1/cases",
            {"case_ref": "E-1", "departure_region": "Region A", "settlement_region": "Region B"},
        ).status
        == 201
    )
    doc = client.post(
        "/v1/documents",
        {
            "kind": "application",
            "data": example("application"),
            "case_ref": "E-1",
            "route": "application",
        },
    ).json
    refused = client.post(
        f"/v1/documents/{doc['id']}/signatures/egov",
        {"app": "egov_mobile", "expected_signer": _pem(keys["head"])},
    )
    assert refused.status == 403 and refused.json["errors"][0]["code"] == "role_missing"
    assert "п. 8" in refused.json["detail"]

    made = _request(client, doc["id"], keys["career"])
    with svc.db.session() as session:  # the operator withdraws the centre before the PUT
        session.execute(delete(Organisation))
    answer = EgovMobileEmulator(keys["career"], lang="ru").run(made["qr"]["payload"])
    assert answer.status == 403 and "справочник организаций" in answer.body["message"]
    assert _count(client, doc["id"]) == 0

    directory()
    xml_only = client.post(
        f"/v1/documents/{doc['id']}/signatures/egov",
        {"app": "egov_mobile", "expected_signer": _pem(keys["career"]), "sign_method": "XML"},
    )
    assert xml_only.status == 422 and xml_only.json["errors"][0]["field"] == "sign_method"
    made = _request(client, doc["id"], keys["career"])
    assert EgovMobileEmulator(keys["career"]).run(made["qr"]["payload"]).status == 200
    route = client.get(f"/v1/documents/{doc['id']}/route").json
    assert route["step"]["id"] == "p9"
    assert route["events"][-1]["signature_seq"] == 1
