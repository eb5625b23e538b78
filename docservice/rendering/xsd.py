"""The published XSDs: generated from the kind definitions, committed under ``xsd/``.

``docservice xsd --write`` regenerates them and the test suite fails when a
committed file differs from what the definitions generate, so the schema a
partner system downloads is always the one the service validates against.
"""

from __future__ import annotations

from functools import cache

from lxml import etree

from docservice import xmlsafe
from docservice.forms.fields import Field, Group
from docservice.forms.kind import Kind
from docservice.resources import data_dir

XS = "http://www.w3.org/2001/XMLSchema"
COMMON_VERSION = "1"
COMMON_NS = f"urn:kz:docservice:common:v{COMMON_VERSION}"
COMMON_FILE = f"common.v{COMMON_VERSION}.xsd"

# IIN: YYMMDD, a century digit 0-6, then five digits. The check digit is beyond
# XSD 1.0 and is verified in code before any XML is built.
_IIN_PATTERN = r"[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])[0-6][0-9]{5}"
# BIN: YYMM of registration, a type digit (4-6), an attribute digit, five digits.
_BIN_PATTERN = r"[0-9]{2}(0[1-9]|1[0-2])[0-9]{8}"

COMMON_XSD = f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- Common types of every docservice document. Generated: do not edit by hand. -->
<xs:schema xmlns:xs="{XS}" xmlns:c="{COMMON_NS}" targetNamespace="{COMMON_NS}"
           elementFormDefault="qualified" version="{COMMON_VERSION}">
  <xs:import namespace="http://www.w3.org/XML/1998/namespace"
             schemaLocation="xml.xsd"/>
  <xs:simpleType name="IIN">
    <xs:annotation><xs:documentation>Individual identification number; the check
      digit is verified by the service.</xs:documentation></xs:annotation>
    <xs:restriction base="xs:string"><xs:pattern value="{_IIN_PATTERN}"/></xs:restriction>
  </xs:simpleType>
  <xs:simpleType name="BIN">
    <xs:restriction base="xs:string"><xs:pattern value="{_BIN_PATTERN}"/></xs:restriction>
  </xs:simpleType>
  <xs:simpleType name="Date"><xs:restriction base="xs:date"/></xs:simpleType>
  <xs:simpleType name="YearMonth"><xs:restriction base="xs:gYearMonth"/></xs:simpleType>
  <xs:simpleType name="NonEmptyText">
    <xs:restriction base="xs:string"><xs:minLength value="1"/></xs:restriction>
  </xs:simpleType>
  <xs:simpleType name="Email">
    <xs:restriction base="xs:string">
      <xs:maxLength value="254"/><xs:pattern value="[^@\\s]+@[^@\\s]+\\.[^@\\s]+"/>
    </xs:restriction>
  </xs:simpleType>
  <xs:simpleType name="Phone">
    <xs:restriction base="xs:string">
      <xs:pattern value="\\+?[0-9][0-9 ()\\-]{{5,30}}"/>
    </xs:restriction>
  </xs:simpleType>
  <xs:simpleType name="Language">
    <xs:restriction base="xs:string">
      <xs:enumeration value="kk"/><xs:enumeration value="ru"/>
    </xs:restriction>
  </xs:simpleType>
  <xs:simpleType name="Languages">
    <xs:restriction>
      <xs:simpleType><xs:list itemType="c:Language"/></xs:simpleType>
      <xs:minLength value="1"/><xs:maxLength value="2"/>
    </xs:restriction>
  </xs:simpleType>
  <xs:complexType name="LangText">
    <xs:annotation><xs:documentation>A text in one language, tagged with
      xml:lang.</xs:documentation></xs:annotation>
    <xs:simpleContent>
      <xs:extension base="c:NonEmptyText">
        <xs:attribute ref="xml:lang" use="required"/>
      </xs:extension>
    </xs:simpleContent>
  </xs:complexType>
  <xs:element name="title" type="c:LangText"/>
</xs:schema>
"""

# The XML namespace schema, reduced to the one attribute used, so that nothing
# is ever fetched from the network to validate.
XML_XSD = """<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
           targetNamespace="http://www.w3.org/XML/1998/namespace" xml:lang="en">
  <xs:attribute name="lang" type="xs:language"/>
</xs:schema>
"""


def _element(parent: etree._Element, f: Field) -> None:
    if not f.in_xml:
        return
    el = etree.SubElement(parent, f"{{{XS}}}element", name=f.name)
    if not f.required and not (isinstance(f, Group) and f.many):
        el.set("minOccurs", "0")
    if isinstance(f, Group):
        body = el
        if f.many:
            if f.min_items == 0:
                el.set("minOccurs", "0")
            wrapper = etree.SubElement(
                etree.SubElement(el, f"{{{XS}}}complexType"), f"{{{XS}}}sequence"
            )
            body = etree.SubElement(
                wrapper,
                f"{{{XS}}}element",
                name=f.item or "item",
                minOccurs=str(max(f.min_items, 1)),
                maxOccurs=str(f.max_items) if f.max_items else "unbounded",
            )
        seq = etree.SubElement(etree.SubElement(body, f"{{{XS}}}complexType"), f"{{{XS}}}sequence")
        for sub in f.fields:
            _element(seq, sub)
        return
    facets = f.xsd_facets()
    if facets is None:
        el.set("type", f.xsd_type)
        return
    base, items = facets
    restriction = etree.SubElement(
        etree.SubElement(el, f"{{{XS}}}simpleType"), f"{{{XS}}}restriction", base=base
    )
    for facet, value in items:
        etree.SubElement(restriction, f"{{{XS}}}{facet}", value=value)


def generate(kind: Kind) -> str:
    """The XSD text of ``kind``: deterministic, so it can be compared with the file."""
    nsmap = {"xs": XS, "c": COMMON_NS, None: kind.namespace}
    schema = etree.Element(
        f"{{{XS}}}schema",
        nsmap=nsmap,
        targetNamespace=kind.namespace,
        elementFormDefault="qualified",
        version=kind.version,
    )
    schema.append(
        etree.Comment(
            f" {kind.name}: {kind.source}. Generated from "
            f"docservice/forms/{kind.name}.py: do not edit by hand. "
        )
    )
    etree.SubElement(schema, f"{{{XS}}}import", namespace=COMMON_NS, schemaLocation=COMMON_FILE)
    root = etree.SubElement(schema, f"{{{XS}}}element", name=kind.name)
    ctype = etree.SubElement(root, f"{{{XS}}}complexType")
    seq = etree.SubElement(ctype, f"{{{XS}}}sequence")
    etree.SubElement(seq, f"{{{XS}}}element", ref="c:title", maxOccurs="2")
    for f in kind.fields:
        _element(seq, f)
    etree.SubElement(
        ctype,
        f"{{{XS}}}attribute",
        name="schemaVersion",
        type="xs:string",
        use="required",
        fixed=kind.version,
    )
    etree.SubElement(ctype, f"{{{XS}}}attribute", name="lang", type="c:Languages", use="required")
    return etree.tostring(
        schema, pretty_print=True, xml_declaration=True, encoding="UTF-8"
    ).decode()


def published_files(kinds: list[Kind]) -> dict[str, str]:
    """Every file that belongs in ``xsd/``, by name."""
    files = {COMMON_FILE: COMMON_XSD, "xml.xsd": XML_XSD}
    files.update({k.xsd_filename: generate(k) for k in kinds})
    return files


@cache
def schema_for(kind: Kind) -> etree.XMLSchema:
    """The compiled schema of ``kind`` from the committed ``xsd/`` file (compiled once)."""
    path = data_dir("xsd") / kind.xsd_filename
    return etree.XMLSchema(etree.parse(str(path), xmlsafe.PARSER))
