"""Server-held signing keys: registered by operators, used by the clients they name.

The database keeps the container's path and the *path* of its password file, never the
password: the operator's files stay the single place the secret lives (and file
permissions protect it), and a stolen database backup reveals nothing to sign with.
The key is opened and checked (password, validity, key usage, role) when registered and
again, from a per-process cache, when used.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from docservice.pki.roles import Role
from docservice.service.clients import ClientError
from docservice.service.models import Client, KeyGrant, ServerKey
from docservice.ttl_cache import TtlCache
from signing.keys import Pkcs12Key, load_key

#: The opened keys, by the identity of both of their files (see :func:`open_key`).
_OPENED: TtlCache[tuple[object, ...], Pkcs12Key] = TtlCache(max_entries=64)
#: How long an opened key is kept without being used; a changed file is seen at once.
_KEEP_SECONDS = 3600.0


def _config(row: ServerKey | KeyFiles) -> dict[str, str]:
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


@dataclass(frozen=True)
class KeyFiles:
    """What signing with a server key needs of its row: its name, its files and its role."""

    name: str
    p12_path: str
    password_file: str
    role: str | None


_KEYS, _GRANTS = ServerKey.__table__.c, KeyGrant.__table__.c
#: The files of key ``:key_name`` if it is active and granted to client ``:client`` (one
#: row or none; its columns are :class:`KeyFiles`'), for a caller that may read it
#: together with something else. Built once, with bound parameters: building the
#: statement (and its cache key) at every signature cost more than running it; and on the
#: tables (Core): loading a ``ServerKey`` object cost more than the query.
USABLE_KEYS: Select[tuple[str, str, str, str | None]] = (
    select(_KEYS.name, _KEYS.p12_path, _KEYS.password_file, _KEYS.role)
    .join_from(ServerKey.__table__, KeyGrant.__table__, _GRANTS.key_id == _KEYS.id)
    .where(
        _KEYS.name == bindparam("key_name"),
        _KEYS.revoked_at.is_(None),
        _GRANTS.client_id == bindparam("client"),
    )
)


def usable_keys_params(client: Client, name: str) -> dict[str, object]:
    """The parameters of :data:`USABLE_KEYS` for key ``name`` and ``client``."""
    return {"key_name": name, "client": client.id}


def key_files(values: Sequence[Any] | None) -> KeyFiles | None:
    """``USABLE_KEYS``'s columns of a row as :class:`KeyFiles`; None for no row, or for
    the NULLs an outer join to it gives when no key is usable."""
    if values is None or values[0] is None:
        return None
    return KeyFiles(*values)


def usable_key(session: Session, client: Client, name: str) -> KeyFiles | None:
    """Key ``name`` if it is active and granted to ``client``."""
    return key_files(session.execute(USABLE_KEYS, usable_keys_params(client, name)).first())


def _identity(path: str | None) -> tuple[int, int, int, int] | None:
    """What tells one version of a file from another: device, inode, mtime and size."""
    if path is None:
        return None
    info = os.stat(path)
    return info.st_dev, info.st_ino, info.st_mtime_ns, info.st_size


def open_key(row: ServerKey | KeyFiles) -> Pkcs12Key:
    """The loaded key; checks validity and role again, at every use.

    Kept per process by the identity of the container *and* of its password file (device,
    inode, mtime, size), so a signature costs two ``stat`` calls instead of resolving the
    path, reading the password and hashing it (``load_key``'s own cache) - twice per
    signature. A rotated file - replaced, or rewritten in place - has another identity and
    is opened again at its next use; a file that cannot be read is reported by
    ``load_key`` as before.
    """
    try:
        identity = (
            row.p12_path,
            _identity(row.p12_path),
            row.password_file,
            _identity(row.password_file),
        )
    except OSError:
        identity = None
    key = _OPENED.get(identity) if identity is not None else None
    if key is None:
        loaded = load_key(_config(row))
        assert isinstance(loaded, Pkcs12Key)
        key = loaded
        if identity is not None:
            _OPENED.put(identity, key, _KEEP_SECONDS)
    key.check(role=row.role)
    return key
