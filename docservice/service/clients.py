"""Calling systems and their API keys.

A key is ``ds_<key_id>_<secret>``: ``key_id`` finds the row, the SHA-256 of the 256-bit
random ``secret`` is all the database keeps (a secret that long needs no slow hash; it
cannot be guessed, only stolen, and the hash is useless to a thief). The key is shown once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from docservice.errors import DocserviceError
from docservice.forms import all_kinds
from docservice.service.models import Client, utcnow

SCOPES = ("render", "sign", "verify", "audit")


class ClientError(DocserviceError):
    """A client operation the operator asked for cannot be done (named, with the reason)."""


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _new_key() -> tuple[str, str, str]:
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return key_id, _hash(secret), f"ds_{key_id}_{secret}"


def _clean(values: Iterable[str], allowed: Iterable[str], what: str) -> list[str]:
    allowed = set(allowed)
    out = [v.strip() for v in values if v.strip()]
    bad = [v for v in out if v not in allowed]
    if bad:
        raise ClientError(f"unknown {what}: {', '.join(bad)} (known: {', '.join(sorted(allowed))})")
    return out


def add_client(
    session: Session, name: str, scopes: Iterable[str], kinds: Iterable[str] | None = None
) -> tuple[Client, str]:
    """Register a client; returns it and its key (the only time the key is seen)."""
    if session.scalar(select(Client).where(Client.name == name)) is not None:
        raise ClientError(f"client {name!r} exists (rotate its key instead)")
    scope_list = _clean(scopes, SCOPES, "scope")
    if not scope_list:
        raise ClientError(f"give at least one scope of {', '.join(SCOPES)}")
    kind_list = None if kinds is None else _clean(kinds, all_kinds(), "kind")
    key_id, key_hash, key = _new_key()
    from docservice.service.webhooks import new_secret

    client = Client(
        name=name,
        key_id=key_id,
        key_hash=key_hash,
        scopes=",".join(scope_list),
        kinds=None if kind_list is None else ",".join(kind_list),
        webhook_secret=new_secret(),
    )
    session.add(client)
    session.flush()
    return client, key


def _named(session: Session, name: str) -> Client:
    client = session.scalar(select(Client).where(Client.name == name))
    if client is None:
        raise ClientError(f"no client named {name!r}")
    return client


def revoke_client(session: Session, name: str) -> Client:
    client = _named(session, name)
    client.revoked_at = utcnow()
    return client


def rotate_client(session: Session, name: str) -> str:
    """A new key for the client; the old one stops working at once."""
    client = _named(session, name)
    client.key_id, client.key_hash, key = _new_key()
    client.revoked_at = None
    return key


def authenticate(session: Session, token: str) -> Client | None:
    """The active client whose key is ``token``, else None."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != "ds":
        return None
    client = session.scalar(select(Client).where(Client.key_id == parts[1]))
    if client is None or client.revoked_at is not None:
        return None
    if not hmac.compare_digest(client.key_hash, _hash(parts[2])):
        return None
    return client
