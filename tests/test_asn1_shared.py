"""Values threads share are parsed whole first (docservice.asn1_shared).

asn1crypto parses lazily, without a lock: eight threads reading a freshly loaded value at
once, the interpreter switching every microsecond, meet a half-built child list
(``KeyError: No field numbered 0``) in most rounds. What the caches hand out (the trust
anchors, a CRL or OCSP answer in the revocation cache) must read the same in every thread.
"""

from __future__ import annotations

import sys
import threading
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from asn1crypto import crl, x509

from docservice.pki.anchors import load_certificates
from docservice.verification.revocation import RevocationCache
from tests.pki import TestPki


def _read_at_once(make: Callable[[], Any], read: Callable[[Any], Any], rounds: int = 40) -> None:
    """``rounds`` fresh values from ``make``, each read by eight threads at once."""
    failures: list[BaseException] = []
    answers: list[Any] = []
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for _ in range(rounds):
            value = make()

            def one(value: Any = value) -> None:
                try:
                    answers.append(read(value))
                except Exception as exc:  # an error is a wrong answer too
                    failures.append(exc)

            threads = [threading.Thread(target=one) for _ in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=60)
    finally:
        sys.setswitchinterval(switch)
    assert not failures, failures[:3]
    assert len(answers) == 8 * rounds and all(a == answers[0] for a in answers)


def test_the_unprotected_race_is_real(pki: TestPki) -> None:
    """The hazard itself, without the module: if asn1crypto ever parses safely, this
    fails and the module can go."""
    der = pki.cert("career").dump()
    with pytest.raises(AssertionError):
        _read_at_once(lambda: x509.Certificate.load(der), lambda c: c.native, rounds=200)


def test_trust_anchors_are_parsed_whole(pki: TestPki) -> None:
    data = pki.root_pem.read_bytes()
    _read_at_once(lambda: load_certificates(data)[0], lambda c: c.native)


def test_cached_crls_are_parsed_whole(pki: TestPki) -> None:
    with urllib.request.urlopen(pki.crl_url, timeout=10) as answer:
        crl_der = answer.read()
    cache = RevocationCache()
    _read_at_once(
        lambda: cache.put_crl(pki.crl_url, crl_der),
        lambda c: (c.native, c["tbs_cert_list"]["issuer"].human_friendly),
    )
    assert crl.CertificateList.load(crl_der).native == cache.get_crl(pki.crl_url).native
