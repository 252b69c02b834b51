"""A session's first run has the browser load the element code of the other pages when idle."""

from __future__ import annotations

import json
import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

from ui import prefetch

ROOT = Path(__file__).resolve().parents[2]


def _scripts(at: AppTest) -> list[str]:
    return [e.proto.body for e in at.sidebar if getattr(e, "type", "") == "html"]


def test_every_chunk_is_found_in_the_installed_streamlit() -> None:
    # A Streamlit upgrade that renames an element's chunk fails here: the list needs a look.
    files = prefetch.chunk_files()
    assert [name.split(".")[0] for name in files] == list(prefetch.CHUNKS)
    folder = prefetch._STATIC_JS
    assert all((folder / name).is_file() for name in files)


def test_chunks_are_matched_by_element_name_and_hash_only(tmp_path: Path) -> None:
    for name in ("Button.AbC-1_x.js", "Button.zzz.js.map", "ButtonGroup.Q1.js", "embed.E1.js",
                 "embed.esm.E2.js", "index.I1.js"):
        (tmp_path / name).write_text("")
    files = prefetch.chunk_files.__wrapped__(tmp_path)
    # In CHUNKS' order; the "embed.esm" module is another file, not the chart library's chunk.
    assert files == ("embed.E1.js", "ButtonGroup.Q1.js", "Button.AbC-1_x.js")
    assert prefetch.chunk_files.__wrapped__(tmp_path / "missing") == ()


def test_the_script_loads_the_files_one_at_a_time_when_idle() -> None:
    script = prefetch.prefetch_script(("Metric.M1.js", "Table.T1.js"))
    assert script.startswith("<script>") and script.endswith("</script>")
    queue = re.search(r"const queue = (\[.*?\])\.map", script)
    assert queue is not None and json.loads(queue.group(1)) == ["Metric.M1.js", "Table.T1.js"]
    assert script.count(str(prefetch.QUIET_MS)) == 3  # first wait, and both checks before a load
    assert "requestIdleCallback" in script and "%(" not in script


def test_only_a_sessions_first_run_carries_the_script() -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    scripts = _scripts(at)
    assert len(scripts) == 1 and "ArrowVegaLiteChart." in scripts[0]
    assert all(e.proto.unsafe_allow_javascript for e in at.sidebar if e.type == "html")
    at.run()
    assert _scripts(at) == []
    assert not at.exception
