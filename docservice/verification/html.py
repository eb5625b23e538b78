"""Bilingual HTML rendering of a report (Jinja2, autoescape always on).

Why autoescape matters here: every name, organisation and file name on the page comes
from a certificate or an upload the official did not make; a subject like
``<script>`` must show as text. The same templates serve the web page and the standalone
report, so the two never disagree.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from docservice.timefmt import utc_text
from docservice.verification import messages
from docservice.verification.report import Report

TEMPLATES = Path(__file__).resolve().parent.parent / "web" / "templates"


#: The report's times, as every other place prints them (:mod:`docservice.timefmt`).
fmt_time = utc_text


@cache
def environment() -> Environment:
    """One Jinja environment for the package; autoescape for every template."""
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["ts"] = fmt_time
    env.globals["ui"] = messages.ui
    env.globals["indication_label"] = lambda ind, lang: messages.INDICATIONS[str(ind)][
        0 if lang == "kk" else 1
    ]
    return env


def render_report(report: Report, lang: str = "kk", *, both: bool = True) -> str:
    """A standalone page; ``both`` shows every reason in Kazakh *and* Russian."""
    env = environment()
    return env.get_template("report_page.html").render(
        report=report, lang=lang, langs=("kk", "ru") if both else (lang,)
    )
