"""An emulator of eGov mobile / eGov Business signing, for tests: QR payload in, PUT out.

It does what the app does by the public QR/cross-signing specification (v5), over real
HTTP: read the QR payload (``mobileSign:`` + API №1, or a cross-signing link), ``GET``
API №1, fetch API №2 with the ``auth_type`` it names (``Token``: ``Authorization: Bearer``;
``Eds``: ``POST {"xml"}`` with a ``<login><url/><timeStamp/></login>`` signed by the
authentication key; ``None``: nothing), sign every document by its ``signMethod``, and
``PUT`` the whole object back with the data replaced by the signature. Every call sends
``Accept-Language``.

RSA and GOST test keys (PKCS#12, GOST as NCA issues them: :class:`EmulatorKey`). With a GOST
key the PDF's byte range is hashed with the key's Streebog and signed as a GOST CMS
(:mod:`signing.gost.cms`), and XML (the document and the ``Eds`` login) is signed with the
pkigovkz algorithm URIs (:mod:`signing.gost.xmldsig`), as the app does with Kalkan. The steps
are separate methods so tests can delay, replay or tamper with any of them.

Console: ``egov-mobile-emulator --p12 KEY.p12 --password-file F [--auth-p12 AUTH.p12]
[--lang ru] PAYLOAD`` prints the service's last answer; exit 0 on 200, 1 on a refusal.
"""

from __future__ import annotations

import argparse
import base64
import copy
import datetime as dt
import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docservice_testing.ncalayer import build_cms, sign_xml_document
from docservice_testing.ncalayer.keystore import EmulatorKey
from signing import patches

EXPIRY_FORMAT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}$")
AUTH_TYPES = ("Token", "Eds", "None")
SIGN_METHODS = ("CMS_SIGN_ONLY", "CMS_WITH_DATA", "XML", "SIGN_BYTES_ARRAY", "MIX_SIGN")


class ProtocolError(Exception):
    """The service broke the specification (the real app would show an error)."""


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


def api1_url(payload: str) -> str:
    """The API №1 URL of a QR payload or of either app's cross-signing link."""
    text = payload.strip()
    if text.startswith("mobileSign:"):
        url = text[len("mobileSign:") :]
    elif text.startswith("https://"):
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(text).query)
        if "link" not in query:
            raise ProtocolError("a cross-signing link without link=")
        url = query["link"][0]
    else:
        raise ProtocolError("the QR payload does not start with mobileSign:")
    if "mgovSign" not in url:
        raise ProtocolError("the API №1 URL does not contain mgovSign")
    return url


def spec_time(value: dt.datetime) -> str:
    local = value.astimezone(dt.timezone(dt.timedelta(hours=5)))
    return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond // 1000:03d}+0500"


def login_xml(key: EmulatorKey, url: str, when: dt.datetime | None = None) -> str:
    """The ``Eds`` login: ``<login><url/><timeStamp/></login>``, enveloped XMLDSig."""
    stamp = spec_time(when or dt.datetime.now(dt.UTC))
    xml = f"<login><url>{_escape(url)}</url><timeStamp>{stamp}</timeStamp></login>"
    return sign_xml_document(key, xml)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class EgovMobileEmulator:
    """One phone with a signing key (and optionally an authentication key)."""

    def __init__(
        self,
        key: EmulatorKey,
        *,
        auth_key: EmulatorKey | None = None,
        lang: str = "ru",
        timeout: float = 60.0,
    ) -> None:
        self.key, self.auth_key, self.lang, self.timeout = key, auth_key, lang, timeout
        self.api1: dict[str, Any] = {}
        self.documents: dict[str, Any] = {}
        self.signed: dict[str, Any] = {}
        #: Changes what is signed (tests of altered data): bytes in, bytes out.
        self.alter_data: Callable[[bytes], bytes] | None = None

    # -- HTTP ------------------------------------------------------------------------

    def call(
        self, method: str, url: str, payload: Any = None, headers: dict[str, str] | None = None
    ) -> Answer:
        all_headers = {
            "Accept-Language": self.lang,
            "Accept": "application/json",
            **(headers or {}),
        }
        data = None
        if payload is not None:
            data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            all_headers["Content-Type"] = "application/json; charset=utf-8"
        req = urllib.request.Request(url, data=data, method=method, headers=all_headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                status, raw, got = resp.status, resp.read(), dict(resp.headers)
        except urllib.error.HTTPError as exc:
            status, raw, got = exc.code, exc.read(), dict(exc.headers)
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            raise ProtocolError(f"{method} {url}: HTTP {status}, not JSON") from None
        if status == 403 and not (isinstance(body, dict) and isinstance(body.get("message"), str)):
            raise ProtocolError('a 403 without {"message"}')
        return Answer(status, body, got)

    def _auth_headers(self) -> dict[str, str]:
        if self.api1.get("document", {}).get("auth_type") == "Token":
            return {"Authorization": f"Bearer {self.api1['document']['auth_token']}"}
        return {}

    # -- the app's steps -------------------------------------------------------------

    def fetch_api1(self, payload: str) -> Answer:
        answer = self.call("GET", api1_url(payload))
        if answer.status != 200:
            return answer
        body = answer.body
        for name in ("description", "expiry_date", "organisation", "document"):
            if name not in body:
                raise ProtocolError(f"API №1 lacks {name}")
        if not EXPIRY_FORMAT.match(body["expiry_date"]):
            raise ProtocolError(f"expiry_date {body['expiry_date']!r} is not the spec's format")
        if set(body["organisation"]) != {"nameRu", "nameKz", "nameEn", "bin"}:
            raise ProtocolError("organisation must be {nameRu, nameKz, nameEn, bin}")
        doc = body["document"]
        if doc.get("auth_type") not in AUTH_TYPES or "uri" not in doc:
            raise ProtocolError(f"auth_type {doc.get('auth_type')!r} is not Token/Eds/None")
        if doc["auth_type"] == "Token" and not doc.get("auth_token"):
            raise ProtocolError("auth_type Token without auth_token")
        self.api1 = body
        return answer

    def expired(self) -> bool:
        expiry = dt.datetime.strptime(self.api1["expiry_date"], "%Y-%m-%dT%H:%M:%S.%f%z")
        return expiry <= dt.datetime.now(dt.UTC)

    def fetch_documents(self, *, login_time: dt.datetime | None = None) -> Answer:
        doc = self.api1["document"]
        if doc["auth_type"] == "Eds":
            if self.auth_key is None:
                raise ProtocolError("auth_type Eds needs an authentication key (--auth-p12)")
            answer = self.call(
                "POST", doc["uri"], {"xml": login_xml(self.auth_key, doc["uri"], login_time)}
            )
        else:
            answer = self.call("GET", doc["uri"], headers=self._auth_headers())
        if answer.status == 200:
            body = answer.body
            if body.get("signMethod") not in SIGN_METHODS or body.get("version") != 1:
                raise ProtocolError("API №2 needs signMethod and version 1")
            if not isinstance(body.get("documentsToSign"), list) or not body["documentsToSign"]:
                raise ProtocolError("API №2 has no documentsToSign")
            self.documents = body
        return answer

    def sign(self) -> dict[str, Any]:
        """The documents with their data replaced by signatures, the rest untouched."""
        signed = copy.deepcopy(self.documents)
        top = signed["signMethod"]
        for item in signed["documentsToSign"]:
            method = item.get("signMethod", top) if top == "MIX_SIGN" else top
            if method == "XML":
                item["documentXml"] = sign_xml_document(self.key, item["documentXml"])
                continue
            file = item["document"]["file"]
            data = base64.b64decode(file["data"])
            if self.alter_data is not None:
                data = self.alter_data(data)
            digest = self.key.digest(data)  # SHA-256, or Streebog for a GOST key
            if method == "SIGN_BYTES_ARRAY":
                cms = build_cms(self.key, digest=digest)["content"]["signer_infos"][0]
                file["data"] = json.dumps(
                    {
                        "signature": base64.b64encode(cms["signature"].native).decode(),
                        "certificate": base64.b64encode(self.key.certificate.dump()).decode(),
                    }
                )
                continue
            attached = data if method == "CMS_WITH_DATA" else None
            file["data"] = base64.b64encode(
                build_cms(self.key, digest=digest, content=attached).dump()
            ).decode("ascii")
        self.signed = signed
        return signed

    def put(self, body: dict[str, Any] | None = None) -> Answer:
        return self.call(
            "PUT", self.api1["document"]["uri"], body or self.signed, headers=self._auth_headers()
        )

    def run(self, payload: str) -> Answer:
        """All steps as the app takes them; the last answer (a refusal stops early)."""
        answer = self.fetch_api1(payload)
        if answer.status != 200:
            return answer
        if self.expired():
            raise ProtocolError("the request has expired (the app would not continue)")
        answer = self.fetch_documents()
        if answer.status != 200:
            return answer
        self.sign()
        return self.put()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="egov-mobile-emulator", description=__doc__.split("\n")[0]
    )
    parser.add_argument("payload", help="the QR payload (mobileSign:...) or a cross link")
    parser.add_argument("--p12", required=True, help="signing key container (RSA or GOST)")
    parser.add_argument(
        "--password-file", required=True, help="file whose first line is the containers' password"
    )
    parser.add_argument("--auth-p12", help="authentication key container (auth_type Eds)")
    parser.add_argument("--lang", default="ru", choices=("kk", "ru", "en"))
    args = parser.parse_args(argv)

    patches.apply()
    patches.apply()  # GOST and the other library hooks, as in every entry point
    password = Path(args.password_file).read_text(encoding="utf-8").splitlines()[0]
    try:
        key = EmulatorKey.from_p12(args.p12, password)
        auth = EmulatorKey.from_p12(args.auth_p12, password) if args.auth_p12 else None
    except (OSError, ValueError) as exc:
        print(f"egov-mobile-emulator: {exc}", file=sys.stderr)
        return 2
    try:
        answer = EgovMobileEmulator(key, auth_key=auth, lang=args.lang).run(args.payload)
    except (ProtocolError, OSError) as exc:
        print(f"egov-mobile-emulator: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({"status": answer.status, "body": answer.body}, ensure_ascii=False))
    return 0 if answer.status == 200 else 1


if __name__ == "__main__":
    raise SystemExit(main())
