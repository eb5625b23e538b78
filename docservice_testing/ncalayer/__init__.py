"""An NCALayer emulator: a real ``wss://`` server on loopback holding test keys.

Why: client signing has two halves, the service and the official's NCALayer; the second
can only be tested end to end with something that speaks NCALayer's exact messages over
a real WebSocket with TLS. This server does, with keys from the test PKI:

* ``kz.gov.pki.knca.basics`` ``sign``: CMS (detached / attached, over data or over a
  pre-computed hash with ``digested``, an RFC 3161 token when ``tsaProfile`` is present),
  XML (enveloped XMLDSig as NCALayer makes it, see :func:`sign_xml_document`), lists of
  documents; the answer's CMS is PEM, its XML always a list; ``outputCert`` adds the
  certificate; expired / revoked keys are offered only with ``allowExpired`` /
  ``allowRevoked``, test-CA keys only with ``signerParams.chain``;
* ``kz.gov.pki.knca.commonUtils``: ``getKeyInfo``, ``createCAdESFromBase64`` (an existing
  CMS passed as data gets one more signer), ``createCAdESFromBase64Hash``,
  ``createCMSSignatureFromBase64`` (time-stamped), ``signXml``, ``signXmls`` (with
  ``tbsElementXPath`` / ``signatureParentElementXPath``), ``getActiveTokens``,
  ``changeLocale``; the answer's CMS is Base64 DER;
* ``kz.gov.pki.ncalayerservices.accessory``: accepted, never answered (it opens a window).

Time-stamps come from ``tsa_url`` when given, else from the emulator's own test TSA (a
fresh self-signed certificate, like NCALayer's default TSA needing no set-up).

The "dialog" is :attr:`NCALayerEmulator.choose`: given the keys that pass the request's
filters it returns the one the official picks, or ``None`` to cancel; with no key to offer
the official can only cancel. It never listens beyond loopback; message size and the
number of connections are limited (real NCALayer has no message rate limit, nor has this).

One module a concern: :mod:`.cms`, :mod:`.tsp`, :mod:`.xml`, :mod:`.tls`, :mod:`.server`
(the WebSocket and NCALayer's methods), :mod:`.cli`; :mod:`.keystore` holds the keys.

Run: ``ncalayer-emulator --p12 KEY.p12 --password-file F [--port 13579]`` (or
``python -m docservice_testing.ncalayer``).
"""

from docservice_testing.ncalayer.cms import build_cms, existing_cms, signer_info
from docservice_testing.ncalayer.keystore import EmulatorKey
from docservice_testing.ncalayer.server import (
    DEFAULT_PORT,
    LOOPBACK,
    Chooser,
    NCALayerEmulator,
    first_key,
    running_emulator,
)
from docservice_testing.ncalayer.tls import make_tls_certificate
from docservice_testing.ncalayer.tsp import make_test_tsa, timestamp
from docservice_testing.ncalayer.xml import (
    C14N,
    C14N_WITH_COMMENTS,
    XML_DECLARATION,
    sign_xml_document,
)

__all__ = [
    "C14N",
    "C14N_WITH_COMMENTS",
    "DEFAULT_PORT",
    "LOOPBACK",
    "XML_DECLARATION",
    "Chooser",
    "EmulatorKey",
    "NCALayerEmulator",
    "build_cms",
    "existing_cms",
    "first_key",
    "make_test_tsa",
    "make_tls_certificate",
    "running_emulator",
    "sign_xml_document",
    "signer_info",
    "timestamp",
]
