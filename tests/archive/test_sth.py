"""Signed tree heads: Ed25519 and RSA seal keys, tampering caught, kept in the log's tables."""

from __future__ import annotations

import dataclasses
import struct

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from docservice.archive.merkle import MerkleLog
from docservice.archive.sth import sign_tree_head, tree_head_data, verify_tree_head


@pytest.fixture(scope="module", params=["ed25519", "rsa"])
def seal_key(request):
    if request.param == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def test_tree_head_data_is_rfc9162_tls_encoding():
    data = tree_head_data(7, 1_700_000_000_000, b"\xab" * 32)
    assert data == struct.pack(">QQ", 1_700_000_000_000, 7) + b"\x20" + b"\xab" * 32 + b"\0\0"


def test_a_signed_head_verifies_and_any_change_fails(seal_key):
    sth = sign_tree_head(seal_key, 42, b"\x11" * 32)
    public = seal_key.public_key()
    assert verify_tree_head(sth, public)
    for change in (
        {"tree_size": 43},
        {"timestamp_ms": sth.timestamp_ms + 1},
        {"root_hash": b"\x12" + b"\x11" * 31},
        {"signature": bytes([sth.signature[0] ^ 1]) + sth.signature[1:]},
    ):
        assert not verify_tree_head(dataclasses.replace(sth, **change), public), change
    assert not verify_tree_head(sth, ed25519.Ed25519PrivateKey.generate().public_key())


def test_sql_store_keeps_signed_heads_of_a_growing_log(sql_store_factory, seal_key):
    store = sql_store_factory()
    log = MerkleLog(store)
    log.append_many([b"a", b"b", b"c"])
    first = sign_tree_head(seal_key, 3, log.root(), timestamp_ms=1000)
    log.append(b"d")
    second = sign_tree_head(seal_key, 4, log.root(), timestamp_ms=2000)
    store.add_tree_head(second)
    store.add_tree_head(first)
    assert sql_store_factory().tree_heads() == [first, second]
    assert all(verify_tree_head(h, seal_key.public_key()) for h in store.tree_heads())


def test_a_tree_head_time_stamped_by_the_test_tsa_verifies_and_only_for_itself(pki):
    """RFC 3161 over the signed head, from certomancer's TSA on loopback."""
    import asyncio
    import datetime as dt

    import aiohttp
    from pyhanko.sign.timestamps import HTTPTimeStamper
    from pyhanko_certvalidator import ValidationContext

    from docservice.archive.sth import (
        async_timestamp_tree_head,
        async_verify_tree_head_timestamp,
    )
    from tests.pki import stranger_root

    key = ed25519.Ed25519PrivateKey.generate()
    sth = sign_tree_head(key, 10, b"\x22" * 32)

    async def run():
        async with aiohttp.ClientSession() as http:
            token = await async_timestamp_tree_head(
                sth, HTTPTimeStamper(pki.tsa_url, session=http, timeout=10)
            )

        def context(roots):
            return ValidationContext(trust_roots=roots, other_certs=[pki.ca], allow_fetching=True)

        return (
            await async_verify_tree_head_timestamp(sth, token, context([pki.root])),
            await async_verify_tree_head_timestamp(
                dataclasses.replace(sth, tree_size=11), token, context([pki.root])
            ),
            await async_verify_tree_head_timestamp(sth, token, context([stranger_root()])),
            await async_verify_tree_head_timestamp(
                sth, token[:-5] + b"\0" * 5, context([pki.root])
            ),
        )

    when, other_head, untrusted, damaged = asyncio.run(run())
    assert when is not None and abs(when - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)
    assert other_head is None and untrusted is None and damaged is None
