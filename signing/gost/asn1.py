"""Teach asn1crypto (and so pyHanko) the Kazakh GOST OIDs: :func:`register`, at start-up.

Without this, asn1crypto raises ``KeyError`` as soon as anything touches a GOST certificate's
public key (``cert.public_key``, ``.native``), and names GOST digest and signature algorithms
by bare OIDs. The key stays an opaque bit string (its OCTET STRING holds x||y, see
``signature``); :func:`signing.gost.parse_public_key` reads it. :func:`signing.patches.apply`
calls :func:`register` (never an import).
"""

from __future__ import annotations

from asn1crypto import algos, core, keys

from signing.gost import oids as gost

#: One entry of an asn1crypto schema's ``_fields``: name, type and, optionally, its options
#: (``{"optional": True}``, ``{"explicit": 0}`` …).
Field = tuple[str, type] | tuple[str, type, dict[str, object]]

KEY_NAMES = {
    gost.KEY_2004: "gost34310_2004",
    gost.KEY_2015_256: "gost34102015_256",
    gost.KEY_2015_512: "gost34102015_512",
}
SIGNATURE_NAMES = {
    gost.SIG_2004: "gost34310_2004_gost34311",
    gost.SIG_2015_256: "gost34102015_streebog256",
    gost.SIG_2015_512: "gost34102015_streebog512",
}
DIGEST_NAMES = dict(gost.HASH_NAMES)


def register() -> None:
    """Add the GOST names to asn1crypto's OID tables (idempotent)."""
    keys.PublicKeyAlgorithmId._map.update(KEY_NAMES)
    algos.SignedDigestAlgorithmId._map.update(SIGNATURE_NAMES)
    algos.DigestAlgorithmId._map.update(DIGEST_NAMES)
    for table in (
        keys.PublicKeyAlgorithmId,
        algos.SignedDigestAlgorithmId,
        algos.DigestAlgorithmId,
    ):
        # Rebuilt here, not reset to None: asn1crypto builds it only the first time a class
        # is used, so a table used before this call (a key loaded before start-up code ran)
        # would keep None and fail every later lookup by name.
        table._reverse_map = {name: oid for oid, name in table._map.items()}
    original = keys.PublicKeyInfo._spec_callbacks["public_key"]
    if getattr(original, "_gost", False):
        return
    gost_keys = set(KEY_NAMES.values())

    def public_key_spec(info: keys.PublicKeyInfo) -> tuple[type, object]:
        if info["algorithm"]["algorithm"].native in gost_keys:
            return (core.OctetBitString, None)
        spec: tuple[type, object] = original(info)
        return spec

    public_key_spec._gost = True  # type: ignore[attr-defined]
    keys.PublicKeyInfo._spec_callbacks = {
        **keys.PublicKeyInfo._spec_callbacks,
        "public_key": public_key_spec,
    }
