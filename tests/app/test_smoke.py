"""Every page renders from the real entry point without an exception."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.app.conftest import TITLES, OpenPage

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("page", list(TITLES))
def test_page_renders_without_exception(open_page: OpenPage, page: str, workshop_db: Path) -> None:
    open_page(page)  # checks the title, then that no exception was shown


def test_every_page_file_is_in_the_navigation() -> None:
    app = (ROOT / "app.py").read_text(encoding="utf-8")
    for page in (ROOT / "pages").glob("*.py"):
        assert f'"pages/{page.name}"' in app, page.name
    assert set(TITLES) == {f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py")}
