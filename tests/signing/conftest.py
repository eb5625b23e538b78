"""Session fixtures: the running NCA-like test PKI, loaded keys, documents to sign."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from docservice.pki.anchors import TrustAnchors
from signing.keys import Pkcs12Key
from tests.pki import OFFICIALS, TestPki, running_pki

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestPki]:
    """Certificates, .p12 files and OCSP/CRL/TSA served on 127.0.0.1 for the session."""
    with running_pki(tmp_path_factory.mktemp("pki")) as running:
        yield running


@pytest.fixture(scope="session")
def trust(pki: TestPki) -> TrustAnchors:
    return TrustAnchors((pki.root,), (pki.ca,))


@pytest.fixture(scope="session")
def officials(pki: TestPki) -> dict[str, Pkcs12Key]:
    return {label: Pkcs12Key.load(pki.p12(label), pki.password) for label in OFFICIALS}


@pytest.fixture(scope="session")
def rendered():
    """A real catalogue document: PDF/A-3b with the named signature area, and its XML."""
    from docservice.render import render

    data = json.loads((ROOT / "examples" / "application.json").read_text(encoding="utf-8"))
    return render("application", data, "kk+ru")


@pytest.fixture(scope="session")
def password_file(pki: TestPki, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("secret") / "password.txt"
    path.write_text(pki.password + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path
