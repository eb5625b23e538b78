"""Fixtures for the GOST tests: the BouncyCastle oracle, run once per session.

The GOST and RSA test PKIs (``gpki``, ``pki``) are the suite's, from tests/pki/fixtures.py.
"""

from __future__ import annotations

import pytest

from tests.gost.oracles import BouncyCastle


@pytest.fixture(scope="session")
def bc():
    oracle = BouncyCastle()
    yield oracle
    oracle.close()
