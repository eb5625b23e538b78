"""The operator's trust anchors: one type for signing and verification, one trust folder.

Never the system CA store: NCA RK roots are not in it, and a signature must only chain to
what the operator configured. The setting is one folder (``DOCSERVICE_TRUST_DIR``) of
``*.pem``, ``*.crt``, ``*.cer``, ``*.der`` files (bundles allowed) holding NCA RK's roots
and issuing CAs; signing (revocation check and B-LT evidence at signing time) and
verification read it the same way.

Which certificates are anchors (RFC 5280 section 6.1): a trust anchor is whatever CA the
relying party trusts, it need not be self-signed. So every self-signed root is one, and so
is a CA certificate whose issuer the folder does not hold (NCA publishes its issuing CAs,
and an operator may pin one alone). An issuing CA stored with its root stays an
intermediate, so chains stay complete.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from asn1crypto import pem, x509
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.fetchers import Fetchers

from docservice.asn1_shared import parsed_whole

#: File names the trust folder is read from.
CERTIFICATE_SUFFIXES = frozenset({".pem", ".crt", ".cer", ".der"})


class RevocationSource(Protocol):
    """Where validations get revocation data and keep signers' recent good status.

    The service passes ``docservice.verification.revocation.CachedRevocation`` (its one
    process-wide OCSP/CRL cache); without one, pyHanko's fetchers go to the network.
    """

    def fetchers(self) -> Fetchers: ...

    def good_status(self, key: tuple[object, ...]) -> bool: ...

    def put_good_status(self, key: tuple[object, ...]) -> None: ...


class TrustAnchorsError(ValueError):
    """The configured trust folder is missing, empty or holds no CA certificate."""


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """Every certificate in a PEM bundle, or the single DER certificate ``data`` is."""
    if pem.detect(data):
        return [
            parsed_whole(x509.Certificate.load(der))
            for kind, _, der in pem.unarmor(data, multiple=True)
            if kind == "CERTIFICATE"
        ]
    return [parsed_whole(x509.Certificate.load(data))]


def read_certificates(path: str | os.PathLike[str]) -> list[x509.Certificate]:
    """Every certificate in the PEM or DER file ``path``."""
    return load_certificates(Path(path).read_bytes())


def fingerprint(cert: x509.Certificate) -> str:
    return hashlib.sha256(cert.dump()).hexdigest()


def _is_root(cert: x509.Certificate) -> bool:
    """Self-issued and self-signed (asn1crypto answers "yes"/"maybe"/"no", all truthy)."""
    return bool(cert.self_issued) and cert.self_signed in ("yes", "maybe")


def anchors_among(certs: Sequence[x509.Certificate]) -> list[x509.Certificate]:
    """Self-signed roots, and CA certificates whose issuer ``certs`` does not hold."""
    subjects = {c.subject.dump() for c in certs}
    return [c for c in certs if _is_root(c) or (c.ca and c.issuer.dump() not in subjects)]


def _name(cert: x509.Certificate) -> str:
    """The common name alone when there is one (what officials recognise)."""
    names = [
        atv["value"].native
        for rdn in cert.subject.chosen
        for atv in rdn
        if atv["type"].native == "common_name"
    ]
    return str(names[0]) if names else cert.subject.human_friendly


@dataclass(frozen=True)
class TrustAnchors:
    """Trust anchors (roots or pinned issuing CAs) and other known CA certificates."""

    roots: tuple[x509.Certificate, ...]
    intermediates: tuple[x509.Certificate, ...] = ()
    source: str = ""
    #: Cached CRLs/OCSP answers and recent good statuses (``dataclasses.replace`` adds it).
    revocation: RevocationSource | None = field(default=None, compare=False)
    #: Stable over the same certificates: keys caches of validation outcomes.
    id: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        if not self.roots:
            raise TrustAnchorsError(f"no CA certificate in {self.source or 'store'}")
        object.__setattr__(self, "roots", tuple(self.roots))
        object.__setattr__(self, "intermediates", tuple(self.intermediates))
        fps = sorted(fingerprint(c) for c in [*self.roots, *self.intermediates])
        object.__setattr__(self, "id", hashlib.sha256("".join(fps).encode()).hexdigest()[:16])

    @classmethod
    def from_certificates(cls, certs: Iterable[x509.Certificate], source: str = "") -> TrustAnchors:
        """Anchors chosen among ``certs`` (see the module), the rest as intermediates."""
        certs = list(certs)
        roots = anchors_among(certs)
        return cls(tuple(roots), tuple(c for c in certs if not any(c is r for r in roots)), source)

    @classmethod
    def from_directory(cls, path: str | os.PathLike[str]) -> TrustAnchors:
        """The operator's trust folder."""
        directory = Path(path)
        if not directory.is_dir():
            raise TrustAnchorsError(f"trust directory {directory} does not exist")
        certs: list[x509.Certificate] = []
        for file in sorted(directory.iterdir()):
            if file.suffix.lower() in CERTIFICATE_SUFFIXES and file.is_file():
                try:
                    certs.extend(load_certificates(file.read_bytes()))
                except ValueError as exc:
                    raise TrustAnchorsError(f"{file}: not a certificate ({exc})") from None
        return cls.from_certificates(certs, str(directory))

    @classmethod
    def from_files(
        cls,
        roots: Iterable[str | os.PathLike[str]],
        intermediates: Iterable[str | os.PathLike[str]] = (),
    ) -> TrustAnchors:
        """Anchors named one by one (the signing CLI's ``--trust`` / ``--intermediate``)."""
        paths = list(roots)
        return cls(
            tuple(c for p in paths for c in read_certificates(p)),
            tuple(c for p in intermediates for c in read_certificates(p)),
            ", ".join(str(p) for p in paths),
        )

    @property
    def labels(self) -> list[str]:
        """The anchors' names, as a report lists them."""
        return [_name(c) for c in self.roots]

    def validation_context(
        self, extra_certs: Sequence[x509.Certificate] = (), **kwargs: object
    ) -> ValidationContext:
        """A fresh pyHanko context over these anchors (it collects OCSP/CRL data, so one
        per signature); revocation is fetched and required unless ``kwargs`` say otherwise.
        """
        options: dict[str, object] = {
            "allow_fetching": True,
            "revocation_mode": "hard-fail",
            **kwargs,
        }
        if self.revocation is not None:
            options.pop("fetcher_backend", None)
            options.setdefault("fetchers", self.revocation.fetchers())
        return ValidationContext(
            trust_roots=list(self.roots),
            other_certs=[*self.intermediates, *extra_certs],
            **options,  # type: ignore[arg-type]  # the caller's pyHanko options
        )
