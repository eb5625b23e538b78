"""The signer's capacity as NCA RK encodes it, and every label shown for it.

NCA RK writes the capacity in which a certificate's holder signs as extended key usage
OIDs under 1.2.398.3.3.4.1 (individual; legal-entity employee, then the specific role),
and the identification method under 1.2.398.3.3.4.3. The stamp, the XAdES claimed role,
the CLI, the service and the verification report all read their labels here, so the same
role is never named two ways.

Russian names follow NCA's own profile wording (1.2.4 "Сотрудник отдела кадров", 1.2.5
"Сотрудник организации"); where NCA's long form exists the short one used on documents is
kept ("Лицо с правом подписи" for "Лицо, наделенное правом подписи").
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True)
class Label:
    """One meaning in both languages of the service."""

    kk: str
    ru: str

    def __iter__(self) -> Iterator[str]:
        """Unpacks as ``kk, ru``."""
        return iter((self.kk, self.ru))

    def text(self, lang: str) -> str:
        """The label in ``lang`` (``kk``; anything else reads Russian)."""
        return self.kk if lang == "kk" else self.ru


class Role(StrEnum):
    """An NCA RK role; the value is the name the CLI and the HTTP API accept."""

    INDIVIDUAL = "individual"
    LEGAL_ENTITY = "legal_entity"
    FIRST_HEAD = "first_head"
    RIGHT_TO_SIGN = "right_to_sign"
    FINANCIAL = "financial"
    HR = "hr"
    EMPLOYEE = "employee"

    @property
    def oid(self) -> str:
        """The extended key usage OID that carries this role."""
        return _ROLE_OIDS[self]

    @property
    def label(self) -> Label:
        return _ROLE_LABELS[self]

    @property
    def general(self) -> bool:
        """A broad role, named only when the certificate carries nothing more specific."""
        return self is Role.LEGAL_ENTITY

    @classmethod
    def of_oid(cls, oid: str) -> Role | None:
        return _ROLE_BY_OID.get(oid)

    @classmethod
    def named(cls, name: str) -> Role | None:
        """The role a caller names (``first_head``...), None when there is no such role."""
        try:
            return cls(name)
        except ValueError:
            return None


_ROLE_OIDS: dict[Role, str] = {
    Role.INDIVIDUAL: "1.2.398.3.3.4.1.1",
    Role.LEGAL_ENTITY: "1.2.398.3.3.4.1.2",
    Role.FIRST_HEAD: "1.2.398.3.3.4.1.2.1",
    Role.RIGHT_TO_SIGN: "1.2.398.3.3.4.1.2.2",
    Role.FINANCIAL: "1.2.398.3.3.4.1.2.3",
    Role.HR: "1.2.398.3.3.4.1.2.4",
    Role.EMPLOYEE: "1.2.398.3.3.4.1.2.5",
}
_ROLE_BY_OID = {oid: role for role, oid in _ROLE_OIDS.items()}
_ROLE_LABELS: dict[Role, Label] = {
    Role.INDIVIDUAL: Label("Жеке тұлға", "Физическое лицо"),
    Role.LEGAL_ENTITY: Label("Заңды тұлғаның қызметкері", "Сотрудник юридического лица"),
    Role.FIRST_HEAD: Label("Бірінші басшы", "Первый руководитель"),
    Role.RIGHT_TO_SIGN: Label("Қол қою құқығы бар тұлға", "Лицо с правом подписи"),
    Role.FINANCIAL: Label(
        "Қаржы құжаттарына қол қою құқығы бар тұлға", "Лицо с правом подписи финансовых документов"
    ),
    Role.HR: Label("Кадр қызметінің қызметкері", "Сотрудник отдела кадров"),
    Role.EMPLOYEE: Label("Ұйым қызметкері", "Сотрудник организации"),
}

#: Standard key purposes a report names next to the roles.
KEY_PURPOSES: dict[str, Label] = {
    "1.3.6.1.5.5.7.3.4": Label("Қол қою кілті", "Ключ подписи"),  # emailProtection
    "1.3.6.1.5.5.7.3.2": Label("Аутентификация кілті", "Ключ аутентификации"),  # clientAuth
}
#: NCA RK identification methods (in person, remote...), one label for all of them.
IDENTIFICATION_PREFIX = "1.2.398.3.3.4.3."
IDENTIFICATION = Label("Сәйкестендіру тәсілі", "Способ идентификации")

#: NCA RK certificate and TSA policies.
POLICIES: dict[str, Label] = {
    "1.2.398.3.3.2.1": Label(
        "Заңды тұлғаның қолтаңба сертификаты", "Сертификат подписи юридического лица"
    ),
    "1.2.398.3.3.2.2": Label(
        "Заңды тұлғаның аутентификация сертификаты", "Сертификат аутентификации юридического лица"
    ),
    "1.2.398.3.3.2.3": Label(
        "Жеке тұлғаның қолтаңба сертификаты", "Сертификат подписи физического лица"
    ),
    "1.2.398.3.3.2.4": Label(
        "Жеке тұлғаның аутентификация сертификаты", "Сертификат аутентификации физического лица"
    ),
    "1.2.398.3.3.2.6.1": Label(
        "Уақыт белгісі, ГОСТ 34.310-2004", "Метка времени, ГОСТ 34.310-2004"
    ),
    "1.2.398.3.3.2.6.2": Label("Уақыт белгісі, RSA-SHA256", "Метка времени, RSA-SHA256"),
    "1.2.398.3.3.2.6.4": Label(
        "Уақыт белгісі, ГОСТ 34.10-2015 (512)", "Метка времени, ГОСТ 34.10-2015 (512)"
    ),
}


def roles_in(oids: Iterable[str]) -> tuple[Role, ...]:
    """The NCA roles among ``oids`` (extended key usages), in the certificate's order."""
    return tuple(role for oid in oids if (role := Role.of_oid(oid)) is not None)


def most_specific(roles: Iterable[Role]) -> tuple[Role, ...]:
    """``roles`` without the broad ones, unless nothing more specific is there."""
    roles = tuple(roles)
    return tuple(r for r in roles if not r.general) or roles


def eku_label(oid: str) -> Label | None:
    """What a report calls an extended key usage: a role, a key purpose, identification."""
    role = Role.of_oid(oid)
    if role is not None:
        return role.label
    if oid in KEY_PURPOSES:
        return KEY_PURPOSES[oid]
    if oid.startswith(IDENTIFICATION_PREFIX):
        return IDENTIFICATION
    return None


def policy_label(oid: str) -> Label | None:
    return POLICIES.get(oid)
