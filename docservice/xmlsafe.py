"""The one XML parser for every document the service did not write itself.

Why one: XML arrives from callers, NCALayer, eGov mobile and uploads for verification, and
a single hardened configuration is easier to get right (and to test) than five slightly
different ones. The parser

* never touches the network (``no_network``) and never loads a DTD (``load_dtd``), so an
  external DTD or entity cannot read a local file or reach a server (XXE, SSRF);
* never substitutes entities (``resolve_entities``), so a "billion laughs" document stays
  small: its references remain unexpanded nodes, which :func:`parse` refuses;
* keeps libxml2's default limits (``huge_tree`` off: 256 levels, 10 MB per text node),
  which the largest rendered document (an Appendix 3 report of 100,000 rows: many small
  nodes, three levels) and the committed XSD files stay far below;
* keeps comments, processing instructions and whitespace, because signatures cover them
  and callers compare documents byte-for-byte after C14N.

Callers choose only whether a DOCTYPE may be present at all (:func:`parse`); everything
else is this module's business, and :class:`XmlRefusedError` says why a document was refused.
"""

from __future__ import annotations

from typing import Literal

from lxml import etree

Refusal = Literal["unreadable", "dtd", "too_big"]


class XmlRefusedError(ValueError):
    """The bytes are not XML this service reads: ``reason`` is one of :data:`Refusal`."""

    def __init__(self, reason: Refusal, detail: str = "") -> None:
        super().__init__(f"{reason}{': ' + detail if detail else ''}")
        self.reason: Refusal = reason
        self.detail = detail


def hardened_parser() -> etree.XMLParser:
    """A new parser with the hardened settings (signxml and lxml APIs take a parser)."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
        remove_comments=False,
        remove_pis=False,
    )


#: Shared instance: lxml serialises concurrent use of one parser, so threads may share it.
PARSER = hardened_parser()


def _declares_dtd(data: bytes) -> bool:
    """A DOCTYPE or entity declaration, looked for before parsing; UTF-16 is refused too,
    because the byte search would miss a declaration in it."""
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    return b"<!DOCTYPE" in data or b"<!ENTITY" in data or head[:2] in (b"\xff\xfe", b"\xfe\xff")


def parse(
    data: bytes,
    *,
    allow_doctype: bool = False,
    max_depth: int | None = None,
    max_elements: int | None = None,
) -> etree._Element:
    """The document element of ``data``, parsed by :data:`PARSER`.

    ``allow_doctype``: a DOCTYPE (never loaded, never expanded) is kept for callers that
    compare it themselves (two-phase XML); otherwise any DTD is refused outright.
    ``max_depth`` / ``max_elements``: tighter bounds than libxml2's, for uploads.
    """
    if not allow_doctype and _declares_dtd(data):
        raise XmlRefusedError("dtd")
    try:
        root = etree.fromstring(data, PARSER)
    except etree.XMLSyntaxError as exc:
        raise XmlRefusedError("unreadable", str(exc)) from None
    tree = root.getroottree()
    if not allow_doctype and (tree.docinfo.doctype or tree.docinfo.internalDTD is not None):
        raise XmlRefusedError("dtd")
    for count, element in enumerate(root.iter(), start=1):
        if isinstance(element, etree._Entity) and not allow_doctype:
            raise XmlRefusedError("dtd")
        if max_elements is not None and count > max_elements:
            raise XmlRefusedError("too_big", f"more than {max_elements} elements")
    if max_depth is not None and _depth(root, max_depth) > max_depth:
        raise XmlRefusedError("too_big", f"deeper than {max_depth}")
    return root


def _depth(root: etree._Element, cap: int) -> int:
    deepest = 0
    for element in root.iter():
        level = 0
        node: etree._Element | None = element
        while node is not None and level <= cap:
            node = node.getparent()
            level += 1
        deepest = max(deepest, level)
        if deepest > cap:
            break
    return deepest
