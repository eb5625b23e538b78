"""The verification report: one model rendered as JSON, HTML and a PDF receipt.

Why a model of our own rather than pyHanko's status objects: officials need the same
facts whatever the format (PDF, XML, CMS), worded in Kazakh and Russian, and API clients
need a stable, documented JSON shape (``report.schema.json`` next to this file; tests
validate every report they produce against it).
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import json
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

from docservice.timefmt import utc_iso
from docservice.verification import messages

SCHEMA_PATH = Path(__file__).with_name("report.schema.json")
SCHEMA_VERSION = "1.0"


class Indication(enum.StrEnum):
    """ETSI EN 319 102-1 main indications (TOTAL-PASSED, TOTAL-FAILED, INDETERMINATE).

    The report writes them with an underscore, as pyHanko and DSS do; the values are the
    JSON schema's and must not change.
    """

    TOTAL_PASSED = "TOTAL_PASSED"
    TOTAL_FAILED = "TOTAL_FAILED"
    INDETERMINATE = "INDETERMINATE"


class SubIndication(enum.StrEnum):
    """ETSI EN 319 102-1 sub-indications (clause 5.1.3), as ``report.schema.json`` lists them.

    Why an enum: the verdict of a signature follows from its sub-indication alone
    (:attr:`indication`), and code compares members, never words found in a message.
    """

    # TOTAL-FAILED
    FORMAT_FAILURE = "FORMAT_FAILURE"
    HASH_FAILURE = "HASH_FAILURE"
    SIG_CRYPTO_FAILURE = "SIG_CRYPTO_FAILURE"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"
    NOT_YET_VALID = "NOT_YET_VALID"
    SIG_CONSTRAINTS_FAILURE = "SIG_CONSTRAINTS_FAILURE"
    # INDETERMINATE
    CHAIN_CONSTRAINTS_FAILURE = "CHAIN_CONSTRAINTS_FAILURE"
    CERTIFICATE_CHAIN_GENERAL_FAILURE = "CERTIFICATE_CHAIN_GENERAL_FAILURE"
    CRYPTO_CONSTRAINTS_FAILURE = "CRYPTO_CONSTRAINTS_FAILURE"
    POLICY_PROCESSING_ERROR = "POLICY_PROCESSING_ERROR"
    SIGNATURE_POLICY_NOT_AVAILABLE = "SIGNATURE_POLICY_NOT_AVAILABLE"
    TIMESTAMP_ORDER_FAILURE = "TIMESTAMP_ORDER_FAILURE"
    NO_SIGNING_CERTIFICATE_FOUND = "NO_SIGNING_CERTIFICATE_FOUND"
    NO_CERTIFICATE_CHAIN_FOUND = "NO_CERTIFICATE_CHAIN_FOUND"
    REVOKED_NO_POE = "REVOKED_NO_POE"
    REVOKED_CA_NO_POE = "REVOKED_CA_NO_POE"
    OUT_OF_BOUNDS_NO_POE = "OUT_OF_BOUNDS_NO_POE"
    REVOCATION_OUT_OF_BOUNDS_NO_POE = "REVOCATION_OUT_OF_BOUNDS_NO_POE"
    OUT_OF_BOUNDS_NOT_REVOKED = "OUT_OF_BOUNDS_NOT_REVOKED"
    CRYPTO_CONSTRAINTS_FAILURE_NO_POE = "CRYPTO_CONSTRAINTS_FAILURE_NO_POE"
    NO_POE = "NO_POE"
    TRY_LATER = "TRY_LATER"
    SIGNED_DATA_NOT_FOUND = "SIGNED_DATA_NOT_FOUND"
    GENERIC = "GENERIC"

    @property
    def indication(self) -> Indication:
        """TOTAL_FAILED for the seven failures of the standard, else INDETERMINATE."""
        return (
            Indication.TOTAL_FAILED if self in FAILED_SUBINDICATIONS else Indication.INDETERMINATE
        )


#: Sub-indications that make a signature TOTAL_FAILED (the rest are INDETERMINATE).
FAILED_SUBINDICATIONS = frozenset(
    {
        SubIndication.FORMAT_FAILURE,
        SubIndication.HASH_FAILURE,
        SubIndication.SIG_CRYPTO_FAILURE,
        SubIndication.REVOKED,
        SubIndication.EXPIRED,
        SubIndication.NOT_YET_VALID,
        SubIndication.SIG_CONSTRAINTS_FAILURE,
    }
)


class DocumentFormat(enum.StrEnum):
    """What was verified: a signed PDF, an XML, a CMS, or a document card (ДДК)."""

    PDF = "pdf"
    XML = "xml"
    CMS = "cms"
    CARD = "card"


class SignatureKind(enum.StrEnum):
    """One entry of the report: a PDF signature or document time-stamp, an XML or a CMS one."""

    PDF_SIGNATURE = "pdf_signature"
    PDF_TIMESTAMP = "pdf_timestamp"
    XML = "xml"
    CMS = "cms"


class TimestampKind(enum.StrEnum):
    """Which time-stamp bears on a signature (see :class:`TimestampFacts`)."""

    SIGNATURE = "signature"
    DOCUMENT = "document"
    CONTENT = "content"
    ARCHIVE = "archive"


class CoverageKind(enum.StrEnum):
    """What a signature protects (see :class:`Coverage`)."""

    ENTIRE_FILE = "entire_file"
    ENTIRE_REVISION = "entire_revision"
    PARTIAL = "partial"
    XML_ELEMENTS = "xml_elements"
    ENTIRE_DOCUMENT = "entire_document"
    CONTENT = "content"


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


@dataclass(frozen=True)
class Labelled:
    """An OID with its meaning (role or policy) in both languages."""

    oid: str
    kk: str
    ru: str


@dataclass(frozen=True)
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

    kind: TimestampKind  # archive: the caller's known POE
    time: dt.datetime
    trusted: bool
    tsa: str = ""
    policy: str | None = None
    policy_label: Labelled | None = None
    problem: str | None = None
    #: Why an untrusted time-stamp is not trusted, for the code (not in the JSON report).
    failure: SubIndication | None = field(default=None, metadata={"internal": True})

    def __post_init__(self) -> None:
        self.kind = TimestampKind(self.kind)


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

    kind: CoverageKind
    revision: int | None = None
    signed_bytes: int | None = None
    total_bytes: int | None = None
    elements: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.kind = CoverageKind(self.kind)


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
    kind: SignatureKind
    indication: Indication
    sub_indication: SubIndication | None
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

    def __post_init__(self) -> None:
        self.kind = SignatureKind(self.kind)
        self.indication = Indication(self.indication)
        if self.sub_indication is not None:
            self.sub_indication = SubIndication(self.sub_indication)

    def set_outcome(self, sub: SubIndication | str | None) -> None:
        """The sub-indication, and the indication that follows from it (None: passed)."""
        self.sub_indication = None if sub is None else SubIndication(sub)
        self.indication = indication_for(self.sub_indication)

    @property
    def passed(self) -> bool:
        return self.indication is Indication.TOTAL_PASSED


@dataclass
class DocumentFacts:
    format: DocumentFormat  # card: a ДДК, original_sha256 is its first attachment
    sha256: str
    size: int
    file_name: str | None = None
    original_sha256: str | None = None
    revisions: int | None = None

    def __post_init__(self) -> None:
        self.format = DocumentFormat(self.format)


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

    def __post_init__(self) -> None:
        self.verdict = Indication(self.verdict)

    @property
    def passed(self) -> bool:
        """Every signature passed (TOTAL_PASSED): the one test callers should make."""
        return self.verdict is Indication.TOTAL_PASSED

    @property
    def exit_code(self) -> int:
        """CLI convention: 0 all passed, 1 any failed, 2 any indeterminate."""
        return {
            Indication.TOTAL_PASSED: 0,
            Indication.TOTAL_FAILED: 1,
            Indication.INDETERMINATE: 2,
        }[self.verdict]

    def to_dict(self) -> dict[str, Any]:
        as_dict: dict[str, Any] = _jsonable(self)
        return as_dict

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


def indication_for(sub: SubIndication | str | None) -> Indication:
    """The main indication a sub-indication implies (None: TOTAL_PASSED)."""
    return Indication.TOTAL_PASSED if sub is None else SubIndication(sub).indication


#: Values JSON takes as they are (exact types: a StrEnum member is not one of them).
_PLAIN = frozenset({str, int, float, bool, type(None)})


@functools.cache
def _public_fields(cls: type) -> tuple[str, ...]:
    """A report dataclass's fields the JSON shows (not the ``internal`` ones), in order."""
    return tuple(f.name for f in fields(cls) if not f.metadata.get("internal"))


def _jsonable(value: Any) -> Any:
    if type(value) in _PLAIN:
        return value
    if is_dataclass(value) and not isinstance(value, type):
        return {name: _jsonable(getattr(value, name)) for name in _public_fields(type(value))}
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
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema
