"""The verifier on NCA's real GOST material: CMS (the 2004 TSA's token), XMLDSig with the
pkigovkz URIs (signed here with NCA's real 2015 test key), chains to a pinned issuing CA with
NCA's real GOST CRLs and OCSP responses."""

from __future__ import annotations

import datetime as dt

import pytest
from asn1crypto import cms, core, crl, ocsp
from lxml import etree

import signing.gost as gost
from docservice.verification import TrustAnchors, Verifier, VerifierConfig
from docservice.verification.report import Indication
from docservice.verification.revocation import _ocsp_key_for
from signing import _pkcs12
from signing.gost import curves
from signing.gost import xmldsig as gost_xmldsig
from tests.gost.nca import NCA, cert, flip, raw

UTC = dt.UTC
#: inside the 2004 CRL's window (2022-03-29 .. 2022-09-25) and the TSA's validity
IN_2004_CRL_WINDOW = dt.datetime(2022, 9, 20, tzinfo=UTC)
#: when NCA's OCSP responder answered for the 2015 keys
OCSP_TIME = dt.datetime(2022, 9, 2, 17, 0, tzinfo=UTC)


def _verifier(*anchors: str) -> Verifier:
    trust = TrustAnchors.from_certificates([cert(a) for a in anchors], source="nca-test")
    return Verifier(VerifierConfig(trust=trust, fetch_revocation=False))


def test_trust_folder_with_only_the_issuing_ca(tmp_path) -> None:  # type: ignore[no-untyped-def]
    source = NCA / "nca_gost2015_test.cer"
    (tmp_path / source.name).write_bytes(source.read_bytes())
    store = TrustAnchors.from_directory(tmp_path)
    assert store.labels == ["ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (GOST) TEST 2022"]


def _token_with_crl() -> cms.ContentInfo:
    """The real 2004 token as an attached CMS, its CA's real CRL added (unsigned part)."""
    info = cms.ContentInfo.load(raw("tsp_token.bin"))
    info["content"]["crls"] = [
        cms.RevocationInfoChoice(
            name="crl", value=crl.CertificateList.load(raw("nca_gost_test.crl"))
        )
    ]
    return cms.ContentInfo.load(info.dump(force=False))


def test_real_gost_2004_cms_passes() -> None:
    report = _verifier("nca_gost_test.crt").verify(_token_with_crl().dump(), now=IN_2004_CRL_WINDOW)
    (sig,) = report.signatures
    assert (sig.indication, sig.sub_indication) == (Indication.TOTAL_PASSED, None)
    assert sig.algorithm == "ГОСТ 34.310-2004, 256 бит"
    assert sig.chain == ["ҰКО 3.0 (GOST TEST)", "СЕРВИС МЕТКИ ВРЕМЕНИ"]
    assert sig.signer is not None and sig.signer.gost and sig.signer.bin == "123456789021"
    assert sig.revocation is not None and sig.revocation.status == "good"


def _tampered(where: str) -> bytes:
    info = _token_with_crl()
    sd = info["content"]
    si = sd["signer_infos"][0]
    if where == "content":
        content = sd["encap_content_info"]["content"]
        sd["encap_content_info"]["content"] = core.ParsableOctetString(flip(content.contents, 30))
    elif where == "signed_attrs":
        attrs = si["signed_attrs"]
        attrs[1]["values"][0] = cms.Time(
            name="utc_time", value=dt.datetime(2022, 9, 18, 13, 20, 15, tzinfo=UTC)
        )  # one second later
    else:
        si["signature"] = flip(si["signature"].native, 5)
    return info.dump(force=True)


@pytest.mark.parametrize(
    ("where", "sub"),
    [
        ("content", "HASH_FAILURE"),
        ("signed_attrs", "SIG_CRYPTO_FAILURE"),
        ("signature", "SIG_CRYPTO_FAILURE"),
    ],
)
def test_tampered_real_gost_cms_fails(where: str, sub: str) -> None:
    (sig,) = (
        _verifier("nca_gost_test.crt").verify(_tampered(where), now=IN_2004_CRL_WINDOW).signatures
    )
    assert (sig.indication, sig.sub_indication) == (Indication.TOTAL_FAILED, sub)


def _nca_key(name: str) -> int:
    key, _certs = _pkcs12.read_container(raw(name), "Aa123456")
    assert key is not None
    raw_key = _pkcs12.RawPrivateKeyInfo.load(key)["private_key"].native
    return int.from_bytes(core.OctetString.load(raw_key).native, "little")


def _gost_xml(name: str) -> bytes:
    root = etree.fromstring('<doc xmlns="urn:test"><a>Сәлем, әлем</a><b n="1"/></doc>'.encode())
    gost_xmldsig.sign(
        root, curves.TC26_512_A, _nca_key(name), [cert(name).dump()], gost.SIG_2015_512
    )
    return etree.tostring(root, encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "response", "revoked"),
    [
        (
            "gost2015_individual_Aa123456.p12",
            "ocsp_response_individual_2015.bin",
            dt.datetime(1970, 1, 1, tzinfo=UTC),
        ),  # NCA's test responder answers so
        (
            "gost2015_ceo_revoked_Aa123456.p12",
            "ocsp_response_ceo_2015_revoked.bin",
            dt.datetime(2022, 7, 27, 10, 25, 30, tzinfo=UTC),
        ),
    ],
)
def test_gost_xmldsig_judged_with_real_ocsp(name: str, response: str, revoked: dt.datetime) -> None:
    verifier = _verifier("nca_gost2015_test.cer")
    verifier.revocation.put_ocsp(_ocsp_key_for(cert(name)), ocsp.OCSPResponse.load(raw(response)))
    xml = _gost_xml(name)
    (sig,) = verifier.verify(xml, now=OCSP_TIME).signatures
    assert sig.algorithm == "ГОСТ 34.10-2015, 512 бит"
    assert (sig.indication, sig.sub_indication) == (Indication.INDETERMINATE, "REVOKED_NO_POE")
    assert sig.revocation is not None and sig.revocation.status == "revoked"
    assert sig.revocation.revocation_time == revoked
    # Today the certificate has expired (2023-07-2x), and nothing proves the signature is
    # older than the revocation: revoked, then expired, reports the revocation (the
    # weightier answer). NCA's answers are holds given in 2022, so they are heard at their
    # own time, not at the eve of the expiry (a hold answered then says nothing of 2023).
    (later,) = verifier.verify(xml).signatures
    assert (later.indication, later.sub_indication) == (Indication.INDETERMINATE, "REVOKED_NO_POE")
    assert later.revocation is not None and later.revocation.revocation_time == revoked
    day = f"{revoked:%Y-%m-%d}"
    assert day in later.reasons[0].ru and day in later.reasons[0].kk
    assert "приостановлен" in later.reasons[0].ru


@pytest.mark.parametrize(
    ("old", "new", "sub"),
    [
        ("Сәлем, әлем".encode(), "Сәлем, алем".encode(), "HASH_FAILURE"),
        (b"<ds:SignatureValue>", b"<ds:SignatureValue>AAAA", "SIG_CRYPTO_FAILURE"),
        (
            b"xml:ns:pkigovkz:xmlsec:algorithms:gostr34112015-512",
            b"xml:ns:pkigovkz:xmlsec:algorithms:gostr34112015-256",
            "HASH_FAILURE",
        ),
    ],
)
def test_tampered_gost_xmldsig_fails(old: bytes, new: bytes, sub: str) -> None:
    xml = _gost_xml("gost2015_ceo_revoked_Aa123456.p12")
    assert old in xml
    (sig,) = (
        _verifier("nca_gost2015_test.cer")
        .verify(xml.replace(old, new, 1), now=OCSP_TIME)
        .signatures
    )
    assert (sig.indication, sig.sub_indication) == (Indication.TOTAL_FAILED, sub)
