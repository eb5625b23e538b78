"""The languages a document is rendered in: ``kk``, ``ru`` or both in one file.

A module of its own so that the command line can offer them as choices without loading
the forms and the texts: building ``docservice``'s parser must stay cheap, since every
``docservice ... --help`` and every sub-command pays for it before any work.
"""

from __future__ import annotations

LANG_CHOICES = ("kk", "ru", "kk+ru")
