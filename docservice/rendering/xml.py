"""The XML of a document: the cleaned data in the kind's namespace, no layout."""

from __future__ import annotations

from typing import Any

from lxml import etree

from docservice.errors import DocserviceError
from docservice.forms.fields import Field, Group
from docservice.forms.kind import Kind
from docservice.rendering.xsd import COMMON_NS, schema_for
from docservice.texts import texts_for

XML_NS = "http://www.w3.org/XML/1998/namespace"


class SchemaViolationError(DocserviceError):
    """The XML the service built does not match its own XSD: a bug, never the caller's."""

    code, status = "internal", 500


def _append(parent: etree._Element, ns: str, f: Field, value: Any) -> None:
    if value is None or not f.in_xml or (isinstance(f, Group) and f.many and not value):
        return
    el = etree.SubElement(parent, f"{{{ns}}}{f.name}")
    if isinstance(f, Group):
        records = value if f.many else [value]
        for record in records:
            holder = etree.SubElement(el, f"{{{ns}}}{f.item}") if f.many else el
            for sub in f.fields:
                _append(holder, ns, sub, record.get(sub.name))
        return
    el.text = f.to_xml_text(value)


def build_xml(kind: Kind, data: dict[str, Any], langs: tuple[str, ...]) -> bytes:
    """Serialise cleaned ``data`` and check it against the published XSD."""
    ns = kind.namespace
    root = etree.Element(
        f"{{{ns}}}{kind.name}",
        nsmap={None: ns, "c": COMMON_NS},
        schemaVersion=kind.version,
        lang=" ".join(langs),
    )
    for lang in langs:
        title = etree.SubElement(root, f"{{{COMMON_NS}}}title")
        title.set(f"{{{XML_NS}}}lang", lang)
        title.text = texts_for(lang).get(kind.name, "title")
    for f in kind.fields:
        _append(root, ns, f, data.get(f.name))
    schema = schema_for(kind)
    if not schema.validate(root):
        raise SchemaViolationError(f"{kind.name}: generated XML breaks its XSD: {schema.error_log}")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
