"""The Order 331 Rules carry their official Russian title in every Russian PDF.

As amended by Order No. 78 of 16 March 2021, the Rules (Order No. 331-Ө-М of 22 July 2013,
registered No. 8600) are "Правила и сроки проживания кандасов и членов их семей в Центре
адаптации и интеграции кандасов"; an earlier rendering said "пребывания". The check reads
the rendered PDF, i.e. what an official actually sees in the appendix block.
"""

from __future__ import annotations

import pytest

from .conftest import pdf_text, squash

TITLE = (
    "Правилам и срокам проживания кандасов и членов их семей в Центре адаптации и "
    "интеграции кандасов"
)
APPENDIX = {"direction": 1, "center_application": 2, "journal": 3}


@pytest.mark.parametrize("lang", ["ru", "kk+ru"])
@pytest.mark.parametrize("kind", sorted(APPENDIX))
def test_official_russian_title_in_the_rendered_pdf(
    rendered_examples, kind: str, lang: str
) -> None:
    text = squash(pdf_text(rendered_examples[kind, lang].pdf))
    assert squash(f"Приложение {APPENDIX[kind]} к {TITLE}") in text
    assert "пребывания" not in text
