"""Every process-wide change this project makes to pyHanko and asn1crypto, in one place.

Why one function, called at start-up: these libraries are shared by the whole process, so a
change to them is a change for every caller. Applying them as a side effect of importing
some module made the behaviour depend on which modules happened to be imported first, and
a reader could not tell what was changed where. Now :func:`apply` is called once by every
entry point - the ``docservice`` CLI (and ``sign``/``verify`` run on their own), the web app
factory, the Celery worker, the emulators, a :class:`docservice.verification.Verifier` and
the test session - and does nothing the second time.

The changes (each relies on a private hook; ``tests/test_library_hooks.py`` has a canary for
each, which fails with a clear message when an upgrade moves it):

1. asn1crypto learns the Kazakh GOST OIDs (:func:`signing.gost.asn1.register`);
2. pyhanko-certvalidator's default signature validator learns GOST
   (:func:`signing.gost.validator.install`);
3. pyHanko's PDF tokenizer reads hex strings with :func:`_read_hex_string` (one
   ``bytes.fromhex`` instead of a loop per character, and an error instead of an endless loop
   on a truncated file) and names with :func:`_read_name` (one regular-expression search
   instead of two loops per byte);
4. asn1crypto reads the RFC 5126 revocation-values CMS attribute
   (:func:`signing.cms_util.register`);
5. pyhanko-certvalidator lets a pinned, non-self-signed trust anchor issue CRLs
   (:func:`_allow_anchor_as_crl_issuer`) and takes an OCSP "revoked" as final
   (:func:`_revocation_is_final`);
6. pyHanko remembers which certificate matched which issuer and serial number
   (:func:`_remember_issuer_matches`).
"""

from __future__ import annotations

import io
import re
import threading
from collections import OrderedDict

from asn1crypto import cms, tsp, x509
from pyhanko.pdf_utils import generic, misc
from pyhanko.sign import general
from pyhanko_certvalidator.ltv.types import ValidationTimingParams
from pyhanko_certvalidator.path import ValidationPath
from pyhanko_certvalidator.policy_decl import CertRevTrustPolicy
from pyhanko_certvalidator.revinfo.archival import (
    OCSPContainer,
    RevinfoUsability,
    RevinfoUsabilityRating,
)

_lock = threading.Lock()
_applied = False


def apply() -> None:
    """Apply every patch once per process (thread-safe, idempotent)."""
    global _applied
    with _lock:
        if _applied:
            return
        from signing import cms_util
        from signing.gost import asn1, validator

        asn1.register()
        validator.install()
        generic.read_hex_string_from_stream = _read_hex_string
        generic.NameObject.read_from_stream = staticmethod(_read_name)  # type: ignore[method-assign]
        cms_util.register()
        _allow_anchor_as_crl_issuer()
        _revocation_is_final()
        _remember_issuer_matches()
        _applied = True


def applied() -> bool:
    """Whether :func:`apply` has run in this process."""
    return _applied


_WS = re.compile(rb"[\x00\t\n\x0c\r ]+")
_HEX_CHUNK = 1 << 16


def _read_hex_string(stream: io.RawIOBase) -> generic.ByteStringObject | generic.TextStringObject:
    """Drop-in for pyHanko's hex-string reader: one ``bytes.fromhex`` instead of a Python
    loop per character, and an error instead of an endless loop on a truncated file.

    Why: a signature's ``/Contents`` is a 10-50 kB hex string; pyHanko reads it one token at
    a time (tens of ms per signature, the largest single cost of a verification), and its
    loop never ends if the file stops inside the string (hostile or truncated input).
    The result for a well-formed string is byte-identical.
    """
    stream.read(1)
    chunks = []
    while True:
        block = stream.read(_HEX_CHUNK)
        if not block:
            raise misc.PdfStreamError("Stream has ended unexpectedly in a hex string")
        end = block.find(b">")
        if end >= 0:
            chunks.append(block[:end])
            stream.seek(end + 1 - len(block), io.SEEK_CUR)
            break
        chunks.append(block)
    digits = _WS.sub(b"", b"".join(chunks))
    if len(digits) % 2:
        digits += b"0"
    try:
        return generic.pdf_string(bytes.fromhex(digits.decode("ascii")))
    except (ValueError, UnicodeDecodeError):
        raise misc.PdfStreamError("Unexpected token in hex string") from None


#: Where a name ends (PDF whitespace and delimiters, ISO 32000-1 7.2.2), as pyHanko has it.
_NAME_END = re.compile(b"[" + re.escape(misc.PDF_WHITESPACE + misc.PDF_DELIMITERS) + b"]")
#: A name that needs no decoding: printable ASCII without the ``#`` escape.
_PLAIN_NAME = re.compile(rb"[\x21\x22\x24-\x7e]*")
#: Bytes read at once for a name; a longer one is read the library's way.
_NAME_CHUNK = 128


def _read_name(stream: io.RawIOBase) -> generic.NameObject:
    """Drop-in for ``NameObject.read_from_stream``: the same name object, its end found
    with one regular-expression search. A name with a ``#`` escape or a byte outside
    printable ASCII, or longer than :data:`_NAME_CHUNK`, is left to pyHanko's own code (which
    decodes it or refuses it, as before).

    Why: a PDF dictionary is mostly names, and pyHanko reads each one byte by byte, with a
    generator, to find its end, then walks it again byte by byte to decode it: a tenth of
    the CPU of verifying a one-signature PDF. The stream is left where pyHanko leaves it
    (on the delimiter after the name, or at the end of the data).
    """
    if stream.read(1) != b"/":
        raise misc.PdfReadError("Name object should start with /")
    start = stream.tell()
    block = stream.read(_NAME_CHUNK)
    end = _NAME_END.search(block)
    if end is None and len(block) == _NAME_CHUNK:
        stream.seek(start)
        return generic._decode_name(misc.read_until_delimiter(stream))
    if end is not None:
        block = block[: end.start()]
        stream.seek(start + end.start())
    if _PLAIN_NAME.fullmatch(block):
        return generic.NameObject("/" + block.decode("ascii"))
    return generic._decode_name(block)


def _allow_anchor_as_crl_issuer() -> None:
    """Let a pinned issuing CA (a non-self-signed trust anchor) issue the CRLs it signs.

    pyhanko-certvalidator looks for a CRL issuer's own issuer inside the path; for a trust
    anchor that is not self-signed (NCA's issuing CA pinned alone, RFC 5280 section 6.1)
    that issuer is outside the trust store, and every CRL the anchor signs was refused as
    "chain of trust for the CRL issuer could not be determined". The anchor itself is the
    end of such a path, as a self-signed root is.
    """
    original = ValidationPath.truncate_to_issuer_and_append
    if getattr(original, "_anchor_aware", False):
        return

    def truncate_to_issuer_and_append(
        self: ValidationPath, cert: x509.Certificate
    ) -> ValidationPath:
        anchor_cert = getattr(self.trust_anchor, "certificate", None)
        if anchor_cert is not None and anchor_cert.sha256 == cert.sha256:
            return ValidationPath(self.trust_anchor, interm=[], leaf=None)
        extended: ValidationPath = original(self, cert)
        return extended

    truncate_to_issuer_and_append._anchor_aware = True  # type: ignore[attr-defined]
    ValidationPath.truncate_to_issuer_and_append = truncate_to_issuer_and_append  # type: ignore[method-assign]


#: A hold can be lifted (RFC 5280 section 5.3.1); every other revocation is final.
_TEMPORARY_REVOCATION = "certificate_hold"


def _revocation_is_final() -> None:
    """Let an OCSP "revoked" answer decide any validation time from its revocation time on.

    pyhanko-certvalidator judges every OCSP response by the same freshness window
    (``thisUpdate`` .. ``nextUpdate``, 30 minutes when there is no ``nextUpdate``), which is
    right for "good": the certificate may be revoked the next minute. A revocation cannot be
    undone (RFC 6960 section 2.2, ETSI EN 319 102-1's "revocation is permanent"), so a
    response saying *revoked at R* (reason other than ``certificateHold``) still answers for
    any time at or after R, however old. Without this, a signature checked at a moment long
    after the response was given was "try later" instead of "revoked". The response's own
    signature and its responder's authorisation are checked afterwards as before.
    """
    original = OCSPContainer.usable_at
    if getattr(original, "_final_revocation", False):
        return

    def usable_at(
        self: OCSPContainer, policy: CertRevTrustPolicy, timing_params: ValidationTimingParams
    ) -> RevinfoUsability:
        single = self.extract_single_response()
        if single is not None and single["cert_status"].name == "revoked":
            info = single["cert_status"].chosen
            reason = info["revocation_reason"].native
            revoked_at = info["revocation_time"].native
            if (
                reason != _TEMPORARY_REVOCATION
                and revoked_at is not None
                and timing_params.validation_time + timing_params.time_tolerance >= revoked_at
            ):
                return RevinfoUsability(RevinfoUsabilityRating.OK)
        return original(self, policy, timing_params)

    usable_at._final_revocation = True  # type: ignore[attr-defined]
    OCSPContainer.usable_at = usable_at  # type: ignore[method-assign]


#: Answers of pyHanko's issuer-and-serial match kept (beyond that, the oldest is forgotten).
_ISSUER_MATCHES_KEPT = 1024


def _remember_issuer_matches() -> None:
    """Remember pyHanko's answer to "is this the certificate of that issuer and serial
    number?" by the DER bytes of both.

    Why: every CMS signature's signing-certificate attribute names its signer by issuer and
    serial, and pyHanko compares the issuer the RFC 5280 way (string preparation of every
    name attribute of both names, in Python) each time: its byte-for-byte shortcut never
    applies there, the attribute's name being wrapped in a tagged GeneralName. That was a
    tenth of the CPU of verifying a one-signature PDF, for the same official's certificate
    every time. The answer depends on the two values alone, so equal bytes get the same
    answer; an error is not remembered (it is raised again, as before).
    """
    original = general.match_issuer_serial
    if getattr(original, "_remembered", False):
        return
    answers: OrderedDict[tuple[bytes, bytes], bool] = OrderedDict()
    lock = threading.Lock()

    def match_issuer_serial(
        expected_issuer_serial: cms.IssuerAndSerialNumber | tsp.IssuerSerial,
        cert: x509.Certificate,
    ) -> bool:
        key = (expected_issuer_serial.dump(), cert.dump())
        with lock:
            known = answers.get(key)
            if known is not None:
                answers.move_to_end(key)
                return known
        answer: bool = original(expected_issuer_serial, cert)
        with lock:
            answers[key] = answer
            while len(answers) > _ISSUER_MATCHES_KEPT:
                answers.popitem(last=False)
        return answer

    match_issuer_serial._remembered = True  # type: ignore[attr-defined]
    general.match_issuer_serial = match_issuer_serial
