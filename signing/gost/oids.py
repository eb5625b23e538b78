"""The Kazakh GOST algorithm OIDs (NCA RK; FIELD-NOTES "Kazakh EDS")."""

ARC = "1.2.398.3.10."

# Hash OIDs (NCA): GOST 34.311-95, GOST 34.11-2015 256 and 512 (Streebog).
GOST34311 = "1.2.398.3.10.1.3.1"
STREEBOG256 = "1.2.398.3.10.1.3.2"
STREEBOG512 = "1.2.398.3.10.1.3.3"
# Public key algorithms.
KEY_2004 = "1.2.398.3.10.1.1.1.1"
KEY_2015_256 = "1.2.398.3.10.1.1.2.1"
KEY_2015_512 = "1.2.398.3.10.1.1.2.2"
# Signature algorithms.
SIG_2004 = "1.2.398.3.10.1.1.1.2"
SIG_2015_256 = "1.2.398.3.10.1.1.2.3.1"
SIG_2015_512 = "1.2.398.3.10.1.1.2.3.2"

HASH_NAMES = {GOST34311: "gost34311", STREEBOG256: "streebog256", STREEBOG512: "streebog512"}
#: The hash OID of each name (asn1crypto's names, registered by :mod:`signing.gost.asn1`).
HASH_OIDS = {name: oid for oid, name in HASH_NAMES.items()}
