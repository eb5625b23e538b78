"""Long-term validity and the embedded scheduler.

A B-LTA document time-stamped by a TSA whose certificate expires in 20 days (the test
PKI's ``expiring_tsa`` variant, issued by its CA and served on loopback) is re-time-stamped
by the sweep with the operator's renewed TSA; the sweep then leaves it alone, the new
revision and token are in the archive, and the first signature still validates (pyHanko).
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest

from docservice.service.clients import add_client
from docservice.service.documents import DocService
from docservice.service.keys import add_key
from docservice.service.ltv import retimestamp_due, timestamp_expiry
from tests.conftest import example
from tests.pki import TestPki


def _doc_timestamps(pdf: bytes) -> list:  # type: ignore[type-arg]
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    return [s for s in reader.embedded_signatures if s.sig_object_type == "/DocTimeStamp"]


@pytest.mark.parametrize("backend_url", ["sqlite"], indirect=True)
def test_b_lta_is_re_time_stamped_before_the_tsa_certificate_expires(
    service: DocService, pki: TestPki, password_file: Path, expiring_tsa, tmp_path: Path
) -> None:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature

    tsa_url, expiry = expiring_tsa
    service.settings = service.settings.with_(
        tsa_url=tsa_url, pades_level="B-LTA", retimestamp_days=90
    )
    with service.db.session() as session:
        client, _ = add_client(session, "portal", ["render", "sign", "audit"])
        add_key(session, "career", pki.p12("career"), password_file, ["portal"])
    doc = service.create_document(
        client, "application", "kk", example("application"), case_ref="L-1"
    )
    service.sign_with_key(client, doc.id, "career")
    signed = service.get_document(client, doc.id)
    first = service.content(signed.pdf_sha)
    assert timestamp_expiry(first).replace(microsecond=0) == expiry
    # The operator's TSA has a renewed certificate now (the test PKI's, valid to 2040);
    # tree heads are time-stamped by it from now on.
    service.settings = service.settings.with_(tsa_url=pki.tsa_url)
    service.archive.settings = service.settings
    assert retimestamp_due(service) == [doc.id]
    again = service.get_document(client, doc.id)
    new = service.content(again.pdf_sha)
    assert new.startswith(first)  # an incremental update: earlier revisions untouched
    stamps = _doc_timestamps(new)
    assert len(stamps) == 2 and timestamp_expiry(new).year == 2040
    assert retimestamp_due(service) == []  # not due any more
    reader = PdfFileReader(io.BytesIO(new), strict=False)
    from pyhanko_certvalidator import ValidationContext

    status = validate_pdf_signature(
        reader.embedded_regular_signatures[0],
        ValidationContext(trust_roots=[pki.root], other_certs=[pki.ca], allow_fetching=True),
    )
    assert status.intact and status.valid
    with service.db.sessions() as session:
        chain = service.archive.chain(session, client, "L-1")
    types = [i["type"] for i in chain["items"]]
    assert types[-2:] == ["signature.pdf", "document.timestamp"]
    assert types.count("signature.timestamp") == 1  # the B-LTA signature's own token
    # The B-LTA revision's DSS (found by its uncompressed /DSS) is archived, entry by entry.
    from docservice.service.archive import _dss_of

    ocsps, crls = _dss_of(first)
    assert ocsps or crls
    assert types.count("signature.ocsp") >= len(ocsps) and types.count("signature.crl") >= len(crls)
    assert chain["items"][-2]["sha256"] == again.pdf_sha
    from docservice.service.audit import check_archive

    assert check_archive(service).findings == []
    # Its bundle carries a ДДК of the re-time-stamped revision, and verifies offline.
    from docservice.archive.bundle import verify_bundle
    from docservice.service.archive import public_pem
    from docservice.service.bundle import build_bundle

    bundle = tmp_path / "L-1.zip"
    bundle.write_bytes(build_bundle(service, client, "L-1"))
    pinned = tmp_path / "trust"
    pinned.mkdir()
    (pinned / "root.pem").write_bytes(pki.root_pem.read_bytes())
    (pinned / "ca.pem").write_bytes(pki.ca_pem.read_bytes())
    (pinned / "seal.pem").write_bytes(public_pem(service.archive.seal_key))
    report = verify_bundle(bundle, pinned)
    assert report.problems == [] and report.cards == 1, report
    import zipfile

    from docservice.archive.bundle import head_from_json

    with zipfile.ZipFile(bundle) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        _, token = head_from_json(json.loads(zf.read(manifest["tree_head"])))
    assert token is not None  # time-stamped, and verify_bundle checked it against the roots
    stranger = tmp_path / "stranger"
    stranger.mkdir()
    (stranger / "seal.pem").write_bytes(public_pem(service.archive.seal_key))
    from tests.pki import stranger_root

    (stranger / "root.pem").write_bytes(stranger_root().dump())
    problems = verify_bundle(bundle, stranger).problems
    assert any("time-stamp token does not verify" in p for p in problems), problems


@pytest.mark.parametrize("backend_url", ["sqlite"], indirect=True)
def test_the_embedded_scheduler_signs_a_tree_head_when_the_log_grew(service: DocService) -> None:
    from docservice.service.scheduler import Scheduler

    service.settings = service.settings.with_(tree_head_interval=0.2, retimestamp_interval=3600)
    with service.db.session() as session:
        client, _ = add_client(session, "portal", ["render", "audit"])
    service.create_document(client, "application", "kk", example("application"))
    scheduler = Scheduler(service, tick=0.05).start()
    try:
        deadline = time.monotonic() + 30
        while not service.archive.tree_heads() and time.monotonic() < deadline:
            time.sleep(0.1)
        heads = service.archive.tree_heads()
        assert heads and heads[-1][0].tree_size == service.archive.log_store.size() == 3
        time.sleep(0.6)
        assert len(service.archive.tree_heads()) == 1  # nothing new: no new head
    finally:
        scheduler.stop()
