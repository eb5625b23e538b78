"""Where the shipped data lives: template folders, XSDs and fonts.

In a source checkout (editable install) they sit at the repository top level; a
built wheel carries them under ``docservice/_data``. Code asks here instead of
guessing paths, so both layouts work.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@cache
def data_dir(name: str) -> Path:
    """Return the folder ``name`` (``templates_kk``, ``templates_ru``, ``xsd``)."""
    for base in (_PACKAGE / "_data", _PACKAGE.parent):
        candidate = base / name
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"shipped data folder {name!r} is missing from the installation")


FONTS_DIR = _PACKAGE / "fonts"
