"""The emulator over a real wss:// socket: greeting, answers, cancel, errors, limits."""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import ssl

import pytest
from asn1crypto import cms
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from docservice.pki.person import person_of
from docservice_testing.ncalayer import NCALayerEmulator, running_emulator
from signing.cms_util import signer_info_digest, timestamp_info
from signing.ncalayer import protocol as p
from tests.ncalayer.conftest import TEST_KEYS, call, call1, detached, with_key
from tests.pyhanko_oracle import all_valid, pyhanko_cms_statuses

DATA = "Өтініш / Заявление №42".encode()
B64 = base64.b64encode(DATA).decode()


def test_tls_is_required_and_trusted_only_by_pinning(emulator: NCALayerEmulator) -> None:
    assert emulator.url.startswith("wss://127.0.0.1:")
    # The system store does not know the self-signed certificate.
    with pytest.raises(ssl.SSLCertVerificationError):
        connect(emulator.url, ssl=ssl.create_default_context(), open_timeout=5)
    assert call(emulator) == []  # greeting checked inside


def test_no_session_ticket_races_the_upgrade_request(emulator: NCALayerEmulator) -> None:
    """A TLS 1.3 ticket arriving while websockets' sync client writes its upgrade request
    (its reader thread and its writer share one OpenSSL connection) could lose the request:
    the emulator issues none, so the first record it sends answers the request."""
    with (
        socket.create_connection((emulator.host, emulator.port), timeout=10) as raw,
        emulator.client_ssl_context().wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        assert tls.version() == "TLSv1.3"
        key = base64.b64encode(b"0123456789abcdef").decode()
        tls.sendall(
            f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{emulator.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        assert tls.recv(4096).startswith(b"HTTP/1.1 101 ")
        assert tls.session is not None and not tls.session.has_ticket


def test_loopback_only() -> None:
    with pytest.raises(ValueError, match="loopback"):
        NCALayerEmulator([], host="0.0.0.0")


def test_get_key_info(emulator, keys) -> None:  # type: ignore[no-untyped-def]
    info = p.parse_common_response(call1(emulator, p.get_key_info().to_message()))
    cert = keys["career"].certificate
    assert info["serialNumber"] == format(cert.serial_number, "x")
    assert info["subjectCn"] == cert.subject.native["common_name"]
    assert "BEGIN CERTIFICATE" in info["pem"] and info["algorithm"] == "RSA"


def test_detached_cms_pem_from_basics(emulator, trust) -> None:  # type: ignore[no-untyped-def]
    answer = call1(emulator, p.basics_sign_cms(B64, signer=TEST_KEYS).to_message())
    pem_cms = p.parse_basics_response(answer)
    assert isinstance(pem_cms, str) and pem_cms.startswith("-----BEGIN CMS-----")
    signed = cms.ContentInfo.load(p.normalize_cms(pem_cms))["content"]
    assert signed["encap_content_info"]["content"].native is None
    assert all_valid(pyhanko_cms_statuses(DATA, signed, trust))


def test_legacy_answers_base64_der_and_attaches(emulator, trust) -> None:  # type: ignore[no-untyped-def]
    answer = call1(emulator, p.create_cades_from_base64(B64, attach=True).to_message())
    b64_cms = p.parse_common_response(answer)
    der = base64.b64decode(b64_cms, validate=True)
    assert der[:1] == b"\x30" and p.normalize_cms(b64_cms) == der
    signed = cms.ContentInfo.load(der)["content"]
    assert signed["encap_content_info"]["content"].native == DATA
    assert all_valid(pyhanko_cms_statuses(DATA, detached(signed), trust))


def test_hash_signing_puts_the_hash_in_message_digest(emulator, keys) -> None:  # type: ignore[no-untyped-def]
    digest = hashlib.sha256(b"prepared elsewhere").digest()
    for message in (
        p.basics_sign_cms(base64.b64encode(digest).decode(), digested=True, signer=TEST_KEYS),
        p.create_cades_from_base64_hash(base64.b64encode(digest).decode()),
    ):
        answer = call1(emulator, message.to_message())
        result = (
            p.parse_basics_response(answer)
            if isinstance(message, p.BasicsSign)
            else p.parse_common_response(answer)
        )
        signed = cms.ContentInfo.load(p.normalize_cms(result))["content"]
        info = signed["signer_infos"][0]
        assert signer_info_digest(info) == digest
        assert info["sid"].chosen["serial_number"].native == (
            keys["career"].certificate.serial_number
        )


def test_tsa_profile_adds_a_time_stamp_token(emulator) -> None:  # type: ignore[no-untyped-def]
    answer = call1(emulator, p.basics_sign_cms(B64, tsa=True, signer=TEST_KEYS).to_message())
    signed = cms.ContentInfo.load(p.normalize_cms(p.parse_basics_response(answer)))["content"]
    info = signed["signer_infos"][0]
    tst = timestamp_info(info)
    assert tst is not None
    imprint = tst["message_imprint"]["hashed_message"].native
    assert imprint == hashlib.sha256(info["signature"].native).digest()


def test_list_of_documents_gives_a_list(emulator) -> None:  # type: ignore[no-untyped-def]
    answer = call1(
        emulator,
        p.basics_sign_cms([B64, base64.b64encode(b"2").decode()], signer=TEST_KEYS).to_message(),
    )
    result = p.parse_basics_response(answer)
    assert isinstance(result, list) and len(result) == 2


def test_signer_params_select_the_key(emulator, keys) -> None:  # type: ignore[no-untyped-def]
    hr = person_of(keys["hr"].certificate)
    for params in (
        p.SignerParams(iin=hr.iin, chain=()),
        p.SignerParams(serial_number=hr.serial_hex.upper(), chain=()),
        p.SignerParams(ext_key_usage_oids=(p.EKU_SIGN, "1.2.398.3.3.4.1.2.4"), chain=()),
    ):
        answer = call1(emulator, p.basics_sign_cms(B64, signer=params).to_message())
        signed = cms.ContentInfo.load(p.normalize_cms(p.parse_basics_response(answer)))
        sid = signed["content"]["signer_infos"][0]["sid"].chosen
        assert sid["serial_number"].native == keys["hr"].certificate.serial_number


def test_no_matching_key_leaves_only_cancel(emulator) -> None:  # type: ignore[no-untyped-def]
    """Real NCALayer shows an empty choice the official can only close: a cancel."""
    chosen: list[list[object]] = []
    emulator.choose = lambda offered, request: chosen.append(offered)  # never asked
    no_iin = p.SignerParams(iin="000000000000", chain=())
    other_ca = p.SignerParams(chain=(base64.b64encode(b"\x30\x00").decode(),))
    production_only = p.SignerParams()  # no chain: test-CA keys are not offered
    for params in (no_iin, other_ca, production_only):
        answer = call1(emulator, p.basics_sign_cms(B64, signer=params).to_message())
        assert answer == {"status": True, "body": {}}
    assert chosen == []


def test_key_type_selects_signature_or_authentication_key(emulator, keys) -> None:  # type: ignore[no-untyped-def]
    auth = p.create_cades_from_base64(B64, key_type=p.KeyType.AUTHENTICATION).to_message()
    signed = cms.ContentInfo.load(p.normalize_cms(p.parse_common_response(call1(emulator, auth))))[
        "content"
    ]
    sid = signed["signer_infos"][0]["sid"].chosen
    assert sid["serial_number"].native == keys["authonly"].certificate.serial_number


def test_cancel_shapes(emulator) -> None:  # type: ignore[no-untyped-def]
    emulator.choose = lambda offered, request: None
    basics, legacy = call(
        emulator,
        p.basics_sign_cms(B64, signer=TEST_KEYS).to_message(),
        p.create_cades_from_base64_hash(base64.b64encode(bytes(32)).decode()).to_message(),
    )
    assert basics == {"status": True, "body": {}}
    assert legacy == {"code": "500", "message": "action.canceled"}
    with pytest.raises(p.NCALayerCancelledError):
        p.parse_basics_response(basics)
    with pytest.raises(p.NCALayerCancelledError):
        p.parse_common_response(legacy)


def test_bad_requests_get_errors_not_crashes(emulator) -> None:  # type: ignore[no-untyped-def]
    bad_json, bad_params, bad_b64, unknown, legacy_bad, legacy_unknown = call(
        emulator,
        "{not json",
        {
            "module": p.BASICS,
            "method": "sign",
            "args": {"format": "cms", "data": B64, "signingParams": 555},
        },
        p.basics_sign_cms("***", signer=TEST_KEYS).to_message(),
        {"module": "kz.gov.pki.knca.other", "method": "x"},
        {"module": p.COMMON_UTILS, "method": "createCAdESFromBase64", "args": ["PKCS12"]},
        {"module": p.COMMON_UTILS, "method": "nope", "args": []},
    )
    assert bad_json["status"] is False and bad_json["code"] == "INVOCATION_ERROR"
    assert bad_params["code"] == "INVOCATION_ERROR" and "signingParams" in bad_params["details"]
    assert bad_b64["code"] == "INVALID_SIGNING_PARAMS"
    assert unknown == {"success": False, "errorCode": "MODULE_NOT_FOUND"}
    assert legacy_bad["code"] == "500" and "keyType" in legacy_bad["message"]
    assert legacy_unknown["code"] == "500" and "nope" in legacy_unknown["message"]


def test_attached_cms_gets_a_second_signer(emulator, keys, trust) -> None:  # type: ignore[no-untyped-def]
    first = p.parse_common_response(
        call1(emulator, p.create_cades_from_base64(B64, attach=True).to_message())
    )
    emulator.choose = with_key(keys, "head")
    both = p.parse_common_response(
        call1(emulator, p.create_cades_from_base64(first, attach=True).to_message())
    )
    signed = cms.ContentInfo.load(p.normalize_cms(both))["content"]
    serials = [i["sid"].chosen["serial_number"].native for i in signed["signer_infos"]]
    assert serials == [
        keys["career"].certificate.serial_number,
        keys["head"].certificate.serial_number,
    ]
    statuses = pyhanko_cms_statuses(DATA, detached(signed), trust)
    assert len(statuses) == 2 and all_valid(statuses)


def test_message_size_limit_and_no_rate_limit(pki, keys) -> None:  # type: ignore[no-untyped-def]
    with running_emulator(list(keys.values()), port=0, max_message=4096) as small:
        with connect(
            small.url, ssl=small.client_ssl_context(), open_timeout=5, max_size=None
        ) as ws:
            ws.recv(timeout=5)
            ws.send(p.dumps(p.basics_sign_cms("A" * 8000).to_message()))
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=5)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
        # Real NCALayer has no rate limit: a page may ask many quick questions.
        with connect(small.url, ssl=small.client_ssl_context(), open_timeout=5) as ws:
            ws.recv(timeout=5)
            message = p.dumps(p.get_key_info().to_message())
            for _ in range(200):
                ws.send(message)
            answers = [json.loads(ws.recv(timeout=10)) for _ in range(200)]
            assert all(a["code"] == "200" for a in answers)


def test_connection_limit(pki, keys) -> None:  # type: ignore[no-untyped-def]
    with (
        running_emulator(list(keys.values()), port=0, max_connections=1) as one,
        connect(one.url, ssl=one.client_ssl_context(), open_timeout=5) as first,
    ):
        first.recv(timeout=5)
        with connect(one.url, ssl=one.client_ssl_context(), open_timeout=5) as second:
            with pytest.raises(ConnectionClosed) as closed:
                second.recv(timeout=5)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
