"""Headless Chromium, the page script and the emulator with a GOST key: the official's
browser gets a Streebog digest to sign, NCALayer (the emulator) signs it with GOST, the
service completes the PDF and the verifier passes it."""

from __future__ import annotations

from docservice.verification import TrustAnchors, Verifier, VerifierConfig
from docservice.verification.report import Indication
from signing.twophase import TwoPhase
from tests.gost.test_emulator import emulator, gost_keys  # noqa: F401  (fixtures)
from tests.ncalayer.test_browser import sign_on_the_page
from tests.verification.fixtures import base_pdf


def test_page_signs_a_pdf_with_a_gost_key(emulator, gpki) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    report, signed = sign_on_the_page(emulator, TwoPhase(ncalayer_chain=[]), base_pdf(), [gpki.ca])
    assert report.get("ok") is True, report
    assert report["cancelled"] is True
    verifier = Verifier(VerifierConfig(trust=TrustAnchors.from_certificates([gpki.root, gpki.ca])))
    (sig,) = verifier.verify(signed[0]).signatures
    assert (sig.indication, sig.sub_indication) == (Indication.TOTAL_PASSED, None)
    assert sig.algorithm == "ГОСТ 34.10-2015, 512 бит"
