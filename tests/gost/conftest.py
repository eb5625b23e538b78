"""Fixtures for the GOST tests: the BouncyCastle oracle, run once per session."""

from __future__ import annotations

import pytest

from tests.gost.oracles import BouncyCastle


@pytest.fixture(scope="session")
def bc():
    oracle = BouncyCastle()
    yield oracle
    oracle.close()
