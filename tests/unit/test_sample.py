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


def test_sample_files_are_read_once_per_process() -> None:
    from diagnostics import sample

    first = sample.load_sample_dataset()
    reads = sample.sample_reads()
    second = sample.load_sample_dataset()
    assert sample.sample_reads() == reads >= 1
    assert first.con is not second.con
    assert first.notes is not second.notes and first.notes == second.notes
    count = "SELECT count(*) FROM opportunities"
    assert first.con.execute(count).fetchall() == second.con.execute(count).fetchall() == [(5000,)]


def test_a_session_cannot_change_the_shared_sample() -> None:
    import duckdb
    import pytest

    from diagnostics import sample

    mine, theirs = sample.load_sample_dataset(), sample.load_sample_dataset()
    for statement in ("DELETE FROM opportunities", "DROP TABLE activities",
                      "CREATE TABLE extra AS SELECT 1 AS x",
                      "UPDATE opportunities SET amount = 0"):
        with pytest.raises(duckdb.Error):
            mine.con.execute(statement)
    with pytest.raises(duckdb.Error):  # the configuration is locked, files stay out of reach
        mine.con.execute("SET enable_external_access = true")
    # What a session creates for itself stays in its own connection.
    mine.con.execute("CREATE TEMP TABLE opportunities AS SELECT 1 AS x")
    mine.con.register("_mine", mine.con.sql("SELECT 2 AS y").to_arrow_table())
    mine.notes.append("changed by one session")
    other = "SELECT count(*) FROM opportunities"
    assert theirs.con.execute(other).fetchall() == [(5000,)]
    assert sample.load_sample_dataset().con.execute(other).fetchall() == [(5000,)]
    with pytest.raises(duckdb.Error):
        theirs.con.execute("SELECT * FROM _mine")
    assert "changed by one session" not in sample.load_sample_dataset().notes


def test_sample_dataset_matches_a_fresh_read() -> None:
    from diagnostics import sample

    cached, fresh = sample.load_sample_dataset(), sample.load_sample().dataset
    for table in ("opportunities", "activities", "stage_history", "funnel_stages"):
        query = f"SELECT * FROM {table} ORDER BY ALL"
        assert cached.con.execute(query).fetchall() == fresh.con.execute(query).fetchall(), table
    assert (cached.stages, cached.as_of, cached.source) == (fresh.stages, fresh.as_of,
                                                            fresh.source)
    assert (cached.has_activities, cached.has_stage_history) == (fresh.has_activities,
                                                                 fresh.has_stage_history)


def test_only_datasets_the_sample_handed_out_count_as_the_sample() -> None:
    import pandas as pd

    from diagnostics import sample
    from diagnostics.dataset import StageConfig, build_dataset

    handed_out = sample.load_sample_dataset()
    assert sample.is_sample_dataset(handed_out)
    # An upload named like the sample, or a copy of the sample's own rows, is not the sample.
    rows = handed_out.con.execute("SELECT * FROM opportunities LIMIT 50").df()
    lookalike = build_dataset(pd.DataFrame(rows), handed_out.stages, source=handed_out.source)
    assert not sample.is_sample_dataset(lookalike)
    # Stages changed in place: results from it are no longer the shared sample's.
    changed = sample.load_sample_dataset()
    changed.stages = StageConfig(funnel=("Lead",), won=("Won",), lost=("Lost",))
    assert not sample.is_sample_dataset(changed)
    assert sample.is_sample_dataset(sample.load_sample_dataset())
