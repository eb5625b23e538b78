"""The verification report: one model rendered as JSON, HTML and a PDF receipt.

Why a model of our own rather than pyHanko's status objects: officials need the same
facts whatever the format (PDF, XML, CMS), worded in Kazakh and Russian, and API clients
need a stable, documented JSON shape (``report.schema.json`` next to this file; tests
validate every report they produce against it).
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from docservice.timefmt import utc_iso
from docservice.verification import messages

SCHEMA_PATH = Path(__file__).with_name("report.schema.json")
SCHEMA_VERSION = "1.0"


class Indication(enum.StrEnum):
    """ETSI EN 319 102-1 main indications."""

    TOTAL_PASSED = "TOTAL_PASSED"
    TOTAL_FAILED = "TOTAL_FAILED"
    INDETERMINATE = "INDETERMINATE"


#: Sub-indications that make a signature TOTAL_FAILED (the rest are INDETERMINATE).
FAILED_SUBINDICATIONS = frozenset({
    "FORMAT_FAILURE", "HASH_FAILURE", "SIG_CRYPTO_FAILURE", "REVOKED", "EXPIRED",
    "NOT_YET_VALID", "SIG_CONSTRAINTS_FAILURE",
})


@dataclass
class Reason:
    """One finding in plain words: a stable code plus its Kazakh and Russian text."""

    code: str
    kk: str
    ru: str

    @classmethod
    def of(cls, code: str, **params: object) -> Reason:
        return cls(code, messages.text(code, "kk", **params), messages.text(code, "ru", **params))

    def text(self, lang: str) -> str:
        return self.kk if lang == "kk" else self.ru


@dataclass
class Labelled:
    """An OID with its meaning (role or policy) in both languages."""

    oid: str
    kk: str
    ru: str


@dataclass
class CertificateFacts:
    subject: str
    issuer: str
    serial_hex: str
    not_before: dt.datetime
    not_after: dt.datetime
    sha256: str
    key_algorithm: str


@dataclass
class SignerFacts:
    """Who signed, as the NCA RK certificate subject says it."""

    common_name: str = ""
    full_name: str = ""
    surname: str = ""
    given_name: str = ""
    patronymic: str = ""
    iin: str | None = None
    iin_valid: bool | None = None
    organisation: str | None = None
    bin: str | None = None
    bin_valid: bool | None = None
    email: str | None = None
    roles: list[Labelled] = field(default_factory=list)
    policies: list[Labelled] = field(default_factory=list)
    legal_entity: bool = False
    gost: bool = False
    certificate: CertificateFacts | None = None


@dataclass
class TimestampFacts:
    """A time-stamp that bears on a signature (its own, or a later document time-stamp)."""

    kind: str  # "signature" | "document" | "content" | "archive" (the caller's known POE)
    time: dt.datetime
    trusted: bool
    tsa: str = ""
    policy: str | None = None
    policy_label: Labelled | None = None
    problem: str | None = None


@dataclass
class RevocationFacts:
    checked: bool
    source: str  # "embedded-ocsp" | "embedded-crl" | "ocsp" | "crl" | "none"
    status: str  # "good" | "revoked" | "unknown" | "not-declared"
    revocation_time: dt.datetime | None = None
    reason: str | None = None


@dataclass
class Coverage:
    """What the signature protects."""

    kind: str  # entire_file | entire_revision | partial | xml_elements | content
    revision: int | None = None
    signed_bytes: int | None = None
    total_bytes: int | None = None
    elements: list[str] = field(default_factory=list)


@dataclass
class Modification:
    """Changes appended after a signature (PDF incremental updates)."""

    allowed: bool
    level: str  # NONE | LTA_UPDATES | FORM_FILLING | ANNOTATIONS | OTHER
    revisions_after: int
    description: Reason | None = None


@dataclass
class SignatureReport:
    """Per signature (or document time-stamp): the indication and everything behind it."""

    index: int
    kind: str  # pdf_signature | pdf_timestamp | xml | cms
    indication: Indication
    sub_indication: str | None
    #: SHA-256 of the verified signature value: the key of a POE held for it (the archive's).
    signature_sha256: str | None = None
    signer: SignerFacts | None = None
    field_name: str | None = None
    revision: int | None = None
    signing_time_claimed: dt.datetime | None = None
    validation_time: dt.datetime | None = None
    validation_time_source: str = "now"  # timestamp | claimed | now
    timestamps: list[TimestampFacts] = field(default_factory=list)
    coverage: Coverage | None = None
    modifications: Modification | None = None
    revocation: RevocationFacts | None = None
    chain: list[str] = field(default_factory=list)
    algorithm: str = ""
    certification: str | None = None
    reasons: list[Reason] = field(default_factory=list)
    warnings: list[Reason] = field(default_factory=list)


@dataclass
class DocumentFacts:
    format: str  # pdf | xml | cms | card (a ДДК: original_sha256 is its first attachment)
    sha256: str
    size: int
    file_name: str | None = None
    original_sha256: str | None = None
    revisions: int | None = None


@dataclass
class Report:
    """The whole answer: a document-level verdict on top of one entry per signature."""

    document: DocumentFacts
    verdict: Indication
    verdict_reason: Reason
    signatures: list[SignatureReport]
    verified_at: dt.datetime
    trust_anchors: list[str] = field(default_factory=list)
    schema_version: str = SCHEMA_VERSION

    @property
    def exit_code(self) -> int:
        """CLI convention: 0 all passed, 1 any failed, 2 any indeterminate."""
        return {Indication.TOTAL_PASSED: 0, Indication.TOTAL_FAILED: 1,
                Indication.INDETERMINATE: 2}[self.verdict]

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)


def document_verdict(signatures: list[SignatureReport]) -> tuple[Indication, Reason]:
    """Failed beats indeterminate beats passed: one bad signature spoils the document."""
    found = {s.indication for s in signatures}
    if Indication.TOTAL_FAILED in found:
        return Indication.TOTAL_FAILED, Reason.of("DOC_FAILED")
    if Indication.INDETERMINATE in found or not signatures:
        return Indication.INDETERMINATE, Reason.of("DOC_INDETERMINATE")
    return Indication.TOTAL_PASSED, Reason.of("DOC_PASSED")


def indication_for(sub: str | None) -> Indication:
    if sub is None:
        return Indication.TOTAL_PASSED
    return Indication.TOTAL_FAILED if sub in FAILED_SUBINDICATIONS else Indication.INDETERMINATE


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime):
        return utc_iso(value)
    if isinstance(value, enum.Enum):
        return value.value
    return value


def load_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
