"""Replay the sessions recorded in ``ncalayer-js-client``'s own test data against the emulator.

``test/test-data.json`` of the pinned npm package holds 50 request/answer pairs a human
recorded with the library (signatures and certificates stripped). Each recorded request
is sent to the emulator byte for byte and the emulator's answer must have the recorded
answer's *shape*: the same status / code, the same keys, the same kind of result (PEM
CMS, a list of n, an object with those fields, an XML signature with the same declaration,
algorithms, elements and line breaks). What the human did in the dialog (pick a key,
close it, plug a token in) is input, read from the recorded answer.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from lxml import etree
from websockets.sync.client import connect

from docservice_testing.ncalayer import running_emulator
from docservice_testing.ncalayer.keystore import EmulatorKey
from signing.ncalayer import protocol as p
from tests.ncalayer import sigex

#: The recording was made with KAZTOKEN desktop, which answers this module; NCALayer has
#: no such module and answers with an error, which the library takes as "not KAZTOKEN".
KAZTOKEN_ONLY = "kz.digiflow.mobile.extensions"
_ABSENT = object()


def _recorded() -> list[dict[str, Any]]:
    path = sigex.package() / "test" / "test-data.json"
    return json.loads(path.read_text(encoding="utf-8"))


def _cancelled(answer: dict[str, Any]) -> bool:
    return answer.get("body") == {} or answer.get("message") == p.CANCELED


def _kind(value: Any) -> Any:
    if value is _ABSENT:
        return "absent"
    if isinstance(value, list):
        return ("list", len(value), tuple(sorted({json.dumps(_kind(v)) for v in value})))
    if isinstance(value, dict):
        return "object"
    if isinstance(value, str):
        if value.startswith("-----BEGIN CMS-----"):
            return "pem-cms"
        if value.startswith("<?xml"):
            return ("xml", json.dumps(_xml_shape(value)))
        return "string"
    return type(value).__name__


def _xml_shape(text: str) -> dict[str, Any]:
    declaration, _, body = text.partition("?>")
    root = etree.fromstring(body.encode("utf-8"))
    signature = root[-1]
    return {
        "declaration": declaration + "?>",
        "root": root.tag,
        "text": root.text,
        "prefix": signature.prefix,
        "newline": "\r\n" if "\r\n" in text else "\n",
        "elements": [
            (etree.QName(e).localname, e.get("Algorithm"), e.get("URI")) for e in signature.iter()
        ],
    }


def _shape(answer: dict[str, Any]) -> Any:
    if "status" in answer:
        if answer["status"] is not True:
            return ("basics-error", answer["code"], tuple(sorted(answer)))
        if "result" not in answer["body"]:
            return ("basics-cancel", tuple(sorted(answer)))
        return ("basics-ok", tuple(sorted(answer)), _kind(answer["body"]["result"]))
    if answer.get("code") != "200":
        return ("common-error", answer.get("code"), answer.get("message") == p.CANCELED)
    return ("common-ok", tuple(sorted(answer)), _kind(answer.get("responseObject", _ABSENT)))


@pytest.fixture(scope="module")
def replay_keys(pki) -> tuple[list[EmulatorKey], EmulatorKey]:  # type: ignore[no-untyped-def]
    """The recording's keys: a KAZTOKEN with a person's signing and authentication keys,
    and a file key; all from the production CA, as the recording's were."""

    def load(label: str, storage: str) -> EmulatorKey:
        key = EmulatorKey.from_p12(pki.p12(label), pki.password, alias=label)
        return replace(key, storage=storage, production=True)

    return (
        [load("career", "AKKaztokenStore"), load("authonly", "AKKaztokenStore")],
        load("hr", "PKCS12"),
    )


def test_recorded_sessions_replay_with_the_same_shapes(replay_keys) -> None:  # type: ignore[no-untyped-def]
    entries = _recorded()
    assert len(entries) >= 40
    token, file_key = replay_keys
    everything = [*token, file_key]
    mismatches: list[str] = []
    compared = 0
    with running_emulator(everything, port=0) as emulator:
        for number, entry in enumerate(entries):
            recorded = json.loads(entry["response"])
            request = json.loads(entry["request"])
            emulator.choose = (
                (lambda offered, r: None)
                if _cancelled(recorded)
                else (lambda offered, r: offered[0])
            )
            if request.get("method") == "getActiveTokens":  # the human plugs a token in
                emulator.keys = [file_key] if recorded["responseObject"] == [] else everything
            with connect(
                emulator.url, ssl=emulator.client_ssl_context(), open_timeout=30, max_size=None
            ) as ws:
                greeting = json.loads(ws.recv(timeout=30))
                if "initMessage" in entry:
                    assert greeting == json.loads(entry["initMessage"])
                ws.send(entry["request"])
                answer = json.loads(ws.recv(timeout=20))
            emulator.keys = everything
            if request.get("module") == KAZTOKEN_ONLY:
                assert answer.get("code") != "200" and "responseObject" not in answer
                continue
            compared += 1
            if _shape(answer) != _shape(recorded):
                mismatches.append(
                    f"#{number} {entry['request'][:90]}\n  recorded "
                    f"{_shape(recorded)}\n  emulator {_shape(answer)}"
                )
            if isinstance(recorded.get("responseObject"), dict):
                got = answer.get("responseObject", {})
                for field, value in recorded["responseObject"].items():
                    if not (
                        field in got
                        and type(got[field]) is type(value)
                        and str(got[field]).isdigit() == str(value).isdigit()
                    ):
                        mismatches.append(f"#{number} {field}: {got.get(field)!r}")
    assert compared >= 40
    assert not mismatches, "\n".join(mismatches)
