"""Verification's fast paths give the straightforward answer.

* the signer facts kept per certificate (:func:`docservice.verification.certs.signer_facts`)
  are what reading the certificate gives, for each certificate its own, whatever was
  verified before (another official, a revoked one, an altered document);
* the PDF name reader installed by :func:`signing.patches.apply` reads every name of a
  real signed file as pyHanko's own reader does: the same object or the same error, and
  the stream left at the same place.
"""

from __future__ import annotations

import importlib.util
import io
import json
import re
import zlib
from dataclasses import asdict
from typing import Any

import pytest
from asn1crypto import tsp, x509

from docservice.verification import Verifier
from docservice.verification.certs import read_signer_facts, signer_facts
from docservice.verification.report import Indication, Labelled
from tests.conftest import ROOT
from tests.pki import USERS, TestPki
from tests.verification.conftest import Docs
from tests.verification.fixtures import Signers, base_pdf, tampered


def test_kept_signer_facts_are_each_certificates_own(pki: TestPki) -> None:
    for label in USERS:
        cert = pki.cert(label)
        first, again = signer_facts(cert), signer_facts(cert)
        expected = read_signer_facts(cert)
        assert first == again == expected, label
        # the same bytes parsed anew: the same facts; a certificate is known by its bytes
        assert signer_facts(x509.Certificate.load(cert.dump())) == expected
    serials = {signer_facts(pki.cert(label)).certificate.serial_hex for label in USERS}
    assert len(serials) == len(USERS)


def test_a_changed_report_changes_no_other(pki: TestPki) -> None:
    cert = pki.cert("career")
    facts = signer_facts(cert)
    facts.full_name = "ӨЗГЕРТІЛГЕН"
    facts.roles.append(Labelled("1.2.3", "kk", "ru"))
    facts.policies.clear()
    assert signer_facts(cert) == read_signer_facts(cert)


def _signer(report: Any) -> dict[str, Any]:
    return asdict(report.signatures[0].signer)


def test_each_signature_gets_its_own_signer_and_verdict(
    verifier: Verifier, signers: Signers, docs: Docs, pki: TestPki
) -> None:
    """Verified one after the other through one verifier (its caches warm): an official, a
    revoked official, an altered copy of the first official's document, a second official."""
    good = docs.bb()
    revoked = signers.sign_pdf(base_pdf(), "revoked", live_tsa=True)
    altered = tampered(good)
    head = signers.sign_pdf(base_pdf(), "head")

    first = verifier.verify(good)
    assert first.verdict is Indication.TOTAL_PASSED
    assert _signer(first) == asdict(read_signer_facts(pki.cert("career")))

    bad = verifier.verify(revoked).signatures[0]
    assert (bad.indication, bad.sub_indication) == (Indication.TOTAL_FAILED, "REVOKED")
    assert asdict(bad.signer) == asdict(read_signer_facts(pki.cert("revoked")))

    changed = verifier.verify(altered).signatures[0]
    assert (changed.indication, changed.sub_indication) == (
        Indication.TOTAL_FAILED,
        "HASH_FAILURE",
    )
    assert asdict(changed.signer) == asdict(read_signer_facts(pki.cert("career")))

    other = verifier.verify(head)
    assert other.verdict is Indication.TOTAL_PASSED
    assert _signer(other) == asdict(read_signer_facts(pki.cert("head")))

    again = verifier.verify(good)
    assert again.to_dict() | {"verified_at": None} == first.to_dict() | {"verified_at": None}


def _fresh_pyhanko(module_name: str) -> Any:
    """A fresh copy of a pyHanko module: its functions as the library has them (the loaded
    module's are replaced at start-up)."""
    spec = importlib.util.find_spec(module_name)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _issuer_serial(issuer: x509.Name, serial: int) -> tsp.IssuerSerial:
    """What a signing-certificate attribute names its certificate by."""
    names = x509.GeneralNames([x509.GeneralName(name="directory_name", value=issuer)])
    return tsp.IssuerSerial({"issuer": names, "serial_number": serial})


def test_remembered_issuer_matches_are_pyhankos_answers(pki: TestPki) -> None:
    """Asked twice over (the second time from what was remembered), every pairing of the
    officials' certificates with each one's issuer and serial, another serial, a stranger
    issuer: the answer pyHanko's own function gives, and only the right pairs match."""
    from pyhanko.sign import general

    from tests.pki import stranger_root

    original = _fresh_pyhanko("pyhanko.sign.general").match_issuer_serial
    labels = ("career", "head", "revoked", "expired")
    certs = {label: pki.cert(label) for label in labels}
    stranger = stranger_root().subject
    asked = []
    for label, cert in certs.items():
        asked.append((label, _issuer_serial(cert.issuer, cert.serial_number)))
        asked.append((f"{label}+", _issuer_serial(cert.issuer, cert.serial_number + 10**6)))
        asked.append((f"{label}@stranger", _issuer_serial(stranger, cert.serial_number)))
    for _ in range(2):
        for name, expected in asked:
            for label, cert in certs.items():
                again = tsp.IssuerSerial.load(expected.dump())
                answer = general.match_issuer_serial(again, x509.Certificate.load(cert.dump()))
                assert answer == original(expected, cert) == (name == label), (name, label)


def _pyhanko_read_name() -> Any:
    return _fresh_pyhanko("pyhanko.pdf_utils.generic").NameObject.read_from_stream


def _outcome(read: Any, data: bytes, at: int) -> tuple[object, int]:
    stream = io.BytesIO(data)
    stream.seek(at)
    try:
        value: object = read(stream)
    except Exception as exc:  # the same error type is part of the answer
        value = type(exc)
    return value, stream.tell()


NAMES = [
    b"/Type/Page",
    b"/A#20B ",
    b"/A#2",
    b"/A#zz>",
    b"/Caf\xc3\xa9 ",
    b"/ab\x80cd[",
    b"/" + b"N" * 300 + b"/",
    b"/" + b"N" * 127,
    b"/" + b"N" * 128,
    b"/" + b"N" * 129,
    b"/",
    b"//",
    b"/%comment",
    b"/x\x00y",
    b"Type",
    *(b"/K" + bytes([c]) + b"V" for c in b" \n\r\t\f\x00()<>[]{}/%"),
]


@pytest.mark.parametrize("raw", NAMES)
def test_name_reader_matches_pyhanko(raw: bytes) -> None:
    from pyhanko.pdf_utils import generic

    original = _pyhanko_read_name()
    mine = generic.NameObject.read_from_stream
    assert _outcome(mine, raw, 0) == _outcome(original, raw, 0)


def _with_streams_decoded(data: bytes) -> list[bytes]:
    """``data`` and each of its Flate streams decoded (object streams hold most names)."""
    out = [data]
    for match in re.finditer(rb"stream\r?\n", data):
        try:
            out.append(zlib.decompressobj().decompress(data[match.end() :]))
        except zlib.error:
            continue
    return out


def test_name_reader_matches_pyhanko_on_every_slash_of_real_files(docs: Docs) -> None:
    """Every ``/`` of signed files and of a rendered form, their streams decoded too: names,
    and bytes that are not names at all."""
    from pyhanko.pdf_utils import generic

    from docservice.service.documents import render_checked

    form = json.loads((ROOT / "examples" / "direction.json").read_text(encoding="utf-8"))
    original = _pyhanko_read_name()
    mine = generic.NameObject.read_from_stream
    count = 0
    for pdf in (docs.bb(), docs.four(), render_checked("direction", form, "kk").pdf):
        for data in _with_streams_decoded(pdf):
            at = data.find(b"/")
            while at >= 0:
                assert _outcome(mine, data, at) == _outcome(original, data, at), at
                at = data.find(b"/", at + 1)
                count += 1
    assert count > 2000


def _xref_stream(widths: object, index: object, data: bytes) -> Any:
    from pyhanko.pdf_utils import generic

    def pdf(value: object) -> Any:
        if isinstance(value, list):
            return generic.ArrayObject([pdf(v) for v in value])
        if isinstance(value, str):
            return generic.NameObject(value)
        return generic.NumberObject(value)

    entries: dict[str, Any] = {"/Type": generic.NameObject("/XRef"), "/Size": pdf(40)}
    if widths is not None:
        entries["/W"] = pdf(widths)
    if index is not None:
        entries["/Index"] = pdf(index)
    return generic.StreamObject(entries, stream_data=data)


def _entries(parse: Any, stream: Any, strict: bool) -> tuple[list[object], object]:
    """What a parser yields before it stops, and the error it stops with (type and text)."""
    out: list[object] = []
    try:
        for entry in parse(stream, strict=strict):
            out.append(entry)
    except Exception as exc:  # the same error is part of the answer
        return out, (type(exc), str(exc))
    return out, None


def _row(*fields: tuple[int, int]) -> bytes:
    return b"".join(value.to_bytes(width, "big") for value, width in fields)


XREF_STREAMS = [
    ([1, 2, 1], [0, 3], _row((0, 1), (0, 2), (255, 1)) + _row((1, 1), (15, 2), (0, 1)) * 2),
    ([1, 4, 2], [0, 1, 5, 2], _row((0, 1), (0, 4), (0, 2)) + _row((2, 1), (7, 4), (3, 2)) * 2),
    ([1, 8, 2], [3, 1], _row((1, 1), (2**63 + 5, 8), (0, 2))),  # read as a signed number
    ([1, 9, 1], [3, 1], _row((1, 1), (2**70, 9), (0, 1))),
    ([0, 2, 0], [0, 2], _row((10, 2)) * 2),  # zero widths: the defaults
    ([1, 2, 1], [0, 2], _row((7, 1), (1, 2), (1, 1)) + _row((1, 1), (9, 2), (0, 1))),  # type 7
    ([1, 2, 1], [0, 3], _row((1, 1), (9, 2), (0, 1)) + b"\x01\x00"),  # ends inside an entry
    ([1, 2, 1], [0, 1], _row((1, 1), (9, 2), (0, 1)) + b"\x00"),  # trailing data
    ([1, 2, 1], None, _row((1, 1), (9, 2), (0, 1)) * 40),  # no /Index: 0 to /Size
    ([1, 2, 1], [5, 1, 2, 1], _row((1, 1), (9, 2), (0, 1)) * 2),  # subsections decrease
    ([1, 2, 1], [0, 1, 4], _row((1, 1), (9, 2), (0, 1))),  # odd /Index
    ([1, 2], [0, 1], b"\x01\x00\x09"),  # /W too short
    ([1, 2, 1, 1], [0, 1], _row((1, 1), (9, 2), (0, 1), (0, 1))),
    ([1, "/X", 1], [0, 1], b"\x01\x00\x09"),
    ([-1, 2, 1], [0, 1], _row((9, 2), (0, 1))),
    (None, [0, 1], b""),
    ([1, 2, 1], [0, 0], b""),
]


@pytest.mark.parametrize("strict", [True, False])
@pytest.mark.parametrize(("widths", "index", "data"), XREF_STREAMS)
def test_xref_stream_parser_matches_pyhanko(
    widths: object, index: object, data: bytes, strict: bool
) -> None:
    from signing import patches

    stream = _xref_stream(widths, index, data)
    mine = _entries(patches._parse_xref_stream, stream, strict)
    assert mine == _entries(patches._PYHANKO_PARSE_XREF_STREAM, stream, strict)


def test_xref_stream_parser_matches_pyhanko_on_real_files(signers: Signers) -> None:
    """The cross-reference streams of a rendered form signed twice (the service's PDFs)."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    from docservice.service.documents import render_checked
    from signing import patches

    form = json.loads((ROOT / "examples" / "direction.json").read_text(encoding="utf-8"))
    once = signers.sign_pdf(render_checked("direction", form, "kk").pdf, "career")
    seen = 0
    for pdf in (once, signers.sign_pdf(once, "head")):
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        for section in reader.xrefs._xref_sections:
            ref = section.meta_info.stream_ref
            if ref is None:
                continue
            stream = reader.get_object(ref)
            for strict in (True, False):
                mine = _entries(patches._parse_xref_stream, stream, strict)
                assert mine == _entries(patches._PYHANKO_PARSE_XREF_STREAM, stream, strict)
                assert mine[1] is None and mine[0]
            seen += 1
    assert seen >= 2


def _pyhanko_read_non_whitespace() -> Any:
    return _fresh_pyhanko("pyhanko.pdf_utils.misc").read_non_whitespace


def _token_outcome(read: Any, data: bytes, at: int) -> tuple[object, int]:
    """What ``read`` answers at ``at`` and where it leaves the stream; an error by its
    class name and message (a fresh copy of a pyHanko module has its own classes)."""
    stream = io.BytesIO(data)
    stream.seek(at)
    try:
        value: object = read(stream)
    except Exception as exc:
        value = (type(exc).__name__, str(exc))
    if hasattr(value, "idnum"):
        value = (type(value).__name__, value.idnum, value.generation)
    return value, stream.tell()


WHITE_SPACE_CASES = [
    b"",
    b"x",
    b"   ",
    b" \n\r\t\f\x00/Name",
    b"\x0bR",  # vertical tab: not PDF white space
    b"%comment\n  12",
    b"% one\r\n% two\n\n]",
    b"%unended comment",
    b"%c\n",
    b" " * 15 + b"]",
    b" " * 16 + b"]",
    b" " * 17 + b"]",
    b" " * 40,
    b" " * 15 + b"%c\n" + b" " * 20 + b">",
    b"\xff",
]


@pytest.mark.parametrize("raw", WHITE_SPACE_CASES)
@pytest.mark.parametrize("seek_back", [False, True])
@pytest.mark.parametrize("allow_eof", [False, True])
def test_white_space_skipper_matches_pyhanko(raw: bytes, seek_back: bool, allow_eof: bool) -> None:
    from pyhanko.pdf_utils import generic, misc

    from signing import patches

    assert misc.read_non_whitespace is generic.read_non_whitespace is patches._read_non_whitespace
    original = _pyhanko_read_non_whitespace()
    for at in range(len(raw) + 1):
        mine = _token_outcome(lambda s: misc.read_non_whitespace(s, seek_back, allow_eof), raw, at)
        assert mine == _token_outcome(lambda s: original(s, seek_back, allow_eof), raw, at), at


def test_white_space_skipper_matches_pyhanko_at_every_byte_of_real_files(docs: Docs) -> None:
    """At every offset of signed files (their streams decoded too), white space or not."""
    from pyhanko.pdf_utils import misc

    original = _pyhanko_read_non_whitespace()
    count = 0
    for pdf in (docs.bb(), docs.four()):
        for data in _with_streams_decoded(pdf)[:4]:
            for at in range(0, min(len(data), 60000), 5):
                assert _token_outcome(misc.read_non_whitespace, data, at) == _token_outcome(
                    original, data, at
                ), at
                count += 1
    assert count > 20000


def _pyhanko_read_reference() -> Any:
    """pyHanko's reference reader, with pyHanko's own white-space skipper."""
    fresh = _fresh_pyhanko("pyhanko.pdf_utils.generic")
    fresh.read_non_whitespace = _pyhanko_read_non_whitespace()
    return fresh.IndirectObject.read_from_stream


def _reference_outcome(read: Any, data: bytes, at: int) -> tuple[object, int]:
    from pyhanko.pdf_utils import generic

    return _token_outcome(lambda s: read(s, generic.Reference(1, 0)), data, at)


REFERENCES = [
    b"12 0 R",
    b"12 0 R/Next",
    b"  12   0\n\nR>>",
    b"12 0 %c\nR ",
    b"0 0 R ",
    b"007 003 R ",
    b"12 0 S ",
    b"12 0",
    b"12 0 ",
    b"12\x000 R ",
    b"12\x0b0\x0bR ",
    b"1a 0 R ",
    b"12 -1 R ",
    b"+1 0 R ",
    b"1 " + b" " * 60 + b"0 R ",
    b"9" * 60 + b" 0 R ",
    b"",
]


@pytest.mark.parametrize("raw", REFERENCES)
def test_reference_reader_matches_pyhanko(raw: bytes) -> None:
    from pyhanko.pdf_utils import generic

    from signing import patches

    assert generic.IndirectObject.read_from_stream is patches._read_reference
    original = _pyhanko_read_reference()
    for at in range(len(raw) + 1):
        mine = _reference_outcome(generic.IndirectObject.read_from_stream, raw, at)
        assert mine == _reference_outcome(original, raw, at), at


def test_reference_reader_matches_pyhanko_on_real_files(docs: Docs) -> None:
    """Wherever ``read_object`` would take a reference in signed files (pyHanko's
    ``INDIRECT_PATTERN`` matches; their streams decoded too), and a step into each."""
    from pyhanko.pdf_utils import generic

    original = _pyhanko_read_reference()
    mine = generic.IndirectObject.read_from_stream
    references = 0
    for pdf in (docs.bb(), docs.four()):
        for data in _with_streams_decoded(pdf):
            for found in generic.INDIRECT_PATTERN.finditer(data):
                for at in (found.start(), found.start(2) - 1, found.start(2)):
                    expected = _reference_outcome(original, data, at)
                    assert _reference_outcome(mine, data, at) == expected, at
                    references += isinstance(expected[0], tuple)
    assert references > 200


STRINGS = [
    b"(Hello)",
    b"()",
    b"(a(b)c) ",
    b"(a\\)b)",
    b"(a\\nb\\053)",
    b"(line\\\nnext)",
    b"(\xd0\x90\xd0\x91)",
    b"(D:20261201225100+06'00')",
    b"(unclosed",
    b"(" + b"x" * 254 + b")",
    b"(" + b"x" * 255 + b")",
    b"(" + b"x" * 600 + b")",
    b"(\\q)",
    b"(",
]


@pytest.mark.parametrize("raw", STRINGS)
def test_string_literal_reader_matches_pyhanko(raw: bytes) -> None:
    from pyhanko.pdf_utils import generic

    from signing import patches

    assert generic._read_string_literal_bytes is patches._read_string_literal
    original = _fresh_pyhanko("pyhanko.pdf_utils.generic")._read_string_literal_bytes
    mine = _token_outcome(patches._read_string_literal, raw + b" /Next", 0)
    assert mine == _token_outcome(original, raw + b" /Next", 0)


def test_string_literal_reader_matches_pyhanko_on_real_files(docs: Docs) -> None:
    """At every ``(`` of signed files, their streams decoded too (strings and text)."""
    from signing import patches

    original = _fresh_pyhanko("pyhanko.pdf_utils.generic")._read_string_literal_bytes
    count = 0
    for pdf in (docs.bb(), docs.four()):
        for data in _with_streams_decoded(pdf):
            for found in re.finditer(rb"\(", data[:80000]):
                at = found.start()
                mine = _token_outcome(patches._read_string_literal, data, at)
                assert mine == _token_outcome(original, data, at), at
                count += 1
    assert count > 100


def _pyhanko_generic() -> Any:
    """pyHanko's ``generic`` module as the library has it, with its own white-space
    skipper (a fresh copy imports the loaded ``misc``'s, which is replaced) but this
    project's hex-string reader, which on purpose fails differently on a broken string
    (an error, not pyHanko's endless loop at the end of the data)."""
    from signing import patches

    fresh = _fresh_pyhanko("pyhanko.pdf_utils.generic")
    fresh.read_non_whitespace = _pyhanko_read_non_whitespace()
    fresh.read_hex_string_from_stream = patches._read_hex_string
    return fresh


def _plain(obj: object) -> object:
    """A PDF object as plain values, by class name: a fresh pyHanko module's classes are
    not the loaded module's. Includes each value's ``container_ref`` and a stream's data."""
    name = type(obj).__name__
    ref = getattr(obj, "container_ref", None)
    where = (type(ref).__name__, getattr(ref, "idnum", None), getattr(ref, "generation", None))
    value: object
    if isinstance(obj, dict):
        entries = [(type(k).__name__, k, _plain(dict.__getitem__(obj, k))) for k in obj]
        value = (entries, getattr(obj, "_encoded_data", None))
    elif isinstance(obj, list):
        value = [_plain(list.__getitem__(obj, i)) for i in range(len(obj))]
    elif name == "IndirectObject":
        value = (obj.idnum, obj.generation, obj.get_pdf_handler())  # type: ignore[attr-defined]
    elif name == "BooleanObject":
        value = obj.value  # type: ignore[attr-defined]
    elif name == "NullObject":
        value = None
    else:
        value = repr(obj)
    return name, value, where


def _object_outcome(read: Any, data: bytes, at: int, *args: object) -> tuple[object, int]:
    """What ``read(stream, *args)`` answers at ``at`` (the object as plain values, or the
    error's class name and message) and where it leaves the stream."""
    stream = io.BytesIO(data)
    stream.seek(at)
    try:
        value: object = _plain(read(stream, *args))
    except Exception as exc:
        value = (type(exc).__name__, str(exc))
    return value, stream.tell()


def _handlers() -> list[Any]:
    """Readers a parsed reference points into: a lenient and a strict one (a duplicate
    key is a warning for the first, an error for the second)."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    pdf = base_pdf()
    return [PdfFileReader(io.BytesIO(pdf), strict=False), PdfFileReader(io.BytesIO(pdf))]


#: Values a dictionary entry or array item may hold: those read by the fast path, and
#: their near misses (each one in its own dictionary and array below, so that an error
#: pyHanko raises for one does not hide another).
VALUES = [
    *(b"1", b"2.5", b"-3", b"+4", b".5", b"1.", b"-0", b"007", b"9" * 30),
    *(b"1,2", b"1-2", b"1+2", b"1.5+2", b"1.2.3", b"-", b".", b"+-1"),
    *(b"/Name", b"/", b"//M", b"/V#41", b"/x\x80", b"/Caf\xc3\xa9"),
    *(b"12 0 R", b"007 003 R", b"123456789012 0 R", b"0 0 R", b"12 0 Rx", b"12 0 R1"),
    *(b"12\x0b0 R", b"12 0\x0bR", b"12\x000 R", b"12 0\x00R", b"12 -1 R", b"12 0 %c\nR"),
    *(b"1" + b" " * n + b"0 R" for n in range(14, 19)),
    *(b"1 0" + b" " * n + b"R" for n in range(14, 19)),
    *(b"()", b"(D\\07220)", b"<48656c>", b"<< /F 2 0 R >>", b"[ /A [ 1 2 ] ]"),
    *(b"true", b"null", b"fals", b"%c\n 2", b"%c\n"),
]
_LONG_DICTIONARY = b"<<" + b"".join(b"/K%d %d 0 R /N%d /V " % (i, i + 1, i) for i in range(60))
DICTIONARIES = [
    *(b"<< /K " + value + b" /Z 1 >>" for value in VALUES),
    *(b"<</K" + value + b"/Z 1>>" for value in VALUES),
    b"<< /Type /Page /Count 3 /Kids [ 4 0 R 5 0 R ] /Parent 2 0 R >>",
    b"<< /A#20B 1 >>",
    b"<< /Caf\xc3\xa9 1 >>",
    b"<< // 1 >>",
    b"<< /x\x80 1 >>",
    b"<< %c\n /A 1 %d\r\n /B 2 >>",
    b"<< /A 1 /B 2 /A 3 >>",
    b"<< /Length 5 >>\nstream\nhello\nendstream",
    b"<< /Length 6 >>stream\r\nhello\nendstream ",
    b"<< 1 2 >>",
    b"<< (x) 1 >>",
    b"<< /A 1 >x",
    b"<< /A 1 >",
    b"<< /A" + b" " * 80 + b"1" + b" " * 80 + b">>",
    _LONG_DICTIONARY + b">>",
    _LONG_DICTIONARY[:600],
    b"<< /A 1>>",
    b"<< /A 12 0 R>>",
    b"<< /A 12 0 R",
    b"<< /A 12 0",
    b"<< /A 12",
    b"<< /A /B",
    b"<< /A",
    b"<<",
]


@pytest.mark.parametrize("raw", DICTIONARIES)
def test_dictionary_reader_matches_pyhanko(raw: bytes) -> None:
    """At every offset (a dictionary, or bytes that are not one), with a lenient and a
    strict reader behind the references."""
    from pyhanko.pdf_utils import generic

    from signing import parse_fast

    assert generic.DictionaryObject.read_from_stream is parse_fast._read_dictionary
    assert generic.StreamObject.read_from_stream is parse_fast._read_dictionary
    original = _pyhanko_generic().DictionaryObject.read_from_stream
    for handler in _handlers():
        ref = generic.Reference(7, 0, handler)
        for at in range(len(raw) + 1):
            mine = _object_outcome(parse_fast._read_dictionary, raw, at, ref)
            assert mine == _object_outcome(original, raw, at, ref), at


_LONG_ARRAY = b"[" + b"".join(b" %d /N%d %d 0 R %d.5" % (i, i, i + 1, i) for i in range(60))
ARRAYS = [
    *(b"[ " + value + b" 1 ]" for value in VALUES),
    *(b"[" + value + b"]" for value in VALUES),
    b"[ 0 0 595.2756 841.8898 ]",
    b"[ 1 [ 2 [ 3 ] ] << /A 1 >> ]",
    b"[" + b" " * 80 + b"1" + b" " * 80 + b"]",
    _LONG_ARRAY + b" ]",
    _LONG_ARRAY[:700],
    b"[ 1 2",
    b"[ 12 0 R",
    b"[ 12 0",
    b"[",
]


@pytest.mark.parametrize("raw", ARRAYS)
def test_array_reader_matches_pyhanko(raw: bytes) -> None:
    from pyhanko.pdf_utils import generic

    from signing import parse_fast

    assert generic.ArrayObject.read_from_stream is parse_fast._read_array
    original = _pyhanko_generic().ArrayObject.read_from_stream
    ref = generic.Reference(7, 0, _handlers()[0])
    for at in range(len(raw) + 1):
        mine = _object_outcome(parse_fast._read_array, raw, at, ref)
        assert mine == _object_outcome(original, raw, at, ref), at


NUMBERS = [
    b"12 ",
    b"-3.5]",
    b"+.5/",
    b"1,2 ",
    b"1.2.3 ",
    b"- ",
    b". ",
    b"x",
    b"9" * 40 + b" ",
    b"9" * 31 + b" ",
    b"9" * 32 + b" ",
    b"12",
    b"",
]


@pytest.mark.parametrize("raw", NUMBERS)
def test_number_reader_matches_pyhanko(raw: bytes) -> None:
    from pyhanko.pdf_utils import generic

    from signing import parse_fast

    assert generic.NumberObject.read_from_stream is parse_fast._read_number
    original = _pyhanko_generic().NumberObject.read_from_stream
    for at in range(len(raw) + 1):
        mine = _object_outcome(parse_fast._read_number, raw, at)
        assert mine == _object_outcome(original, raw, at), at


def test_object_readers_match_pyhanko_on_real_files(docs: Docs) -> None:
    """At every ``<<``, ``[`` and digit of signed files and a rendered form, their
    streams decoded too, with the reader of that file behind the references: the
    dictionary, array and number readers and ``read_object`` itself (which takes
    numbers, references and names inside dictionaries and arrays from them)."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.reader import PdfFileReader

    from docservice.service.documents import render_checked

    fresh = _pyhanko_generic()
    form = json.loads((ROOT / "examples" / "direction.json").read_text(encoding="utf-8"))
    readers = {
        b"<<": (generic.DictionaryObject.read_from_stream, fresh.DictionaryObject.read_from_stream),
        b"[": (generic.ArrayObject.read_from_stream, fresh.ArrayObject.read_from_stream),
    }
    seen = dict.fromkeys([b"<<", b"[", b"0-9"], 0)
    for pdf in (docs.bb(), docs.four(), render_checked("direction", form, "kk").pdf):
        ref = generic.Reference(7, 0, PdfFileReader(io.BytesIO(pdf), strict=False))
        for data in _with_streams_decoded(pdf):
            for token, (mine, original) in readers.items():
                for found in re.finditer(re.escape(token), data):
                    at = found.start()
                    expected = _object_outcome(original, data, at, ref)
                    assert _object_outcome(mine, data, at, ref) == expected, (token, at)
                    seen[token] += 1
            for found in re.finditer(rb"(?<![0-9.])[+\-.0-9]", data[:12000]):
                at = found.start()
                expected = _object_outcome(fresh.read_object, data, at, ref)
                assert _object_outcome(generic.read_object, data, at, ref) == expected, at
                assert _object_outcome(generic.NumberObject.read_from_stream, data, at) == (
                    _object_outcome(fresh.NumberObject.read_from_stream, data, at)
                ), at
                seen[b"0-9"] += 1
    assert seen[b"<<"] > 80 and seen[b"["] > 300 and seen[b"0-9"] > 3000, seen
