"""Session fixtures: one verifier, signed documents made once (the running test PKI and
its trust anchors are the suite's, tests/pki/fixtures.py).

Documents are built lazily and cached per session so each test file pays only for what
it uses; every report a test produces is also checked against the JSON Schema.
"""

from __future__ import annotations

import datetime as dt
import io
import zlib
from collections.abc import Callable
from functools import cache

import jsonschema
import pytest

from docservice.verification import TrustAnchors, Verifier, VerifierConfig
from docservice.verification.report import Report, load_schema
from tests.pki import TestPki
from tests.verification.fixtures import SAMPLE_XML, Signers, base_pdf

UTC = dt.UTC
#: A moment inside the expired user's validity (2021-03-01 .. 2022-03-01).
WHILE_VALID = dt.datetime(2021, 6, 1, 9, 0, tzinfo=UTC)
#: Before the revoked user's revocation (2025-06-01).
BEFORE_REVOCATION = dt.datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def signers(pki: TestPki) -> Signers:
    return Signers(pki)


@pytest.fixture(scope="session")
def verifier(trust: TrustAnchors) -> Verifier:
    return Verifier(VerifierConfig(trust=trust))


@pytest.fixture(scope="session")
def offline(trust: TrustAnchors) -> Verifier:
    """No network: only revocation data embedded in the file counts."""
    return Verifier(VerifierConfig(trust=trust, fetch_revocation=False))


@pytest.fixture(scope="session")
def schema() -> dict:
    return load_schema()


@pytest.fixture
def check(verifier: Verifier, schema: dict) -> Callable[..., Report]:
    """Verify and validate the JSON against the documented schema."""

    def run(data: bytes, original: bytes | None = None, using: Verifier | None = None) -> Report:
        report = (using or verifier).verify(data, original, file_name="doc")
        jsonschema.validate(report.to_dict(), schema)
        return report

    return run


class Docs:
    """Signed documents, each made on first use."""

    def __init__(self, s: Signers) -> None:
        self.s = s

    @cache  # noqa: B019 - one Docs per session
    def base(self) -> bytes:
        return base_pdf()

    @cache  # noqa: B019
    def bb(self) -> bytes:
        return self.s.sign_pdf(self.base(), "career")

    @cache  # noqa: B019
    def four(self) -> bytes:
        data = self.s.sign_pdf(self.base(), "career", certify=True)
        for label in ("head", "akimat", "hr"):
            data = self.s.sign_pdf(data, label)
        return data

    @cache  # noqa: B019
    def lta(self) -> bytes:
        return self.s.sign_pdf_lta(self.base(), "career")

    @cache  # noqa: B019
    def expired_with_ts(self) -> bytes:
        return self.s.sign_pdf(
            self.base(), "expired", when=WHILE_VALID, ts_at=WHILE_VALID + dt.timedelta(minutes=1)
        )

    @cache  # noqa: B019
    def xml(self) -> bytes:
        return self.s.sign_xml(SAMPLE_XML, "career")

    @cache  # noqa: B019
    def decompression_bomb(self) -> bytes:
        """A signed PDF whose page content inflates to 512 MiB of zeros (0.5 MB in the
        file; deflating the zeros takes seconds, so it is made once per session)."""
        from pyhanko.pdf_utils import generic
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

        comp = zlib.compressobj(9)
        bomb = b"".join(comp.compress(b"\0" * (1 << 20)) for _ in range(512)) + comp.flush()
        writer = IncrementalPdfFileWriter(io.BytesIO(self.base()), strict=False)
        stream = generic.StreamObject(
            {generic.NameObject("/Filter"): generic.NameObject("/FlateDecode")}, encoded_data=bomb
        )
        page = writer.root["/Pages"]["/Kids"][0].get_object()
        page["/Contents"] = writer.add_object(stream)
        writer.update_container(page)
        out = io.BytesIO()
        writer.write(out)
        return self.s.sign_pdf(out.getvalue(), "career")

    @cache  # noqa: B019
    def cms_ending_in_white_space(self) -> tuple[bytes, bytes]:
        """A detached DER CMS whose last byte (a signature byte) is white space, and its
        content: found by signing ``b"0"``, ``b"1"`` … (about 1 in 43 signatures ends in
        one of the six bytes), once per session for the tests that need one."""
        when = dt.datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
        for attempt in range(3000):
            data = b"%d" % attempt
            der = self.s.cms(data, ["career"], when=when).dump()
            if der[-1:] in (b" ", b"\t", b"\n", b"\x0b", b"\x0c", b"\r"):
                return der, data
        raise AssertionError("no signature ending in a white-space byte in 3000 tries")


@pytest.fixture(scope="session")
def docs(signers: Signers) -> Docs:
    return Docs(signers)
