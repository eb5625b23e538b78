"""A document kind: its fields and rules, written once.

The same ``Kind`` object validates the caller's JSON, shapes the XML, generates
the XSD and the API's JSON Schema, and names the layout that renders it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from docservice.errors import InputError
from docservice.forms.fields import Errors, Field, clean_record, record_json_schema

Rule = Callable[[dict[str, Any], Errors], None]


@dataclass(frozen=True)
class Attachment:
    """A file the PDF/A-3 carries besides its XML (evidence photos, say), as an associated file."""

    name: str
    data: bytes
    mime_type: str
    description: str
    #: the PDF/A-3 AFRelationship (Source, Data, Alternative, Supplement, Unspecified)
    relationship: str = "Supplement"


@dataclass(frozen=True)
class Kind:
    """One official document kind."""

    name: str
    #: where the form comes from, for ``docservice kinds`` and the docs
    source: str
    fields: tuple[Field, ...]
    #: schema version; bump it (and publish a new XSD) on any incompatible change
    version: str = "1"
    landscape: bool = False
    #: one rendered copy per entry (template keys of the addressees); empty: one copy
    copies: tuple[str, ...] = ()
    #: cross-field checks run after every field cleaned without error
    rules: tuple[Rule, ...] = ()
    #: values computed from the cleaned input (the fields marked ``computed``)
    derive: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    #: True when the rules give no form and the layout is the service's own design
    own_layout: bool = False
    #: files of the cleaned input to embed in the PDF/A-3 beside the XML
    attachments: Callable[[dict[str, Any]], list[Attachment]] | None = None

    @property
    def namespace(self) -> str:
        return f"urn:kz:docservice:{self.name}:v{self.version}"

    @property
    def xsd_filename(self) -> str:
        return f"{self.name}.v{self.version}.xsd"

    def validate(self, data: Any) -> dict[str, Any]:
        """Clean ``data`` or raise :class:`InputError` listing every bad field."""
        errors = Errors()
        cleaned = clean_record(self.fields, data, "", errors)
        if not errors:
            for rule in self.rules:
                rule(cleaned, errors)
        if errors:
            raise InputError(errors, self.name)
        assert cleaned is not None
        if self.derive:
            cleaned.update(self.derive(cleaned))
        return cleaned

    def json_schema(self) -> dict[str, Any]:
        """The JSON Schema of this kind's input, as the HTTP API publishes it."""
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": self.namespace,
            "title": self.name,
            **record_json_schema(self.fields),
        }
