"""NCALayer's WebSocket messages, typed: builders and parsers for both modules.

Why one module: the emulator, the service's two-phase code, the tests and the browser
script must agree on every field name and on how a cancel differs from an error. The
shapes follow the public clients (``sigex-kz/ncalayer-js-client``,
``pkigovkz/NCALayerJSExample``):

* greeting on connect: ``{"result": {"version": "1.2"}}``;
* ``kz.gov.pki.knca.basics`` / ``sign`` with named ``args``; success
  ``{"status": true, "body": {"result": ...}}``, user cancel ``{"status": true, "body": {}}``,
  error ``{"status": false, "code", "message", "details"}``; its CMS is PEM;
* ``kz.gov.pki.knca.commonUtils`` with positional ``args``; success
  ``{"code": "200", "responseObject": ...}``, error ``{"code": "500", "message"}`` (a cancel
  is ``message: "action.canceled"``); its CMS is Base64 DER.

No I/O and no cryptography here, except :func:`normalize_cms` (the one place that turns
either CMS encoding into DER, delegating to :func:`signing.cms_util.load_cms`).
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from asn1crypto import cms

from signing.cms_util import load_cms, to_der

BASICS = "kz.gov.pki.knca.basics"
COMMON_UTILS = "kz.gov.pki.knca.commonUtils"
#: NCALayer's own windows (``showSettings``, ``showBundleManager``): no answer is sent.
ACCESSORY = "kz.gov.pki.ncalayerservices.accessory"
VERSION = "1.2"
#: Keep-alive text some clients send; never answered.
HEARTBEAT = "--heartbeat--"
#: commonUtils' cancel message (the dialog was closed).
CANCELED = "action.canceled"
#: Extended key usages NCA RK puts into signing / authentication certificates.
EKU_SIGN = "1.3.6.1.5.5.7.3.4"
EKU_AUTH = "1.3.6.1.5.5.7.3.2"
#: Storage names NCALayer knows (``allowedStorages`` / commonUtils ``storage``).
STORAGES = (
    "PKCS12",
    "JKS",
    "AKKaztokenStore",
    "AKKZIDCardStore",
    "AKEToken72KStore",
    "AKEToken5110Store",
    "AKJaCartaStore",
    "AKAKEYStore",
)
COMMON_METHODS = (
    "getKeyInfo",
    "createCAdESFromBase64",
    "createCAdESFromBase64Hash",
    "createCMSSignatureFromBase64",
    "signXml",
    "signXmls",
    "getActiveTokens",
    "changeLocale",
)


class Format(enum.StrEnum):
    CMS = "cms"
    XML = "xml"


class KeyType(enum.StrEnum):
    """commonUtils ``keyType``: which of the person's two keys to use."""

    SIGNATURE = "SIGNATURE"
    AUTHENTICATION = "AUTHENTICATION"


class BasicsCode(enum.StrEnum):
    """``code`` values of a failed ``basics`` call."""

    INVALID_SIGNING_PARAMS = "INVALID_SIGNING_PARAMS"
    SIGNING_FAILURE = "SIGNING_FAILURE"
    GENERAL_ERROR = "GENERAL_ERROR"
    INVOCATION_ERROR = "INVOCATION_ERROR"


class ProtocolError(ValueError):
    """A message that is not NCALayer's protocol (bad JSON, missing or mistyped field)."""


class NCALayerError(Exception):
    """NCALayer answered with an error (``status:false`` or ``code != "200"``)."""

    def __init__(self, code: str, message: str, details: Any = None) -> None:
        self.code = code
        self.message = message
        self.details = details
        super().__init__(f"{code}: {message}" + (f" ({details})" if details else ""))


class NCALayerCancelledError(NCALayerError):
    """The official closed NCALayer's dialog: not a failure, nothing was signed."""

    def __init__(self) -> None:
        super().__init__("CANCELLED", "cancelled by user")


# ---------------------------------------------------------------- requests (basics)


@dataclass(frozen=True)
class SigningParams:
    """``signingParams``; ``tsa_profile`` None means "no time-stamp" (key absent or null).

    ``output_cert``: the result is ``{"signatures", "certificate"}``; ``allow_expired`` /
    ``allow_revoked``: such keys are offered too (otherwise NCALayer hides them).
    """

    decode: bool = True
    encapsulate: bool = False
    digested: bool = False
    tsa_profile: Mapping[str, Any] | None = None
    output_cert: bool = False
    allow_expired: bool = False
    allow_revoked: bool = False

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "decode": self.decode,
            "encapsulate": self.encapsulate,
            "digested": self.digested,
        }
        if self.tsa_profile is not None:
            out["tsaProfile"] = dict(self.tsa_profile)
        for name, value in (
            ("outputCert", self.output_cert),
            ("allowExpired", self.allow_expired),
            ("allowRevoked", self.allow_revoked),
        ):
            if value:
                out[name] = True
        return out

    @classmethod
    def from_json(cls, value: Any) -> SigningParams:
        obj = _mapping(value or {}, "signingParams")
        tsa = obj.get("tsaProfile")
        if tsa is not None and not isinstance(tsa, Mapping):
            raise ProtocolError("signingParams.tsaProfile must be an object")
        return cls(
            decode=_bool(obj, "decode", True),
            encapsulate=_bool(obj, "encapsulate", False),
            digested=_bool(obj, "digested", False),
            tsa_profile=tsa,
            output_cert=_bool(obj, "outputCert", False),
            allow_expired=_bool(obj, "allowExpired", False),
            allow_revoked=_bool(obj, "allowRevoked", False),
        )


@dataclass(frozen=True)
class SignerParams:
    """``signerParams``: which certificate NCALayer may offer (all filters must match)."""

    ext_key_usage_oids: tuple[str, ...] = (EKU_SIGN,)
    iin: str | None = None
    bin: str | None = None
    serial_number: str | None = None
    #: Trusted chain (PEM/Base64 certificates); an empty list means "test CAs allowed".
    chain: tuple[str, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"extKeyUsageOids": list(self.ext_key_usage_oids)}
        for name, value in (
            ("iin", self.iin),
            ("bin", self.bin),
            ("serialNumber", self.serial_number),
        ):
            if value:
                out[name] = value
        if self.chain is not None:
            out["chain"] = list(self.chain)
        return out

    @classmethod
    def from_json(cls, value: Any) -> SignerParams:
        obj = _mapping(value or {}, "signerParams")
        oids = obj.get("extKeyUsageOids", [])
        chain = obj.get("chain")
        if not _str_list(oids) or (chain is not None and not _str_list(chain)):
            raise ProtocolError("signerParams lists must hold strings")
        return cls(
            ext_key_usage_oids=tuple(oids),
            iin=_opt_str(obj, "iin"),
            bin=_opt_str(obj, "bin"),
            serial_number=_opt_str(obj, "serialNumber"),
            chain=tuple(chain) if chain is not None else None,
        )


@dataclass(frozen=True)
class BasicsSign:
    """``{"module": BASICS, "method": "sign", "args": {...}}``."""

    format: Format
    data: str | tuple[str, ...]
    signing_params: SigningParams = field(default_factory=SigningParams)
    signer_params: SignerParams = field(default_factory=SignerParams)
    allowed_storages: tuple[str, ...] | None = None
    locale: str = "ru"

    def to_message(self) -> dict[str, Any]:
        return {
            "module": BASICS,
            "method": "sign",
            "args": {
                "allowedStorages": (
                    list(self.allowed_storages) if self.allowed_storages is not None else None
                ),
                "format": self.format.value,
                "data": list(self.data) if isinstance(self.data, tuple) else self.data,
                "signingParams": self.signing_params.to_json(),
                "signerParams": self.signer_params.to_json(),
                "locale": self.locale,
            },
        }

    @classmethod
    def from_args(cls, args: Any) -> BasicsSign:
        obj = _mapping(args, "args")
        try:
            fmt = Format(obj.get("format", ""))
        except ValueError:
            raise ProtocolError("args.format must be 'cms' or 'xml'") from None
        data = obj.get("data")
        if isinstance(data, list):
            if not data or not _str_list(data):
                raise ProtocolError("args.data list must hold strings")
            data = tuple(data)
        elif not isinstance(data, str):
            raise ProtocolError("args.data must be a string or a list of strings")
        storages = obj.get("allowedStorages")
        if storages is not None and not _str_list(storages):
            raise ProtocolError("args.allowedStorages must be null or a list of strings")
        locale = obj.get("locale", "ru")
        return cls(
            format=fmt,
            data=data,
            signing_params=SigningParams.from_json(obj.get("signingParams")),
            signer_params=SignerParams.from_json(obj.get("signerParams")),
            allowed_storages=tuple(storages) if storages is not None else None,
            locale=locale if isinstance(locale, str) else "ru",
        )


def basics_sign_cms(
    data: str | Sequence[str],
    *,
    digested: bool = False,
    encapsulate: bool = False,
    tsa: bool = False,
    signer: SignerParams | None = None,
    locale: str = "ru",
) -> BasicsSign:
    """A ``basics.sign`` CMS request over Base64 ``data`` (or a Base64 SHA-256 if ``digested``)."""
    return BasicsSign(
        format=Format.CMS,
        data=data if isinstance(data, str) else tuple(data),
        signing_params=SigningParams(
            decode=True, encapsulate=encapsulate, digested=digested, tsa_profile={} if tsa else None
        ),
        signer_params=signer or SignerParams(),
        locale=locale,
    )


def basics_sign_xml(
    xml: str | Sequence[str], *, signer: SignerParams | None = None, locale: str = "ru"
) -> BasicsSign:
    return BasicsSign(
        format=Format.XML,
        data=xml if isinstance(xml, str) else tuple(xml),
        signing_params=SigningParams(),
        signer_params=signer or SignerParams(),
        locale=locale,
    )


# ---------------------------------------------------------------- requests (commonUtils)


@dataclass(frozen=True)
class CommonUtilsCall:
    """``{"module": COMMON_UTILS, "method": ..., "args": [...]}``."""

    method: str
    args: tuple[Any, ...] = ()

    def to_message(self) -> dict[str, Any]:
        return {"module": COMMON_UTILS, "method": self.method, "args": list(self.args)}

    def arg(self, index: int, kind: type, name: str) -> Any:
        """Positional argument ``index``, type-checked (bool is not accepted as str etc.)."""
        if index >= len(self.args) or not isinstance(self.args[index], kind):
            raise ProtocolError(
                f"{self.method}: argument {index + 1} ({name}) must be {kind.__name__}"
            )
        return self.args[index]


def get_key_info(storage: str = "PKCS12") -> CommonUtilsCall:
    return CommonUtilsCall("getKeyInfo", (storage,))


def create_cades_from_base64(
    b64: str,
    *,
    attach: bool = False,
    storage: str = "PKCS12",
    key_type: KeyType = KeyType.SIGNATURE,
) -> CommonUtilsCall:
    """Sign data (or add a signer when ``b64`` is an existing CMS)."""
    return CommonUtilsCall("createCAdESFromBase64", (storage, key_type.value, b64, attach))


def create_cms_signature_from_base64(
    b64: str,
    *,
    attach: bool = False,
    storage: str = "PKCS12",
    key_type: KeyType = KeyType.SIGNATURE,
) -> CommonUtilsCall:
    """Like :func:`create_cades_from_base64`, the CMS time-stamped (NCALayer's TSA)."""
    return CommonUtilsCall("createCMSSignatureFromBase64", (storage, key_type.value, b64, attach))


def create_cades_from_base64_hash(
    b64_hash: str, *, storage: str = "PKCS12", key_type: KeyType = KeyType.SIGNATURE
) -> CommonUtilsCall:
    return CommonUtilsCall("createCAdESFromBase64Hash", (storage, key_type.value, b64_hash))


def sign_xml(
    xml: str,
    *,
    tbs_xpath: str = "",
    parent_xpath: str = "",
    storage: str = "PKCS12",
    key_type: KeyType = KeyType.SIGNATURE,
) -> CommonUtilsCall:
    return CommonUtilsCall("signXml", (storage, key_type.value, xml, tbs_xpath, parent_xpath))


def sign_xmls(
    xmls: Sequence[str],
    *,
    tbs_xpath: str = "",
    parent_xpath: str = "",
    storage: str = "PKCS12",
    key_type: KeyType = KeyType.SIGNATURE,
) -> CommonUtilsCall:
    return CommonUtilsCall(
        "signXmls", (storage, key_type.value, list(xmls), tbs_xpath, parent_xpath)
    )


Request = BasicsSign | CommonUtilsCall


def parse_request(message: str | bytes | Mapping[str, Any]) -> Request:
    """A client message as the typed request; :class:`ProtocolError` if it is none."""
    obj = _load(message)
    module, method = obj.get("module"), obj.get("method")
    if module == BASICS:
        if method != "sign":
            raise ProtocolError(f"basics has no method {method!r}")
        return BasicsSign.from_args(obj.get("args"))
    if module == COMMON_UTILS:
        if not isinstance(method, str) or method not in COMMON_METHODS:
            raise ProtocolError(f"commonUtils has no method {method!r}")
        args = obj.get("args", [])
        if not isinstance(args, list):
            raise ProtocolError("commonUtils args must be a list")
        return CommonUtilsCall(method, tuple(args))
    raise ProtocolError(f"unknown module {module!r}")


def peek_module(message: str | bytes | Mapping[str, Any]) -> str | None:
    """The ``module`` of a message that may be malformed otherwise (to answer in its shape)."""
    try:
        module = _load(message).get("module")
    except ProtocolError:
        return None
    return module if isinstance(module, str) else None


# ---------------------------------------------------------------- responses


def module_not_found() -> dict[str, Any]:
    """What NCALayer's module host answers for a module it does not have."""
    return {"success": False, "errorCode": "MODULE_NOT_FOUND"}


def version_message(version: str = VERSION) -> dict[str, Any]:
    return {"result": {"version": version}}


def basics_ok(result: str | Sequence[str] | Mapping[str, Any]) -> dict[str, Any]:
    """Success; ``result`` is a string, a list, or with ``outputCert``
    ``{"signatures": ..., "certificate": PEM}``."""
    if not isinstance(result, (str, Mapping)):
        result = list(result)
    return {"status": True, "body": {"result": result}}


def basics_cancelled() -> dict[str, Any]:
    return {"status": True, "body": {}}


def basics_error(code: BasicsCode | str, message: str, details: Any = None) -> dict[str, Any]:
    return {
        "status": False,
        "code": str(code),
        "message": message,
        "details": details if details is not None else "",
    }


def common_ok(response_object: Any) -> dict[str, Any]:
    """Success; a method with nothing to return (``changeLocale``) answers the code alone."""
    if response_object is None:
        return {"code": "200"}
    return {"code": "200", "responseObject": response_object}


def common_error(message: str, code: str = "500") -> dict[str, Any]:
    return {"code": code, "message": message}


def common_cancelled() -> dict[str, Any]:
    return common_error(CANCELED)


def parse_version(message: str | bytes | Mapping[str, Any]) -> str:
    """The version from the greeting; :class:`ProtocolError` for anything else."""
    obj = _load(message)
    result = obj.get("result")
    if not isinstance(result, Mapping) or not isinstance(result.get("version"), str):
        raise ProtocolError("not an NCALayer greeting")
    return str(result["version"])


def parse_basics_response(message: str | bytes | Mapping[str, Any]) -> str | list[str]:
    """``body.result`` of a basics answer.

    Raises :class:`NCALayerCancelledError` for ``body: {}`` and :class:`NCALayerError` for
    ``status: false``: a cancel must never be reported to the official as an error. With
    ``outputCert`` the signatures are returned (the certificate is in the CMS anyway).
    """
    obj = _load(message)
    status = obj.get("status")
    if status is False:
        raise NCALayerError(
            str(obj.get("code", "")), str(obj.get("message", "")), obj.get("details") or None
        )
    if status is not True or not isinstance(obj.get("body"), Mapping):
        raise ProtocolError("not a basics response")
    body = obj["body"]
    if "result" not in body:
        raise NCALayerCancelledError()
    result = body["result"]
    if isinstance(result, Mapping) and "signatures" in result:  # outputCert
        result = result["signatures"]
    if isinstance(result, str) or (isinstance(result, list) and _str_list(result)):
        return result
    raise ProtocolError("basics result must be a string or a list of strings")


def parse_common_response(message: str | bytes | Mapping[str, Any]) -> Any:
    """``responseObject`` of a commonUtils answer (cancel and errors raise, as above)."""
    obj = _load(message)
    code = obj.get("code")
    if not isinstance(code, str):
        raise ProtocolError("not a commonUtils response")
    if code != "200":
        if obj.get("message") == CANCELED:
            raise NCALayerCancelledError()
        raise NCALayerError(code, str(obj.get("message", "")))
    return obj.get("responseObject")


def dumps(message: Mapping[str, Any]) -> str:
    """Compact JSON, non-ASCII kept (names in Kazakh stay readable and short)."""
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


# ---------------------------------------------------------------- CMS encodings


def normalize_cms(value: str | bytes | cms.SignedData) -> bytes:
    """DER ContentInfo from PEM (basics), Base64 DER (commonUtils) or DER.

    Raises :class:`signing.errors.SignatureValueError` if it is no SignedData.
    """
    signed = value if isinstance(value, cms.SignedData) else load_cms(value)
    return to_der(signed)


def cms_pem(der: bytes) -> str:
    """PEM as ``basics.sign`` returns it (``-----BEGIN CMS-----``)."""
    b64 = base64.b64encode(der).decode("ascii")
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    return "-----BEGIN CMS-----\n" + "\n".join(lines) + "\n-----END CMS-----\n"


def cms_base64(der: bytes) -> str:
    """Base64 DER as commonUtils returns it."""
    return base64.b64encode(der).decode("ascii")


def b64decode_strict(value: str, what: str) -> bytes:
    """Base64 with line breaks tolerated; :class:`ProtocolError` otherwise."""
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError(f"{what} is not Base64") from None


# ---------------------------------------------------------------- helpers


def _load(message: str | bytes | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(message, Mapping):
        return message
    try:
        obj = json.loads(message)
    except (ValueError, UnicodeDecodeError):
        raise ProtocolError("message is not JSON") from None
    if not isinstance(obj, dict):
        raise ProtocolError("message must be a JSON object")
    return obj


def _mapping(value: Any, name: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ProtocolError(f"{name} must be an object")
    return value


def _bool(obj: Mapping[str, Any], key: str, default: bool) -> bool:
    """A JSON boolean, or the strings "true"/"false" in any case (NCALayer's org.json
    accepts both; pages reading radio buttons send strings)."""
    value = obj.get(key, default)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if not isinstance(value, bool):
        raise ProtocolError(f"{key} must be true or false")
    return value


def _opt_str(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ProtocolError(f"{key} must be a string")
    return value


def _str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)
