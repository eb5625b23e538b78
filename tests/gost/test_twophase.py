"""NCALayer two-phase signing with a GOST key: the prepared digest is Streebog, the GOST CMS
that comes back is checked, embedded, and the PDF verifies (BouncyCastle agrees)."""

from __future__ import annotations

import base64
import hashlib
import io

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

import signing.gost as gost
from docservice.verification import TrustAnchors, Verifier, VerifierConfig
from docservice.verification.report import Indication
from signing import errors
from signing.gost import cms as gost_cms
from signing.keys import GostPrivateKey, Pkcs12Key
from signing.twophase import TwoPhase
from tests.gost.oracles import check_gost_signer_info, openssl_streebog
from tests.verification.fixtures import base_pdf


def _ncalayer_answer(key: Pkcs12Key, digest: bytes) -> str:
    """What NCALayer returns for ``digested: true`` with a GOST key: a Base64 CMS."""
    private = key.private_key
    assert isinstance(private, GostPrivateKey)
    cms = gost_cms.sign_digest(private, key.certificate, [], digest)
    return base64.b64encode(cms.dump()).decode()


@pytest.mark.parametrize("label", ["gost_career", "gost256_career"])
def test_two_phase_pdf_with_gost_key(gpki, bc, label: str) -> None:  # type: ignore[no-untyped-def]
    key = Pkcs12Key.load(gpki.p12(label), gpki.password)
    service = TwoPhase()
    request = service.prepare_pdf(base_pdf(), key.certificate, [gpki.ca])
    digest = base64.b64decode(request.extra["digest"])
    pending_bytes = service.store._items[request.session_id].payload  # type: ignore[attr-defined]
    start, end = service.store._items[request.session_id].region  # type: ignore[attr-defined]
    bits = 512 if key.private_key.public.curve.size == 64 else 256  # type: ignore[union-attr]
    assert digest == openssl_streebog(pending_bytes[:start] + pending_bytes[end:], bits)
    pdf = service.complete_pdf(request.session_id, _ncalayer_answer(key, digest))
    verifier = Verifier(VerifierConfig(trust=TrustAnchors.from_certificates([gpki.root, gpki.ca])))
    (sig,) = verifier.verify(pdf).signatures
    assert (sig.indication, sig.sub_indication) == (Indication.TOTAL_PASSED, None)
    assert sig.algorithm == f"ГОСТ 34.10-2015, {bits} бит"
    embedded = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0]
    s1, l1, s2, l2 = (int(v) for v in embedded.byte_range)
    check_gost_signer_info(
        bc, embedded.signer_info, key.certificate, pdf[s1 : s1 + l1] + pdf[s2 : s2 + l2]
    )


def test_two_phase_refuses_a_gost_cms_over_another_digest(gpki) -> None:  # type: ignore[no-untyped-def]
    key = Pkcs12Key.load(gpki.p12("gost_career"), gpki.password)
    service = TwoPhase()
    request = service.prepare_pdf(base_pdf(), key.certificate, [gpki.ca])
    wrong = gost.digest(gost.STREEBOG512, hashlib.sha256(b"other").digest())
    with pytest.raises(errors.DigestMismatchError):
        service.complete_pdf(request.session_id, _ncalayer_answer(key, wrong))
