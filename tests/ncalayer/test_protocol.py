"""Message builders and parsers, without a socket."""

from __future__ import annotations

import base64

import pytest
from asn1crypto import cms

from signing.errors import SignatureValueError
from signing.ncalayer import protocol as p


def test_basics_request_round_trip() -> None:
    request = p.basics_sign_cms(
        "AAEC", digested=True, tsa=True, signer=p.SignerParams(iin="850301300121", chain=())
    )
    message = request.to_message()
    assert message["module"] == p.BASICS and message["method"] == "sign"
    args = message["args"]
    assert args["format"] == "cms" and args["data"] == "AAEC"
    assert args["signingParams"] == {
        "decode": True,
        "encapsulate": False,
        "digested": True,
        "tsaProfile": {},
    }
    assert args["signerParams"] == {
        "extKeyUsageOids": [p.EKU_SIGN],
        "iin": "850301300121",
        "chain": [],
    }
    assert p.parse_request(p.dumps(message)) == request


def test_no_tsa_profile_means_no_time_stamp() -> None:
    args = p.basics_sign_cms("AA==").to_message()["args"]
    assert "tsaProfile" not in args["signingParams"]
    parsed = p.parse_request({"module": p.BASICS, "method": "sign", "args": args})
    assert isinstance(parsed, p.BasicsSign) and parsed.signing_params.tsa_profile is None


def test_common_utils_round_trip() -> None:
    call = p.create_cades_from_base64("QUJD", attach=True)
    assert call.to_message() == {
        "module": p.COMMON_UTILS,
        "method": "createCAdESFromBase64",
        "args": ["PKCS12", "SIGNATURE", "QUJD", True],
    }
    assert p.parse_request(call.to_message()) == call
    assert p.sign_xml("<a/>").to_message()["args"] == ["PKCS12", "SIGNATURE", "<a/>", "", ""]


@pytest.mark.parametrize(
    "message",
    [
        "not json",
        "[1]",
        {"module": "x.y", "method": "sign"},
        {"module": p.BASICS, "method": "verify", "args": {}},
        {"module": p.BASICS, "method": "sign", "args": {"format": "pdf", "data": "AA=="}},
        {"module": p.BASICS, "method": "sign", "args": {"format": "cms", "data": 5}},
        {
            "module": p.BASICS,
            "method": "sign",
            "args": {"format": "cms", "data": "AA==", "signingParams": {"digested": "yes"}},
        },
        {"module": p.COMMON_UTILS, "method": "rm -rf", "args": []},
        {"module": p.COMMON_UTILS, "method": "getKeyInfo", "args": "PKCS12"},
    ],
)
def test_malformed_requests_are_refused(message: object) -> None:
    with pytest.raises(p.ProtocolError):
        p.parse_request(message)  # type: ignore[arg-type]


def test_response_shapes() -> None:
    assert p.parse_basics_response(p.basics_ok("PEM")) == "PEM"
    assert p.parse_basics_response(p.basics_ok(["a", "b"])) == ["a", "b"]
    with pytest.raises(p.NCALayerCancelledError):
        p.parse_basics_response({"status": True, "body": {}})
    with pytest.raises(p.NCALayerError) as err:
        p.parse_basics_response(p.basics_error(p.BasicsCode.SIGNING_FAILURE, "no key", "x"))
    assert not isinstance(err.value, p.NCALayerCancelledError)
    assert err.value.code == "SIGNING_FAILURE" and err.value.details == "x"
    assert p.parse_common_response(p.common_ok({"a": 1})) == {"a": 1}
    with pytest.raises(p.NCALayerCancelledError):
        p.parse_common_response(p.common_cancelled())
    with pytest.raises(p.NCALayerError) as err2:
        p.parse_common_response(p.common_error("boom"))
    assert err2.value.code == "500"
    assert p.parse_version(p.version_message()) == "1.2"
    with pytest.raises(p.ProtocolError):
        p.parse_version({"status": True})


def _tiny_cms() -> bytes:
    signed = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [{"algorithm": "sha256"}],
            "encap_content_info": {"content_type": "data"},
            "signer_infos": [],
        }
    )
    return cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump()


def test_one_normalising_function_for_pem_base64_and_der() -> None:
    der = _tiny_cms()
    assert p.normalize_cms(p.cms_pem(der)) == der
    assert p.normalize_cms(p.cms_base64(der)) == der
    wrapped = "\n".join(p.cms_base64(der)[i : i + 60] for i in range(0, 200, 60))
    assert p.normalize_cms(wrapped + p.cms_base64(der)[200:]) == der
    assert p.normalize_cms(der) == der
    with pytest.raises(SignatureValueError):
        p.normalize_cms(base64.b64encode(b"\x30\x03\x02\x01\x01").decode())
    with pytest.raises(SignatureValueError):
        p.normalize_cms("not a cms at all!")
