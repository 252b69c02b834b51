"""Every chart colour keeps at least 3:1 contrast against the page (WCAG 2.2, 1.4.11)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from diagnostics.charts.palette import (
    BACKGROUND,
    MIN_CONTRAST,
    PALETTE,
    contrast_ratio,
    relative_luminance,
)
from diagnostics.quadrant import load_content

CHARTS = Path(__file__).resolve().parents[2] / "diagnostics" / "charts"


@pytest.mark.parametrize(("first", "second", "expected"), [
    ("#000000", "#ffffff", 21.0), ("#ffffff", "#ffffff", 1.0), ("#777777", "#ffffff", 4.48),
    ("#fff", "#000", 21.0), ("#4c78a8", "#ffffff", 4.61),
])
def test_contrast_ratio_matches_wcag(first: str, second: str, expected: float) -> None:
    assert contrast_ratio(first, second) == pytest.approx(expected, abs=0.01)
    assert relative_luminance("#ffffff") == pytest.approx(1.0)


@pytest.mark.parametrize("name", sorted(PALETTE))
def test_every_palette_colour_stands_out_from_the_page(name: str) -> None:
    assert contrast_ratio(PALETTE[name], BACKGROUND) >= MIN_CONTRAST, PALETTE[name]


def test_every_quadrant_colour_stands_out_from_the_page() -> None:
    colours = {q.name: q.colour for q in load_content().quadrants.values()}
    assert colours
    for name, colour in colours.items():
        assert contrast_ratio(colour) >= MIN_CONTRAST, (name, colour)


def test_chart_modules_take_every_colour_from_the_palette() -> None:
    literal = re.compile(r"[\"']#[0-9a-fA-F]{3,8}[\"']")
    for module in CHARTS.glob("*.py"):
        if module.name == "palette.py":
            continue
        assert not literal.findall(module.read_text()), module.name
