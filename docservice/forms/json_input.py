"""A document's input as it arrives: JSON bytes -> validated data.

The CLI calls :func:`parse_input` on the file it reads and the HTTP API calls it
on the request body, so both refuse the same things the same way: a body too big
to be a document, bytes that are not UTF-8, text that is not JSON, nesting
deeper than any kind has, a key given twice (JSON parsers disagree on which one
wins, so the signed XML could differ from what the caller sees), numbers no
field can hold, ``NaN``/``Infinity``, lone surrogates (``"\\ud800"``: not text,
and unencodable in the XML). Every refusal is an :class:`InputError` naming the
field (``$`` for the document as a whole) with kk/ru messages; nothing reaches
the renderer.
"""

from __future__ import annotations

import json
import re
from typing import Any

from docservice.errors import InputError
from docservice.forms import get_kind
from docservice.forms.fields import Errors

#: The largest input accepted. The largest legitimate document is an Appendix 3
#: report of 100,000 rows (about 30 MB with a few services a row).
MAX_INPUT_BYTES = 64 * 1024 * 1024
#: Deeper than any kind nests (report_a3: rows[].services[] is 3 levels).
MAX_DEPTH = 16
#: Integers of more digits than this fit no field (IINs are strings; counts are small).
MAX_INT_DIGITS = 18
#: Field names are identifiers; anything else in a key is refused before it is echoed.
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_SURROGATE = re.compile("[\ud800-\udfff]")
#: only a \\uD800-\\uDFFF escape in the JSON text can make one
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
#: keys already seen to be identifiers (field names: a few hundred at most)
_GOOD_KEYS: set[str] = set()


class _Unfit:
    """A JSON number no field can hold, kept as a marker so its path can be named."""

    def __init__(self, literal: str) -> None:
        self.literal = literal


class _Object(dict):
    """A JSON object that remembers the keys it was given more than once."""

    duplicates: tuple[str, ...] = ()


def _object(pairs: list[tuple[str, Any]]) -> _Object:
    obj = _Object(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        obj.duplicates = tuple(k for k, _ in pairs if k in seen or seen.add(k))
    return obj


def _int(literal: str) -> int | _Unfit:
    digits = literal.lstrip("-")
    return _Unfit(literal) if len(digits) > MAX_INT_DIGITS else int(literal)


def _float(literal: str) -> float | _Unfit:
    value = float(literal)
    return _Unfit(literal) if value in (float("inf"), float("-inf")) else value


def _shown_key(key: str) -> str:
    """A key as it may appear in a message: identifiers as they are, the rest escaped."""
    return key if _KEY.fullmatch(key) else ascii(key)


def _check_tree(root: Any, errors: Errors, surrogates: bool) -> None:
    """Depth, duplicate and odd keys, unfit numbers and (if ``surrogates``) lone surrogates.

    Iterative, as the tree may be deep; scalars are looked at in place and a path
    is only spelt out for containers and for errors.
    """
    stack: list[tuple[Any, str, int]] = [(root, "", 1)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            errors.add(path or "$", "too_deep", max=MAX_DEPTH)
            continue
        if isinstance(value, dict):
            prefix = f"{path}." if path else ""
            for key in getattr(value, "duplicates", ()):
                errors.add(f"{prefix}{_shown_key(key)}", "duplicate_key")
            items: Any = value.items()
        else:
            prefix, items = path, enumerate(value)
        for key, sub in items:
            if isinstance(key, str) and key not in _GOOD_KEYS:
                if not _KEY.fullmatch(key):
                    errors.add(f"{prefix}{_shown_key(key)}", "bad_key")
                    continue
                if len(_GOOD_KEYS) < 10_000:  # bounded: callers choose the keys
                    _GOOD_KEYS.add(key)
            if isinstance(sub, dict | list):
                where = f"{prefix}{key}" if isinstance(key, str) else f"{path}[{key}]"
                stack.append((sub, where, depth + 1))
            elif isinstance(sub, _Unfit):
                where = f"{prefix}{key}" if isinstance(key, str) else f"{path}[{key}]"
                errors.add(where, "number_unfit", value=sub.literal[:40])
            elif surrogates and isinstance(sub, str) and (found := _SURROGATE.search(sub)):
                where = f"{prefix}{key}" if isinstance(key, str) else f"{path}[{key}]"
                errors.add(where, "surrogate", char=f"U+{ord(found.group()):04X}")


def _loads(raw: bytes | str, kind_name: str) -> tuple[Any, bool]:
    """The JSON value of ``raw`` and whether its text has a surrogate escape; refusals at ``$``."""
    errors = Errors()
    size = len(raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw)
    if size > MAX_INPUT_BYTES:
        errors.add("$", "input_too_big", max=MAX_INPUT_BYTES // (1024 * 1024))
        raise InputError(errors, kind_name)
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            errors.add("$", "not_utf8", offset=exc.start)
            raise InputError(errors, kind_name) from None
    else:
        text = raw.removeprefix("\ufeff")

    def refuse_constant(name: str) -> _Unfit:
        return _Unfit(name)

    data: Any = None
    try:
        data = json.loads(
            text,
            object_pairs_hook=_object,
            parse_int=_int,
            parse_float=_float,
            parse_constant=refuse_constant,
        )
    except RecursionError:
        errors.add("$", "too_deep", max=MAX_DEPTH)
    except json.JSONDecodeError as exc:
        errors.add("$", "not_json", detail=f"{exc.msg} (line {exc.lineno}, column {exc.colno})")
    except ValueError as exc:  # e.g. a float literal Python cannot convert
        errors.add("$", "not_json", detail=str(exc)[:200])
    if errors:
        raise InputError(errors, kind_name)
    return data, _SURROGATE_ESCAPE.search(text) is not None


def _raise_sorted(errors: Errors, kind_name: str) -> None:
    if errors:
        errors.sort(key=lambda e: e.path)
        raise InputError(errors, kind_name)


def decode_json(raw: bytes | str, kind_name: str) -> Any:
    """Parse ``raw`` into plain JSON values or raise :class:`InputError` (path ``$``)."""
    data, surrogates = _loads(raw, kind_name)
    errors = Errors()
    if isinstance(data, dict | list):  # anything else is "not an object" to the kind
        _check_tree(data, errors, surrogates)
    _raise_sorted(errors, kind_name)
    return data


def decode_request(raw: bytes | str, member: str = "data") -> Any:
    """A request body: a JSON object whose ``member`` holds a document's input.

    The HTTP API's counterpart of :func:`decode_json`, with the same checks. The
    member is checked as a document of its own, so its fields are named as the CLI
    names them (``iin``, not ``data.iin``) and its depth counts from it; the
    envelope's own keys (``kind``, ``lang``...) by their names. The kind named in
    the body gives the messages their field labels.
    """
    kind_name = ""
    data, surrogates = _loads(raw, kind_name)
    if not isinstance(data, dict):
        return data  # the caller says what a body must be
    if isinstance(data.get("kind"), str):
        kind_name = data["kind"]
    errors = Errors()
    envelope = _Object((k, v) for k, v in data.items() if k != member)
    envelope.duplicates = getattr(data, "duplicates", ())
    _check_tree(envelope, errors, surrogates)
    document = data.get(member)
    if isinstance(document, dict | list):
        _check_tree(document, errors, surrogates)
    elif isinstance(document, _Unfit):
        errors.add("$", "number_unfit", value=document.literal[:40])
    _raise_sorted(errors, kind_name)
    return data


def parse_input(kind_name: str, raw: bytes | str) -> dict[str, Any]:
    """The one entry point for a caller's JSON: decoded, checked, then validated by its kind."""
    kind = get_kind(kind_name)
    return kind.validate(decode_json(raw, kind.name))
