"""Who a certificate belongs to, read the way NCA RK writes it.

NCA RK puts the IIN in ``SERIALNUMBER`` ("IIN" + 12 digits), the patronymic in
``GIVENNAME``, the BIN of the employer in ``OU`` ("BIN" + 12 digits) and the signer's
role in the extended key usage. Stamps, logs and the CLI all read it from here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from asn1crypto import x509

from docservice.pki.roles import Role, most_specific, roles_in


def mask(value: str | None) -> str:
    """An identifier or name safe for logs: first two and last two characters."""
    if not value:
        return ""
    return value[:2] + "*" * max(len(value) - 4, 0) + value[-2:]


@dataclass(frozen=True)
class SignerIdentity:
    """The person and organisation behind a signing certificate."""

    common_name: str
    surname: str
    patronymic: str
    iin: str
    organisation: str
    bin: str
    role_oids: tuple[str, ...]
    serial_hex: str
    not_before: dt.datetime
    not_after: dt.datetime

    @property
    def full_name(self) -> str:
        """CN ("SURNAME NAME") followed by the patronymic, as printed on Kazakh documents."""
        return " ".join(p for p in (self.common_name, self.patronymic) if p)

    @property
    def roles(self) -> tuple[Role, ...]:
        """The certificate's NCA roles, most specific first."""
        return most_specific(roles_in(self.role_oids))

    def role_label(self, role: Role | str | None = None) -> tuple[str, str]:
        """(kk, ru) label for ``role`` or for the certificate's most specific role."""
        chosen = Role.named(role) if role else (self.roles[0] if self.roles else None)
        if chosen is None:
            return ("", "")
        return chosen.label.kk, chosen.label.ru

    def log_repr(self) -> str:
        """For logs: masked IIN/BIN and serial only, never the name."""
        return f"iin={mask(self.iin)} bin={mask(self.bin)} serial={self.serial_hex}"


def _strip_prefix(value: str, prefix: str) -> str:
    return value[len(prefix):] if value.upper().startswith(prefix) else ""


def identity_of(cert: x509.Certificate) -> SignerIdentity:
    """Read the NCA RK subject fields and role OIDs of ``cert``."""
    subject = cert.subject.native
    eku = cert.extended_key_usage_value
    role_oids = tuple(r.oid for r in roles_in(o.dotted for o in eku)) if eku is not None else ()
    validity = cert["tbs_certificate"]["validity"]
    return SignerIdentity(
        common_name=str(subject.get("common_name", "")),
        surname=str(subject.get("surname", "")),
        patronymic=str(subject.get("given_name", "")),
        iin=_strip_prefix(str(subject.get("serial_number", "")), "IIN"),
        organisation=str(subject.get("organization_name", "") or ""),
        bin=_strip_prefix(str(subject.get("organizational_unit_name", "") or ""), "BIN"),
        role_oids=role_oids,
        serial_hex=format(cert.serial_number, "x"),
        not_before=validity["not_before"].native,
        not_after=validity["not_after"].native,
    )
