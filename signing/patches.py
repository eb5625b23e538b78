"""Every process-wide change this project makes to pyHanko, asn1crypto and qrcode, in one place.

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
3. pyHanko's PDF tokenizer reads hex strings with :func:`_read_hex_string`: one
   ``bytes.fromhex`` instead of a loop per character, and an error instead of an endless loop
   on a truncated file;
4. asn1crypto reads the RFC 5126 revocation-values CMS attribute
   (:func:`signing.cms_util.register`);
5. pyhanko-certvalidator lets a pinned, non-self-signed trust anchor issue CRLs
   (:func:`_allow_anchor_as_crl_issuer`) and takes an OCSP "revoked" as final
   (:func:`_revocation_is_final`);
6. pyHanko's PDF tokenizer reads names (and content-stream operators) with
   :func:`_read_until_delimiter`: one regular-expression search instead of a generator
   step per byte; and names that need no ``#`` escape are decoded and written whole
   (:func:`_decode_name`, :func:`_write_name`), the others as pyHanko does;
7. qrcode computes the error-correction codewords with :func:`_create_bytes`: one pass
   of table look-ups per data codeword instead of its polynomial objects;
8. pyHanko remembers which certificate matched which issuer and serial number
   (:func:`_remember_issuer_matches`);
9. pyHanko reads each object stream's header once per reader, not once per object taken
   from it (:func:`_index_object_streams`);
10. pyHanko's cross-reference streams are decoded with :func:`_parse_xref_stream`: slices
    of the decoded bytes instead of a look-up in the ``/W`` array and a read per field;
11. pyHanko's tokenizer skips white space with :func:`_read_non_whitespace` (one search
    on a small block instead of a read per byte) and reads indirect references with
    :func:`_read_reference` (one match for ``N G``), pyHanko's own code for the rest;
12. pyHanko reads a literal string without escapes with :func:`_read_string_literal`;
13. pyHanko reads dictionaries, arrays and numbers with the fast paths of
    :mod:`signing.parse_fast` (one match per entry of a block, pyHanko's own code for
    anything unusual).
"""

from __future__ import annotations

import io
import math
import re
import threading
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING

from asn1crypto import cms, tsp, x509
from pyhanko.pdf_utils import generic, misc, xref
from pyhanko.pdf_utils.decode_limits import DecodePurpose
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import general
from pyhanko_certvalidator.ltv.types import ValidationTimingParams
from pyhanko_certvalidator.path import ValidationPath
from pyhanko_certvalidator.policy_decl import CertRevTrustPolicy
from pyhanko_certvalidator.revinfo.archival import (
    OCSPContainer,
    RevinfoUsability,
    RevinfoUsabilityRating,
)
from qrcode import base as qrcode_base
from qrcode import util as qrcode_util

from docservice.ttl_cache import TtlCache

if TYPE_CHECKING:
    from pyhanko.pdf_utils.crypt import SecurityHandler

_lock = threading.Lock()
_applied = False


def apply() -> None:
    """Apply every patch once per process (thread-safe, idempotent)."""
    global _applied
    with _lock:
        if _applied:
            return
        from signing import cms_util, parse_fast
        from signing.gost import asn1, validator

        asn1.register()
        validator.install()
        generic.read_hex_string_from_stream = _read_hex_string
        generic.read_until_delimiter = _read_until_delimiter  # type: ignore[attr-defined]
        _plain_names()
        qrcode_util.create_bytes = _create_bytes
        cms_util.register()
        _allow_anchor_as_crl_issuer()
        _revocation_is_final()
        _remember_issuer_matches()
        _index_object_streams()
        _fast_xref_streams()
        _fast_white_space()
        _fast_references()
        _fast_string_literals()
        parse_fast.install()
        _applied = True


def applied() -> bool:
    """Whether :func:`apply` has run in this process."""
    return _applied


#: PDF white-space bytes (ISO 32000-1, 7.2.2), dropped from a hex string's digits with
#: ``bytes.translate``: a regular expression that finds none in a signature's 20 kB of
#: digits still tries every position, which was a tenth of a one-signature verification.
_WHITE_SPACE = b"\x00\t\n\x0c\r "
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
    digits = b"".join(chunks).translate(None, _WHITE_SPACE)
    if len(digits) % 2:
        digits += b"0"
    try:
        return generic.pdf_string(bytes.fromhex(digits.decode("ascii")))
    except (ValueError, UnicodeDecodeError):
        raise misc.PdfStreamError("Unexpected token in hex string") from None


#: PDF white-space and delimiter bytes (ISO 32000-1, 7.2.2), pyHanko's token ends.
_DELIMITER = re.compile(rb"[ \n\r\t\f\x00()<>\[\]{}/%]")
_TOKEN_CHUNK = 64


def _read_until_delimiter(stream: io.RawIOBase) -> bytes:
    """Drop-in for pyHanko's ``read_until_delimiter``: the bytes up to the next white-space
    or delimiter byte, which is left unread (at the end of the stream: all that is left).

    Why: pyHanko reads every name (``/Type``) one byte at a time through a generator;
    each dictionary key of every object a signature reads pays it, several per cent of a
    server-key signature. The result and the stream position after it are the same.
    """
    chunks: list[bytes] = []
    while True:
        block = stream.read(_TOKEN_CHUNK)
        if not block:
            return b"".join(chunks)
        found = _DELIMITER.search(block)
        if found is not None:
            chunks.append(block[: found.start()])
            stream.seek(found.start() - len(block), io.SEEK_CUR)
            return b"".join(chunks)
        chunks.append(block)


#: A name's bytes after the ``/`` that pyHanko neither escapes nor unescapes: printable
#: ASCII other than ``#`` and the delimiters.
_PLAIN_NAME = re.compile(rb"[^\x00-\x20\x7f-\xff#()<>\[\]{}/%]*")


def _plain_names() -> None:
    """Names without escapes decoded and written in one step; any other as before.

    Why: pyHanko decodes and encodes a name one byte at a time (a check and a write per
    byte), for every dictionary key a signature reads or writes: several per cent of a
    server-key signature. For a name that needs no ``#`` escape both are the identity.
    """
    decode = generic._decode_name
    write = generic.NameObject.write_to_stream
    if getattr(decode, "_plain_aware", False):
        return

    def _decode_name(name_bytes: bytes) -> generic.NameObject:
        if _PLAIN_NAME.fullmatch(name_bytes):
            return generic.NameObject("/" + name_bytes.decode("ascii"))
        plain: generic.NameObject = decode(name_bytes)
        return plain

    def _write_name(
        self: generic.NameObject,
        stream: IO[bytes],
        handler: SecurityHandler | None = None,
        container_ref: generic.Dereferenceable | None = None,
    ) -> None:
        data = self.encode("utf8")
        if data[:1] == b"/" and _PLAIN_NAME.fullmatch(data, 1):
            stream.write(data)
        else:
            write(self, stream, handler, container_ref)

    _decode_name._plain_aware = True  # type: ignore[attr-defined]
    generic._decode_name = _decode_name
    generic.NameObject.write_to_stream = _write_name  # type: ignore[method-assign]


_GF_EXP, _GF_LOG = qrcode_base.EXP_TABLE, qrcode_base.LOG_TABLE
_GENERATORS: dict[int, list[int]] = {}


def _generator_logs(count: int) -> list[int]:
    """Logarithms of the Reed-Solomon generator's coefficients for ``count`` EC codewords,
    highest power after the leading 1 first (ISO/IEC 18004, 7.5.2)."""
    logs = _GENERATORS.get(count)
    if logs is None:
        poly = [1]
        for i in range(count):  # times (x - a^i); minus is plus in GF(256)
            root = _GF_EXP[i]
            nxt = [*poly, 0]
            for j, c in enumerate(poly):
                if c:
                    nxt[j + 1] ^= _GF_EXP[(_GF_LOG[c] + _GF_LOG[root]) % 255]
            poly = nxt
        logs = _GENERATORS[count] = [_GF_LOG[c] for c in poly[1:]]
    return logs


#: Per count of EC codewords: for every byte value f, f times the generator's coefficients.
_GENERATOR_PRODUCTS: dict[int, tuple[int, ...]] = {}


def _generator_products(count: int) -> tuple[int, ...]:
    """For each byte value f, the product of f and the generator's coefficients after its
    leading 1, as one big-endian integer of ``count`` bytes (built once per ``count``;
    equal tuples if two threads build one at once)."""
    products = _GENERATOR_PRODUCTS.get(count)
    if products is None:
        logs = _generator_logs(count)
        rows = [0]
        for factor in range(1, 256):
            shift = _GF_LOG[factor]
            rows.append(int.from_bytes(bytes(_GF_EXP[(shift + g) % 255] for g in logs), "big"))
        products = _GENERATOR_PRODUCTS[count] = tuple(rows)
    return products


def _error_codewords(data: list[int], count: int) -> list[int]:
    """The remainder of ``data`` times x^count divided by the generator (a shift register).

    The register is one integer of ``count`` bytes: a step is a shift and one XOR with a
    precomputed product, instead of a multiplication per coefficient.
    """
    products = _generator_products(count)
    top, width = 8 * (count - 1), (1 << 8 * count) - 1
    remainder = 0
    for word in data:
        factor = word ^ (remainder >> top)
        remainder = ((remainder << 8) & width) ^ products[factor]
    return list(remainder.to_bytes(count, "big"))


def _create_bytes(buffer: qrcode_util.BitBuffer, rs_blocks: list[qrcode_base.RSBlock]) -> list[int]:
    """Drop-in for qrcode's ``create_bytes``: the data codewords split into blocks, each
    block's error-correction codewords, both interleaved (ISO/IEC 18004, 7.6).

    Why: qrcode divides polynomials with a new object per step, about a twentieth of a
    visible signature (every document's stamp has a new QR code). The codewords are the
    same (``tests/signing/test_stamp_qr.py`` compares them for every version and level).
    """
    offset = 0
    data_blocks: list[list[int]] = []
    error_blocks: list[list[int]] = []
    for block in rs_blocks:
        words = [0xFF & word for word in buffer.buffer[offset : offset + block.data_count]]
        offset += block.data_count
        data_blocks.append(words)
        error_blocks.append(_error_codewords(words, block.total_count - block.data_count))
    out: list[int] = []
    for blocks in (data_blocks, error_blocks):
        for i in range(max(len(b) for b in blocks)):
            out += [b[i] for b in blocks if i < len(b)]
    return out


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
    answers: TtlCache[tuple[bytes, bytes], bool] = TtlCache(max_entries=_ISSUER_MATCHES_KEPT)

    def match_issuer_serial(
        expected_issuer_serial: cms.IssuerAndSerialNumber | tsp.IssuerSerial,
        cert: x509.Certificate,
    ) -> bool:
        key = (expected_issuer_serial.dump(), cert.dump())
        known = answers.get(key)
        if known is not None:
            return known
        answer: bool = original(expected_issuer_serial, cert)
        answers.put(key, answer, ttl=math.inf)
        return answer

    match_issuer_serial._remembered = True  # type: ignore[attr-defined]
    general.match_issuer_serial = match_issuer_serial


#: PDF white space (ISO 32000-1, 7.2.2).
_SPACE = rb"[\x00\t\n\x0c\r ]"
#: An object stream's header when it is plain: pairs of unsigned integers and white space
#: only (no comment, sign or decimal point, which pyHanko's token reader would also take).
_PLAIN_HEADER = re.compile(rb"%s*(?:\d+%s+\d+%s*)*" % (_SPACE, _SPACE, _SPACE))
_HEADER_PAIR = re.compile(rb"(\d+)%s+(\d+)" % _SPACE)


def _object_stream_offsets(stream: generic.StreamObject) -> dict[int, int] | None:
    """Object number -> offset after ``/First`` for the first ``/N`` pairs of a plain
    header (the first pair of a number wins, as in pyHanko's scan), else None."""
    data = stream.read_data(DecodePurpose.OBJECT_STREAM)
    first, count = stream["/First"], stream["/N"]
    if not isinstance(first, int) or not isinstance(count, int) or not 0 <= first <= len(data):
        return None
    header = data[:first]
    if not _PLAIN_HEADER.fullmatch(header) or data[first : first + 1].isdigit():
        return None
    pairs = _HEADER_PAIR.findall(header)
    if len(pairs) < count:
        return None
    offsets: dict[int, int] = {}
    for number, offset in pairs[:count]:
        offsets.setdefault(int(number), int(offset))
    return offsets


def _index_object_streams() -> None:
    """pyHanko finds an object in an object stream through the stream's header read once.

    Why: for every object it takes from an object stream, pyHanko reads that stream's
    header (object number and offset pairs) again, one token at a time, up to the object
    wanted: a few per cent of a signature, for the catalogue and page objects. Here the
    header of each stream a reader uses is read once, with one regular expression, and
    the object itself is read by pyHanko's own ``read_object`` as before. A strict reader,
    a header that is not plain, an object the header lacks or one that does not parse is
    left to pyHanko's method, which decides as it always did.
    """
    original = PdfFileReader._get_object_from_stream
    if getattr(original, "_indexed", False):
        return

    def plain(self: PdfFileReader, idnum: int, stmnum: int, idx: int) -> generic.PdfObject:
        found: generic.PdfObject = original(self, idnum, stmnum, idx)  # type: ignore[no-untyped-call]  # unannotated in pyHanko
        return found

    def _get_object_from_stream(
        self: PdfFileReader, idnum: int, stmnum: int, idx: int
    ) -> generic.PdfObject:
        stream = generic.Reference(stmnum, 0, self).get_object()
        if (
            self.strict
            or not isinstance(stream, generic.StreamObject)
            or stream.get("/Type") != "/ObjStm"
        ):
            return plain(self, idnum, stmnum, idx)
        known: dict[int, tuple[generic.StreamObject, dict[int, int] | None]]
        known = self.__dict__.setdefault("_docservice_object_streams", {})
        entry = known.get(stmnum)
        if entry is None or entry[0] is not stream:
            entry = known[stmnum] = (stream, _object_stream_offsets(stream))
        offsets = entry[1]
        if offsets is None or idnum not in offsets or not 0 <= idx < stream["/N"]:
            return plain(self, idnum, stmnum, idx)
        data = io.BytesIO(stream.read_data(DecodePurpose.OBJECT_STREAM))
        data.seek(stream["/First"] + offsets[idnum])
        try:
            found: generic.PdfObject = generic.read_object(data, generic.Reference(idnum, 0, self))
        except (misc.PdfStreamError, misc.PdfReadError):
            return plain(self, idnum, stmnum, idx)
        return found

    _get_object_from_stream._indexed = True  # type: ignore[attr-defined]
    _get_object_from_stream.__wrapped__ = original  # type: ignore[attr-defined]
    PdfFileReader._get_object_from_stream = _get_object_from_stream  # type: ignore[method-assign]


def _plain_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _parse_xref_stream(
    xref_stream: generic.StreamObject, strict: bool = True
) -> Iterator[xref.XRefEntry]:
    """Drop-in for pyHanko's ``parse_xref_stream``: the same entries, errors and checks.

    Why: pyHanko reads every field of every entry through a look-up in the stream's ``/W``
    array (a PDF array that dereferences on each access), a ``read`` and a ``struct``
    call; the two small cross-reference streams of a freshly signed PDF cost about 0.35 ms
    of each ``PdfFileReader`` that way (a few per cent of its verification). Here ``/W``
    and ``/Index`` are read once and each field is a slice of the decoded data. A ``/W`` or
    ``/Index`` that is not three (resp. pairs of) plain integers, or subsections that do
    not increase, go to pyHanko's own parser, which raises or copes exactly as before.
    """
    idx_pairs = xref_stream.get("/Index", [0, xref_stream.get("/Size")])
    entry_sizes = xref_stream.get("/W")
    raw_index = list(idx_pairs) if isinstance(idx_pairs, list) else None
    raw_widths = list(entry_sizes) if isinstance(entry_sizes, list) else None
    if (
        raw_index is None
        or raw_widths is None
        or len(raw_index) % 2
        or len(raw_widths) != 3
        or not all(_plain_int(v) for v in [*raw_index, *raw_widths])
        or not _increasing(raw_index)
    ):
        yield from _PYHANKO_PARSE_XREF_STREAM(xref_stream, strict)
        return
    data = xref_stream.read_data(
        DecodePurpose.XREF_STREAM,
        expected_size=xref._expected_xref_stream_size(idx_pairs, entry_sizes),
    )
    widths = [int(w) for w in raw_widths]
    defaults = (1, 0, 0)  # ISO 32000-1 table 17: a zero width means the default value
    pos = 0

    def field(ix: int) -> int:
        nonlocal pos
        width = widths[ix]
        if width > 0:
            chunk = data[pos : pos + width]
            pos += len(chunk)
            if len(chunk) >= width:
                # pyHanko reads up to 8 bytes as a signed 64-bit number, longer ones unsigned
                return int.from_bytes(chunk, "big", signed=width == 8)
            if strict:
                raise misc.PdfStrictReadError(
                    "XRef stream ended prematurely; incomplete entry: "
                    f"expected to read {width} bytes, but only got {len(chunk)}."
                )
        return defaults[ix]

    for i in range(0, len(raw_index), 2):
        start, size = int(raw_index[i]), int(raw_index[i + 1])
        for num in range(start, start + size):
            xref_type, first, second = field(0), field(1), field(2)
            if xref_type == 1:
                yield xref.XRefEntry(
                    xref_type=xref.XRefType.STANDARD,
                    idnum=num,
                    location=first,
                    generation=second,
                )
            elif xref_type == 2:
                yield xref.XRefEntry(
                    xref_type=xref.XRefType.IN_OBJ_STREAM,
                    idnum=num,
                    location=xref.ObjStreamRef(first, second),
                )
            elif xref_type == 0:
                yield xref.XRefEntry(
                    xref_type=xref.XRefType.FREE, idnum=num, generation=second, location=None
                )
    if pos < len(data) and strict:
        raise misc.PdfStrictReadError("Trailing data in cross-reference stream")


def _increasing(index: list[int]) -> bool:
    """Whether each ``/Index`` subsection starts at or after the end of the one before
    (pyHanko asserts it as it goes)."""
    last_end = 0
    for i in range(0, len(index), 2):
        if index[i] < last_end:
            return False
        last_end = index[i] + index[i + 1]
    return True


_PYHANKO_PARSE_XREF_STREAM = xref.parse_xref_stream


def _fast_xref_streams() -> None:
    """Read cross-reference streams with :func:`_parse_xref_stream` (looked up by
    ``XRefBuilder`` as a module global at each call)."""
    xref.parse_xref_stream = _parse_xref_stream


#: The first byte that is not PDF white space (pyHanko's ``misc.PDF_WHITESPACE``).
_NOT_WHITE_SPACE = re.compile(rb"[^ \n\r\t\f\x00]")
_WHITE_SPACE_CHUNK = 16
_PYHANKO_READ_NON_WHITESPACE = misc.read_non_whitespace


def _read_non_whitespace(
    stream: IO[bytes], seek_back: bool = False, allow_eof: bool = False
) -> bytes:
    """Drop-in for pyHanko's ``read_non_whitespace``: the next byte that is not white
    space (comments skipped by pyHanko's own ``skip_over_comments``), the stream left after
    it (before it with ``seek_back``); at the end ``b""`` with ``allow_eof``, else the same
    ``PdfStreamError``.

    Why: the tokenizer calls it before every dictionary key and value, array item and
    reference keyword - some twenty thousand times per verified signature - and pyHanko
    reads one byte per call of ``read`` and loops in Python. Here one read of a small
    block, one regular-expression search and one seek.
    """
    while True:
        block = stream.read(_WHITE_SPACE_CHUNK)
        if not block:
            if allow_eof:
                return b""
            raise misc.PdfStreamError("Stream ended prematurely")
        found = _NOT_WHITE_SPACE.search(block)
        if found is None:
            continue
        at = found.start()
        token = block[at : at + 1]
        if token == b"%":
            stream.seek(at - len(block), io.SEEK_CUR)
            misc.skip_over_comments(stream)
            continue
        stream.seek(at + (0 if seek_back else 1) - len(block), io.SEEK_CUR)
        return token


def _fast_white_space() -> None:
    """pyHanko skips white space with :func:`_read_non_whitespace` (``generic`` imported
    the function by name, ``reader`` and ``xref`` look it up in ``misc``)."""
    misc.read_non_whitespace = _read_non_whitespace
    generic.read_non_whitespace = _read_non_whitespace  # type: ignore[attr-defined]


#: An indirect reference's two numbers as pyHanko's reader takes them: after any
#: ``bytes.isspace`` bytes, digits, such bytes, digits, and one such byte (then ``R``).
_REFERENCE_NUMBERS = re.compile(
    rb"[ \t\n\r\x0b\x0c]*([0-9]+)[ \t\n\r\x0b\x0c]+([0-9]+)[ \t\n\r\x0b\x0c]"
)
_REFERENCE_CHUNK = 48
_PYHANKO_READ_REFERENCE = generic.IndirectObject.read_from_stream


def _read_reference(
    stream: IO[bytes], container_ref: generic.Dereferenceable
) -> generic.IndirectObject:
    """Drop-in for pyHanko's ``IndirectObject.read_from_stream``: the same object,
    position and errors.

    Why: pyHanko reads a reference (``12 0 R``: every ``/Parent``, ``/Kids`` item, ``/P``,
    ``/V``...) one byte at a time, with a ``read``, an ``isspace`` and a ``bytes``
    concatenation per byte. Here the two numbers are one regular-expression match on a
    block; what does not match it (a number that is not digits, a very long run of white
    space, the end of the data) is read by pyHanko's own method.
    """
    start = stream.tell()
    found = _REFERENCE_NUMBERS.match(stream.read(_REFERENCE_CHUNK))
    stream.seek(start + (found.end() if found is not None else 0))
    if found is None:
        plain: generic.IndirectObject = _PYHANKO_READ_REFERENCE(stream, container_ref)
        return plain
    if misc.read_non_whitespace(stream) != b"R":
        raise misc.PdfReadError(
            f"Error reading indirect object reference at byte {hex(stream.tell())}"
        )
    idnum, generation = int(found[1]), int(found[2])
    if idnum <= 0:
        raise misc.PdfReadError(
            f"Parse error on indirect object reference around {hex(stream.tell())}"
        )
    return generic.IndirectObject(idnum, generation, container_ref.get_pdf_handler())


def _fast_references() -> None:
    """pyHanko reads indirect references with :func:`_read_reference` (``read_object``
    looks the method up on the class at each call)."""
    generic.IndirectObject.read_from_stream = staticmethod(_read_reference)  # type: ignore[method-assign]


#: What ends a literal string's plain run: a nested ``(``, the closing ``)``, an escape.
_STRING_SPECIAL = re.compile(rb"[()\\]")
_STRING_CHUNK = 256
_PYHANKO_READ_STRING_LITERAL = generic._read_string_literal_bytes


def _read_string_literal(stream: IO[bytes]) -> bytes:
    """Drop-in for pyHanko's ``_read_string_literal_bytes``: the bytes of a literal string
    (``(...)``) with the stream left after its ``)``.

    Why: pyHanko reads a literal one byte per ``read`` (dates, ``/Name``, ``/Reason``,
    ``/M`` of every signature dictionary, the producer). When the string closes within a
    block and holds no escape and no nested parenthesis its bytes are that slice; any
    other string is read from its start by pyHanko's function.
    """
    start = stream.tell()
    block = stream.read(_STRING_CHUNK)
    found = _STRING_SPECIAL.search(block, 1)
    if found is None or found[0] != b")":
        stream.seek(start)
        plain: bytes = _PYHANKO_READ_STRING_LITERAL(stream)
        return plain
    stream.seek(start + found.end())
    return block[1 : found.start()]


def _fast_string_literals() -> None:
    """pyHanko reads literal strings with :func:`_read_string_literal` (looked up by
    ``read_string_from_stream`` as a module global at each call)."""
    generic._read_string_literal_bytes = _read_string_literal
