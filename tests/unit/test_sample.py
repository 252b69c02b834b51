"""The bundled sample loads through the real loader and has the promised shape."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

from diagnostics.sample import load_sample

ROOT = Path(__file__).resolve().parents[2]


def test_sample_shape() -> None:
    result = load_sample()
    ds = result.dataset
    counts = ds.con.execute(
        "SELECT (SELECT count(*) FROM opportunities), (SELECT count(DISTINCT rep) FROM "
        "opportunities), (SELECT count(*) FROM activities), (SELECT count(*) FROM stage_history)"
    ).fetchall()[0]
    assert counts[0] == 5000 and counts[1] == 40 and counts[2] == 60000 and counts[3] > 10000
    assert all(t.report.rows_rejected == 0 for t in result.tables)
    assert result.stages.funnel == ("Lead", "Discovery", "Demo", "Trial", "Proposal",
                                    "Negotiation")
    assert result.stages.excluded == ("On hold",)
    closed = dict(ds.con.execute(
        "SELECT rep, count(*) FROM opportunities WHERE status <> 'open' GROUP BY 1").fetchall())
    assert sum(1 for n in closed.values() if n < 5) >= 2 or len(closed) < 40
    # Clean names: hostile ones live in tests/fixtures/exports, not in the demo.
    assert not any(rep.startswith(("=", "+", "-", "@")) for rep in ds.filter_values("rep"))


def test_generator_is_deterministic() -> None:
    sys.path.insert(0, str(ROOT / "sample_data"))
    try:
        import generate  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    first = generate.generate(random.Random(generate.SEED))
    second = generate.generate(random.Random(generate.SEED))
    assert first[0] == second[0] and first[2][:100] == second[2][:100]
    committed = (ROOT / "sample_data" / "opportunities.csv").read_text().splitlines()
    assert committed[1].startswith(first[0][0]["opportunity_id"])
    assert len(committed) == len(first[0]) + 1


def test_cli_runs_as_a_module() -> None:
    done = subprocess.run([sys.executable, "-m", "diagnostics", "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "inspect" in done.stdout
