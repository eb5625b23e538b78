"""The one digest table (signing.digests): hashlib names, GOST names and GOST OIDs."""

from __future__ import annotations

import hashlib

import pytest

import signing.gost as gost
from signing.digests import digest, digest_of, is_gost_digest


def test_names_and_oids_give_the_same_hash() -> None:
    assert digest_of(b"abc", "sha256") == hashlib.sha256(b"abc").digest()
    for oid, name in gost.HASH_NAMES.items():
        assert is_gost_digest(name) and not is_gost_digest(oid)
        assert digest_of(b"abc", name) == digest_of(b"abc", oid) == gost.digest(oid, b"abc")


def test_unknown_algorithm() -> None:
    assert digest_of(b"abc", "whirlpool") is None
    with pytest.raises(ValueError, match="whirlpool"):
        digest(b"abc", "whirlpool")
