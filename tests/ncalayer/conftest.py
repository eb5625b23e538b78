"""Fixtures: the emulator with the officials' keys (of the suite's test PKI), a WebSocket client.

Everything listens on 127.0.0.1 only; the PKI and the emulator start once per session.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from asn1crypto import cms
from websockets.sync.client import connect

from docservice.pki.anchors import TrustAnchors
from docservice.render import render
from docservice_testing.ncalayer import NCALayerEmulator, first_key, running_emulator
from docservice_testing.ncalayer.keystore import EmulatorKey
from signing.cms_util import copy_signed
from signing.ncalayer import protocol as p
from signing.twophase import TwoPhase
from tests.conftest import example
from tests.pki import OFFICIALS, TestPki

#: Keys in the emulator's store, in this order (the default dialog picks the first match).
KEY_LABELS = (*OFFICIALS, "authonly")
#: signerParams that let NCALayer offer test-CA keys (without ``chain`` it offers none).
TEST_KEYS = p.SignerParams(chain=())


@pytest.fixture(scope="session")
def keys(pki: TestPki) -> dict[str, EmulatorKey]:
    return {
        label: EmulatorKey.from_p12(pki.p12(label), pki.password, alias=label)
        for label in KEY_LABELS
    }


@pytest.fixture(scope="session")
def _emulator(pki: TestPki, keys: dict[str, EmulatorKey]) -> Iterator[NCALayerEmulator]:
    with running_emulator(list(keys.values()), port=0, tsa_url=pki.tsa_url) as emulator:
        yield emulator


@pytest.fixture
def emulator(_emulator: NCALayerEmulator) -> Iterator[NCALayerEmulator]:
    """The shared emulator, its dialog reset to "take the first key" after each test."""
    yield _emulator
    _emulator.choose = first_key


@pytest.fixture
def twophase(pki: TestPki, trust: TrustAnchors) -> TwoPhase:
    return TwoPhase(trust=trust, tsa_url=pki.tsa_url, ncalayer_chain=[])


@pytest.fixture(scope="session")
def application_pdf() -> bytes:
    return render("application", example("application"), "kk").pdf


def call(emulator: NCALayerEmulator, *messages: dict[str, Any] | str) -> list[dict[str, Any]]:
    """Connect like a browser, check the greeting, send each message, return each answer."""
    answers = []
    with connect(
        emulator.url, ssl=emulator.client_ssl_context(), open_timeout=30, close_timeout=2
    ) as ws:
        assert p.parse_version(ws.recv(timeout=30)) == p.VERSION
        for message in messages:
            ws.send(message if isinstance(message, str) else p.dumps(message))
            answers.append(json.loads(ws.recv(timeout=20)))
    return answers


def call1(emulator: NCALayerEmulator, message: dict[str, Any] | str) -> dict[str, Any]:
    return call(emulator, message)[0]


def with_key(keys: dict[str, EmulatorKey], label: str):  # type: ignore[no-untyped-def]
    """A dialog choice: the official picks the key ``label`` (it must be on offer)."""

    def choose(offered: list[EmulatorKey], request: object) -> EmulatorKey | None:
        assert keys[label] in offered, f"{label} not offered"
        return keys[label]

    return choose


def detached(signed: cms.SignedData) -> cms.SignedData:
    """A copy without the encapsulated content (pyHanko's detached check refuses content)."""
    copy = copy_signed(signed)
    copy["encap_content_info"] = {"content_type": "data"}
    return copy
