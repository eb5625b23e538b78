"""Outcomes are enums: indications, sub-indications and kinds, serialised as the schema says."""

from __future__ import annotations

import json
import re

import pytest

from docservice.verification.report import (
    FAILED_SUBINDICATIONS,
    CoverageKind,
    DocumentFormat,
    Indication,
    SignatureKind,
    SubIndication,
    TimestampKind,
    indication_for,
)
from tests.verification.conftest import Docs
from tests.verification.fixtures import incremental_update_attack


def test_the_enums_are_the_schemas_lists(schema: dict) -> None:
    defs = schema["$defs"]
    sig = defs["signature"]["properties"]
    assert [m.value for m in Indication] == defs["indication"]["enum"]
    assert [m.value for m in SubIndication] == [v for v in defs["subIndication"]["enum"] if v]
    assert [m.value for m in SignatureKind] == sig["kind"]["enum"]
    assert [m.value for m in DocumentFormat] == (
        schema["properties"]["document"]["properties"]["format"]["enum"]
    )
    assert [m.value for m in TimestampKind] == defs["timestamp"]["properties"]["kind"]["enum"]
    coverage = next(a for a in sig["coverage"]["anyOf"] if a.get("type") == "object")
    assert [m.value for m in CoverageKind] == coverage["properties"]["kind"]["enum"]


def test_the_indication_follows_from_the_sub_indication() -> None:
    failed = {s for s in SubIndication if s.indication is Indication.TOTAL_FAILED}
    assert failed == FAILED_SUBINDICATIONS and len(failed) == 7  # EN 319 102-1 table 5
    assert SubIndication.HASH_FAILURE.indication is Indication.TOTAL_FAILED
    assert SubIndication.TRY_LATER.indication is Indication.INDETERMINATE
    assert indication_for(None) is Indication.TOTAL_PASSED
    with pytest.raises(ValueError):
        indication_for("HASH FAILURE")  # a misspelt outcome is an error, not INDETERMINATE


def test_reports_hold_members_and_serialise_to_the_same_strings(check, docs: Docs) -> None:
    good = check(docs.lta())
    assert good.passed and good.verdict is Indication.TOTAL_PASSED
    assert good.document.format is DocumentFormat.PDF
    sig, ts = good.signatures
    assert sig.kind is SignatureKind.PDF_SIGNATURE and ts.kind is SignatureKind.PDF_TIMESTAMP
    assert sig.passed and sig.sub_indication is None
    assert {t.kind for t in sig.timestamps} == {TimestampKind.SIGNATURE, TimestampKind.DOCUMENT}
    assert sig.coverage is not None and sig.coverage.kind is CoverageKind.ENTIRE_REVISION
    body = json.loads(good.to_json())
    assert body["verdict"] == "TOTAL_PASSED" and body["document"]["format"] == "pdf"
    assert [s["kind"] for s in body["signatures"]] == ["pdf_signature", "pdf_timestamp"]
    assert "failure" not in json.dumps(body)  # the internal field stays out of the JSON
    bad = check(incremental_update_attack(docs.bb()))
    assert not bad.passed and bad.verdict is Indication.TOTAL_FAILED
    assert bad.signatures[0].sub_indication is SubIndication.SIG_CONSTRAINTS_FAILURE
    assert json.loads(bad.to_json())["signatures"][0]["sub_indication"] == (
        "SIG_CONSTRAINTS_FAILURE"
    )


def test_a_document_timestamp_over_altered_bytes_is_a_hash_failure(check, docs: Docs) -> None:
    """The outcome comes from the time-stamp check's enum, not from words in its message."""
    data = bytearray(docs.lta())
    ranges = [
        [int(v) for v in m.groups()]
        for m in re.finditer(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", data)
    ]
    signature_end = min(r[2] + r[3] for r in ranges)  # the end of the first revision
    # A space between two tokens of the second revision becomes a newline: same PDF to a
    # reader, other bytes to the document time-stamp's imprint.
    start = data.index(b" /", signature_end)
    data[start : start + 1] = b"\n"
    report = check(bytes(data))
    ts = report.signatures[-1]
    assert ts.kind is SignatureKind.PDF_TIMESTAMP
    assert ts.sub_indication is SubIndication.HASH_FAILURE
    assert ts.indication is Indication.TOTAL_FAILED and not report.passed
