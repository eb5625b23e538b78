"""Every input the verification tests verify, as files for ``docservice verify``.

``test_cli_output.py`` runs each of them through the real CLI. The cases are those of
``test_pdf``, ``test_cms``, ``test_xml``, ``test_hostile``, ``test_interop``,
``test_report`` (the fuzzed uploads) and ``test_cli``, built with the same fixtures and
named after the test they come from; a new verification test adds its input here too.

Left out, because the CLI has no switch for them: ``test_time_budget`` (a zero time
budget) and the in-memory size limits of ``test_size_limits`` - the CLI's own limits are
exercised instead with files just over the default limits. Unit tests of helpers (the hex
reader, the revocation cache) verify no document.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import os
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from unittest import mock

from asn1crypto import algos, cms, pem
from lxml import etree

from docservice.verification import Limits
from tests.pki import TestPki, _cache_dir, _gost_cert
from tests.verification.conftest import BEFORE_REVOCATION, WHILE_VALID, Docs
from tests.verification.fixtures import (
    SAMPLE_XML,
    Signers,
    base_pdf,
    forged_ocsp,
    incremental_update_attack,
    service_signatures,
    shadow_attack,
    shadow_document,
    tampered,
    with_dss,
)

UTC = dt.UTC
PASSED, FAILED, INDETERMINATE = 0, 1, 2
#: Exit status of input that cannot be verified at all (one line on stderr).
UNUSABLE = 2
ORIGINAL = "Өтініш / заявление № 17, 2026".encode()
DS = "{http://www.w3.org/2000/09/xmldsig#}"


@dataclass(frozen=True)
class Case:
    """One ``docservice verify`` run: the file, its options, the exit codes it may give."""

    name: str
    data: bytes
    exits: frozenset[int]
    original: bytes | None = None
    offline: bool = False
    #: ``pki`` (root + CA of the test PKI), ``stranger`` (an unrelated root), ``ca_only``
    #: (the issuing CA alone), ``leaf_only`` (a signer's certificate, no CA).
    trust: str = "pki"
    options: tuple[str, ...] = ()
    #: The input is refused before any verdict: exactly one line on stderr.
    unusable: bool = False


def _case(name: str, data: bytes, exit_code: int | frozenset[int], **kw: object) -> Case:
    exits = exit_code if isinstance(exit_code, frozenset) else frozenset({exit_code})
    return Case(name, data, exits, **kw)  # type: ignore[arg-type]


def _refused(name: str, data: bytes, **kw: object) -> Case:
    return _case(name, data, UNUSABLE, unusable=True, **kw)


def pdf_cases(docs: Docs, s: Signers, pki: TestPki) -> list[Case]:
    from pyhanko.sign.fields import MDPPerm
    from pyhanko.sign.signers import PdfSigner

    now = dt.datetime.now(UTC)
    prepared, hidden = shadow_document(base_pdf())
    bait = s.sign_pdf(prepared, "career")
    certified = s.sign_pdf(base_pdf(), "career", certify=True, docmdp=MDPPerm.NO_CHANGES)
    with mock.patch.object(PdfSigner, "_enforce_certification_constraints", lambda *a: None):
        after_no_changes = s.sign_pdf(certified, "head")
    revoked_doc = s.sign_pdf(base_pdf(), "revoked")
    forged = with_dss(revoked_doc, [forged_ocsp(pki, "revoked", signer="career")])
    changed = tampered(docs.bb())
    return [
        _case("pdf.single_signature", docs.bb(), PASSED),
        _case(
            "pdf.single_signature.ru.json", docs.bb(), PASSED, options=("--lang", "ru", "--json")
        ),
        _case("pdf.four_officials", docs.four(), PASSED),
        _case("pdf.lta", docs.lta(), PASSED),
        # Signed here, not the session's docs.lta(): offline, the timestamps' TSA certificate
        # is checked at the moment of verification against the OCSP response embedded at
        # signing, which (as NCA's) has no nextUpdate and so is fresh for ten minutes only.
        # The session's copy may be older than that (under pytest-xdist it was).
        _case(
            "pdf.lta.offline",
            s.sign_pdf_lta(docs.base(), "career"),
            PASSED,
            offline=True,
        ),
        _case("pdf.expired_with_timestamp_while_valid", docs.expired_with_ts(), PASSED),
        # Expired since the claimed time, nothing proves the signature older: no pass.
        _case(
            "pdf.expired_claimed_while_valid",
            s.sign_pdf(base_pdf(), "expired", when=WHILE_VALID),
            INDETERMINATE,
        ),
        _case("pdf.expired_claimed_now", s.sign_pdf(base_pdf(), "expired", when=now), FAILED),
        _case(
            "pdf.expired_timestamp_after_expiry",
            s.sign_pdf(
                base_pdf(), "expired", when=WHILE_VALID, ts_at=dt.datetime(2023, 1, 1, tzinfo=UTC)
            ),
            INDETERMINATE,
        ),
        _case("pdf.revoked", s.sign_pdf(base_pdf(), "revoked", live_tsa=True), FAILED),
        _case(
            "pdf.revoked_timestamped_before",
            s.sign_pdf(base_pdf(), "revoked", when=BEFORE_REVOCATION, ts_at=BEFORE_REVOCATION),
            PASSED,
        ),
        _case(
            "pdf.revoked_claimed_before_unproven",
            s.sign_pdf(base_pdf(), "revoked", when=BEFORE_REVOCATION),
            INDETERMINATE,
        ),
        _case("pdf.authentication_certificate", s.sign_pdf(base_pdf(), "authonly"), INDETERMINATE),
        _case(
            "pdf.not_yet_valid_claim",
            s.sign_pdf(base_pdf(), "career", when=dt.datetime(2024, 1, 1, tzinfo=UTC)),
            FAILED,
        ),
        _case("pdf.untrusted_anchor", docs.bb(), INDETERMINATE, trust="stranger"),
        # A pinned issuing CA is a trust anchor (RFC 5280 6.1; NCA publishes its issuing CAs).
        _case("pdf.trust_with_only_the_issuing_ca", docs.bb(), PASSED, trust="ca_only"),
        _refused("pdf.trust_without_a_ca", docs.bb(), trust="leaf_only"),
        _case("pdf.byte_tampering", changed, FAILED),
        # pyHanko logs this one with a full traceback (SuspiciousModification).
        _case("pdf.incremental_update_attack", incremental_update_attack(docs.bb()), FAILED),
        _case(
            "pdf.incremental_update_attack.json",
            incremental_update_attack(docs.bb()),
            FAILED,
            options=("--json",),
        ),
        _case("pdf.shadow_bait", bait, PASSED),
        _case("pdf.shadow_attack", shadow_attack(bait, hidden), FAILED),
        _case("pdf.certified_no_changes_then_signed", after_no_changes, FAILED),
        _case("pdf.forged_ocsp.offline", forged, INDETERMINATE, offline=True),
        _case("pdf.forged_ocsp.online", forged, frozenset({FAILED, INDETERMINATE})),
        _case(
            "pdf.genuine_dss.offline",
            s.add_dss(s.sign_pdf(base_pdf(), "career")),
            PASSED,
            offline=True,
        ),
    ]


def cms_cases(docs: Docs, s: Signers, pki: TestPki) -> list[Case]:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    from signing.cms_util import REVOCATION_VALUES_OID, RevocationValues

    two = s.cms(ORIGINAL, ["career", "head"], live_tsa=True)
    der = two.dump()
    attached = s.cms(ORIGINAL, ["hr"], detached=False).dump()
    old = s.cms(
        ORIGINAL, ["expired"], when=WHILE_VALID, ts_at=WHILE_VALID + dt.timedelta(seconds=30)
    ).dump()

    crypto = cms.ContentInfo.load(der)
    info = crypto["content"]["signer_infos"][0]
    value = bytearray(info["signature"].native)
    value[10] ^= 0xFF
    info["signature"] = bytes(value)

    gost_cert = _gost_cert(pki.arch, _cache_dir() / "keys")
    gost = cms.ContentInfo.load(der)
    sd = gost["content"]
    info = sd["signer_infos"][0]
    info["sid"] = cms.SignerIdentifier(
        name="issuer_and_serial_number",
        value={"issuer": gost_cert.issuer, "serial_number": gost_cert.serial_number},
    )
    info["digest_algorithm"] = algos.DigestAlgorithm({"algorithm": "1.2.398.3.10.1.3.1"})
    info["signature_algorithm"] = algos.SignedDigestAlgorithm({"algorithm": "1.2.398.3.10.1.1.1.2"})
    info["signature"] = secrets.token_bytes(64)
    sd["certificates"] = [
        *sd["certificates"],
        cms.CertificateChoices(name="certificate", value=gost_cert),
    ]

    empty = cms.ContentInfo.load(der)
    empty["content"]["signer_infos"] = []

    context = ValidationContext(trust_roots=[pki.root], other_certs=[pki.ca], allow_fetching=True)
    pdf = s.sign_pdf(base_pdf(), "career")
    validate_pdf_signature(PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0], context)
    content = s.cms(ORIGINAL, ["career"])
    without_values = content.dump()
    values = RevocationValues(
        {
            "ocsp_vals": [r.basic_ocsp_response for r in context.ocsps],
            "crl_vals": list(context.crls),
        }
    )
    content["content"]["signer_infos"][0]["unsigned_attrs"] = [
        {"type": REVOCATION_VALUES_OID, "values": [values]}
    ]

    white, data = docs.cms_ending_in_white_space()
    return [
        _case("cms.detached.der", der, PASSED, original=ORIGINAL),
        _case("cms.detached.pem", pem.armor("CMS", der), PASSED, original=ORIGINAL),
        _case("cms.detached.base64", base64.encodebytes(der), PASSED, original=ORIGINAL),
        _case("cms.detached_without_original", der, INDETERMINATE),
        _case("cms.detached_wrong_original", der, FAILED, original=ORIGINAL + b"."),
        _case("cms.attached", attached, PASSED),
        _refused("cms.attached_with_original", attached, original=ORIGINAL),
        _case("cms.expired_timestamped_while_valid", old, PASSED, original=ORIGINAL),
        _case("cms.tampered_signature_value", crypto.dump(), FAILED, original=ORIGINAL),
        _case("cms.gost", gost.dump(), INDETERMINATE, original=ORIGINAL),
        _refused("cms.without_signer_info", empty.dump(), original=ORIGINAL),
        _refused("cms.truncated", der[:700], original=ORIGINAL),
        _case(
            "cms.cades_without_revocation_values.offline",
            without_values,
            INDETERMINATE,
            original=ORIGINAL,
            offline=True,
        ),
        _case(
            "cms.cades_revocation_values.offline",
            content.dump(),
            PASSED,
            original=ORIGINAL,
            offline=True,
        ),
        _case("cms.der_ending_in_white_space", white, PASSED, original=data),
    ]


def xml_cases(docs: Docs, s: Signers, pki: TestPki) -> list[Case]:
    from cryptography.hazmat.primitives.serialization import pkcs12
    from signxml import XMLSigner

    signed = docs.xml()
    amount = b"<amount>100000</amount>"
    root = etree.fromstring(signed)
    signature = root.find(f"{DS}Signature")
    original = etree.fromstring(etree.tostring(root))
    original.remove(original.find(f"{DS}Signature"))
    etree.SubElement(signature, f"{DS}Object").append(original)
    root.find("{urn:kz:docservice:application:v1}amount").text = "900000"
    wrapped = etree.tostring(root)

    key, _c, _ch = pkcs12.load_key_and_certificates(
        pki.p12("career").read_bytes(), pki.password.encode()
    )
    doc = etree.fromstring(b"<doc><data Id='x'><amount>100</amount></data></doc>")
    cert = pem.armor("CERTIFICATE", pki.cert("career").dump()).decode()
    evil = etree.fromstring(
        etree.tostring(XMLSigner().sign(doc, key=key, cert=cert, reference_uri="#x"))
    )
    evil.insert(0, etree.fromstring(b"<data Id='x'><amount>999</amount></data>"))

    outside = etree.Element("wrapper")
    outside.append(etree.fromstring(signed))
    dtds = [
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 '
        b'"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 '
        b'"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><lolz>&lol3;</lolz>',
        b'<!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd"><r/>',
        "<?xml version='1.0' encoding='UTF-16'?><!DOCTYPE r []><r/>".encode("utf-16"),
    ]
    return [
        _case("xml.signed", signed, PASSED),
        _case("xml.two_signers", s.sign_xml(signed, "head"), PASSED),
        _case("xml.changed_value", signed.replace(amount, b"<amount>900000</amount>"), FAILED),
        _case(
            "xml.comment_hides_value",
            signed.replace(amount, b"<amount>1<!--00000--></amount>"),
            FAILED,
        ),
        _case(
            "xml.comment_splits_value",
            signed.replace(amount, b"<amount>1<!---->00000</amount>"),
            PASSED,
        ),
        _case("xml.signature_wrapping", wrapped, FAILED),
        _case("xml.id_reference_wrapping", etree.tostring(evil), FAILED),
        _refused("xml.signature_outside_pinned_place", etree.tostring(outside)),
        *[_refused(f"xml.dtd_{i}", payload) for i, payload in enumerate(dtds)],
        _refused("xml.deep", b"<a>" * 5000 + b"</a>" * 5000),
        _refused("xml.unsigned", SAMPLE_XML),
    ]


def hostile_cases(docs: Docs) -> list[Case]:
    data = docs.bb()
    cuts = [data.index(b"/Contents <") + 4000, len(data) - 40, 20]
    broken = bytearray(data)
    at = broken.rindex(b"startxref")
    broken[at + 10 : at + 16] = b"999999"

    garbage = [
        b"",
        b"hello, I am not a document",
        os.urandom(4096),
        b"%PDF-1.7\n" + os.urandom(2048),
        b"<a><b></a>",
        b"MIIB" + b"A" * 100,
        b"-----BEGIN CMS-----\nnot base64\n-----END CMS-----\n",
    ]
    limits = Limits()
    return [
        *[_refused(f"hostile.truncated_pdf_{cut}", data[:cut]) for cut in cuts],
        _refused("hostile.broken_startxref", bytes(broken)),
        _refused("hostile.garbage_xref", data.replace(b"xref", b"xreX")),
        _refused("hostile.unsigned_pdf", docs.base()),
        *[_refused(f"hostile.garbage_{i}", junk) for i, junk in enumerate(garbage)],
        _refused("hostile.file_too_large", b"%PDF-1.7\n" + b"\0" * limits.max_file_bytes),
        _refused(
            "hostile.original_too_large", b"x" * 10, original=b"y" * (limits.max_original_bytes + 1)
        ),
        _case(
            "hostile.decompression_bomb",
            docs.decompression_bomb(),
            frozenset({PASSED, UNUSABLE}),
        ),
    ]


def interop_cases(pki: TestPki) -> list[Case]:
    """The service's own signatures (``signing/``), as ``test_interop`` makes them."""
    from docservice.pki.anchors import TrustAnchors

    made = service_signatures(pki, TrustAnchors((pki.root,), (pki.ca,)))
    pdf, cms_pem, xml = made["pdf"], made["cms"], made["xml"]
    return [
        _case("interop.four_officials_stamps_lta", pdf, PASSED),
        _case(
            "interop.cades_detached.offline", cms_pem, PASSED, original=b"original", offline=True
        ),
        _case("interop.xmldsig_two_signers", xml, PASSED),
    ]


def fuzz_cases(docs: Docs) -> list[Case]:
    """The 24 mutated uploads of ``test_fuzzed_uploads_never_500`` (same seed)."""
    rng = random.Random(4)
    seeds = [docs.bb(), docs.xml()]
    cases = []
    for i in range(24):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 20)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if i % 3 == 0:
            data = data[: rng.randrange(1, len(data))]
        cases.append(
            _case(f"fuzz.{i:02d}", bytes(data), frozenset({PASSED, FAILED, INDETERMINATE}))
        )
    return cases


def cli_cases(s: Signers) -> list[Case]:
    """``test_cli``'s own: a detached CMS with and without its original."""
    content = pem.armor("CMS", s.cms(b"data", ["career"]).dump())
    return [
        _case("cli.cms_without_original", content, INDETERMINATE),
        _case("cli.cms_with_original", content, PASSED, original=b"data"),
    ]


def all_cases(docs: Docs, signers: Signers, pki: TestPki) -> list[Case]:
    builders: list[Callable[[], list[Case]]] = [
        lambda: pdf_cases(docs, signers, pki),
        lambda: cms_cases(docs, signers, pki),
        lambda: xml_cases(docs, signers, pki),
        lambda: hostile_cases(docs),
        lambda: interop_cases(pki),
        lambda: fuzz_cases(docs),
        lambda: cli_cases(signers),
    ]
    cases = [case for build in builders for case in build()]
    names = [case.name for case in cases]
    assert len(names) == len(set(names)), "case names must be unique"
    return cases
