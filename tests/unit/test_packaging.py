"""Installing like a Python project: pyproject dependencies, the wheel's files and ``myn``.

The wheel is built offline (no build isolation, setuptools from the dev requirements) from a copy
of the sources, so the work tree gets no build folders. It is then installed into a fresh venv
that borrows this environment's dependencies, and ``myn inspect`` runs from outside the tree.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _requirement_lines(path: Path) -> list[str]:
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            lines.append(line)
    return lines


def test_pyproject_declares_the_requirements_txt_dependencies() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert sorted(project["dependencies"]) == sorted(_requirement_lines(ROOT / "requirements.txt"))
    assert project["scripts"] == {"myn": "diagnostics.cli:main"}


def test_lock_files_pin_every_requirement_with_hashes() -> None:
    for lock, source in (("requirements.lock", "requirements.txt"),
                         ("requirements-dev.lock", "requirements-dev.txt")):
        text = (ROOT / lock).read_text(encoding="utf-8")
        pinned = {m.group(1).lower() for m in re.finditer(r"^([A-Za-z0-9_.\-]+)==", text, re.M)}
        for requirement in _requirement_lines(ROOT / source):
            name = re.split(r"[\[<>=!~ ]", requirement, maxsplit=1)[0].lower()
            assert name in pinned, f"{name} is not pinned in {lock}"
        hashed = r"^[A-Za-z0-9_.\-]+==\S+ \\\n((?:\s+--hash=\S+(?: \\)?\n)+)"
        blocks = re.findall(hashed, text, re.M)
        assert len(blocks) == len(pinned), f"a pin in {lock} has no hash"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "diagnostics", source / "diagnostics",
                    ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "--quiet", str(source), "-w", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    (built,) = out.glob("make_your_number-*.whl")
    return built


def test_wheel_holds_the_core_its_content_files_and_the_myn_script(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    content = {str(p.relative_to(ROOT)) for p in (ROOT / "diagnostics/content").rglob("*")
               if p.is_file() and "__pycache__" not in p.parts}
    assert content and content <= names
    modules = {str(p.relative_to(ROOT)) for p in (ROOT / "diagnostics").rglob("*.py")}
    assert modules <= names
    assert "diagnostics/py.typed" in names
    assert not any(n.startswith(("tests/", "pages/", "ui/", "bench/")) for n in names)
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "[console_scripts]" in text and "myn = diagnostics.cli:main" in text


def test_installed_myn_inspects_the_sample_from_outside_the_tree(
    wheel: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)
    python = venv / "bin" / "python"
    # The dependencies come from this environment (a .pth file), the project only from the wheel.
    purelib = subprocess.run([str(python), "-c", "import sysconfig; "
                              "print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    Path(purelib, "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
         "--no-index", "--quiet", str(wheel)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    run = subprocess.run(
        [str(venv / "bin" / "myn"), "inspect", str(ROOT / "sample_data" / "opportunities.csv"),
         "--json"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert (report["kind"], report["rows"], report["rejected"]) == ("opportunities", 5000, 0)
    where = subprocess.run([str(python), "-c", "import diagnostics; print(diagnostics.__file__)"],
                           cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(venv))
