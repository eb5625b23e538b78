"""The signature area: the names the renderer and the signing adapter must agree on.

The renderer (``docservice.rendering``) draws a box on the last page and records it as a
named destination; the adapter (``signing``) finds that destination and places one stamp
per signer inside it, below the hint line. Both sides read these values from here.

Why a module of its own, importing nothing of the project: ``signing`` must not depend on
the renderer (it signs any PDF, ours or a foreign one), and the renderer should not
depend on the adapter either. A small contract below both keeps each free of the other;
it holds plain values, so it stays importable from anywhere without pulling in ReportLab
or pyHanko.
"""

from __future__ import annotations

_MM = 72 / 25.4  # one millimetre in PDF points

#: Named destination (``/FitR`` page left bottom right top) of the signature area.
SIGNATURE_DEST = "docservice-signatures"
#: Band at the top of the area that holds the hint line; stamps go below it (points).
SIGNATURE_HINT_BAND = 5 * _MM
