"""Server-held signing keys: registered by operators, used by the clients they name.

The database keeps the container's path and the *path* of its password file, never the
password: the operator's files stay the single place the secret lives (and file
permissions protect it), and a stolen database backup reveals nothing to sign with.
The key is opened and checked (password, validity, key usage, role) when registered and
again, from a per-process cache, when used.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from docservice.pki.roles import Role
from docservice.service.clients import ClientError
from docservice.service.models import Client, KeyGrant, ServerKey
from signing.keys import Pkcs12Key, load_key


def _config(row: ServerKey) -> dict[str, str]:
    return {"provider": "pkcs12", "path": row.p12_path, "password_file": row.password_file}


def add_key(
    session: Session,
    name: str,
    p12: Path,
    password_file: Path,
    clients: Iterable[str],
    role: str | None = None,
) -> ServerKey:
    """Register (or re-register) key ``name``; raises ``SigningError`` if it cannot sign."""
    if role is not None and Role.named(role) is None:
        known = ", ".join(sorted(r.value for r in Role))
        raise ClientError(f"unknown role {role!r} (known: {known})")
    p12, password_file = Path(p12).resolve(), Path(password_file).resolve()
    key = load_key({"provider": "pkcs12", "path": str(p12), "password_file": str(password_file)})
    key.check(role=role)
    names = [c.strip() for c in clients if c.strip()]
    found = {c.name: c for c in session.scalars(select(Client).where(Client.name.in_(names)))}
    missing = [n for n in names if n not in found]
    if missing:
        raise ClientError(f"no client named {', '.join(missing)}")
    row = session.scalar(select(ServerKey).where(ServerKey.name == name))
    if row is None:
        row = ServerKey(name=name)
        session.add(row)
    row.p12_path, row.password_file, row.role = str(p12), str(password_file), role
    row.revoked_at = None
    ident = key.identity
    row.subject = ident.organisation or ""
    row.grants = [KeyGrant(client_id=c.id) for c in found.values()]
    session.flush()
    return row


def usable_keys(client: Client, name: str) -> Select[tuple[ServerKey]]:
    """The query of key ``name`` if it is active and granted to ``client`` (one row or
    none), for a caller that reads it together with something else."""
    return (
        select(ServerKey)
        .join(KeyGrant)
        .where(
            ServerKey.name == name, ServerKey.revoked_at.is_(None), KeyGrant.client_id == client.id
        )
    )


def usable_key(session: Session, client: Client, name: str) -> ServerKey | None:
    """Key ``name`` if it is active and granted to ``client``."""
    return session.scalar(usable_keys(client, name))


def open_key(row: ServerKey) -> Pkcs12Key:
    """The loaded key (cached per file version); checks validity and role again."""
    key = load_key(_config(row))
    assert isinstance(key, Pkcs12Key)
    key.check(role=row.role)
    return key
