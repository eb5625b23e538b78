"""A test PKI modelled on NCA RK, with its OCSP responder, CRLs and TSA really running.

Why: signatures are only worth testing against real revocation and time-stamp peers, so the
certomancer description in ``nca-test.yml`` is served by a threaded WSGI server on an
ephemeral 127.0.0.1 port. The port is chosen *before* the certificates are built, so the
AIA / CRL distribution point URLs inside them point at that very server.

RSA keys are slow to generate, so they are made once and cached on disk
(``$DOCSERVICE_PKI_CACHE`` or ``<tmp>/docservice-test-pki``); certificates are cheap and are
rebuilt per start (their URLs depend on the port anyway).

The suite uses one running instance, the session fixtures of :mod:`tests.pki.fixtures`
(``pki``, ``trust``, ``officials``, ``gpki`` ...); its named variants come from the same
description: the expiring TSA (``pki.expiring_tsa_url``), the stranger root
(:func:`stranger_root`), and the GOST hierarchy (:mod:`tests.pki.gost`), whose serials
follow :data:`USER_SERIAL_BASE` too. Bench scripts run their own::

    with running_pki() as pki:
        pki.p12("career"), pki.password, pki.tsa_url, pki.trust_roots ...
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import logging
import os
import secrets
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from asn1crypto import algos, cms, core, keys, pem, tsp, x509
from certomancer import crypto_utils
from certomancer.integrations.animator import Animator, AnimatorArchStore
from certomancer.registry import ArchLabel, CertomancerConfig, ServiceLabel
from certomancer.registry.pki_arch import PKIArchitecture
from cryptography import x509 as pyca_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

CONFIG = Path(__file__).with_name("nca-test.yml")
ARCH = "nca"
#: NCA RK test key containers traditionally use this password.
P12_PASSWORD = "Qwerty12"
#: NCA RK TSA policy for RSA-SHA256 time-stamps.
TSA_POLICY = "1.2.398.3.3.2.6.2"
#: Users with a signing key, exported as .p12.
USERS = (
    "career",
    "head",
    "akimat",
    "hr",
    "applicant",
    "expired",
    "revoked",
    "authonly",
    "notyet",
    "lapsed",
    "career_auth",
)
#: The four officials of the application route, in signing order.
OFFICIALS = ("career", "head", "akimat", "hr")
GOST_KEY_OID = "1.2.398.3.10.1.1.1.1"
GOST_SIGNATURE_OID = "1.2.398.3.10.1.1.1.2"
#: Users' certificates carry NCA-style 160-bit serials from one numbering: the RSA users of
#: nca-test.yml are BASE+1 .. BASE+11, the unusable GOST container BASE+60, the GOST users
#: (tests/pki/gost.py) BASE+61 onwards.
USER_SERIAL_BASE = 610342071125986174537683201716309262301873745540
#: The expiring TSA's certificate is valid from yesterday for this many days from the start.
EXPIRING_TSA_DAYS = 20


def _cache_dir() -> Path:
    base = os.environ.get("DOCSERVICE_PKI_CACHE")
    return Path(base) if base else Path(tempfile.gettempdir()) / "docservice-test-pki"


def _ensure_keys(key_dir: Path, labels: list[str]) -> None:
    """Generate missing RSA-2048 keys; written via rename so concurrent runs never see halves."""
    key_dir.mkdir(parents=True, exist_ok=True)
    for label in labels:
        target = key_dir / f"{label}.key.pem"
        if target.exists():
            continue
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        data = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)


class _CachingBackend(crypto_utils.PycaCryptographyBackend):
    """Certomancer's crypto backend, keeping parsed RSA keys.

    Why: the stock backend re-parses (and re-validates, ~65 ms) the private key for every
    certificate, CRL, OCSP response and time-stamp; that would dominate B-T/B-LT test and
    benchmark times. Keys here are our own freshly generated test keys, so skipping
    OpenSSL's RSA consistency check on load is safe.
    """

    def __init__(self) -> None:
        self._keys: dict[bytes, rsa.RSAPrivateKey] = {}
        self._lock = threading.Lock()

    def _rsa_key(self, der: bytes) -> rsa.RSAPrivateKey | None:
        with self._lock:
            key = self._keys.get(der)
            if key is None:
                loaded = serialization.load_der_private_key(
                    der, None, unsafe_skip_rsa_key_validation=True
                )
                if not isinstance(loaded, rsa.RSAPrivateKey):
                    return None
                key = self._keys[der] = loaded
            return key

    def generic_sign(
        self,
        private_key: keys.PrivateKeyInfo,
        tbs_bytes: bytes,
        sd_algo: algos.SignedDigestAlgorithm,
    ) -> bytes:
        key = self._rsa_key(private_key.dump())
        if key is None or sd_algo.signature_algo != "rsassa_pkcs1v15":
            return super().generic_sign(private_key, tbs_bytes, sd_algo)
        digest = getattr(hashes, sd_algo.hash_algo.upper())()
        return key.sign(tbs_bytes, padding.PKCS1v15(), digest)

    def load_private_key(
        self, key_bytes: bytes, password: bytes | None
    ) -> tuple[keys.PrivateKeyInfo, keys.PublicKeyInfo]:
        loaded = serialization.load_pem_private_key(
            key_bytes, password, unsafe_skip_rsa_key_validation=True
        )
        der = loaded.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        spki = loaded.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return keys.PrivateKeyInfo.load(der), keys.PublicKeyInfo.load(spki)


class _NcaAnimator(Animator):
    """Certomancer's WSGI app with the NCA RK TSA policy (certomancer hard-codes its own)."""

    def serve_timestamp_response(self, request: Request, *, label: str, arch: str) -> Response:
        pki_arch = self.architectures[ArchLabel(arch)]
        tsa = pki_arch.service_registry.summon_timestamper(
            ServiceLabel(label), self.at_time(request)
        )
        tsa.policy = tsp.ObjectIdentifier(TSA_POLICY)
        req = tsp.TimeStampReq.load(request.stream.read())
        return Response(
            tsa.request_tsa_response(req).dump(), mimetype="application/timestamp-reply"
        )


class _CountingApp:
    """Delegates to the animator once it exists and counts hits per service kind."""

    def __init__(self) -> None:
        self.app: Animator | None = None
        self.hits: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):  # type: ignore[no-untyped-def]
        parts = environ.get("PATH_INFO", "").strip("/").split("/")
        with self._lock:
            self.hits[parts[1] if len(parts) > 1 else ""] += 1
        assert self.app is not None
        return self.app(environ, start_response)


@dataclass
class TestPki:
    """A built and running test PKI: files, URLs and certificates."""

    __test__ = False  # not a pytest test class

    base_url: str
    directory: Path
    arch: PKIArchitecture
    password: str = P12_PASSWORD
    hits: Counter[str] = field(default_factory=Counter)

    def url(self, service: str, label: str = "ca") -> str:
        return f"{self.base_url}/{ARCH}/{service}/{label}"

    @property
    def ocsp_url(self) -> str:
        return self.url("ocsp")

    @property
    def tsa_url(self) -> str:
        return self.url("tsa", "tsa")

    @property
    def expiring_tsa_url(self) -> str:
        """The TSA whose certificate expires :data:`EXPIRING_TSA_DAYS` after the start."""
        return self.url("tsa", "expiring_tsa")

    @property
    def crl_url(self) -> str:
        return f"{self.url('crls')}/latest.crl"

    def cert(self, label: str) -> x509.Certificate:
        return self.arch.get_cert(label)  # type: ignore[arg-type]

    @property
    def root(self) -> x509.Certificate:
        return self.cert("root")

    @property
    def ca(self) -> x509.Certificate:
        return self.cert("ca")

    @property
    def trust_roots(self) -> list[x509.Certificate]:
        return [self.root]

    @property
    def root_pem(self) -> Path:
        return self.directory / "root.cert.pem"

    @property
    def ca_pem(self) -> Path:
        return self.directory / "ca.cert.pem"

    def p12(self, label: str) -> Path:
        """Path of the user's password-protected PKCS#12 container."""
        return self.directory / f"{label}.p12"

    @property
    def gost_p12(self) -> Path:
        """A container whose key and certificate are GOST 34.310-2004 (not usable here)."""
        return self.directory / "gost.p12"


def _export_p12(pki_dir: Path, key_dir: Path, arch: PKIArchitecture, label: str) -> None:
    """PKCS#12 as NCA RK issues it: legacy 3DES + SHA-1 MAC, key, certificate and chain."""
    key = serialization.load_pem_private_key(
        (key_dir / f"{label}.key.pem").read_bytes(), None, unsafe_skip_rsa_key_validation=True
    )
    assert isinstance(key, rsa.RSAPrivateKey)
    cert = pyca_x509.load_der_x509_certificate(arch.get_cert(label).dump())  # type: ignore[arg-type]
    chain = [
        pyca_x509.load_der_x509_certificate(arch.get_cert(c).dump())  # type: ignore[arg-type]
        for c in ("ca", "root")
    ]
    enc = (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(2048)
        .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
        .hmac_hash(hashes.SHA1())
        .build(P12_PASSWORD.encode())
    )
    data = pkcs12.serialize_key_and_certificates(label.encode(), key, cert, chain, enc)
    (pki_dir / f"{label}.p12").write_bytes(data)


def _gost_cert(arch: PKIArchitecture, key_dir: Path) -> x509.Certificate:
    """A certificate for a GOST public key, issued (RSA-signed) by the test CA."""
    ca_cert = arch.get_cert("ca")  # type: ignore[arg-type]
    tbs = x509.TbsCertificate(
        {
            "version": "v3",
            "serial_number": USER_SERIAL_BASE + 60,
            "signature": {"algorithm": "sha256_rsa"},
            "issuer": ca_cert.subject,
            "validity": {
                "not_before": x509.Time(
                    name="utc_time", value=dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
                ),
                "not_after": x509.Time(
                    name="utc_time", value=dt.datetime(2035, 1, 1, tzinfo=dt.UTC)
                ),
            },
            "subject": x509.Name.build(
                {
                    "common_name": "ГОСТ ПАЙДАЛАНУШЫ",
                    "surname": "ГОСТ",
                    "serial_number": "IIN900715400236",
                    "country_name": "KZ",
                }
            ),
            "subject_public_key_info": keys.PublicKeyInfo(
                {
                    "algorithm": {"algorithm": GOST_KEY_OID},
                    "public_key": core.OctetString(secrets.token_bytes(64)).dump(),
                }
            ),
        }
    )
    ca_key = serialization.load_pem_private_key(
        (key_dir / "ca.key.pem").read_bytes(), None, unsafe_skip_rsa_key_validation=True
    )
    assert isinstance(ca_key, rsa.RSAPrivateKey)
    sig = ca_key.sign(tbs.dump(), padding.PKCS1v15(), hashes.SHA256())
    return x509.Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": {"algorithm": "sha256_rsa"},
            "signature_value": sig,
        }
    )


def _write_gost_p12(pki_dir: Path, cert: x509.Certificate) -> None:
    """Hand-built PFX (RFC 7292) with a GOST key bag and cert bag, MAC-protected.

    OpenSSL cannot read GOST keys without an engine, exactly as with a Kalkan GOST
    container, so this exercises the adapter's "GOST key" diagnosis.
    """
    from signing._pkcs12 import (
        AuthenticatedSafe,
        CertBag,
        MacData,
        Pfx,
        RawPrivateKeyInfo,
        SafeBag,
        SafeContents,
        pkcs12_kdf,
    )

    gost_key = RawPrivateKeyInfo(
        {
            "version": 0,
            "private_key_algorithm": {"algorithm": GOST_KEY_OID},
            "private_key": core.OctetString(secrets.token_bytes(32)).dump(),
        }
    )
    safe_contents = SafeContents(
        [
            SafeBag(
                {
                    "bag_id": "1.2.840.113549.1.12.10.1.1",
                    "bag_value": gost_key.retag({"explicit": 0}),
                }
            ),
            SafeBag(
                {
                    "bag_id": "1.2.840.113549.1.12.10.1.3",
                    "bag_value": CertBag(
                        {"cert_id": "1.2.840.113549.1.9.22.1", "cert_value": cert.dump()}
                    ).retag({"explicit": 0}),
                }
            ),
        ]
    )
    auth_safe = AuthenticatedSafe(
        [
            cms.ContentInfo(
                {"content_type": "data", "content": core.OctetString(safe_contents.dump())}
            )
        ]
    )
    auth_bytes = auth_safe.dump()
    salt = secrets.token_bytes(8)
    iterations = 2048
    mac_key = pkcs12_kdf(P12_PASSWORD, salt, 3, iterations, "sha1", 20)
    digest = hmac.new(mac_key, auth_bytes, hashlib.sha1).digest()
    pfx = Pfx(
        {
            "version": 3,
            "auth_safe": cms.ContentInfo(
                {"content_type": "data", "content": core.OctetString(auth_bytes)}
            ),
            "mac_data": MacData(
                {
                    "mac": {
                        "digest_algorithm": algos.DigestAlgorithm({"algorithm": "sha1"}),
                        "digest": digest,
                    },
                    "mac_salt": salt,
                    "iterations": iterations,
                }
            ),
        }
    )
    (pki_dir / "gost.p12").write_bytes(pfx.dump())


def _write_pems(pki_dir: Path, arch: PKIArchitecture) -> None:
    for label in ("root", "ca", *USERS):
        cert = arch.get_cert(label)  # type: ignore[arg-type]
        (pki_dir / f"{label}.cert.pem").write_bytes(pem.armor("CERTIFICATE", cert.dump()))


def _config(base_url: str, now: dt.datetime | None = None) -> CertomancerConfig:
    """The certomancer description, its keys ensured, the start-dependent validities set."""
    import yaml

    config_dict = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    key_dir = _cache_dir() / "keys"
    _ensure_keys(key_dir, list(config_dict["keysets"]["nca-test"]["keys"]))
    now = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    fmt = "%Y-%m-%dT%H:%M:%S%z"
    config_dict["pki-architectures"][ARCH]["certs"]["expiring_tsa"]["validity"] = {
        "valid-from": (now - dt.timedelta(days=1)).strftime(fmt),
        "valid-to": (now + dt.timedelta(days=EXPIRING_TSA_DAYS)).strftime(fmt),
    }
    if not isinstance(crypto_utils.CRYPTO_BACKEND, _CachingBackend):
        crypto_utils.CRYPTO_BACKEND = _CachingBackend()
    return CertomancerConfig(config_dict, key_search_dir=str(key_dir), external_url_prefix=base_url)


@contextlib.contextmanager
def running_pki(directory: Path | None = None) -> Iterator[TestPki]:
    """Build the PKI, export .p12 files into ``directory`` and serve OCSP/CRL/TSA on loopback.

    The server is a real threaded HTTP server bound to 127.0.0.1 on a port the kernel
    picks; it is shut down when the context exits.
    """
    with contextlib.ExitStack() as stack:
        if directory is None:
            directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="nca-pki-")))
        directory.mkdir(parents=True, exist_ok=True)
        # One line per HTTP request on stderr would drown test output.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        counting = _CountingApp()
        server = make_server("127.0.0.1", 0, counting, threaded=True)
        base_url = f"http://127.0.0.1:{server.server_port}"
        config = _config(base_url)
        key_dir = _cache_dir() / "keys"
        arch = config.get_pki_arch(ArchLabel(ARCH))
        counting.app = _NcaAnimator(AnimatorArchStore(config.pki_archs), with_web_ui=False)

        for label in USERS:
            _export_p12(directory, key_dir, arch, label)
        _write_pems(directory, arch)
        _write_gost_p12(directory, _gost_cert(arch, key_dir))

        thread = threading.Thread(target=server.serve_forever, name="nca-test-pki", daemon=True)
        thread.start()
        try:
            yield TestPki(base_url=base_url, directory=directory, arch=arch, hits=counting.hits)
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)


@cache
def stranger_root() -> x509.Certificate:
    """The ``stranger`` root of nca-test.yml: trusting it alone finds no chain for the test PKI.

    Built from the same description without serving anything (it has no services).
    """
    arch = _config("http://127.0.0.1:9").get_pki_arch(ArchLabel("stranger"))
    return arch.get_cert("stranger")  # type: ignore[arg-type]
