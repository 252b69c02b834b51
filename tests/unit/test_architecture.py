"""Conventions the code base enforces on itself."""

from __future__ import annotations

import argparse
import ast
import re
import tomllib
from pathlib import Path

from diagnostics.cli import build_parser

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


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Return every runnable command as words: ("funnel",), ("workshop", "create")."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return [path]
    return [c for name, child in subs[0].choices.items() for c in _commands(child, (*path, name))]


def _leading_words(nodes: list[ast.expr]) -> tuple[str, ...]:
    words: list[str] = []
    for node in nodes:
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            break
        words.append(node.value)
    return tuple(words)


def _invocations(path: Path) -> set[tuple[str, ...]]:
    """Return the argument lists a test file runs: main(["funnel", ...]), _cli("inspect", ...)."""
    found: set[tuple[str, ...]] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and node.args:
            first = node.args[0]
            items = first.elts if isinstance(first, ast.List | ast.Tuple) else node.args
            found.add(_leading_words(items))
        elif isinstance(node, ast.List | ast.Tuple):  # [python, "-m", "diagnostics", "inspect"]
            values = [e.value if isinstance(e, ast.Constant) else None for e in node.elts]
            if "diagnostics" in values:
                found.add(_leading_words(node.elts[values.index("diagnostics") + 1:]))
    return found


def test_every_command_is_exercised_by_a_test() -> None:
    me = Path(__file__).resolve()
    runs = set().union(*(_invocations(p) for p in (ROOT / "tests").rglob("test_*.py") if p != me))
    commands = _commands(build_parser())
    assert len(commands) >= 8
    missing = [c for c in commands if not any(run[: len(c)] == c for run in runs)]
    assert missing == []


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


def test_readme_names_every_module() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    modules = [
        f"{p.parent.relative_to(ROOT)}/" if p.name == "__init__.py" else str(p.relative_to(ROOT))
        for folder in ("diagnostics", "ui")
        for p in [*(ROOT / folder).glob("*.py"), *(ROOT / folder).glob("*/__init__.py")]
        if p.name not in ("__main__.py",) and p.parent.name != "content"
        and p != ROOT / folder / "__init__.py"
    ]
    assert len(modules) > 20
    assert [m for m in sorted(modules) if f"`{m}`" not in readme] == []


def test_the_table_toolbar_cannot_export_live_formulas() -> None:
    """st.dataframe's own CSV download keeps formulas live: it is off; the app's own is safe."""
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["disableDataExport"] is True
    # Where a table holds names worth keeping, the page offers the neutralised download.
    for path, download in (("ui/quadrant_views.py", "to_csv_bytes("),
                           ("ui/workshop_dashboard.py", "to_csv_bytes(")):
        assert download in (ROOT / path).read_text(encoding="utf-8"), path
