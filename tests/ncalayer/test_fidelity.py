"""Where the emulator used to differ from real NCALayer, one test each (issue 14).

Real behaviour as the public clients show it: ``sigex-kz/ncalayer-js-client`` (its recorded
sessions, its presets) and ``pkigovkz/NCALayerJSExample``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from asn1crypto import cms
from cryptography import x509 as pyca_x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import SignatureConfiguration, XMLVerifier
from websockets.sync.client import connect

from docservice_testing.ncalayer import running_emulator
from docservice_testing.ncalayer.keystore import EmulatorKey
from signing.cms_util import signer_info_digest, timestamp_info
from signing.ncalayer import protocol as p
from tests.ncalayer.conftest import TEST_KEYS, call, call1, with_key
from tests.pki.making import key_of, make_cert

DATA = "Өтініш / Заявление №42".encode()
B64 = base64.b64encode(DATA).decode()


def _cms(text: str) -> cms.SignedData:
    return cms.ContentInfo.load(p.normalize_cms(text))["content"]


def test_basics_xml_answers_a_one_element_list(emulator) -> None:  # type: ignore[no-untyped-def]
    answer = call1(emulator, p.basics_sign_xml("<tag>data</tag>", signer=TEST_KEYS).to_message())
    result = p.parse_basics_response(answer)
    assert isinstance(result, list) and len(result) == 1
    assert result[0].startswith('<?xml version="1.0" encoding="UTF-8" standalone="no"?><tag>')
    # One CMS document still answers a string.
    cms_answer = p.parse_basics_response(
        call1(emulator, p.basics_sign_cms(B64, signer=TEST_KEYS).to_message())
    )
    assert isinstance(cms_answer, str)


def test_create_cms_signature_from_base64_is_time_stamped(emulator, trust) -> None:  # type: ignore[no-untyped-def]
    answer = p.parse_common_response(
        call1(emulator, p.create_cms_signature_from_base64(B64, attach=True).to_message())
    )
    signed = _cms(answer)
    assert signed["encap_content_info"]["content"].native == DATA
    info = signed["signer_infos"][0]
    tst = timestamp_info(info)
    assert tst is not None
    assert (
        tst["message_imprint"]["hashed_message"].native
        == hashlib.sha256(info["signature"].native).digest()
    )


def test_tsa_profile_without_tsa_url_uses_the_emulators_own_tsa(pki, keys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The library's presets all carry ``tsaProfile: {}``; NCALayer time-stamps with its
    default TSA, so must the emulator without ``--tsa-url``. openssl verifies the token."""
    with running_emulator([keys["career"]], port=0) as own:
        answer = call1(own, p.basics_sign_cms(B64, tsa=True, signer=TEST_KEYS).to_message())
    signed = _cms(p.parse_basics_response(answer))
    info = signed["signer_infos"][0]
    token = next(
        a["values"][0]
        for a in info["unsigned_attrs"]
        if a["type"].native == "signature_time_stamp_token"
    )
    tst = token["content"]["encap_content_info"]["content"].parsed
    assert (
        tst["message_imprint"]["hashed_message"].native
        == hashlib.sha256(info["signature"].native).digest()
    )
    tsa_cert = next(c.chosen for c in token["content"]["certificates"])
    (tmp_path / "token.der").write_bytes(token.dump())
    (tmp_path / "tsa.pem").write_bytes(
        pyca_x509.load_der_x509_certificate(tsa_cert.dump()).public_bytes(
            serialization.Encoding.PEM
        )
    )
    result = subprocess.run(
        [
            "openssl",
            "cms",
            "-verify",
            "-inform",
            "DER",
            "-in",
            str(tmp_path / "token.der"),
            "-CAfile",
            str(tmp_path / "tsa.pem"),
            "-purpose",
            "timestampsign",
            "-out",
            str(tmp_path / "tst.der"),
            "-binary",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "tst.der").read_bytes() == tst.dump()


def test_key_info_dates_are_epoch_milliseconds(emulator, keys) -> None:  # type: ignore[no-untyped-def]
    info = p.parse_common_response(call1(emulator, p.get_key_info().to_message()))
    validity = keys["career"].certificate["tbs_certificate"]["validity"]
    for field, name in (("certNotBefore", "not_before"), ("certNotAfter", "not_after")):
        assert isinstance(info[field], str) and info[field].isdigit()
        # What public pages do: new Date(Number(certNotAfter)).
        moment = dt.datetime.fromtimestamp(int(info[field]) / 1000, dt.UTC)
        assert moment == validity[name].native.replace(microsecond=0)
    assert info["keyId"] == keys["career"].certificate.key_identifier.hex()


def test_key_id_without_a_subject_key_identifier() -> None:
    cert = make_cert(use_rsa=True, subject=[(NameOID.COMMON_NAME, "NO SKI")])
    private = key_of(cert)
    assert isinstance(private, rsa.RSAPrivateKey)
    assert cert.key_identifier is None
    info = EmulatorKey("noski", private, cert).key_info()
    # RFC 5280 4.2.1.2 (1): SHA-1 of the subjectPublicKey bits, as an SKI would be.
    expected = pyca_x509.SubjectKeyIdentifier.from_public_key(private.public_key()).digest
    assert info["keyId"] == expected.hex()


def test_a_digest_of_any_length_is_signed(emulator) -> None:  # type: ignore[no-untyped-def]
    """The library's recorded session signs "MTEK" (3 bytes) as a hash: NCALayer signs it."""
    for raw in (b"123", hashlib.sha384(b"x").digest()):
        answer = call1(
            emulator,
            p.basics_sign_cms(
                base64.b64encode(raw).decode(), digested=True, signer=TEST_KEYS
            ).to_message(),
        )
        assert signer_info_digest(_cms(p.parse_basics_response(answer))["signer_infos"][0]) == raw
    empty = call1(emulator, p.create_cades_from_base64_hash("").to_message())
    assert empty["code"] == "500"


def test_string_booleans_are_accepted(emulator) -> None:  # type: ignore[no-untyped-def]
    """Pages reading radio buttons send "true"/"false" (NCALayerJSExample does)."""
    message = p.basics_sign_cms(B64, signer=TEST_KEYS).to_message()
    message["args"]["signingParams"] = {
        "decode": "true",
        "encapsulate": "TRUE",
        "digested": "false",
    }
    signed = _cms(p.parse_basics_response(call1(emulator, message)))
    assert signed["encap_content_info"]["content"].native == DATA
    message["args"]["signingParams"] = {"decode": "yes"}
    assert call1(emulator, message)["status"] is False


def test_test_ca_keys_need_chain(emulator, keys) -> None:  # type: ignore[no-untyped-def]
    offered: list[list[EmulatorKey]] = []

    def record(keys_offered, request):  # type: ignore[no-untyped-def]
        offered.append(keys_offered)
        return keys_offered[0] if keys_offered else None

    emulator.choose = record
    without = call1(emulator, p.basics_sign_cms(B64, signer=p.SignerParams()).to_message())
    assert without == {"status": True, "body": {}} and offered == []
    with_chain = call1(emulator, p.basics_sign_cms(B64, signer=TEST_KEYS).to_message())
    assert with_chain["status"] is True and "result" in with_chain["body"]
    # A production key (NCA RK's production CA) is offered without a chain.
    production = replace(keys["hr"], production=True)
    with running_emulator([keys["career"], production], port=0) as mixed:
        signed = _cms(
            p.parse_basics_response(
                call1(mixed, p.basics_sign_cms(B64, signer=p.SignerParams()).to_message())
            )
        )
    assert signed["signer_infos"][0]["sid"].chosen["serial_number"].native == (
        keys["hr"].certificate.serial_number
    )


def test_tbs_element_xpath_signs_one_element(emulator, keys) -> None:  # type: ignore[no-untyped-def]
    xml = "<doc><part Id='p1'>signed</part><other>not signed</other></doc>"
    answer = p.parse_common_response(
        call1(emulator, p.sign_xml(xml, tbs_xpath="//part", parent_xpath="/doc/other").to_message())
    )
    root = etree.fromstring(answer.encode())
    sig = root.find("other/{http://www.w3.org/2000/09/xmldsig#}Signature")
    assert sig is not None
    assert sig.find(".//{http://www.w3.org/2000/09/xmldsig#}Reference").get("URI") == "#p1"
    cert = pyca_x509.load_der_x509_certificate(keys["career"].certificate.dump())
    result = XMLVerifier().verify(
        answer.encode(),
        x509_cert=cert,
        expect_config=(SignatureConfiguration(location="./other/", expect_references=1)),
    )
    assert result.signed_data == b'<part Id="p1">signed</part>'
    missing = call1(emulator, p.sign_xml(xml, tbs_xpath="//other").to_message())
    assert missing["code"] == "500" and "Id" in missing["message"]


def test_output_cert(emulator, keys) -> None:  # type: ignore[no-untyped-def]
    message = p.basics_sign_cms([B64, B64], signer=TEST_KEYS).to_message()
    message["args"]["signingParams"]["outputCert"] = True
    result = call1(emulator, message)["body"]["result"]
    assert set(result) == {"signatures", "certificate"}
    assert len(result["signatures"]) == 2
    assert p.normalize_cms(result["signatures"][0])
    pem_cert = pyca_x509.load_pem_x509_certificate(result["certificate"].encode())
    assert pem_cert.serial_number == keys["career"].certificate.serial_number


def test_allow_expired_and_allow_revoked(pki) -> None:  # type: ignore[no-untyped-def]
    expired = EmulatorKey.from_p12(pki.p12("expired"), pki.password, alias="expired")
    revoked = replace(
        EmulatorKey.from_p12(pki.p12("revoked"), pki.password, alias="revoked"), revoked=True
    )
    assert expired.expired()
    with running_emulator([expired, revoked], port=0) as emu:
        for key, flag in ((expired, "allowExpired"), (revoked, "allowRevoked")):
            message = p.basics_sign_cms(
                B64, signer=p.SignerParams(serial_number=key.serial_hex, chain=())
            ).to_message()
            assert call1(emu, message) == {"status": True, "body": {}}  # not offered
            message["args"]["signingParams"][flag] = True
            signed = _cms(p.parse_basics_response(call1(emu, message)))
            sid = signed["signer_infos"][0]["sid"].chosen
            assert sid["serial_number"].native == key.certificate.serial_number


def test_accessory_module_is_accepted_without_an_answer(emulator) -> None:  # type: ignore[no-untyped-def]
    with connect(emulator.url, ssl=emulator.client_ssl_context(), open_timeout=5) as ws:
        ws.recv(timeout=5)
        for method in ("showSettings", "showBundleManager"):
            ws.send(json.dumps({"module": p.ACCESSORY, "method": method}))
        ws.send(p.dumps(p.get_key_info().to_message()))
        # The first answer is getKeyInfo's: the accessory calls got none.
        assert "responseObject" in json.loads(ws.recv(timeout=10))
        with pytest.raises(TimeoutError):
            ws.recv(timeout=0.5)


def test_missing_tls_dir_is_created_and_a_bad_one_is_a_clear_error(
    keys,
    tmp_path: Path,  # type: ignore[no-untyped-def]
    pki,
) -> None:
    missing = tmp_path / "a" / "b"
    with running_emulator([keys["career"]], port=0, tls_dir=missing) as emu:
        assert emu.cert_path is not None and emu.cert_path.parent == missing
        assert call(emu) == []
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    password = tmp_path / "password"
    password.write_text(pki.password)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "docservice_testing.ncalayer",
            "--p12",
            str(pki.p12("career")),
            "--password-file",
            str(password),
            "--port",
            "0",
            "--tls-dir",
            str(blocker / "x"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "--tls-dir" in result.stderr and "Traceback" not in result.stderr


def test_cancel_is_the_real_shape_for_every_route(emulator) -> None:  # type: ignore[no-untyped-def]
    emulator.choose = lambda offered, request: None
    answers = call(
        emulator,
        p.basics_sign_xml("<a/>", signer=TEST_KEYS).to_message(),
        p.create_cms_signature_from_base64(B64).to_message(),
        p.sign_xmls(["<a/>"]).to_message(),
    )
    assert answers == [
        {"status": True, "body": {}},
        {"code": "500", "message": "action.canceled"},
        {"code": "500", "message": "action.canceled"},
    ]


def test_co_signing_with_a_time_stamp_stamps_the_new_signer(emulator, keys, trust) -> None:  # type: ignore[no-untyped-def]
    """The token goes to the new SignerInfo, wherever DER's sorted SET OF puts it."""
    first = p.parse_common_response(
        call1(emulator, p.create_cades_from_base64(B64, attach=True).to_message())
    )
    for label in ("head", "hr", "akimat"):
        emulator.choose = with_key(keys, label)
        first = p.parse_common_response(
            call1(emulator, p.create_cms_signature_from_base64(first, attach=True).to_message())
        )
    signed = _cms(first)
    stamped = {
        i["sid"].chosen["serial_number"].native
        for i in signed["signer_infos"]
        if timestamp_info(i) is not None
    }
    assert stamped == {keys[k].certificate.serial_number for k in ("head", "hr", "akimat")}
