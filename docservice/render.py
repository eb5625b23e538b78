"""The rendering pipeline: validated input -> XML (checked against its XSD) -> PDF/A-3b."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docservice.atomic import write_together
from docservice.errors import DocserviceError, InputError
from docservice.forms import get_kind
from docservice.forms.fields import Errors
from docservice.forms.kind import Kind
from docservice.languages import LANG_CHOICES
from docservice.texts import texts_for


class BadLanguageError(DocserviceError):
    """The requested language is not kk, ru or kk+ru."""

    code = "bad_language"


def parse_lang(lang: str) -> tuple[str, ...]:
    if lang not in LANG_CHOICES:
        raise BadLanguageError(f"language must be one of {', '.join(LANG_CHOICES)}, not {lang!r}")
    return tuple(lang.split("+"))


def file_stem(kind: str, lang: str) -> str:
    """``application-kk-ru``: the name of the PDF, the XML and the XML inside the PDF."""
    return f"{kind}-{lang.replace('+', '-')}"


@dataclass(frozen=True)
class Rendered:
    """A rendered document: the PDF/A-3b (XML inside) and the same XML beside it."""

    kind: str
    lang: str
    pdf: bytes
    xml: bytes

    @property
    def stem(self) -> str:
        return file_stem(self.kind, self.lang)


def render(
    kind_name: str,
    data: Any,
    lang: str,
    *,
    validate_pdfa: bool = True,
    now: dt.datetime | None = None,
) -> Rendered:
    """Validate ``data`` and render it; raises :class:`InputError` with every bad field."""
    parse_lang(lang)
    kind = get_kind(kind_name)
    return render_valid(kind, kind.validate(data), lang, validate_pdfa=validate_pdfa, now=now)


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, sub in value.items():
            yield from _strings(sub, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            yield from _strings(sub, f"{path}[{i}]")


def check_printable(kind: Kind, cleaned: dict[str, Any]) -> None:
    """Refuse, naming the field and the code point, a character no embedded face prints."""
    from docservice.rendering import fonts

    errors = Errors()
    for path, value in _strings(cleaned, ""):
        char = fonts.unprintable(value)
        if char is not None:
            errors.add(path, "no_glyph", char=f"U+{ord(char):04X}")
    if errors:
        raise InputError(errors, kind.name)


def render_valid(
    kind: Kind,
    cleaned: dict[str, Any],
    lang: str,
    *,
    validate_pdfa: bool = True,
    now: dt.datetime | None = None,
) -> Rendered:
    """Render data that ``kind.validate`` (or :func:`~docservice.forms.json_input.parse_input`)
    returned; raises :class:`InputError` for a character no embedded font has."""
    # Imported here: ReportLab and pikepdf cost a command that renders nothing (``docservice
    # verify``, ``sign``, ``kinds``) about half a second of start-up.
    from docservice.rendering.pdf import render_pdf
    from docservice.rendering.pdfa import to_pdfa3
    from docservice.rendering.xml import build_xml

    langs = parse_lang(lang)
    check_printable(kind, cleaned)
    xml = build_xml(kind, cleaned, langs)
    title = " / ".join(texts_for(lg).get(kind.name, "title") for lg in langs)
    pdf, signature_place = render_pdf(kind, cleaned, langs, title=title)
    pdfa = to_pdfa3(
        pdf,
        xml,
        f"{file_stem(kind.name, lang)}.xml",
        title=title,
        lang=langs[0],
        created=now or dt.datetime.now(dt.UTC),
        signature_place=signature_place,
        validate=validate_pdfa,
        attachments=kind.attachments(cleaned) if kind.attachments else (),
    )
    return Rendered(kind.name, lang, pdfa, xml)


def write(rendered: Rendered, out_dir: Path) -> tuple[Path, Path]:
    """Write the PDF and the XML into ``out_dir``; both appear, or neither does."""
    out_dir.mkdir(parents=True, exist_ok=True)
    targets = (out_dir / f"{rendered.stem}.pdf", out_dir / f"{rendered.stem}.xml")
    write_together([(targets[0], rendered.pdf), (targets[1], rendered.xml)])
    return targets
