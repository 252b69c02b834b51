"""Command-line entry for the score analysis (registered by diagnostics.cli)."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    """Add this module's commands to the python -m diagnostics parser."""
    _ = (sub, argparse)
