"""The PAdES baseline levels, in a module of their own.

Why not in :mod:`signing.pdf`, which uses them: ``docservice sign`` offers them as the
choices of ``--level``, and building the command line's parser must not load pyHanko, the
stamp's fonts and aiohttp (every ``docservice`` run builds the whole parser).
:mod:`signing.pdf` re-exports :class:`Level`.
"""

from __future__ import annotations

import enum


class Level(enum.StrEnum):
    """PAdES baseline levels."""

    B_B = "B-B"
    B_T = "B-T"
    B_LT = "B-LT"
    B_LTA = "B-LTA"

    @property
    def rank(self) -> int:
        return list(Level).index(self)
