"""Conventions the code base enforces on itself."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_diagnostics_never_imports_streamlit() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "diagnostics").rglob("*.py")
        if "streamlit" in _imports(p)
    ]
    assert offenders == []


def test_pages_never_run_sql_or_use_unsafe_html() -> None:
    for page in [ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "ui").glob("*.py")]:
        text = page.read_text(encoding="utf-8")
        assert "unsafe_allow_html=True" not in text, page.name
        assert ".execute(" not in text and "duckdb" not in _imports(page), page.name


def test_shared_data_cache_is_never_used() -> None:
    """st.cache_data is shared by every session: per-user data goes in session state instead."""
    used = re.compile(r"@st\.cache_data|st\.cache_data\(")
    for page in [ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "ui").glob("*.py")]:
        assert not used.search(page.read_text(encoding="utf-8")), page.name


def test_every_diagnostics_module_has_its_own_test_file() -> None:
    missing = []
    for module in (ROOT / "diagnostics").glob("*.py"):
        if module.stem not in ("__init__", "__main__") and not (
                ROOT / "tests" / "unit" / f"test_{module.stem}.py").exists():
            missing.append(module.stem)
    for module in (ROOT / "diagnostics" / "charts").glob("*.py"):
        if module.stem != "__init__" and not (
                ROOT / "tests" / "unit" / f"test_charts_{module.stem}.py").exists():
            missing.append(f"charts/{module.stem}")
    assert missing == []


def test_every_command_is_exercised_by_a_test() -> None:
    tests = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").rglob("test_*.py"))
    for command in ("inspect", "funnel", "plan", "quadrant", "score", "questions", "leadership",
                    "workshop", "forecast"):
        assert f'"{command}"' in tests, command


def test_only_the_factory_constructs_a_workshop_store() -> None:
    """The app, the commands and the benchmarks get their store from ``open_store``."""
    constructed = re.compile(r"\b(DuckDBStore|PostgresStore)\(")
    places = [ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "ui").rglob("*.py"),
              *(ROOT / "bench").glob("*.py"), *(ROOT / "diagnostics").rglob("*.py")]
    offenders = [
        str(p.relative_to(ROOT)) for p in places
        if constructed.search(p.read_text(encoding="utf-8"))
        and p.parent.name != "workshop_store"
    ]
    assert offenders == []
