"""The service's own signatures (``signing/``) verify: four officials with stamps + LTA,
detached CAdES with its TSP and OCSP inside (PEM, offline), XMLDSig with two signers.

These cross-check ``signing/`` with the verifier through ``signing/``'s public API: if that
API changes, they fail (an import or call error), never skip; only an absent external tool
may skip, through :func:`tests.conftest.need`.
"""

from __future__ import annotations

from typing import Any

import pytest

from docservice.verification import Verifier, VerifierConfig
from docservice.verification.report import Indication
from tests.verification.fixtures import service_signatures


@pytest.fixture(scope="module")
def service(pki, trust) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return service_signatures(pki, trust)


def test_four_officials_with_stamps_and_lta(check, service) -> None:  # type: ignore[no-untyped-def]
    report = check(service["pdf"])
    assert report.verdict is Indication.TOTAL_PASSED
    kinds = [s.kind for s in report.signatures]
    assert kinds == ["pdf_signature"] * 4 + ["pdf_timestamp"]
    assert [s.signer.surname for s in report.signatures[:4]] == [
        "ӘБІЛҚАСЫМОВА",
        "ЖҰМАБЕКОВ",
        "ҚҰРМАНҒАЛИЕВ",
        "ИВАНОВА",
    ]
    assert all(s.validation_time_source == "timestamp" for s in report.signatures)
    assert report.signatures[0].certification is not None


def test_cades_detached_offline_uses_its_own_ocsp(trust, check, service) -> None:  # type: ignore[no-untyped-def]
    offline = Verifier(VerifierConfig(trust=trust, fetch_revocation=False))
    (sig,) = check(service["cms"], b"original", using=offline).signatures
    assert sig.indication is Indication.TOTAL_PASSED
    assert sig.revocation.source == "embedded-ocsp"


def test_xmldsig_two_signers(check, service) -> None:  # type: ignore[no-untyped-def]
    report = check(service["xml"])
    assert report.verdict is Indication.TOTAL_PASSED and len(report.signatures) == 2
