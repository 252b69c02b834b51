"""Every page renders from the real entry point without an exception."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
PAGES = {
    "pages/home.py": "Make Your Number",
    "pages/data.py": "Data",
    "pages/make_your_number.py": "Make your number",
    "pages/leadership.py": "Leadership model",
    "pages/funnel.py": "Funnel",
    "pages/quadrant.py": "Rep quadrant",
    "pages/forecast.py": "Forecast",
    "pages/workshop.py": "Workshop",
}


@pytest.mark.parametrize("page", list(PAGES))
def test_page_renders_without_exception(page: str, workshop_db: Path) -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    assert at.title[0].value.startswith(PAGES[page])


def test_every_page_file_is_in_the_navigation() -> None:
    app = (ROOT / "app.py").read_text(encoding="utf-8")
    for page in (ROOT / "pages").glob("*.py"):
        assert f'"pages/{page.name}"' in app, page.name
    assert set(PAGES) == {f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py")}
