"""Every colour a chart draws data with, and the WCAG contrast each has against the page.

Charts sit on the app's light theme (white). WCAG 2.2 asks non-text graphics that carry meaning
(bars, points, lines) for a contrast of at least 3:1 against what is next to them (criterion
1.4.11); every colour here meets it, and a test computes each ratio. Continuous colour scales
(the heatmaps' red-blue) fade to white in the middle by design: each of their cells also prints
its value as text, black or white as the cell needs, so colour never carries the value alone.
"""

from __future__ import annotations

__all__ = ["BACKGROUND", "MIN_CONTRAST", "PALETTE", "contrast_ratio", "relative_luminance"]

BACKGROUND = "#ffffff"  # the light theme of .streamlit/config.toml
MIN_CONTRAST = 3.0

# name → colour; chart modules take their colours from here.
PALETTE: dict[str, str] = {
    "moved_on": "#4c78a8",
    "open_here": "#a77400",
    "lost_here": "#d1403f",
    "won": "#3f8a37",
    "too_few": "#8c8c8c",
    "not_lost": "#2a8a84",
    "short": "#5f7fa3",
    "line": "#555555",
    "rep": "#1565c0",
    "team": "#78909c",
    "team_average": "#767676",
    "bar": "#4c78a8",
    "bar_dark": "#1f4e79",
    "binding": "#b3261e",
    "rule": "#666666",
    "whisker": "#333333",
    "ink": "#303030",
    "mid": "#7a7a7a",
    "light": "#8a8a8a",
}


def relative_luminance(colour: str) -> float:
    """Return the WCAG relative luminance of a ``#rgb`` or ``#rrggbb`` colour (0 black, 1 white)."""
    value = colour.lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    channels = [int(value[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(first: str, second: str = BACKGROUND) -> float:
    """Return the WCAG contrast ratio of two colours (1 to 21)."""
    high, low = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)
