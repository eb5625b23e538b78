"""Signed tree heads: the log's root at a size, signed with the service's seal key.

The signed bytes are RFC 9162 §4.10's ``TreeHeadDataV2`` in TLS presentation encoding
(uint64 timestamp in milliseconds, uint64 tree_size, opaque root_hash<32..2^8-1>, an
empty extension list), so any RFC 9162 tooling can check them. The key is Ed25519 or
RSA (PKCS#1 v1.5 with SHA-256, what NCA RK seal keys can do). A head can also be
time-stamped by an RFC 3161 TSA (:func:`async_timestamp_tree_head`): the token's imprint is
SHA-256 over the signed bytes and the signature, so it proves the signed head existed then.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import struct
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from asn1crypto import cms
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

if TYPE_CHECKING:
    from pyhanko.sign.timestamps import TimeStamper
    from pyhanko_certvalidator import ValidationContext

SealKey = ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey
SealPublicKey = ed25519.Ed25519PublicKey | rsa.RSAPublicKey


@dataclass(frozen=True)
class SignedTreeHead:
    tree_size: int
    timestamp_ms: int
    root_hash: bytes
    key_id: bytes  # SHA-256 of the public key's SubjectPublicKeyInfo
    signature: bytes


def tree_head_data(tree_size: int, timestamp_ms: int, root_hash: bytes) -> bytes:
    """RFC 9162 TreeHeadDataV2, TLS-encoded: the bytes a tree head's signature covers."""
    if not 32 <= len(root_hash) <= 255:
        raise ValueError("root_hash must be 32..255 bytes")
    return (
        struct.pack(">QQB", timestamp_ms, tree_size, len(root_hash))
        + root_hash
        + struct.pack(">H", 0)
    )


def key_id(public_key: SealPublicKey) -> bytes:
    spki = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(spki).digest()


def sign_tree_head(
    key: SealKey, tree_size: int, root_hash: bytes, timestamp_ms: int | None = None
) -> SignedTreeHead:
    """Sign the head of the tree of ``tree_size`` leaves whose root is ``root_hash``."""
    ts = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
    data = tree_head_data(tree_size, ts, root_hash)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        signature = key.sign(data)
    elif isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    else:
        raise TypeError(f"a seal key must be Ed25519 or RSA, not {type(key).__name__}")
    return SignedTreeHead(tree_size, ts, root_hash, key_id(key.public_key()), signature)


def verify_tree_head(sth: SignedTreeHead, public_key: SealPublicKey) -> bool:
    """True when ``sth`` was signed by ``public_key`` and names it."""
    if sth.key_id != key_id(public_key):
        return False
    try:
        data = tree_head_data(sth.tree_size, sth.timestamp_ms, sth.root_hash)
    except ValueError:
        return False
    try:
        if isinstance(public_key, ed25519.Ed25519PublicKey):
            public_key.verify(sth.signature, data)
        elif isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(sth.signature, data, padding.PKCS1v15(), hashes.SHA256())
        else:
            return False
    except InvalidSignature:
        return False
    return True


def tree_head_imprint(sth: SignedTreeHead) -> bytes:
    """What a tree head's time-stamp covers: SHA-256(TreeHeadDataV2 || signature)."""
    data = tree_head_data(sth.tree_size, sth.timestamp_ms, sth.root_hash)
    return hashlib.sha256(data + sth.signature).digest()


async def async_timestamp_tree_head(sth: SignedTreeHead, timestamper: TimeStamper) -> bytes:
    """An RFC 3161 time-stamp token (DER ContentInfo) over the signed head."""
    token = await timestamper.async_timestamp(tree_head_imprint(sth), "sha256")
    return token.dump()


async def async_verify_tree_head_timestamp(
    sth: SignedTreeHead, token: bytes, context: ValidationContext
) -> dt.datetime | None:
    """The token's genTime when it is intact, covers ``sth`` and its TSA chains to a trusted
    root of ``context``; otherwise None."""
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
    from pyhanko.sign.validation.status import TimestampSignatureStatus

    expected = tree_head_imprint(sth)
    try:
        signed = cms.ContentInfo.load(token)["content"]
        status = TimestampSignatureStatus(
            **await validate_tst_signed_data(
                signed, context, lambda alg: expected if alg == "sha256" else b""
            )
        )
    except (SignatureValidationError, ValueError, KeyError, TypeError):
        return None
    return status.timestamp if status.intact and status.valid and status.trusted else None
