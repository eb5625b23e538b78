"""A throw-away PKI for ``docservice demo``: a root, its OCSP responder, a TSA and the
officials of a case's route, with OCSP, the CRL and the TSA served on loopback.

Why here and not tests/pki (certomancer): the demo runs from an installed package with no
test extras, so it builds what it needs with ``cryptography`` (certificates, CRL, OCSP
responses) and pyHanko's in-process time-stamper (RFC 3161 tokens). The certificates
look like NCA RK's where the service reads them (IIN in serialNumber, BIN in OU,
organisation, the role OIDs in the extended key usage, digitalSignature +
nonRepudiation) and name the loopback OCSP responder (AIA) and CRL (CDP), so signing
fetches real revocation data and real time-stamps, and the ДДК cards are complete.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509 import ocsp
from cryptography.x509.oid import (
    AuthorityInformationAccessOID,
    ExtendedKeyUsageOID,
    NameOID,
    ObjectIdentifier,
)
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

LEGAL_ENTITY = "1.2.398.3.3.4.1.2"
ROLE = {
    "first_head": "1.2.398.3.3.4.1.2.1",
    "right_to_sign": "1.2.398.3.3.4.1.2.2",
    "employee": "1.2.398.3.3.4.1.2.5",
}
#: NCA RK's TSA policy for RSA-SHA256 time-stamps (the tokens say so, as NCA's do).
TSA_POLICY = "1.2.398.3.3.2.6.2"


@dataclass(frozen=True)
class Official:
    """One official of the demo: the key label, who they are and what they act for."""

    label: str
    surname: str
    given: str
    patronymic: str
    iin: str
    organisation: str
    bin: str
    role: str
    #: (body, "departure" | "settlement") the organisation acts for (directory entries)
    acts_for: tuple[tuple[str, str], ...]


#: The officials of the case, in the order they first act.
OFFICIALS = (
    Official(
        "dep-career",
        "ДЕМОВА",
        "АЙГҮЛ",
        "СЕРІКҚЫЗЫ",
        "850301300121",
        "«ТҮРКІСТАН ОБЛЫСЫНЫҢ ДЕМО МАНСАП ОРТАЛЫҒЫ» КММ",
        "120340001230",
        "employee",
        (("career_centre", "departure"),),
    ),
    Official(
        "dep-mobility-head",
        "ДЕМОВ",
        "ДӘУРЕН",
        "ҒАЛЫМҰЛЫ",
        "781122300344",
        "«ТҮРКІСТАН ОБЛЫСЫНЫҢ ДЕМО ЕҢБЕК ҰТҚЫРЛЫҒЫ ОРТАЛЫҒЫ» КММ",
        "051140004562",
        "first_head",
        (("labour_mobility_centre", "departure"),),
    ),
    Official(
        "dep-akimat",
        "ДЕМОБЕКОВ",
        "НҰРЛАН",
        "ӨМІРЗАҚҰЛЫ",
        "700101300675",
        "«ТҮРКІСТАН ОБЛЫСЫНЫҢ ДЕМО ЖҰМЫСПЕН ҚАМТУ БАСҚАРМАСЫ» ММ",
        "991240007893",
        "right_to_sign",
        (("local_executive_body", "departure"),),
    ),
    Official(
        "set-akimat",
        "ДЕМОЕВА",
        "ЖАНАР",
        "БОЛАТҚЫЗЫ",
        "880524450451",
        "«АБАЙ ОБЛЫСЫНЫҢ ДЕМО ЖҰМЫСПЕН ҚАМТУ БАСҚАРМАСЫ» ММ",
        "100240012348",
        "employee",
        (("local_executive_body", "settlement"),),
    ),
    Official(
        "set-mobility",
        "ДЕМОҰЛЫ",
        "АСҚАР",
        "ЕРЛАНҰЛЫ",
        "900715300233",
        "«АБАЙ ОБЛЫСЫНЫҢ ДЕМО ЕҢБЕК ҰТҚЫРЛЫҒЫ ОРТАЛЫҒЫ» КММ",
        "110540023455",
        "employee",
        (("labour_mobility_centre", "settlement"),),
    ),
    Official(
        "set-career",
        "ТОҚТАРОВА",
        "ӘСЕМ",
        "ЖҰМАБАЙҚЫЗЫ",
        "920312400568",
        "«АЯГӨЗ АУДАНЫНЫҢ ДЕМО МАНСАП ОРТАЛЫҒЫ» КММ",
        "120840034562",
        "employee",
        (("career_centre", "settlement"),),
    ),
    Official(
        "set-career-head",
        "СЕЙІТОВ",
        "АРМАН",
        "ТАЛҒАТҰЛЫ",
        "760412300582",
        "«АЯГӨЗ АУДАНЫНЫҢ ДЕМО МАНСАП ОРТАЛЫҒЫ» КММ",
        "120840034562",
        "first_head",
        (),
    ),
    Official(
        "rural-akim",
        "ЖАҚСЫЛЫҚОВ",
        "БОЛАТ",
        "СЕРІКҰЛЫ",
        "680229300411",
        "«ДЕМО АУЫЛДЫҚ ОКРУГІ ӘКІМІНІҢ АППАРАТЫ» ММ",
        "060340045675",
        "first_head",
        (("rural_akimat", "settlement"),),
    ),
)


@dataclass
class DemoPki:
    """The built PKI: files, URLs and what the loopback server answers with."""

    folder: Path
    base_url: str
    root_pem: Path
    p12: dict[str, Path]
    password_file: Path
    tsa_url: str
    ocsp_url: str
    crl_url: str
    hits: dict[str, int] = field(default_factory=lambda: {"ocsp": 0, "tsa": 0, "crl": 0})


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(*pairs: tuple[ObjectIdentifier, str]) -> x509.Name:
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in pairs])


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


class _NcaTimeStamper(DummyTimeStamper):
    """pyHanko's in-process TSA with NCA RK's time-stamp policy OID."""

    def _build_tst_info(self, message_imprint, dt_, req):  # type: ignore[no-untyped-def]
        info = super()._build_tst_info(message_imprint, dt_, req)
        info["policy"] = tsp.ObjectIdentifier(TSA_POLICY)
        return info


class _Authority:
    """The root's keys and what it issued: signs OCSP answers and time-stamps."""

    def __init__(self, folder: Path, base_url: str) -> None:
        now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
        self.until = now + dt.timedelta(days=365)
        self.ocsp_url, self.crl_url = f"{base_url}/ocsp", f"{base_url}/demo-root.crl"
        self.root_key = _key()
        self.root_name = _name(
            (NameOID.COUNTRY_NAME, "KZ"), (NameOID.COMMON_NAME, "DOCSERVICE DEMO ROOT (RSA)")
        )
        self.root = (
            x509.CertificateBuilder()
            .subject_name(self.root_name)
            .issuer_name(self.root_name)
            .public_key(self.root_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(self.until)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(self.root_key.public_key()),
                critical=False,
            )
            .sign(self.root_key, hashes.SHA256())
        )
        self.issued: dict[int, x509.Certificate] = {}
        self.ocsp_key = _key()
        self.ocsp_cert = self.issue(
            self.ocsp_key,
            _name(
                (NameOID.COUNTRY_NAME, "KZ"),
                (NameOID.COMMON_NAME, "DOCSERVICE DEMO OCSP RESPONDER"),
            ),
            [ExtendedKeyUsageOID.OCSP_SIGNING],
            now,
            ocsp_no_check=True,
        )
        tsa_key = _key()
        tsa_cert = self.issue(
            tsa_key,
            _name((NameOID.COUNTRY_NAME, "KZ"), (NameOID.COMMON_NAME, "DOCSERVICE DEMO TSA")),
            [ExtendedKeyUsageOID.TIME_STAMPING],
            now,
            eku_critical=True,
        )
        der_key = tsa_key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        self.tsa = _NcaTimeStamper(
            tsa_cert=asn1_x509.Certificate.load(tsa_cert.public_bytes(serialization.Encoding.DER)),
            tsa_key=asn1_keys.PrivateKeyInfo.load(der_key),
            certs_to_embed=[
                asn1_x509.Certificate.load(self.root.public_bytes(serialization.Encoding.DER))
            ],
        )
        self.lock = threading.Lock()
        crl = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.root_name)
            .last_update(now)
            .next_update(now + dt.timedelta(days=7))
            .add_extension(x509.CRLNumber(1), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.root_key.public_key()),
                critical=False,
            )
            .sign(self.root_key, hashes.SHA256())
        )
        self.crl = crl.public_bytes(serialization.Encoding.DER)
        (folder / "demo-root.crl").write_bytes(self.crl)

    def issue(
        self,
        key: rsa.RSAPrivateKey,
        subject: x509.Name,
        ekus: list[ObjectIdentifier],
        now: dt.datetime,
        *,
        signer: bool = False,
        ocsp_no_check: bool = False,
        eku_critical: bool = False,
    ) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.root_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(self.until)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    True,
                    signer or not ocsp_no_check,
                    False,
                    False,
                    False,
                    False,
                    False,
                    False,
                    False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage(ekus), critical=eku_critical)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.root_key.public_key()),
                critical=False,
            )
        )
        if ocsp_no_check:
            builder = builder.add_extension(x509.OCSPNoCheck(), critical=False)
        else:
            builder = builder.add_extension(
                x509.AuthorityInformationAccess(
                    [
                        x509.AccessDescription(
                            AuthorityInformationAccessOID.OCSP,
                            x509.UniformResourceIdentifier(self.ocsp_url),
                        )
                    ]
                ),
                critical=False,
            ).add_extension(
                x509.CRLDistributionPoints(
                    [
                        x509.DistributionPoint(
                            [x509.UniformResourceIdentifier(self.crl_url)], None, None, None
                        )
                    ]
                ),
                critical=False,
            )
        cert = builder.sign(self.root_key, hashes.SHA256())
        self.issued[cert.serial_number] = cert
        return cert

    def ocsp_answer(self, body: bytes) -> bytes:
        """GOOD for what the root issued, UNKNOWN otherwise; the request's nonce echoed."""
        try:
            request = ocsp.load_der_ocsp_request(body)
        except ValueError:
            return ocsp.OCSPResponseBuilder.build_unsuccessful(
                ocsp.OCSPResponseStatus.MALFORMED_REQUEST
            ).public_bytes(serialization.Encoding.DER)
        now = dt.datetime.now(dt.UTC)
        known = self.issued.get(request.serial_number)
        builder = ocsp.OCSPResponseBuilder().add_response_by_hash(
            request.issuer_name_hash,
            request.issuer_key_hash,
            request.serial_number,
            request.hash_algorithm,
            ocsp.OCSPCertStatus.GOOD if known is not None else ocsp.OCSPCertStatus.UNKNOWN,
            now,
            now + dt.timedelta(hours=1),
            None,
            None,
        )
        builder = builder.responder_id(
            ocsp.OCSPResponderEncoding.HASH, self.ocsp_cert
        ).certificates([self.ocsp_cert])
        with contextlib.suppress(x509.ExtensionNotFound):
            nonce = request.extensions.get_extension_for_class(x509.OCSPNonce).value
            builder = builder.add_extension(nonce, critical=False)
        return builder.sign(self.ocsp_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    def tsa_answer(self, body: bytes) -> bytes:
        with self.lock:
            return self.tsa.request_tsa_response(tsp.TimeStampReq.load(body)).dump()


def _handler(holder: list[_Authority], hits: dict[str, int]) -> type:
    """The server starts before the authority exists (its URLs need the port)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return

        def _send(self, status: int, body: bytes, ctype: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            authority = holder[0]
            if self.path == "/demo-root.crl":
                hits["crl"] += 1
                self._send(200, authority.crl, "application/pkix-crl")
            else:
                self._send(404, b"not found", "text/plain")

        def do_POST(self) -> None:
            size = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(min(size, 1 << 16))
            authority = holder[0]
            if self.path == "/ocsp":
                hits["ocsp"] += 1
                self._send(200, authority.ocsp_answer(body), "application/ocsp-response")
            elif self.path == "/tsa":
                hits["tsa"] += 1
                try:
                    answer = authority.tsa_answer(body)
                except ValueError:
                    self._send(400, b"not a TimeStampReq", "text/plain")
                    return
                self._send(200, answer, "application/timestamp-reply")
            else:
                self._send(404, b"not found", "text/plain")

    return Handler


def _official_p12(
    authority: _Authority, official: Official, now: dt.datetime, password: str
) -> bytes:
    key = _key()
    subject = _name(
        (NameOID.COMMON_NAME, f"{official.surname} {official.given}"),
        (NameOID.SURNAME, official.surname),
        (NameOID.SERIAL_NUMBER, f"IIN{official.iin}"),
        (NameOID.COUNTRY_NAME, "KZ"),
        (NameOID.ORGANIZATION_NAME, official.organisation),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, f"BIN{official.bin}"),
        (NameOID.GIVEN_NAME, official.patronymic),
    )
    cert = authority.issue(
        key,
        subject,
        [
            ExtendedKeyUsageOID.EMAIL_PROTECTION,
            ObjectIdentifier(LEGAL_ENTITY),
            ObjectIdentifier(ROLE[official.role]),
        ],
        now,
        signer=True,
    )
    return pkcs12.serialize_key_and_certificates(
        official.label.encode(),
        key,
        cert,
        [authority.root],
        serialization.BestAvailableEncryption(password.encode()),
    )


@contextlib.contextmanager
def running(folder: Path, password: str) -> Iterator[DemoPki]:
    """Build the PKI into ``folder`` and serve OCSP, the CRL and the TSA on
    127.0.0.1:<free port> until the context exits."""
    folder.mkdir(parents=True, exist_ok=True)
    hits = {"ocsp": 0, "tsa": 0, "crl": 0}
    holder: list[_Authority] = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(holder, hits))
    base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
    authority = _Authority(folder, base_url)
    holder.append(authority)
    root_pem = folder / "demo-root.pem"
    root_pem.write_bytes(_pem(authority.root))
    (folder / "demo-ocsp.pem").write_bytes(_pem(authority.ocsp_cert))
    password_file = folder / "password.txt"
    password_file.write_text(password + "\n", encoding="utf-8")
    password_file.chmod(0o600)
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    p12s = {}
    for official in OFFICIALS:
        path = folder / f"{official.label}.p12"
        path.write_bytes(_official_p12(authority, official, now, password))
        path.chmod(0o600)
        p12s[official.label] = path
    thread = threading.Thread(target=httpd.serve_forever, name="demo-pki", daemon=True)
    thread.start()
    try:
        yield DemoPki(
            folder,
            base_url,
            root_pem,
            p12s,
            password_file,
            tsa_url=f"{base_url}/tsa",
            ocsp_url=authority.ocsp_url,
            crl_url=authority.crl_url,
            hits=hits,
        )
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
