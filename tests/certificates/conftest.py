"""Fixtures for the certificate concepts shared by signing and verification."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.pki import TestPki, running_pki


@pytest.fixture(scope="session")
def pki() -> Iterator[TestPki]:
    with running_pki() as running:
        yield running
