"""Fast paths for pyHanko's dictionary, array and number readers, installed by
:func:`signing.patches.apply` (:func:`install`).

Why: opening a signed PDF (each signature, each report job) reads its catalogue, pages,
fields, signature dictionaries, fonts and cross-reference streams, and pyHanko reads every
dictionary entry and array item through a chain of small steps - the white space, the
key's ``/``, the key, the white space again, the value's first byte, a peek of 20 bytes
for ``N G R``, then the value - each a ``read`` and a ``seek`` or a Python loop. That was
most of the cost of reading a PDF, itself a large part of a report job.

Here a dictionary or an array reads one block and takes each entry or item whose value is
a plain name, an integer, a real or an indirect reference with one regular-expression
match on it. Anything else - a string, a nested dictionary or array, a comment, an
escaped name, a token cut by the block's end, a reference pyHanko would not take as one,
a duplicate key - is read by pyHanko's own code for that entry or item, from the same
place in the stream, so the result, the stream's position and any error are pyHanko's.
``tests/verification/test_fast_paths.py`` compares each reader with pyHanko's at every
offset of hand-made inputs and of real signed files.
"""

from __future__ import annotations

import os
import re
from typing import IO

from pyhanko.pdf_utils import generic, misc

_PYHANKO_READ_DICTIONARY = generic.DictionaryObject.read_from_stream
_PYHANKO_READ_ARRAY = generic.ArrayObject.read_from_stream
_PYHANKO_READ_NUMBER = generic.NumberObject.read_from_stream

#: Bytes read at once; a longer dictionary or array is read block after block.
_CHUNK = 512
#: Nearer than this to a block's end, a token that is not read here may just be cut off:
#: the block is read again from there before pyHanko's code is asked.
_MARGIN = 64
#: How far pyHanko's ``read_object`` peeks to tell ``N G R`` from a number.
_PEEK = 20

_WS = rb"[ \n\r\t\f\x00]"  # PDF white space (misc.PDF_WHITESPACE)
#: A byte of a name that needs no ``#`` escape: printable ASCII but ``#`` and delimiters.
_PLAIN = rb"[^\x00-\x20\x7f-\xff#()<>\[\]{}/%]"
#: What ends a name for pyHanko's ``read_until_delimiter``: white space or a delimiter.
_NAME_END = rb"(?=[ \n\r\t\f\x00()<>\[\]{}/%])"
#: A value read here, each followed by a byte that ends it as pyHanko's readers end it: a
#: plain name; ``N G R`` (white space without NUL, which pyHanko's peek does not take as
#: white space, nor a vertical tab, which its ``R`` check does not skip); an integer or a
#: real (pyHanko's number is the whole run of ``+,-.0-9``).
_VALUE = rb"""(?:
    /(?P<name>%(plain)s*)%(name_end)s
  | (?P<id>[0-9]+)[ \n\r\t\f]+(?P<gen>[0-9]+)[ \n\r\t\f]+R(?=[^a-zA-Z])
  | (?P<int>[+\-]?[0-9]+)(?=[^+,\-.0-9])
  | (?P<real>[+\-]?(?:[0-9]+\.[0-9]*|\.[0-9]+))(?=[^+,\-.0-9])
)""" % {b"plain": _PLAIN, b"name_end": _NAME_END}
#: The end of a dictionary (``>``), or an entry: a plain key and perhaps a value read here.
_ENTRY = re.compile(
    rb"%(ws)s*(?:(?P<close>>)|/(?P<key>%(plain)s*)%(name_end)s%(ws)s*%(value)s?)"
    % {b"ws": _WS, b"plain": _PLAIN, b"name_end": _NAME_END, b"value": _VALUE},
    re.VERBOSE,
)
#: The end of an array (``]``), or an item read here.
_ITEM = re.compile(rb"%s*(?:(?P<close>\])|%s)" % (_WS, _VALUE), re.VERBOSE)


def _value(
    found: re.Match[bytes], block: bytes, container_ref: generic.Dereferenceable
) -> generic.PdfObject | None:
    """The object pyHanko's ``read_object`` reads for the value ``found`` holds in
    ``block``, or None if that is not certain here (then pyHanko's code reads it)."""
    kind = found.lastgroup
    if kind == "name":
        return generic.NameObject("/" + found["name"].decode("ascii"))
    if kind == "gen":
        idnum = int(found["id"])
        # a reference only if its ``R`` and the byte after it are within pyHanko's peek;
        # object number 0 is pyHanko's error
        if idnum == 0 or found.end() - found.start("id") >= _PEEK:
            return None
        return generic.IndirectObject(idnum, int(found["gen"]), container_ref.get_pdf_handler())
    if kind == "int":
        at = found.start("int")
        if 0x30 <= block[at] <= 0x39 and (  # a digit: pyHanko first peeks for a reference
            at + _PEEK > len(block) or generic.INDIRECT_PATTERN.match(block, at, at + _PEEK)
        ):
            return None
        return generic.NumberObject(found["int"].decode("ascii"))
    if kind == "real":
        return generic.FloatObject(found["real"].decode("ascii"))
    return None


def _read_dictionary(
    stream: IO[bytes],
    container_ref: generic.Dereferenceable,
    as_metadata_stream: bool = False,
    in_content_stream: generic.ContentOpReading = generic.ContentOpReading.NO,
) -> generic.DictionaryObject:
    """Drop-in for pyHanko's ``DictionaryObject.read_from_stream`` (see the module's
    docstring); a dictionary in a content stream is left to pyHanko's method."""
    start = stream.tell()
    block = stream.read(_CHUNK)
    if in_content_stream is not generic.ContentOpReading.NO or block[:2] != b"<<":
        stream.seek(start)
        theirs: generic.DictionaryObject = _PYHANKO_READ_DICTIONARY(
            stream, container_ref, as_metadata_stream, in_content_stream
        )
        return theirs
    data: dict[generic.NameObject, generic.PdfObject] = {}
    handler = container_ref.get_pdf_handler()
    base, pos = start, 2  # the block holds the stream's bytes from ``base`` on
    while True:
        found = _ENTRY.match(block, pos)
        key, value = None, None
        if found is not None and found["key"] is not None:
            key = generic.NameObject("/" + found["key"].decode("ascii"))
            value = _value(found, block, container_ref)
        elif found is not None and found.end() < len(block):  # ``>``, then one byte more
            stream.seek(base + found.end() + 1)
            break
        if value is not None:
            assert found is not None and key is not None
            value.container_ref = container_ref
            pos = found.end()
            end = base + pos
        elif pos and len(block) - pos < _MARGIN:  # perhaps cut off: read on from here
            base, pos = base + pos, 0
            stream.seek(base)
            block = stream.read(_CHUNK)
            continue
        else:  # pyHanko reads the value (or the whole entry)
            if found is not None and key is not None:
                stream.seek(base + found.end("key"))
                value = _read_value(stream, container_ref)
            else:
                stream.seek(base + pos)
                entry = _pyhanko_entry(stream, container_ref)
                if entry is None:
                    break
                key, value = entry
            end = stream.tell()
            base, pos = end, 0
            block = stream.read(_CHUNK)
        if key not in data:
            data[key] = value
        else:
            stream.seek(end)
            err = f"Multiple definitions in dictionary at byte {hex(end)} for key {key}"
            if handler.strict:
                raise misc.PdfStrictReadError(err)
            generic.logger.warning(err)
    # from here on as pyHanko's method: a stream's payload, or a plain dictionary
    stream_data = generic._maybe_read_stream_payload(stream, data, handler)
    if stream_data is None:
        return generic.DictionaryObject(data)
    stream_class: type[generic.StreamObject] = generic.StreamObject
    if as_metadata_stream:
        from pyhanko.pdf_utils.metadata.xmp_xml import MetadataStream

        stream_class = MetadataStream
    return stream_class(data, encoded_data=stream_data)


def _pyhanko_entry(
    stream: IO[bytes], container_ref: generic.Dereferenceable
) -> tuple[generic.NameObject, generic.PdfObject] | None:
    """One turn of pyHanko's dictionary loop: the next key and value, or None after ``>``."""
    if misc.read_non_whitespace(stream) == b">":
        stream.read(1)
        return None
    stream.seek(-1, os.SEEK_CUR)
    try:
        key = generic.NameObject.read_from_stream(stream)  # type: ignore[no-untyped-call]  # unannotated in pyHanko
    except Exception as ex:
        raise misc.PdfReadError(
            f"Failed to read dictionary key at byte 0x{hex(stream.tell())}; expected PDF name"
        ) from ex
    return key, _read_value(stream, container_ref)


def _read_value(stream: IO[bytes], container_ref: generic.Dereferenceable) -> generic.PdfObject:
    """A dictionary entry's value as pyHanko's loop reads it after the key: the white
    space skipped, then ``read_object``."""
    misc.read_non_whitespace(stream)
    stream.seek(-1, os.SEEK_CUR)
    return generic.read_object(stream, container_ref)


def _read_array(
    stream: IO[bytes],
    container_ref: generic.Dereferenceable,
    in_content_stream: generic.ContentOpReading = generic.ContentOpReading.NO,
) -> generic.ArrayObject:
    """Drop-in for pyHanko's ``ArrayObject.read_from_stream`` (see the module's
    docstring); an array in a content stream is left to pyHanko's method."""
    start = stream.tell()
    block = stream.read(_CHUNK)
    if in_content_stream is not generic.ContentOpReading.NO or block[:1] != b"[":
        stream.seek(start)
        theirs: generic.ArrayObject = _PYHANKO_READ_ARRAY(stream, container_ref, in_content_stream)
        return theirs
    items = generic.ArrayObject()
    base, pos = start, 1  # the block holds the stream's bytes from ``base`` on
    while True:
        found = _ITEM.match(block, pos)
        if found is not None and found.lastgroup == "close":
            stream.seek(base + found.end())
            return items
        value = _value(found, block, container_ref) if found is not None else None
        if value is not None:
            assert found is not None
            value.container_ref = container_ref
            items.append(value)
            pos = found.end()
        elif pos and len(block) - pos < _MARGIN:  # perhaps cut off: read on from here
            base, pos = base + pos, 0
            stream.seek(base)
            block = stream.read(_CHUNK)
        else:  # one turn of pyHanko's loop
            stream.seek(base + pos)
            if misc.read_non_whitespace(stream) == b"]":
                return items
            stream.seek(-1, os.SEEK_CUR)
            items.append(generic.read_object(stream, container_ref))
            base, pos = stream.tell(), 0
            block = stream.read(_CHUNK)


#: A number as pyHanko's ``NumberObject.read_from_stream`` takes it: a run of ``+,-.0-9``.
_NUMBER_RUN = re.compile(rb"[+,\-.0-9]*")
_NUMBER_CHUNK = 32


def _read_number(stream: IO[bytes]) -> generic.NumberObject | generic.FloatObject:
    """Drop-in for pyHanko's ``NumberObject.read_from_stream``: the run of ``+,-.0-9``
    from here, a real if it has a ``.``, else an integer (the same errors for a run that
    is neither); one read of a small block instead of pyHanko's reads of 16 bytes."""
    start = stream.tell()
    block = stream.read(_NUMBER_CHUNK)
    run = _NUMBER_RUN.match(block)
    assert run is not None  # the pattern matches the empty run
    if run.end() == len(block):  # perhaps longer, or the end of the stream
        stream.seek(start)
        theirs: generic.NumberObject | generic.FloatObject = _PYHANKO_READ_NUMBER(stream)  # type: ignore[no-untyped-call]
        return theirs
    stream.seek(start + run.end())
    num = run[0]
    if b"." in num:
        return generic.FloatObject(num.decode("ascii"))
    return generic.NumberObject(num.decode("ascii"))


def install() -> None:
    """pyHanko reads dictionaries, arrays and numbers with this module's readers
    (``read_object`` looks each method up on its class at each call; ``StreamObject``
    inherits the dictionary's)."""
    generic.DictionaryObject.read_from_stream = staticmethod(_read_dictionary)  # type: ignore[method-assign]
    generic.ArrayObject.read_from_stream = staticmethod(_read_array)  # type: ignore[method-assign]
    generic.NumberObject.read_from_stream = staticmethod(_read_number)  # type: ignore[method-assign]
