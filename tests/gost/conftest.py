"""Fixtures for the GOST tests: the BouncyCastle oracle, run once per session."""

from __future__ import annotations

import pytest

from tests.gost.oracles import BouncyCastle


@pytest.fixture(scope="session")
def bc():
    oracle = BouncyCastle()
    yield oracle
    oracle.close()


@pytest.fixture(scope="session")
def gpki(tmp_path_factory):  # type: ignore[no-untyped-def]
    """The GOST test PKI, its CRL served on loopback."""
    from tests.pki.gost import running_gost_pki

    with running_gost_pki(tmp_path_factory.mktemp("gost-pki")) as running:
        yield running


@pytest.fixture(scope="session")
def pki():  # type: ignore[no-untyped-def]
    """The RSA test PKI (certomancer, OCSP/CRL/TSA really running) for mixed signers."""
    from tests.pki import running_pki

    with running_pki() as running:
        yield running
