"""A revocation is final: an OCSP "revoked since R" answer decides every later moment.

pyhanko-certvalidator judges an OCSP answer fresh only near its ``thisUpdate``; right for
"good", not for "revoked" (RFC 6960 section 2.2: a revocation is permanent, only a
``certificateHold`` can be lifted). The answers here come from the test PKI's own OCSP
responder (certomancer), given at a chosen time and embedded, with no network.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from asn1crypto import ocsp

from docservice.verification import Verifier
from tests.pki import TestPki

UTC = dt.UTC
REVOKED_AT = dt.datetime(2022, 6, 1, tzinfo=UTC)  # "lapsed", as tests/pki/nca-test.yml says
ANSWERED_AT = dt.datetime(2022, 6, 2, tzinfo=UTC)
#: half a year after the answer, the day before "lapsed" expires
LONG_AFTER = dt.datetime(2022, 12, 31, tzinfo=UTC)


def _answer(pki: TestPki, *, hold: bool) -> ocsp.OCSPResponse:
    """The responder's signed answer about "lapsed" at ANSWERED_AT (valid ten minutes)."""
    responder = pki.arch.service_registry.summon_responder("ca", at_time=ANSWERED_AT)
    cert, issuer = pki.cert("lapsed"), pki.ca
    cid = ocsp.CertId(
        {
            "hash_algorithm": {"algorithm": "sha1"},
            "issuer_name_hash": hashlib.sha1(issuer.subject.dump()).digest(),
            "issuer_key_hash": issuer.public_key.sha1,
            "serial_number": cert.serial_number,
        }
    )
    single = responder.format_single_ocsp_response(cid, issuer)
    assert single["cert_status"].chosen["revocation_reason"].native == "affiliation_changed"
    if hold:
        single["cert_status"] = ocsp.CertStatus(
            name="revoked",
            value={"revocation_time": REVOKED_AT, "revocation_reason": "certificate_hold"},
        )
    assert single["next_update"].native < LONG_AFTER
    return responder.assemble_simple_ocsp_responses([single])


@pytest.mark.parametrize("hold", [False, True])
def test_a_revoked_answer_decides_every_later_moment(
    pki: TestPki, offline: Verifier, hold: bool
) -> None:
    answer = _answer(pki, hold=hold)
    # The issuing CA's own status: the root's CRL of either moment (fresh at each).
    crls = [pki.arch.service_registry.get_crl("root", at_time=t) for t in (ANSWERED_AT, LONG_AFTER)]
    fresh = offline.chains.validate(
        pki.cert("lapsed"), moment=ANSWERED_AT, embedded_ocsp=[answer], embedded_crl=crls
    )
    assert (fresh.sub, fresh.revoked_at) == ("REVOKED_NO_POE", REVOKED_AT), fresh.detail
    later = offline.chains.validate(
        pki.cert("lapsed"), moment=LONG_AFTER, embedded_ocsp=[answer], embedded_crl=crls
    )
    if hold:  # a hold may have been lifted since: the old answer says nothing of today
        assert later.sub == "TRY_LATER"
    else:
        assert (later.sub, later.revoked_at) == ("REVOKED_NO_POE", REVOKED_AT)
        assert later.revocation_reason == "affiliation_changed"
