"""Canaries for every private pyHanko / pyhanko-certvalidator / asn1crypto / signxml hook.

Why: the project patches or overrides these on purpose (speed, GOST, signature pinning);
none of them is a public API, so an upgrade may move one silently - a missing override
would then just stop working (the XML pinning would check the first signature again, the
GOST OIDs would be bare numbers). Each canary names the hook, the library version and the
module that relies on it, so the failure says what to adapt. The version bounds in
pyproject.toml keep such an upgrade from arriving unannounced.
"""

from __future__ import annotations

import inspect
import io
import json
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def canary(ok: bool, hook: str, library: str, used_by: str) -> None:
    if not ok:
        pytest.fail(
            f"private hook {hook} of {library} {version(library)} moved or changed; "
            f"{used_by} relies on it: adapt it to the new release, then this canary",
            pytrace=False,
        )


def _params(func: object) -> list[str]:
    return list(inspect.signature(func).parameters)  # type: ignore[arg-type]


def test_asn1crypto_oid_tables_and_spec_callbacks() -> None:
    from asn1crypto import algos, keys

    for table in (
        keys.PublicKeyAlgorithmId,
        algos.SignedDigestAlgorithmId,
        algos.DigestAlgorithmId,
    ):
        canary(
            isinstance(table.__dict__.get("_map"), dict) and hasattr(table, "_reverse_map"),
            f"{table.__name__}._map/_reverse_map",
            "asn1crypto",
            "signing/gost/asn1.py",
        )
    callbacks = keys.PublicKeyInfo.__dict__.get("_spec_callbacks")
    canary(
        isinstance(callbacks, dict) and callable(callbacks.get("public_key")),
        "PublicKeyInfo._spec_callbacks['public_key']",
        "asn1crypto",
        "signing/gost/asn1.py",
    )
    from signing.gost import oids

    algorithm = keys.PublicKeyAlgorithm({"algorithm": oids.KEY_2015_512})
    canary(
        algorithm["algorithm"].native == "gost34102015_512",
        "PublicKeyAlgorithmId._map (the GOST names after signing.patches.apply)",
        "asn1crypto",
        "signing/gost/asn1.py",
    )


def test_certvalidator_default_signature_validator() -> None:
    from pyhanko_certvalidator.sig_validate import DefaultSignatureValidator

    patched = DefaultSignatureValidator.validate_signature
    canary(
        getattr(patched, "_gost_aware", False),
        "DefaultSignatureValidator.validate_signature (patched at start-up)",
        "pyhanko-certvalidator",
        "signing/gost/validator.py",
    )


def test_asn1crypto_cms_attribute_tables() -> None:
    from asn1crypto import cms

    from signing.cms_util import REVOCATION_VALUES_OID, RevocationValues

    canary(
        isinstance(cms.CMSAttributeType.__dict__.get("_map"), dict)
        and isinstance(cms.CMSAttribute.__dict__.get("_oid_specs"), dict),
        "CMSAttributeType._map / CMSAttribute._oid_specs",
        "asn1crypto",
        "signing/cms_util.py (revocation values)",
    )
    attribute = cms.CMSAttribute(
        {"type": REVOCATION_VALUES_OID, "values": [RevocationValues({"ocsp_vals": []})]}
    )
    read = cms.CMSAttribute.load(attribute.dump())
    canary(
        read["type"].native == "revocation_values"
        and isinstance(read["values"][0], RevocationValues),
        "CMSAttribute._oid_specs (the revocation-values attribute after apply())",
        "asn1crypto",
        "signing/cms_util.py",
    )


def test_certvalidator_path_and_ocsp_hooks() -> None:
    from pyhanko_certvalidator.path import ValidationPath
    from pyhanko_certvalidator.revinfo.archival import OCSPContainer

    patched = ValidationPath.truncate_to_issuer_and_append
    canary(
        getattr(patched, "_anchor_aware", False)
        and isinstance(inspect.getattr_static(ValidationPath, "trust_anchor"), property),
        "ValidationPath.truncate_to_issuer_and_append / .trust_anchor",
        "pyhanko-certvalidator",
        "signing/patches.py (_allow_anchor_as_crl_issuer)",
    )
    canary(
        getattr(OCSPContainer.usable_at, "_final_revocation", False)
        and _params(OCSPContainer.extract_single_response) == ["self"],
        "OCSPContainer.usable_at / extract_single_response",
        "pyhanko-certvalidator",
        "signing/patches.py (_revocation_is_final)",
    )


def test_pyhanko_hex_string_reader_is_looked_up_at_call_time() -> None:
    from pyhanko.pdf_utils import generic

    from signing import patches

    canary(
        generic.read_hex_string_from_stream is patches._read_hex_string,
        "pdf_utils.generic.read_hex_string_from_stream",
        "pyhanko",
        "signing/patches.py",
    )
    calls = []
    original = generic.read_hex_string_from_stream

    def spy(stream):  # type: ignore[no-untyped-def]
        calls.append(1)
        return original(stream)

    generic.read_hex_string_from_stream = spy
    try:
        value = generic.read_object(io.BytesIO(b"<48656c6c6f> "), generic.Reference(1, 0))
    finally:
        generic.read_hex_string_from_stream = original
    canary(
        calls == [1] and str(value) == "Hello",
        "read_object -> read_hex_string_from_stream (module-global lookup)",
        "pyhanko",
        "signing/patches.py",
    )


def test_pyhanko_token_reader_is_looked_up_at_call_time() -> None:
    from pyhanko.pdf_utils import generic

    from signing import patches

    canary(
        generic.read_until_delimiter is patches._read_until_delimiter,
        "pdf_utils.generic.read_until_delimiter",
        "pyhanko",
        "signing/patches.py",
    )
    calls = []
    original = generic.read_until_delimiter

    def spy(stream):  # type: ignore[no-untyped-def]
        calls.append(1)
        return original(stream)

    generic.read_until_delimiter = spy
    try:  # a name outside a dictionary (whose plain names signing/parse_fast.py reads)
        value = generic.read_object(io.BytesIO(b"/Type /Page"), generic.Reference(1, 0))
    finally:
        generic.read_until_delimiter = original
    canary(
        len(calls) == 1 and value == "/Type",
        "read_object -> NameObject.read_from_stream -> read_until_delimiter (module global)",
        "pyhanko",
        "signing/patches.py",
    )


def test_pyhanko_xref_stream_parser_is_looked_up_at_call_time() -> None:
    from pyhanko.pdf_utils import xref

    from signing import patches

    canary(
        xref.parse_xref_stream is patches._parse_xref_stream
        and _params(patches._PYHANKO_PARSE_XREF_STREAM) == ["xref_stream", "strict"]
        and "parse_xref_stream(" in inspect.getsource(xref.XRefBuilder._read_xref_stream)
        and _params(xref._expected_xref_stream_size) == ["idx_pairs", "entry_sizes"]
        and _params(xref.XRefEntry) == ["xref_type", "location", "idnum", "generation"],
        "pdf_utils.xref.parse_xref_stream (XRefBuilder._read_xref_stream, XRefEntry)",
        "pyhanko",
        "signing/patches.py (_parse_xref_stream)",
    )


def test_pyhanko_white_space_and_reference_readers_are_looked_up_at_call_time() -> None:
    from pyhanko.pdf_utils import generic, misc, reader, xref

    from signing import patches

    canary(
        misc.read_non_whitespace is generic.read_non_whitespace is patches._read_non_whitespace
        and _params(patches._PYHANKO_READ_NON_WHITESPACE) == ["stream", "seek_back", "allow_eof"]
        and "misc.read_non_whitespace(" in inspect.getsource(xref)
        and "read_non_whitespace(" in inspect.getsource(reader)
        and "read_non_whitespace(stream)" in inspect.getsource(generic.DictionaryObject),
        "pdf_utils.misc.read_non_whitespace (and generic's imported name)",
        "pyhanko",
        "signing/patches.py (_fast_white_space)",
    )
    canary(
        generic.IndirectObject.read_from_stream is patches._read_reference
        and _params(patches._PYHANKO_READ_REFERENCE) == ["stream", "container_ref"]
        and "IndirectObject.read_from_stream(stream, container_ref)"
        in inspect.getsource(generic.read_object),
        "pdf_utils.generic.IndirectObject.read_from_stream (called by read_object)",
        "pyhanko",
        "signing/patches.py (_fast_references)",
    )
    calls = []

    def spy(stream, container_ref):  # type: ignore[no-untyped-def]
        calls.append(1)
        return patches._read_reference(stream, container_ref)

    generic.IndirectObject.read_from_stream = staticmethod(spy)  # type: ignore[method-assign,assignment]
    try:  # a reference outside an array or dictionary (read by signing/parse_fast.py there)
        value = generic.read_object(io.BytesIO(b"12  0\nR 7 "), generic.Reference(1, 0))
    finally:
        generic.IndirectObject.read_from_stream = staticmethod(patches._read_reference)  # type: ignore[method-assign,assignment]
    canary(
        calls == [1]
        and isinstance(value, generic.IndirectObject)
        and (value.idnum, value.generation) == (12, 0),
        "read_object -> IndirectObject.read_from_stream (class attribute at call time)",
        "pyhanko",
        "signing/patches.py (_fast_references)",
    )


def test_pyhanko_string_literal_reader_is_looked_up_at_call_time() -> None:
    from pyhanko.pdf_utils import generic

    from signing import patches

    canary(
        generic._read_string_literal_bytes is patches._read_string_literal
        and _params(patches._PYHANKO_READ_STRING_LITERAL) == ["stream"]
        and "_read_string_literal_bytes(stream)"
        in inspect.getsource(generic.read_string_from_stream),
        "pdf_utils.generic._read_string_literal_bytes (read_string_from_stream)",
        "pyhanko",
        "signing/patches.py (_fast_string_literals)",
    )
    calls = []

    def spy(stream):  # type: ignore[no-untyped-def]
        calls.append(1)
        return patches._read_string_literal(stream)

    generic._read_string_literal_bytes = spy
    try:
        value = generic.read_object(io.BytesIO(b"(Hello) "), generic.Reference(1, 0))
    finally:
        generic._read_string_literal_bytes = patches._read_string_literal
    canary(
        calls == [1] and str(value) == "Hello",
        "read_object -> read_string_from_stream -> _read_string_literal_bytes (module global)",
        "pyhanko",
        "signing/patches.py (_fast_string_literals)",
    )


def test_pyhanko_dictionary_array_and_number_readers_are_looked_up_at_call_time() -> None:
    from pyhanko.pdf_utils import generic, xref

    from signing import parse_fast

    canary(
        generic.DictionaryObject.read_from_stream is parse_fast._read_dictionary
        and generic.StreamObject.read_from_stream is parse_fast._read_dictionary
        and generic.ArrayObject.read_from_stream is parse_fast._read_array
        and generic.NumberObject.read_from_stream is parse_fast._read_number
        and _params(parse_fast._PYHANKO_READ_DICTIONARY)
        == ["stream", "container_ref", "as_metadata_stream", "in_content_stream"]
        and _params(parse_fast._PYHANKO_READ_ARRAY)
        == ["stream", "container_ref", "in_content_stream"]
        and _params(parse_fast._PYHANKO_READ_NUMBER) == ["stream"]
        and _params(generic._maybe_read_stream_payload) == ["stream", "data", "handler"]
        and generic.INDIRECT_PATTERN.pattern == rb"(\d+)\s+(\d+)\s+R[^a-zA-Z]"
        and "peek = stream.read(20)" in inspect.getsource(generic.read_object)
        and "StreamObject.read_from_stream(" in inspect.getsource(xref),
        "pdf_utils.generic.DictionaryObject / ArrayObject / NumberObject.read_from_stream",
        "pyhanko",
        "signing/parse_fast.py",
    )
    calls: list[str] = []
    hooks = {
        generic.DictionaryObject: parse_fast._read_dictionary,
        generic.ArrayObject: parse_fast._read_array,
        generic.NumberObject: parse_fast._read_number,
    }

    def spy(cls, reader):  # type: ignore[no-untyped-def]
        def read(*args, **kwargs):  # type: ignore[no-untyped-def]
            calls.append(cls.__name__)
            return reader(*args, **kwargs)

        return staticmethod(read)

    for cls, reader in hooks.items():
        cls.read_from_stream = spy(cls, reader)
    try:
        value = generic.read_object(
            io.BytesIO(b"<< /A [ 1 2.5 ] /B << >> >> "), generic.Reference(1, 0)
        )
        number = generic.read_object(io.BytesIO(b"-7 "), generic.Reference(1, 0))
    finally:
        for cls, reader in hooks.items():
            cls.read_from_stream = staticmethod(reader)
    canary(
        sorted(calls) == ["ArrayObject", "DictionaryObject", "DictionaryObject", "NumberObject"]
        and value == {"/A": [1, generic.FloatObject("2.5")], "/B": {}}
        and number == -7,
        "read_object -> DictionaryObject / ArrayObject / NumberObject.read_from_stream "
        "(class attributes at call time)",
        "pyhanko",
        "signing/parse_fast.py",
    )


def test_pyhanko_name_coding_is_looked_up_at_call_time() -> None:
    from pyhanko.pdf_utils import generic

    from signing import patches

    canary(
        getattr(generic._decode_name, "_plain_aware", False)
        and "_decode_name(" in inspect.getsource(generic.NameObject.read_from_stream)
        and _params(generic.NameObject.write_to_stream)
        == ["self", "stream", "handler", "container_ref"],
        "pdf_utils.generic._decode_name / NameObject.write_to_stream",
        "pyhanko",
        "signing/patches.py (_plain_names)",
    )
    out = io.BytesIO()
    name = generic.read_object(io.BytesIO(b"/A#20B "), generic.Reference(1, 0))
    name.write_to_stream(out)
    canary(
        name == "/A B" and out.getvalue() == b"/A#20B" and patches._PLAIN_NAME.pattern,
        "NameObject escapes (#20) read and written by pyHanko's own code",
        "pyhanko",
        "signing/patches.py (_plain_names)",
    )


def test_qrcode_codeword_step_is_looked_up_at_call_time() -> None:
    import qrcode.util

    from signing import patches

    canary(
        qrcode.util.create_bytes is patches._create_bytes
        and "create_bytes(buffer, rs_blocks)" in inspect.getsource(qrcode.util.create_data)
        and isinstance(qrcode.util.BitBuffer().buffer, list)
        and len(qrcode.base.EXP_TABLE) == len(qrcode.base.LOG_TABLE) == 256,
        "util.create_data -> create_bytes(buffer, rs_blocks) (module global), BitBuffer.buffer",
        "qrcode",
        "signing/patches.py (_create_bytes)",
    )


def test_pyhanko_issuer_serial_match_is_looked_up_at_call_time() -> None:
    from pyhanko.sign import general

    canary(
        getattr(general.match_issuer_serial, "_remembered", False)
        and "match_issuer_serial(" in inspect.getsource(general.check_ess_certid),
        "sign.general.match_issuer_serial (module-global lookup in check_ess_certid)",
        "pyhanko",
        "signing/patches.py (_remember_issuer_matches)",
    )


def test_pyhanko_overridden_methods() -> None:
    from pyhanko.pdf_utils.font.opentype import _format_cid_glyphline_from_buffer
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.writer import BasePdfFileWriter
    from pyhanko.sign.signers.pdf_cms import Signer
    from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
    from pyhanko.stamp import QRStamp, QRStampStyle

    canary(
        _params(QRStamp._qr_xobject) == ["self"]
        and "qr_inner_content" in QRStampStyle.__dataclass_fields__
        and {"writer", "url", "style", "text_params", "box"} <= set(_params(QRStamp.__init__)),
        "stamp.QRStamp._qr_xobject / QRStampStyle.qr_inner_content",
        "pyhanko",
        "signing/stamp.py (_Stamp)",
    )
    canary(
        _params(Signer._signed_attr_providers)[:3] == ["self", "data_digest", "digest_algorithm"]
        and "_signed_attr_providers(" in inspect.getsource(Signer.signed_attrs),
        "sign.signers.pdf_cms.Signer._signed_attr_providers",
        "pyhanko",
        "signing/keys.py (_KeptKeySigner)",
    )
    canary(
        _params(BasePdfFileWriter._update_meta) == ["self"]
        and "self._update_meta()"
        in inspect.getsource(IncrementalPdfFileWriter.write) + inspect.getsource(BasePdfFileWriter),
        "pdf_utils.writer.BasePdfFileWriter._update_meta",
        "pyhanko",
        "signing/pdf.py (_SigningWriter)",
    )
    from pyhanko.sign.signers.pdf_byterange import PreparedByteRangeDigest

    canary(
        _params(PreparedByteRangeDigest.fill_with_cms)[:3] == ["self", "output", "cms_data"],
        "sign.signers.pdf_byterange.PreparedByteRangeDigest.fill_with_cms",
        "pyhanko",
        "signing/pdf.py (_embed)",
    )
    canary(
        "external_digests" in inspect.getsource(EmbeddedPdfSignature.compute_digest),
        "EmbeddedPdfSignature.external_digests (the digest cache)",
        "pyhanko",
        "docservice/verification/pdf.py (_gost_digest)",
    )
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader_source = inspect.getsource(PdfFileReader._read_object)
    canary(
        _params(getattr(PdfFileReader._get_object_from_stream, "__wrapped__", None) or (lambda: 0))
        == ["self", "idnum", "stmnum", "idx"]
        and "self._get_object_from_stream(" in reader_source,
        "pdf_utils.reader.PdfFileReader._get_object_from_stream",
        "pyhanko",
        "signing/patches.py (_index_object_streams)",
    )
    canary(
        _params(Signer.async_sign_prescribed_attributes)
        == [
            "self",
            "digest_algorithm",
            "signed_attrs",
            "cms_version",
            "dry_run",
            "timestamper",
            "encap_content_info",
        ]
        and "async_sign_prescribed_attributes(" in inspect.getsource(Signer.async_sign),
        "sign.signers.pdf_cms.Signer.async_sign_prescribed_attributes",
        "pyhanko",
        "signing/keys.py (_KeptKeySigner, signing/cms_template.py)",
    )
    canary(
        _params(_format_cid_glyphline_from_buffer)
        == ["buf", "cid_width_callback", "units_per_em", "font_size", "vertical"],
        "pdf_utils.font.opentype._format_cid_glyphline_from_buffer",
        "pyhanko",
        "signing/stamp_font.py",
    )


def test_signxml_get_signature_is_what_verify_uses() -> None:
    from signxml import XMLVerifier

    canary(
        _params(XMLVerifier._get_signature) == ["self", "root"]
        and "self._get_signature(" in inspect.getsource(XMLVerifier.verify),
        "XMLVerifier._get_signature",
        "signxml",
        "docservice/verification/xml.py and signing/twophase.py (signature pinning)",
    )


def test_no_library_is_patched_at_import_time() -> None:
    """Importing every runtime package changes nothing; signing.patches.apply() does it all."""
    program = """
import json
import docservice.cli, docservice.web, docservice.verification, docservice.service.app
import signing.pdf, signing.twophase, signing.trust, signing.cms_check, signing.gost.validator
from asn1crypto import keys
from pyhanko.pdf_utils import generic, xref
from pyhanko.sign import general
from pyhanko_certvalidator.sig_validate import DefaultSignatureValidator as V
from pyhanko_certvalidator.path import ValidationPath
from pyhanko_certvalidator.revinfo.archival import OCSPContainer
import qrcode.util
from asn1crypto import cms
from signing import parse_fast, patches
from signing.gost import oids
def state():
    return {"gost_oid": oids.KEY_2015_512 in keys.PublicKeyAlgorithmId._map,
            "hex": generic.read_hex_string_from_stream is patches._read_hex_string,
            "token": generic.read_until_delimiter is patches._read_until_delimiter,
            "names": getattr(generic._decode_name, "_plain_aware", False),
            "qr_rs": qrcode.util.create_bytes is patches._create_bytes,
            "xref_stream": xref.parse_xref_stream is patches._parse_xref_stream,
            "white_space": generic.read_non_whitespace is patches._read_non_whitespace,
            "references": generic.IndirectObject.read_from_stream is patches._read_reference,
            "strings": generic._read_string_literal_bytes is patches._read_string_literal,
            "dictionaries": (
                generic.DictionaryObject.read_from_stream is parse_fast._read_dictionary
            ),
            "arrays": generic.ArrayObject.read_from_stream is parse_fast._read_array,
            "numbers": generic.NumberObject.read_from_stream is parse_fast._read_number,
            "issuer_match": getattr(general.match_issuer_serial, "_remembered", False),
            "validator": getattr(V.validate_signature, "_gost_aware", False),
            "crl_anchor": getattr(ValidationPath.truncate_to_issuer_and_append,
                                  "_anchor_aware", False),
            "ocsp_final": getattr(OCSPContainer.usable_at, "_final_revocation", False),
            "cms_attr": "revocation_values" in cms.CMSAttribute._oid_specs,
            "applied": patches.applied()}
before = state()
patches.apply()
patches.apply()
print(json.dumps([before, state()]))
"""
    done = subprocess.run(
        [sys.executable, "-c", program],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    before, after = json.loads(done.stdout)
    assert not any(before.values()), before
    assert all(after.values()), after


@pytest.mark.parametrize(
    ("package", "below"),
    [
        ("pyhanko", "0.39"),
        ("pyhanko-certvalidator", "0.34"),
        ("signxml", "6"),
        ("asn1crypto", "2"),
        ("qrcode", "9"),
    ],
)
def test_the_patched_libraries_have_upper_bounds(package: str, below: str) -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert f"<{below}" in next(
        line
        for line in text.splitlines()
        if line.strip().startswith((f'"{package}>=', f'"{package}['))
    )
