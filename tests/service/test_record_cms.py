"""What the service records of a new signature (its CMS and signer) is read from the
signed file's last ``/ByteRange`` gap; pyHanko's reader must find the same."""

from __future__ import annotations

from docservice.pki.anchors import TrustAnchors
from docservice.render import render
from docservice.service.documents import _cms_of_last_signature, _cms_of_last_signature_read
from signing.keys import Pkcs12Key
from signing.pdf import Level, PdfOptions, sign_pdf
from tests.conftest import example
from tests.pki import TestPki


def test_the_newest_signature_is_found_as_pyhanko_finds_it(pki: TestPki) -> None:
    trust = TrustAnchors((pki.root,), (pki.ca,))
    data = render("direction", example("direction"), "kk", validate_pdfa=False).pdf
    seen = set()
    for label, level in (("career", Level.B_B), ("head", Level.B_T), ("akimat", Level.B_LTA)):
        key = Pkcs12Key.load(pki.p12(label), pki.password)
        data = sign_pdf(data, key, PdfOptions(level=level, tsa_url=pki.tsa_url, trust=trust))
        fast, fast_cert = _cms_of_last_signature(data)
        slow, slow_cert = _cms_of_last_signature_read(data)
        assert fast == slow and fast_cert.dump() == slow_cert.dump() == key.certificate.dump()
        seen.add(fast)
    assert len(seen) == 3  # after B-LTA the newest *signature*, not the document time-stamp
