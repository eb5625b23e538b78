"""The language texts of the forms, read from ``templates_kk/`` and ``templates_ru/``.

Each YAML file holds up to three sections, keyed the same in both languages:

``seed``
    sentences taken word for word from the official texts in ``shared/seeds``
    (the tests find every one of them there and in the rendered PDF);
``translation``
    this language's rendering of a ``seed`` text that the seeds give only in the
    other language (the official text in this language is not in the seeds);
``own``
    the service's own wording: field labels, error messages, month names and the
    headings of forms for which the rules give no layout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

import yaml

from docservice.resources import data_dir

LANGS = ("kk", "ru")
SECTIONS = ("seed", "translation", "own")


@dataclass(frozen=True)
class Text:
    """One text with the section it came from."""

    value: str
    section: str


def _flatten(node: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _flatten(value, f"{prefix}.{key}" if prefix else str(key), out)
    else:
        out[prefix] = node


def load_file(lang: str, doc: str) -> dict[str, Text]:
    """Every text of ``templates_<lang>/<doc>.yaml`` by flattened key."""
    path = data_dir(f"templates_{lang}") / f"{doc}.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    unknown = set(raw) - set(SECTIONS)
    if unknown:
        raise ValueError(f"{path}: unknown sections {sorted(unknown)}")
    texts: dict[str, Text] = {}
    for section in SECTIONS:
        flat: dict[str, Any] = {}
        _flatten(raw.get(section) or {}, "", flat)
        for key, value in flat.items():
            if key in texts:
                raise ValueError(f"{path}: key {key!r} appears in two sections")
            if not isinstance(value, str):
                raise ValueError(f"{path}: {key!r} must be text, not {type(value).__name__}")
            texts[key] = Text(
                " ".join(value.split()) if section != "own" else value.strip(), section
            )
    return texts


def template_docs(lang: str) -> list[str]:
    """The names of the template files present for ``lang``."""
    return sorted(p.stem for p in data_dir(f"templates_{lang}").glob("*.yaml"))


class Texts:
    """The texts of one language, looked up by document and key."""

    def __init__(self, lang: str) -> None:
        if lang not in LANGS:
            raise ValueError(f"unknown language {lang!r}")
        self.lang = lang
        self._docs = {doc: load_file(lang, doc) for doc in template_docs(lang)}

    def get(self, doc: str, key: str, **params: Any) -> str:
        """The text ``key`` of ``doc``; ``{name}`` placeholders filled from ``params``."""
        try:
            value = self._docs[doc][key].value
        except KeyError:
            raise KeyError(f"no text {key!r} in templates_{self.lang}/{doc}.yaml") from None
        return value.format(**params) if params else value

    def has(self, doc: str, key: str) -> bool:
        return key in self._docs.get(doc, {})

    def keys(self, doc: str, prefix: str = "") -> list[str]:
        return [k for k in self._docs[doc] if k.startswith(prefix)]

    def field_label(self, kind: str, path: str) -> str:
        """The label of a field path such as ``family[2].iin`` (indices ignored)."""
        bare = re.sub(r"\[\d+\]", "", path)
        for doc, key in ((kind, f"fields.{bare}"), ("common", f"fields.{bare.rsplit('.', 1)[-1]}")):
            if self.has(doc, key):
                return self.get(doc, key)
        return bare

    def error_message(self, kind: str, path: str, code: str, params: dict[str, Any]) -> str:
        if "other" in params:  # another field named by a rule: show its label, not its key
            params = {**params, "other": self.field_label(kind, params["other"])}
        reason = self.get("common", f"errors.{code}", **params)
        return self.get(
            "common", "errors.format", label=self.field_label(kind, path), path=path, reason=reason
        )

    def date(self, value: Any) -> str:
        """A date written the way the forms write it in this language."""
        month = self.get("common", f"date_months.{value.month}")
        return self.get(
            "common", "date_format", day=f"{value.day:02d}", month=month, year=value.year
        )

    def month(self, value: Any) -> str:
        """A reporting month (``қараша 2026`` / ``ноябрь 2026``)."""
        return self.get(
            "common",
            "month_format",
            month=self.get("common", f"months.{value.month}"),
            year=value.year,
        )


@cache
def texts_for(lang: str) -> Texts:
    """The shared, read-only ``Texts`` of a language (loaded once per process)."""
    return Texts(lang)
