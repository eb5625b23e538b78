"""The field types a document kind is built from.

A kind is a tree of fields. Each field knows how to clean one JSON value, which
XSD type describes it and which JSON Schema describes it, so the same definition
drives input validation, the XML, the published XSD and the API schema.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from docservice.identifiers import has_valid_checksum


@dataclass(frozen=True)
class FieldError:
    """One problem with the input: where (a JSON path) and what (a code + params)."""

    path: str
    code: str
    params: dict[str, Any] = field(default_factory=dict)


class Errors(list[FieldError]):
    """A list of field errors with a helper to add one."""

    def add(self, path: str, code: str, **params: Any) -> None:
        self.append(FieldError(path, code, params))


_MISSING = object()


@dataclass(frozen=True)
class Field:
    """Base of every field: a name (JSON key and XML element) and whether it is required."""

    name: str
    required: bool = True
    #: computed by the kind itself (never accepted from the caller), still in XML/XSD
    computed: bool = False

    xsd_type = "xs:string"
    #: False for input that never goes into the XML (a file's bytes: the XML names its digest)
    in_xml: ClassVar[bool] = True

    def clean(self, value: Any, path: str, errors: Errors) -> Any:
        """Return the cleaned value; on a problem add an error and return None."""
        raise NotImplementedError

    def to_xml_text(self, value: Any) -> str:
        return str(value)

    def json_schema(self) -> dict[str, Any]:
        raise NotImplementedError

    def xsd_facets(self) -> tuple[str, list[tuple[str, str]]] | None:
        """(base type, [(facet, value)]) when the field needs an inline restriction."""
        return None


#: Characters that change the direction text is displayed in (Trojan-source style):
#: a name could print differently from what the XML and the signature carry.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def _code_point(char: str) -> str:
    return f"U+{ord(char):04X}"


def text_problem(value: str, multiline: bool) -> tuple[str, dict[str, str]] | None:
    """The first character that has no place in a document's text, as (code, params).

    Control characters, the bidi controls, invisible format characters (zero-width
    space and joiners, soft hyphen, BOM), surrogates, private-use and unassigned
    code points are refused: each either does not print or prints differently
    from what the XML carries.
    """
    for char in value:
        category = unicodedata.category(char)
        if char == "\t" or (char in "\n\r" and multiline):
            continue
        if category == "Cc" or category in ("Zl", "Zp"):
            return "control_chars", {"char": _code_point(char)}
        if char in BIDI_CONTROLS:
            return "bidi_control", {"char": _code_point(char)}
        if category == "Cf":
            return "invisible_char", {"char": _code_point(char)}
        if category in ("Cs", "Co", "Cn"):
            return "bad_char", {"char": _code_point(char)}
    return None


@dataclass(frozen=True)
class Text(Field):
    """Free text on one line or several; NFC-normalised, surrounding white space trimmed.

    Normalising first means the XML, the PDF and the signature carry the same
    code points whichever way the caller's keyboard composed them.
    """

    max_length: int = 500
    multiline: bool = False

    def clean(self, value: Any, path: str, errors: Errors) -> str | None:
        if not isinstance(value, str):
            errors.add(path, "not_text")
            return None
        value = unicodedata.normalize("NFC", value).strip()
        if not value:
            errors.add(path, "required")
            return None
        if len(value) > self.max_length:
            errors.add(path, "too_long", max=self.max_length)
            return None
        if not self.multiline and ("\n" in value or "\r" in value):
            errors.add(path, "one_line")
            return None
        problem = text_problem(value, self.multiline)
        if problem:
            errors.add(path, problem[0], **problem[1])
            return None
        return value

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "minLength": 1, "maxLength": self.max_length}

    def xsd_facets(self) -> tuple[str, list[tuple[str, str]]]:
        return "c:NonEmptyText", [("maxLength", str(self.max_length))]


#: What a person's name may hold besides letters and combining marks.
NAME_PUNCTUATION = frozenset(" -\u2010\u2011'\u2019.")


@dataclass(frozen=True)
class Name(Text):
    """A person's name: letters of any script, spaces, hyphens, apostrophes and dots."""

    max_length: int = 200

    def clean(self, value: Any, path: str, errors: Errors) -> str | None:
        text = super().clean(value, path, errors)
        if text is None:
            return None
        for char in text:
            if not (unicodedata.category(char)[0] in "LM" or char in NAME_PUNCTUATION):
                errors.add(path, "not_a_name", char=_code_point(char))
                return None
        return text


@dataclass(frozen=True)
class Pattern(Text):
    """Text that must match a regular expression (e-mail, phone, document numbers)."""

    regex: str = ".*"
    #: error code used when the pattern does not match
    code: str = "bad_format"
    xsd_name: str = ""

    def clean(self, value: Any, path: str, errors: Errors) -> str | None:
        text = super().clean(value, path, errors)
        if text is not None and not re.fullmatch(self.regex, text):
            errors.add(path, self.code)
            return None
        return text

    def json_schema(self) -> dict[str, Any]:
        return {**super().json_schema(), "pattern": f"^(?:{self.regex})$"}

    def xsd_facets(self) -> tuple[str, list[tuple[str, str]]] | None:
        if self.xsd_name:
            return None
        return "c:NonEmptyText", [("maxLength", str(self.max_length)), ("pattern", self.regex)]

    @property
    def xsd_type(self) -> str:  # type: ignore[override]
        return self.xsd_name or "xs:string"


def Email(name: str, required: bool = True) -> Pattern:  # noqa: N802 - reads as a type
    """An e-mail address (a deliberately loose check: something@domain.tld)."""
    return Pattern(
        name,
        required,
        max_length=254,
        regex=r"[^@\s]+@[^@\s]+\.[^@\s]+",
        code="bad_email",
        xsd_name="c:Email",
    )


def Phone(name: str, required: bool = True) -> Pattern:  # noqa: N802 - reads as a type
    """A phone number: digits with an optional leading +, spaces, dashes, brackets."""
    return Pattern(
        name,
        required,
        max_length=32,
        regex=r"\+?[0-9][0-9 ()\-]{5,30}",
        code="bad_phone",
        xsd_name="c:Phone",
    )


@dataclass(frozen=True)
class Identifier(Field):
    """A 12-digit IIN or BIN with its check digit."""

    #: "iin" or "bin": picks the error codes and the XSD type
    what: str = "iin"

    def clean(self, value: Any, path: str, errors: Errors) -> str | None:
        if isinstance(value, int | float) and not isinstance(value, bool):
            # as a number an IIN loses its leading zero: refused, never guessed back
            errors.add(path, "number_not_text")
            return None
        if not isinstance(value, str) or not re.fullmatch(r"[0-9]{12}", value.strip()):
            errors.add(path, f"{self.what}_format")
            return None
        value = value.strip()
        if not has_valid_checksum(value):
            errors.add(path, f"{self.what}_checksum")
            return None
        if self.what == "iin" and (value[6] not in "0123456" or not _plausible_iin_date(value)):
            errors.add(path, "iin_date")
            return None
        return value

    @property
    def xsd_type(self) -> str:  # type: ignore[override]
        return "c:IIN" if self.what == "iin" else "c:BIN"

    def json_schema(self) -> dict[str, Any]:
        return {
            "type": "string",
            "pattern": "^[0-9]{12}$",
            "description": f"{self.what.upper()} with a valid check digit",
        }


def _plausible_iin_date(iin: str) -> bool:
    # Century digit 0 is used for foreigners' IINs issued without a birth century;
    # then only the month/day part must be a real calendar day.
    try:
        dt.date(2000, int(iin[2:4]), int(iin[4:6]))
    except ValueError:
        return False
    return True


def Iin(name: str, required: bool = True) -> Identifier:  # noqa: N802 - reads as a type
    """An individual identification number."""
    return Identifier(name, required, what="iin")


def Bin(name: str, required: bool = True) -> Identifier:  # noqa: N802 - reads as a type
    """A business identification number."""
    return Identifier(name, required, what="bin")


@dataclass(frozen=True)
class Date(Field):
    """A calendar date given as ISO ``YYYY-MM-DD``."""

    xsd_type = "c:Date"

    def clean(self, value: Any, path: str, errors: Errors) -> dt.date | None:
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                pass
        errors.add(path, "bad_date")
        return None

    def to_xml_text(self, value: dt.date) -> str:
        return value.isoformat()

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "format": "date"}


@dataclass(frozen=True)
class Month(Field):
    """A calendar month given as ``YYYY-MM`` (the reporting period of a report)."""

    xsd_type = "c:YearMonth"

    def clean(self, value: Any, path: str, errors: Errors) -> dt.date | None:
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}", value.strip()):
            year, month = value.strip().split("-")
            if 1 <= int(month) <= 12 and int(year) >= 1900:
                return dt.date(int(year), int(month), 1)
        errors.add(path, "bad_month")
        return None

    def to_xml_text(self, value: dt.date) -> str:
        return f"{value.year:04d}-{value.month:02d}"

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])$"}


@dataclass(frozen=True)
class Integer(Field):
    """A whole number within bounds."""

    minimum: int = 0
    maximum: int = 1_000_000

    def clean(self, value: Any, path: str, errors: Errors) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int):
            errors.add(path, "not_integer")
            return None
        if not self.minimum <= value <= self.maximum:
            errors.add(path, "out_of_range", min=self.minimum, max=self.maximum)
            return None
        return value

    def json_schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}

    def xsd_facets(self) -> tuple[str, list[tuple[str, str]]]:
        return "xs:int", [("minInclusive", str(self.minimum)), ("maxInclusive", str(self.maximum))]


@dataclass(frozen=True)
class Boolean(Field):
    """True or false."""

    xsd_type = "xs:boolean"

    def clean(self, value: Any, path: str, errors: Errors) -> bool | None:
        if not isinstance(value, bool):
            errors.add(path, "not_boolean")
            return None
        return value

    def to_xml_text(self, value: bool) -> str:
        return "true" if value else "false"

    def json_schema(self) -> dict[str, Any]:
        return {"type": "boolean"}


@dataclass(frozen=True)
class Choice(Field):
    """One value from a fixed list; its labels live in the templates (``choices.NAME.VALUE``)."""

    options: tuple[str, ...] = ()

    def clean(self, value: Any, path: str, errors: Errors) -> str | None:
        if not isinstance(value, str) or value not in self.options:
            errors.add(path, "not_in_choices", choices=", ".join(self.options))
            return None
        return value

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "enum": list(self.options)}

    def xsd_facets(self) -> tuple[str, list[tuple[str, str]]]:
        return "xs:string", [("enumeration", o) for o in self.options]


@dataclass(frozen=True)
class Group(Field):
    """A record of sub-fields, or with ``item`` set, a list of such records.

    In XML a list is a wrapper element named ``name`` holding one ``item`` element
    per entry, so the XML stays readable and the XSD can bound the count.
    """

    fields: tuple[Field, ...] = ()
    item: str | None = None
    min_items: int = 0
    max_items: int | None = None

    @property
    def many(self) -> bool:
        return self.item is not None

    def clean(self, value: Any, path: str, errors: Errors) -> Any:
        if not self.many:
            return clean_record(self.fields, value, path, errors)
        if not isinstance(value, list):
            errors.add(path, "not_list")
            return None
        if len(value) < self.min_items:
            errors.add(path, "too_few", min=self.min_items)
        if self.max_items is not None and len(value) > self.max_items:
            errors.add(path, "too_many", max=self.max_items)
            return None
        return [clean_record(self.fields, v, f"{path}[{i}]", errors) for i, v in enumerate(value)]

    def json_schema(self) -> dict[str, Any]:
        record = record_json_schema(self.fields)
        if not self.many:
            return record
        schema: dict[str, Any] = {"type": "array", "items": record, "minItems": self.min_items}
        if self.max_items is not None:
            schema["maxItems"] = self.max_items
        return schema


def clean_record(fields: tuple[Field, ...], value: Any, path: str, errors: Errors) -> dict | None:
    """Clean a JSON object against ``fields``; unknown keys are errors, not ignored."""
    if not isinstance(value, dict):
        errors.add(path or "$", "not_object")
        return None
    prefix = f"{path}." if path else ""
    known = {f.name: f for f in fields if not f.computed}
    for key in value:
        if key not in known:
            errors.add(f"{prefix}{key}", "unknown_field")
    cleaned: dict[str, Any] = {}
    for f in known.values():
        raw = value.get(f.name, _MISSING)
        if raw is _MISSING or raw is None or raw == "" or raw == []:
            empty_list_allowed = isinstance(f, Group) and f.many and f.min_items == 0 and raw == []
            if f.required and not empty_list_allowed:
                errors.add(f"{prefix}{f.name}", "required")
            cleaned[f.name] = [] if isinstance(f, Group) and f.many else None
            continue
        cleaned[f.name] = f.clean(raw, f"{prefix}{f.name}", errors)
    return cleaned


def record_json_schema(fields: tuple[Field, ...]) -> dict[str, Any]:
    """JSON Schema of an object made of ``fields`` (computed fields excluded)."""
    inputs = [f for f in fields if not f.computed]
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {f.name: f.json_schema() for f in inputs},
        "required": [f.name for f in inputs if f.required],
    }


def walk(fields: tuple[Field, ...], prefix: str = "") -> Iterator[tuple[str, Field]]:
    """Every field with its dotted path (list indices left out), depth first."""
    for f in fields:
        path = f"{prefix}{f.name}"
        yield path, f
        if isinstance(f, Group):
            yield from walk(f.fields, f"{path}.")
