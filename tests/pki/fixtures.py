"""The suite's one set of test PKI fixtures (a pytest plugin loaded by tests/conftest.py).

Why one place: each folder used to start its own copy of the same PKI (its own server, its
own certificates, its own trust anchors), so one run built it up to nine times and the
copies could drift. Every folder now asks for the same session-scoped instances; the
special-purpose PKIs a test needs on purpose are named variants of the same description
(``expiring_tsa``, :func:`tests.pki.stranger_root`, ``gpki`` for GOST).
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from docservice.pki.anchors import TrustAnchors
from tests.pki import OFFICIALS, TestPki, running_pki

if TYPE_CHECKING:
    from signing.keys import Pkcs12Key
    from tests.pki.gost import GostPki


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestPki]:
    """Certificates, .p12 files and OCSP/CRL/TSA served on 127.0.0.1 for the session."""
    with running_pki(tmp_path_factory.mktemp("pki")) as running:
        yield running


@pytest.fixture(scope="session")
def trust(pki: TestPki) -> TrustAnchors:
    """The test PKI's root as the anchor, its issuing CA as the intermediate."""
    return TrustAnchors.from_certificates([pki.root, pki.ca], source="test PKI")


@pytest.fixture(scope="session")
def officials(pki: TestPki) -> dict[str, Pkcs12Key]:
    """The four officials of the application route, keys loaded once."""
    from signing.keys import Pkcs12Key

    return {label: Pkcs12Key.load(pki.p12(label), pki.password) for label in OFFICIALS}


@pytest.fixture(scope="session")
def password_file(pki: TestPki, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The containers' password in a 0600 file, as an operator keeps it."""
    path = tmp_path_factory.mktemp("secret") / "password.txt"
    path.write_text(pki.password + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


@pytest.fixture(scope="session")
def trust_dir(pki: TestPki, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An operator's trust folder holding the test PKI's root and CA."""
    folder = tmp_path_factory.mktemp("trust")
    shutil.copy(pki.root_pem, folder / "root.pem")
    shutil.copy(pki.ca_pem, folder / "ca.pem")
    return folder


@pytest.fixture(scope="session")
def expiring_tsa(pki: TestPki) -> tuple[str, dt.datetime]:
    """The variant TSA whose certificate (issued by the test CA) expires in 20 days:
    its URL and that expiry."""
    expiry = pki.cert("expiring_tsa")["tbs_certificate"]["validity"]["not_after"].native
    return pki.expiring_tsa_url, expiry


@pytest.fixture(scope="session")
def gpki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GostPki]:
    """The GOST test PKI, its CRL, OCSP responder and TSA served on loopback."""
    from tests.pki.gost import running_gost_pki

    with running_gost_pki(tmp_path_factory.mktemp("gost-pki")) as running:
        yield running
