"""Verification of signed PDF, XML and CMS documents for officials.

Public API::

    from docservice.verification import Verifier, VerifierConfig
    verifier = Verifier(VerifierConfig(trust_dir="/etc/docservice/trust"))
    report = verifier.verify(data, original=None, file_name="x.pdf")
    report.verdict, report.to_json(), report.exit_code

Why a long-lived :class:`Verifier`: the trust store is pinned once, and the revocation cache
(OCSP responses, parsed CRLs) and the chain-outcome cache live as long as the process, so
the web page, the API and the CLI share the same evidence and answer fast.

Why the verifiers of each format (and pyHanko, its certificate validator, lxml …) are
imported where they are used, not here: every module of this package - the ``verify``
command's parser in :mod:`docservice.verification.cli` among them - loads this one first,
so ``docservice --help`` would pay for them all, and a PDF's verification would load the
XML verifier. :data:`TrustAnchors` and :data:`TrustAnchorsError` (whose module loads the
certificate validator) are re-exported the same way, on first use (:func:`__getattr__`).
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from docservice.identifiers import mask
from docservice.logsafe import describe
from docservice.sniff import sniff as sniff_format
from docservice.verification.limits import (
    Deadline,
    Limits,
    VerificationInputError,
    check_size,
)
from docservice.verification.report import Indication, Report, document_verdict

if TYPE_CHECKING:
    from pyhanko.pdf_utils.reader import PdfFileReader

    from docservice.pki.anchors import TrustAnchors, TrustAnchorsError
    from docservice.verification.card import Card
    from docservice.verification.revocation import RevocationCache

__all__ = [
    "Indication",
    "Limits",
    "Report",
    "TrustAnchors",
    "TrustAnchorsError",
    "VerificationInputError",
    "Verifier",
    "VerifierConfig",
    "default_trust_dir",
]

log = logging.getLogger(__name__)

#: Names re-exported from the module that defines them, imported on first use.
_LAZY_EXPORTS = {
    "TrustAnchors": "docservice.pki.anchors",
    "TrustAnchorsError": "docservice.pki.anchors",
}


def __getattr__(name: str) -> object:
    """``from docservice.verification import TrustAnchors`` without loading it up front."""
    module = _LAZY_EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next look-up is an ordinary global
    return value


#: Where production trust anchors live unless configured otherwise.
DEFAULT_TRUST_DIR = "/etc/docservice/trust"


def default_trust_dir() -> str:
    """``$DOCSERVICE_TRUST_DIR`` or :data:`DEFAULT_TRUST_DIR` (NCA RK roots + issuing CAs)."""
    return os.environ.get("DOCSERVICE_TRUST_DIR", DEFAULT_TRUST_DIR)


@dataclass
class VerifierConfig:
    """Operator settings: trust anchors, network use for revocation, limits, caches."""

    trust_dir: str | Path | None = None
    trust: TrustAnchors | None = None
    fetch_revocation: bool = True
    limits: Limits = field(default_factory=Limits)
    revocation_max_age: float = 300.0
    chain_cache_ttl: float = 60.0
    #: A cache shared with others in the process (the service's signing path); None: own.
    revocation_cache: RevocationCache | None = None


def sniff(data: bytes) -> str:
    """``pdf``, ``xml`` or ``cms`` from the content (:mod:`docservice.sniff`)."""
    kind = sniff_format(data)
    if kind is None:
        raise VerificationInputError("unknown_format", status=415)
    return kind


#: What a parser deep inside a library raises on a hostile or broken file.
_UNREADABLE = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    RecursionError,
    OverflowError,
    OSError,
)


def _pdf_or_card(data: bytes, limits: Limits) -> tuple[PdfFileReader | None, Card | None]:
    """pyHanko's reader of a PDF (None if it cannot read it), and the card it is, if any.

    The reader is made first and handed to :func:`verify_pdf`, so a PDF is parsed once;
    pikepdf reads the file as a card only when that reader leaves room for one
    (:func:`may_be_card`) or cannot read the file (a card need not be a PDF pyHanko reads);
    a file that pyHanko cannot read and that is no card goes to ``verify_pdf`` without a
    reader, which opens it again and refuses it as it always did.
    """
    from docservice.verification.card import may_be_card, read_card
    from docservice.verification.pdf import open_pdf

    try:
        reader: PdfFileReader | None = open_pdf(data, limits)
    except Exception:  # only a probe: unreadable here, the file takes the way it took before
        reader = None
    if reader is not None and not may_be_card(reader):
        return reader, None
    return reader, read_card(data, limits)


class Verifier:
    """Verifies documents against one pinned trust store with shared caches (thread-safe)."""

    def __init__(self, config: VerifierConfig | None = None) -> None:
        from docservice.pki.anchors import TrustAnchors
        from docservice.verification.certs import ChainValidator
        from docservice.verification.revocation import RevocationCache
        from signing import patches

        self.config = config or VerifierConfig()
        trust = self.config.trust
        if trust is None:
            trust = TrustAnchors.from_directory(self.config.trust_dir or default_trust_dir())
        self.trust = trust
        self.revocation = self.config.revocation_cache or RevocationCache(
            max_age=self.config.revocation_max_age
        )
        limits = self.config.limits
        self.chains = ChainValidator(
            trust,
            self.revocation,
            fetch=self.config.fetch_revocation,
            fetch_timeout=limits.fetch_timeout,
            max_crl_bytes=limits.max_crl_bytes,
            cache_ttl=self.config.chain_cache_ttl,
        )
        patches.apply()  # a library user may build a Verifier before any start-up code ran

    def verify(
        self,
        data: bytes,
        original: bytes | None = None,
        *,
        file_name: str | None = None,
        now: dt.datetime | None = None,
        known_poe: Mapping[str, dt.datetime] | None = None,
    ) -> Report:
        """The full report; raises :class:`VerificationInputError` for unusable input.

        ``known_poe`` maps a signature's ``signature_sha256`` (as an earlier report gave it)
        to an aware time the caller can prove the signature existed at - the archive's
        time-stamped entry for it. It counts like a trusted time-stamp.
        """
        from docservice.verification.cms import Assessor

        if known_poe and any(t.tzinfo is None for t in known_poe.values()):
            raise ValueError("known_poe times must be timezone-aware")
        limits = self.config.limits
        check_size(data, limits.max_file_bytes)
        if original is not None:
            check_size(original, limits.max_original_bytes, "original")
        kind = sniff(data)
        assessor = Assessor(  # its deadline counts the parsing too
            self.chains,
            now or dt.datetime.now(dt.UTC),
            Deadline(limits.max_seconds),
            known_poe or {},
        )
        # A document card (ДДК) is a PDF whose attachments are signed.
        reader, card = _pdf_or_card(data, limits) if kind == "pdf" else (None, None)
        if card is not None:
            kind = "card"
        if kind != "cms" and original is not None:
            raise VerificationInputError("original_unexpected", field="original", status=422)
        try:
            if card is not None:
                from docservice.verification.card import verify_card

                facts, signatures = verify_card(card, data, assessor, limits, file_name)
            elif kind == "pdf":
                from docservice.verification.pdf import verify_pdf

                facts, signatures = verify_pdf(data, assessor, limits, file_name, reader)
            elif kind == "xml":
                from docservice.verification.xml import verify_xml

                facts, signatures = verify_xml(data, assessor, limits, file_name)
            else:
                from docservice.verification.cms import verify_cms

                facts, signatures = verify_cms(data, original, assessor, limits, file_name)
        except VerificationInputError:
            raise
        except _UNREADABLE as exc:
            # A hostile or broken file tripping a parser deep inside a library: the caller
            # gets "unreadable", the log gets the type (never the content).
            log.warning("unreadable %s input: %s", kind, describe(exc))
            raise VerificationInputError(
                f"{kind}_unreadable", status=422, detail=type(exc).__name__
            ) from None
        verdict, reason = document_verdict(signatures)
        report = Report(
            facts, verdict, reason, signatures, assessor.now, trust_anchors=self.trust.labels
        )
        for sig in signatures:
            signer = sig.signer
            log.info(
                "verified %s signature %d: %s/%s signer IIN %s",
                facts.format,
                sig.index,
                sig.indication,
                sig.sub_indication,
                mask(signer.iin if signer else None),
            )
        return report
