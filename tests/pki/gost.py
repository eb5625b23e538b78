"""A GOST 34.10-2015 test PKI beside the RSA one: root, CA, officials' keys, CRL, OCSP, TSA.

Certomancer signs with ``cryptography`` only, so the GOST hierarchy is built here with
:mod:`signing.gost` (tests/gost proves those primitives against OpenSSL and BouncyCastle)
in NCA's encodings: Kazakh OIDs (key 1.2.398.3.10.1.1.2.2 with parameter set
1.2.398.3.10.1.1.2.2.1 and Streebog-512; a 256-bit key too), x||y and r||s little-endian.
The CA's CRL, its OCSP responder and a GOST TSA are served over HTTP on 127.0.0.1 (the
CRL and OCSP URLs are in every leaf), and each key is exported as NCA issues them:
PKCS#12 with a 3DES-shrouded key bag and a SHA-1 MAC.

Usage::

    with running_gost_pki(directory) as gpki:
        gpki.p12("gost_career"), gpki.root, gpki.ca, gpki.ocsp_url, gpki.tsa_url ...
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from asn1crypto import algos, cms, core, crl, keys, ocsp, tsp, x509
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, modes
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

import signing.gost as gost
from signing import _pkcs12
from signing.gost import curves, signature
from tests.pki import USER_SERIAL_BASE

PASSWORD = "Aa123456"
_CURVE_OID = {
    curves.TC26_512_A: "1.2.398.3.10.1.1.2.2.1",
    curves.TC26_256_A: "1.2.398.3.10.1.1.2.1.1",
}
_KEY_OID = {curves.TC26_512_A: gost.KEY_2015_512, curves.TC26_256_A: gost.KEY_2015_256}


@dataclass(frozen=True)
class GostKeyPair:
    curve: curves.Curve
    d: int

    @classmethod
    def generate(cls, curve: curves.Curve) -> GostKeyPair:
        return cls(curve, secrets.randbelow(curve.q - 1) + 1)

    @property
    def key_oid(self) -> str:
        return _KEY_OID[self.curve]

    @property
    def signature_oid(self) -> str:
        return gost.SIGNATURE_FOR_KEY[self.key_oid]

    def spki(self) -> keys.PublicKeyInfo:
        point = signature.encode_public_key(self.curve, signature.public_key(self.curve, self.d))
        return keys.PublicKeyInfo(
            {
                "algorithm": {"algorithm": self.key_oid, "parameters": _params(self)},
                "public_key": core.OctetString(point).dump(),
            }
        )

    def sign(self, data: bytes) -> bytes:
        return signature.sign_digest(
            self.curve, self.d, gost.digest(gost.hash_for(self.key_oid), data)
        )


def _params(key: GostKeyPair) -> core.Any:
    """{parameter set, hash} as NCA writes them after a GOST key algorithm OID."""
    return core.Any.load(
        core.Sequence.load(
            b"\x30"
            + bytes(
                [
                    len(
                        body := core.ObjectIdentifier(_CURVE_OID[key.curve]).dump()
                        + core.ObjectIdentifier(gost.hash_for(key.key_oid)).dump()
                    )
                ]
            )
            + body
        ).dump()
    )


@dataclass
class Leaf:
    label: str
    subject: dict[str, str]
    eku: list[str]
    usage: set[str]
    policy: str
    curve: curves.Curve = curves.TC26_512_A
    not_before: dt.timedelta = dt.timedelta(days=-365)
    not_after: dt.timedelta = dt.timedelta(days=365)


LEAVES = [
    Leaf(
        "gost_career",
        {
            "common_name": "ТЕСТОВ ТЕСТ",
            "surname": "ТЕСТОВ",
            "given_name": "ТЕСТҰЛЫ",
            "serial_number": "IIN900715400236",
            "country_name": "KZ",
        },
        ["1.3.6.1.5.5.7.3.4", "1.2.398.3.3.4.1.1"],
        {"digital_signature", "non_repudiation"},
        "1.2.398.3.3.2.3",
    ),
    Leaf(
        "gost_head",
        {
            "common_name": "БАСШЫ БАС",
            "surname": "БАСШЫ",
            "serial_number": "IIN700101300675",
            "organization_name": 'АҚ "ТЕСТ"',
            "organizational_unit_name": "BIN991240007893",
            "country_name": "KZ",
        },
        ["1.3.6.1.5.5.7.3.4", "1.2.398.3.3.4.1.2.1"],
        {"digital_signature", "non_repudiation"},
        "1.2.398.3.3.2.1",
    ),
    Leaf(
        "gost256_career",
        {
            "common_name": "КІШІ КІЛТ",
            "surname": "КІШІ",
            "serial_number": "IIN900715400236",
            "country_name": "KZ",
        },
        ["1.3.6.1.5.5.7.3.4", "1.2.398.3.3.4.1.1"],
        {"digital_signature", "non_repudiation"},
        "1.2.398.3.3.2.3",
        curve=curves.TC26_256_A,
    ),
    Leaf(
        "gost_revoked",
        {
            "common_name": "ҚАЙТАРЫЛҒАН ТЕСТ",
            "surname": "ҚАЙТАРЫЛҒАН",
            "serial_number": "IIN900715400236",
            "country_name": "KZ",
        },
        ["1.3.6.1.5.5.7.3.4", "1.2.398.3.3.4.1.1"],
        {"digital_signature", "non_repudiation"},
        "1.2.398.3.3.2.3",
    ),
    Leaf(
        "gost_expired",
        {
            "common_name": "ЕСКІ ТЕСТ",
            "surname": "ЕСКІ",
            "serial_number": "IIN900715400236",
            "country_name": "KZ",
        },
        ["1.3.6.1.5.5.7.3.4", "1.2.398.3.3.4.1.1"],
        {"digital_signature", "non_repudiation"},
        "1.2.398.3.3.2.3",
        not_before=dt.timedelta(days=-800),
        not_after=dt.timedelta(days=-435),
    ),
    Leaf(
        "gost_career_auth",
        {
            "common_name": "ТЕСТОВ ТЕСТ",
            "surname": "ТЕСТОВ",
            "given_name": "ТЕСТҰЛЫ",
            "serial_number": "IIN900715400236",
            "country_name": "KZ",
        },
        ["1.3.6.1.5.5.7.3.2", "1.2.398.3.3.4.1.1"],
        {"digital_signature", "key_encipherment"},
        "1.2.398.3.3.2.4",
    ),
    Leaf(
        "gost_authonly",
        {
            "common_name": "КІРУ ТЕСТ",
            "surname": "КІРУ",
            "serial_number": "IIN900715400236",
            "country_name": "KZ",
        },
        ["1.3.6.1.5.5.7.3.2", "1.2.398.3.3.4.1.1"],
        {"key_encipherment"},
        "1.2.398.3.3.2.4",
    ),
    Leaf(
        "gost_tsa",
        {"common_name": "УАҚЫТ БЕЛГІСІ ҚЫЗМЕТІ (GOST) TEST", "country_name": "KZ"},
        ["1.3.6.1.5.5.7.3.8"],
        {"digital_signature", "non_repudiation"},
        "1.2.398.3.3.2.6.4",
    ),
]
REVOKED = {"gost_revoked"}
#: The GOST root and CA beside the RSA ones (1001, 2002 in nca-test.yml); the users' serials
#: continue the RSA users' numbering (tests/pki USER_SERIAL_BASE).
ROOT_SERIAL, CA_SERIAL = 1101, 2102
SERIALS = {leaf.label: USER_SERIAL_BASE + 61 + i for i, leaf in enumerate(LEAVES)}
#: NCA's TSA policy for GOST 2015-512 time-stamps (FIELD-NOTES).
TSA_POLICY = "1.2.398.3.3.2.6.4"


def _name(attrs: dict[str, str]) -> x509.Name:
    return x509.Name.build(attrs)


def _certificate(
    subject: x509.Name,
    issuer: x509.Name,
    key: GostKeyPair,
    issuer_key: GostKeyPair,
    *,
    serial: int,
    ca: bool,
    not_before: dt.datetime,
    not_after: dt.datetime,
    usage: set[str],
    eku: list[str] | None = None,
    policy: str | None = None,
    crl_url: str | None = None,
    ocsp_url: str | None = None,
) -> x509.Certificate:
    spki = key.spki()
    ski = hashlib.sha1(spki["public_key"].native).digest()
    aki = hashlib.sha1(issuer_key.spki()["public_key"].native).digest()
    extensions = [
        {"extn_id": "basic_constraints", "critical": True, "extn_value": {"ca": ca}},
        {"extn_id": "key_usage", "critical": True, "extn_value": x509.KeyUsage(usage)},
        {"extn_id": "key_identifier", "extn_value": ski},
        {"extn_id": "authority_key_identifier", "extn_value": {"key_identifier": aki}},
    ]
    if eku:
        extensions.append(
            {
                "extn_id": "extended_key_usage",
                "extn_value": eku,
                "critical": eku == ["1.3.6.1.5.5.7.3.8"],
            }
        )
    if policy:
        extensions.append(
            {"extn_id": "certificate_policies", "extn_value": [{"policy_identifier": policy}]}
        )
    if crl_url:
        extensions.append(
            {
                "extn_id": "crl_distribution_points",
                "extn_value": [
                    {
                        "distribution_point": x509.DistributionPointName(
                            name="full_name",
                            value=[
                                x509.GeneralName(name="uniform_resource_identifier", value=crl_url)
                            ],
                        )
                    }
                ],
            }
        )
    if ocsp_url:
        extensions.append(
            {
                "extn_id": "authority_information_access",
                "extn_value": [
                    {
                        "access_method": "ocsp",
                        "access_location": x509.GeneralName(
                            name="uniform_resource_identifier", value=ocsp_url
                        ),
                    }
                ],
            }
        )
    tbs = x509.TbsCertificate(
        {
            "version": "v3",
            "serial_number": serial,
            "signature": {"algorithm": issuer_key.signature_oid},
            "issuer": issuer,
            "validity": {
                "not_before": x509.Time(name="utc_time", value=not_before),
                "not_after": x509.Time(name="utc_time", value=not_after),
            },
            "subject": subject,
            "subject_public_key_info": spki,
            "extensions": extensions,
        }
    )
    return x509.Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": {"algorithm": issuer_key.signature_oid},
            "signature_value": issuer_key.sign(tbs.dump()),
        }
    )


def _crl(
    ca: x509.Certificate,
    ca_key: GostKeyPair,
    revoked: list[x509.Certificate],
    revoked_at: dt.datetime,
    now: dt.datetime,
) -> crl.CertificateList:
    tbs = crl.TbsCertList(
        {
            "version": "v2",
            "signature": {"algorithm": ca_key.signature_oid},
            "issuer": ca.subject,
            "this_update": x509.Time(name="utc_time", value=now - dt.timedelta(hours=1)),
            "next_update": x509.Time(name="utc_time", value=now + dt.timedelta(days=7)),
            "revoked_certificates": [
                {
                    "user_certificate": c.serial_number,
                    "revocation_date": x509.Time(name="utc_time", value=revoked_at),
                    "crl_entry_extensions": [
                        {"extn_id": "crl_reason", "extn_value": "key_compromise"}
                    ],
                }
                for c in revoked
            ]
            or None,
            "crl_extensions": [
                {"extn_id": "crl_number", "extn_value": 1},
                {
                    "extn_id": "authority_key_identifier",
                    "extn_value": {"key_identifier": ca.key_identifier},
                },
            ],
        }
    )
    return crl.CertificateList(
        {
            "tbs_cert_list": tbs,
            "signature_algorithm": {"algorithm": ca_key.signature_oid},
            "signature": ca_key.sign(tbs.dump()),
        }
    )


def _container(
    key: GostKeyPair, cert: x509.Certificate, chain: list[x509.Certificate], password: str
) -> bytes:
    """PKCS#12 as NCA issues it: 3DES-shrouded PKCS#8 key, certificate bags, SHA-1 MAC."""
    private = _pkcs12.RawPrivateKeyInfo(
        {
            "version": 0,
            "private_key_algorithm": _pkcs12.AnyAlgorithm(
                {"algorithm": key.key_oid, "parameters": _params(key)}
            ),
            "private_key": core.OctetString(key.d.to_bytes(key.curve.size, "little")).dump(),
        }
    ).dump()
    salt, rounds = secrets.token_bytes(20), 1024
    des_key = _pkcs12.pkcs12_kdf(password, salt, 1, rounds, "sha1", 24)
    iv = _pkcs12.pkcs12_kdf(password, salt, 2, rounds, "sha1", 8)
    padder = padding.PKCS7(64).padder()
    encryptor = Cipher(TripleDES(des_key), modes.CBC(iv)).encryptor()
    encrypted = encryptor.update(padder.update(private) + padder.finalize()) + encryptor.finalize()
    shrouded = _pkcs12.RawEncryptedPrivateKeyInfo(
        {
            "encryption_algorithm": _pkcs12.AnyAlgorithm(
                {
                    "algorithm": "1.2.840.113549.1.12.1.3",
                    "parameters": _pkcs12._PbeParams({"salt": salt, "iterations": rounds}),
                }
            ),
            "encrypted_data": encrypted,
        }
    )
    bags = [
        _pkcs12.SafeBag(
            {"bag_id": "1.2.840.113549.1.12.10.1.2", "bag_value": shrouded.retag({"explicit": 0})}
        )
    ]
    bags += [
        _pkcs12.SafeBag(
            {
                "bag_id": "1.2.840.113549.1.12.10.1.3",
                "bag_value": _pkcs12.CertBag(
                    {"cert_id": "1.2.840.113549.1.9.22.1", "cert_value": c.dump()}
                ).retag({"explicit": 0}),
            }
        )
        for c in [cert, *chain]
    ]
    safe = _pkcs12.AuthenticatedSafe(
        [
            cms.ContentInfo(
                {
                    "content_type": "data",
                    "content": core.OctetString(_pkcs12.SafeContents(bags).dump()),
                }
            )
        ]
    )
    content = safe.dump()
    mac_salt = secrets.token_bytes(20)
    mac_key = _pkcs12.pkcs12_kdf(password, mac_salt, 3, rounds, "sha1", 20)
    return _pkcs12.Pfx(
        {
            "version": 3,
            "auth_safe": cms.ContentInfo(
                {"content_type": "data", "content": core.OctetString(content)}
            ),
            "mac_data": _pkcs12.MacData(
                {
                    "mac": {
                        "digest_algorithm": algos.DigestAlgorithm({"algorithm": "sha1"}),
                        "digest": hmac.new(mac_key, content, "sha1").digest(),
                    },
                    "mac_salt": mac_salt,
                    "iterations": rounds,
                }
            ),
        }
    ).dump()


@dataclass
class GostPki:
    """The GOST hierarchy: certificates, keys, CRL, containers written to ``directory``."""

    __test__ = False

    directory: Path
    base_url: str
    root: x509.Certificate
    ca: x509.Certificate
    certs: dict[str, x509.Certificate] = field(default_factory=dict)
    keys: dict[str, GostKeyPair] = field(default_factory=dict)
    revoked_at: dt.datetime | None = None
    crl: crl.CertificateList | None = None
    password: str = PASSWORD

    @property
    def crl_url(self) -> str:
        return f"{self.base_url}/gost/ca.crl"

    @property
    def ocsp_url(self) -> str:
        return f"{self.base_url}/gost/ocsp"

    @property
    def tsa_url(self) -> str:
        return f"{self.base_url}/gost/tsa"

    def p12(self, label: str) -> Path:
        return self.directory / f"{label}.p12"

    def cert(self, label: str) -> x509.Certificate:
        return self.certs[label]

    def timestamp_token(self, data: bytes, at: dt.datetime | None = None) -> cms.ContentInfo:
        """An RFC 3161 token over ``data`` from the GOST TSA, as NCA's production TSA makes
        them: Streebog-512 message imprint, GOST 2015-512 signature."""
        return self.token_for_imprint(gost.STREEBOG512, gost.digest(gost.STREEBOG512, data), at=at)

    def token_for_imprint(
        self,
        hash_algorithm: str,
        hashed: bytes,
        *,
        nonce: int | None = None,
        at: dt.datetime | None = None,
    ) -> cms.ContentInfo:
        """A token over an imprint the requester computed (any hash it chose)."""
        from signing.gost import cms as gost_cms

        at = (at or dt.datetime.now(dt.UTC)).replace(microsecond=0)
        fields: dict[str, object] = {
            "version": "v1",
            "policy": TSA_POLICY,
            "message_imprint": {
                "hash_algorithm": {"algorithm": hash_algorithm},
                "hashed_message": hashed,
            },
            "serial_number": int.from_bytes(secrets.token_bytes(8), "big"),
            "gen_time": at,
        }
        if nonce is not None:
            fields["nonce"] = nonce
        info = tsp.TSTInfo(fields).dump()
        return gost_cms.sign_digest(
            _TsaKey(self.keys["gost_tsa"]),
            self.cert("gost_tsa"),
            [self.ca],
            gost.digest(gost.STREEBOG512, info),
            signing_time=at,
            content=info,
            content_type="tst_info",
        )

    def ocsp_response(self, request: ocsp.OCSPRequest) -> ocsp.OCSPResponse:
        """The CA's own answer (RFC 6960, signed by the CA's GOST key) for each asked serial."""
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        by_serial = {c.serial_number: label for label, c in self.certs.items()}
        responses = []
        for item in request["tbs_request"]["request_list"]:
            cert_id = item["req_cert"]
            label = by_serial.get(cert_id["serial_number"].native)
            if label is None:
                status = ocsp.CertStatus(name="unknown", value=core.Null())
            elif label in REVOKED:
                status = ocsp.CertStatus(
                    name="revoked",
                    value={
                        "revocation_time": self.revoked_at,
                        "revocation_reason": "key_compromise",
                    },
                )
            else:
                status = ocsp.CertStatus(name="good", value=core.Null())
            responses.append(
                {
                    "cert_id": cert_id,
                    "cert_status": status,
                    "this_update": now,
                    "next_update": now + dt.timedelta(hours=1),
                }
            )
        ca_key = self.keys["ca"]
        tbs = ocsp.ResponseData(
            {
                "responder_id": ocsp.ResponderId(
                    name="by_key",
                    value=hashlib.sha1(
                        self.ca["tbs_certificate"]["subject_public_key_info"]["public_key"].native
                    ).digest(),
                ),
                "produced_at": now,
                "responses": responses,
                "response_extensions": [
                    {"extn_id": "nonce", "extn_value": e["extn_value"].native}
                    for e in request["tbs_request"]["request_extensions"] or []
                    if e["extn_id"].native == "nonce"
                ]
                or None,
            }
        )
        basic = ocsp.BasicOCSPResponse(
            {
                "tbs_response_data": tbs,
                "signature_algorithm": {"algorithm": ca_key.signature_oid},
                "signature": ca_key.sign(tbs.dump()),
            }
        )
        return ocsp.OCSPResponse(
            {
                "response_status": "successful",
                "response_bytes": {"response_type": "basic_ocsp_response", "response": basic},
            }
        )


@dataclass(frozen=True)
class _TsaKey:
    pair: GostKeyPair

    @property
    def signature_oid(self) -> str:
        return self.pair.signature_oid

    @property
    def hash_oid(self) -> str:
        return gost.hash_for(self.pair.key_oid)

    def sign(self, data: bytes) -> bytes:
        return self.pair.sign(data)


def build(directory: Path, base_url: str, now: dt.datetime | None = None) -> GostPki:
    now = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    root_key, ca_key = (GostKeyPair.generate(curves.TC26_512_A) for _ in range(2))
    root_name = _name(
        {"common_name": "НЕГІЗГІ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (GOST) TEST", "country_name": "KZ"}
    )
    ca_name = _name(
        {"common_name": "ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (GOST) TEST", "country_name": "KZ"}
    )
    ca_usage = {"key_cert_sign", "crl_sign"}
    root = _certificate(
        root_name,
        root_name,
        root_key,
        root_key,
        serial=ROOT_SERIAL,
        ca=True,
        not_before=now - dt.timedelta(days=3650),
        not_after=now + dt.timedelta(days=3650),
        usage=ca_usage,
    )
    ca = _certificate(
        ca_name,
        root_name,
        ca_key,
        root_key,
        serial=CA_SERIAL,
        ca=True,
        not_before=now - dt.timedelta(days=1800),
        not_after=now + dt.timedelta(days=1800),
        usage=ca_usage,
    )
    pki = GostPki(directory, base_url, root, ca)
    pki.keys["ca"] = ca_key
    pki.revoked_at = now - dt.timedelta(days=30)
    for leaf in LEAVES:
        key = GostKeyPair.generate(leaf.curve)
        cert = _certificate(
            _name(leaf.subject),
            ca_name,
            key,
            ca_key,
            serial=SERIALS[leaf.label],
            ca=False,
            not_before=now + leaf.not_before,
            not_after=now + leaf.not_after,
            usage=leaf.usage,
            eku=leaf.eku,
            policy=leaf.policy,
            crl_url=pki.crl_url,
            ocsp_url=pki.ocsp_url,
        )
        pki.certs[leaf.label] = cert
        pki.keys[leaf.label] = key
        pki.p12(leaf.label).write_bytes(_container(key, cert, [ca, root], PASSWORD))
    pki.crl = _crl(ca, ca_key, [pki.certs[label] for label in REVOKED], pki.revoked_at, now)
    return pki


@contextlib.contextmanager
def running_gost_pki(directory: Path) -> Iterator[GostPki]:
    """Build the GOST PKI and serve its CRL, OCSP responder and TSA on 127.0.0.1."""
    holder: dict[str, GostPki] = {}

    @Request.application
    def app(request: Request) -> Response:
        pki = holder.get("pki")
        if pki is None or pki.crl is None:
            return Response(status=503)
        if request.path == "/gost/ca.crl":
            return Response(pki.crl.dump(), mimetype="application/pkix-crl")
        try:
            if request.path == "/gost/ocsp" and request.method == "POST":
                answer = pki.ocsp_response(ocsp.OCSPRequest.load(request.get_data()))
                return Response(answer.dump(), mimetype="application/ocsp-response")
            if request.path == "/gost/tsa" and request.method == "POST":
                req = tsp.TimeStampReq.load(request.get_data())
                imprint = req["message_imprint"]
                token = pki.token_for_imprint(
                    imprint["hash_algorithm"]["algorithm"].dotted,
                    imprint["hashed_message"].native,
                    nonce=req["nonce"].native,
                )
                resp = tsp.TimeStampResp(
                    {"status": {"status": "granted"}, "time_stamp_token": token}
                )
                return Response(resp.dump(), mimetype="application/timestamp-reply")
        except (ValueError, KeyError, TypeError):
            return Response(status=400)
        return Response(status=404)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    directory.mkdir(parents=True, exist_ok=True)
    holder["pki"] = build(directory, f"http://127.0.0.1:{server.server_port}")
    thread = threading.Thread(target=server.serve_forever, name="gost-test-pki", daemon=True)
    thread.start()
    try:
        yield holder["pki"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
