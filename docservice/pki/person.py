"""The holder of an NCA RK certificate, read the way NCA RK writes the subject.

NCA RK puts ``CN`` = "SURNAME NAME", ``SURNAME``, ``GIVENNAME`` = the patronymic,
``SERIALNUMBER`` = "IIN" + 12 digits; a legal entity's employee also has ``O`` (the
organisation) and ``OU`` = "BIN" + 12 digits; the capacity is in the extended key usage
(:mod:`docservice.pki.roles`). The stamp, the service's records, the NCALayer filters and
the verification report all read the subject through :func:`person_of`.

Rules, and why:

* **An IIN or BIN only where NCA's prefix says so**, and only digits after it: a foreign
  certificate's ``serialNumber`` or a department name in ``OU`` is not an identification
  number and is never shown as one.
* **Full name = CN followed by the patronymic** (as Kazakh documents print it), unless the
  CN already ends with it; the CN is what the holder's CA vouched for as the name, so it is
  kept even when it does not start with ``SURNAME``. Without a CN: surname, given name and
  patronymic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from asn1crypto import x509

from docservice.identifiers import mask
from docservice.pki.roles import Label, Role, most_specific, roles_in
from docservice.ttl_cache import TtlCache

IIN_PREFIX = "IIN"
BIN_PREFIX = "BIN"


@dataclass(frozen=True)
class Person:
    """Who a certificate names: the person, the organisation, the capacities."""

    common_name: str
    surname: str
    given_name: str
    patronymic: str
    iin: str  # "" when the certificate carries none
    bin: str
    organisation: str
    email: str
    #: Every NCA role the certificate carries, in its order.
    held_roles: tuple[Role, ...]
    #: The certificate's serial number (hex): how NCA RK and NCALayer name the key.
    serial_hex: str

    @property
    def full_name(self) -> str:
        """CN ("SURNAME NAME") followed by the patronymic, as printed on Kazakh documents."""
        if not self.common_name:
            return " ".join(p for p in (self.surname, self.given_name, self.patronymic) if p)
        if self.patronymic and not self.common_name.endswith(self.patronymic):
            return f"{self.common_name} {self.patronymic}"
        return self.common_name

    @property
    def roles(self) -> tuple[Role, ...]:
        """The roles a stamp names: the specific ones, the broad one only alone."""
        return most_specific(self.held_roles)

    def role_label(self, role: Role | str | None = None) -> tuple[str, str]:
        """(kk, ru) of ``role``, or of the most specific role; ("", "") when none."""
        chosen = Role.named(role) if role else (self.roles[0] if self.roles else None)
        label = chosen.label if chosen is not None else Label("", "")
        return label.kk, label.ru

    def log_repr(self) -> str:
        """For logs: masked IIN/BIN and the serial only, never the name."""
        return f"iin={mask(self.iin)} bin={mask(self.bin)} serial={self.serial_hex}"


def _values(name: x509.Name, key: str) -> list[str]:
    return [
        str(atv["value"].native) for rdn in name.chosen for atv in rdn if atv["type"].native == key
    ]


def _first(name: x509.Name, key: str) -> str:
    values = _values(name, key)
    return values[0] if values else ""


def _number(values: list[str], prefix: str) -> str:
    """The digits after ``prefix`` in the first value that has it, else ""."""
    for value in values:
        value = value.strip()
        if value.upper().startswith(prefix):
            rest = value[len(prefix) :].strip()
            if rest.isascii() and rest.isdigit():
                return rest
    return ""


#: Persons already read, by certificate DER (a few signers and keys per process).
_READ: TtlCache[bytes, Person] = TtlCache(max_entries=4096)


def person_of(cert: x509.Certificate) -> Person:
    """Read the NCA RK subject fields and roles of ``cert`` (remembered per certificate).

    Why remembered: the service reads the same signers' certificates several times per
    signature (authorisation, the record, the report), and reading a subject and its
    extended key usage costs a few tenths of a millisecond each time; a :class:`Person`
    is immutable and depends only on the certificate's DER.
    """
    der = cert.dump()
    found = _READ.get(der)
    if found is None:
        found = read_person(cert)
        _READ.put(der, found, ttl=math.inf)
    return found


def read_person(cert: x509.Certificate) -> Person:
    """:func:`person_of` without the memory: the subject and roles read from ``cert``."""
    subject = cert.subject
    cn, surname = _first(subject, "common_name"), _first(subject, "surname")
    given = cn[len(surname) :].strip() if surname and cn.startswith(surname) else ""
    eku = cert.extended_key_usage_value
    return Person(
        common_name=cn,
        surname=surname,
        given_name=given,
        patronymic=_first(subject, "given_name"),
        iin=_number(_values(subject, "serial_number"), IIN_PREFIX),
        bin=_number(_values(subject, "organizational_unit_name"), BIN_PREFIX),
        organisation=_first(subject, "organization_name"),
        email=_first(subject, "email_address"),
        held_roles=roles_in(o.dotted for o in eku) if eku is not None else (),
        serial_hex=format(cert.serial_number, "x"),
    )
