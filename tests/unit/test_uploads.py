"""The Data page's state machine, without a browser."""

from __future__ import annotations

from pathlib import Path

import pytest

from diagnostics.errors import DiagnosticsError
from diagnostics.uploads import UploadWorkspace

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


def _hubspot() -> tuple[str, bytes]:
    return ("hubspot_deals.csv", (SAMPLE / "hubspot_deals.csv").read_bytes())


def test_same_bytes_are_read_once() -> None:
    uploads = UploadWorkspace()
    assert uploads.add_files([_hubspot()]) is True
    assert uploads.add_files([_hubspot()]) is False


def test_mapping_change_and_saved_mapping_round_trip() -> None:
    uploads = UploadWorkspace()
    uploads.add_files([_hubspot()])
    uploads.set_column("hubspot_deals.csv", "segment", "Product")
    result = uploads.rebuild()
    assert result is not None and "Core" in result.dataset.filter_values("segment")
    uploads.set_stages(result.stages.with_changes(renames=(("Lead", "Inbound lead"),)))
    saved = uploads.mapping_json()

    again = UploadWorkspace()
    again.add_files([_hubspot()])
    again.apply_saved_mapping(saved)
    second = again.rebuild()
    assert second is not None
    assert second.dataset.filter_values("segment") == result.dataset.filter_values("segment")
    assert second.dataset.query_df("SELECT stage FROM funnel_stages WHERE rank = 1")[
        "stage"].iloc[0] == "Inbound lead"


def test_bad_file_is_kept_with_its_message_next_to_good_ones() -> None:
    uploads = UploadWorkspace()
    uploads.add_files([("empty.csv", b""), _hubspot()])
    error = uploads.files["empty.csv"].error
    assert error is not None and "empty" in error
    rebuilt = uploads.rebuild()
    assert rebuilt is not None and [t.raw.name for t in rebuilt.tables] == ["hubspot_deals.csv"]


def test_unknown_header_is_refused() -> None:
    uploads = UploadWorkspace()
    uploads.add_files([_hubspot()])
    with pytest.raises(DiagnosticsError):
        uploads.set_column("hubspot_deals.csv", "rep", "Nope")


def test_unmapping_the_stage_gives_a_file_level_error() -> None:
    uploads = UploadWorkspace()
    uploads.add_files([_hubspot()])
    uploads.set_column("hubspot_deals.csv", "stage", None)
    assert uploads.rebuild() is None
    assert "Stage" in (uploads.files["hubspot_deals.csv"].error or "")


def test_given_signatures_skip_hashing_and_still_detect_new_uploads() -> None:
    uploads = UploadWorkspace()
    name, data = _hubspot()
    assert uploads.add_files([(name, data)], ["upload-1"]) is True
    # The same upload: its bytes are not even read.
    assert uploads.add_files([(name, b"")], ["upload-1"]) is False
    assert uploads.add_files([(name, data)], ["upload-2"]) is True


def _deals(name: str, stage: str) -> tuple[str, bytes]:
    return (name, f"Opportunity ID,Stage,Amount\n{name}-1,{stage},10\n{name}-2,Closed Won,5\n"
            .encode())


def test_a_new_upload_replaces_the_files_held() -> None:
    uploads = UploadWorkspace()
    uploads.replace_files([_deals("a.csv", "Demo")])
    first = uploads.rebuild()
    assert first is not None and uploads.names == ["a.csv"]
    assert uploads.replace_files([_deals("b.csv", "Trial")]) is True
    second = uploads.rebuild()
    assert uploads.names == ["b.csv"] and second is not None
    ids = second.dataset.query_df("SELECT opp_id FROM opportunities ORDER BY 1")["opp_id"]
    assert list(ids) == ["b.csv-1", "b.csv-2"]
    assert second.dataset.source == "b.csv"


def test_adding_keeps_the_files_held_and_removing_drops_their_data() -> None:
    uploads = UploadWorkspace()
    uploads.replace_files([_deals("a.csv", "Demo")])
    uploads.add_files([_deals("b.csv", "Demo")])
    both = uploads.rebuild()
    assert both is not None and uploads.names == ["a.csv", "b.csv"]
    assert both.dataset.query_df("SELECT count(*) AS n FROM opportunities")["n"][0] == 4
    assert uploads.remove_file("b.csv") is True and uploads.remove_file("b.csv") is False
    one = uploads.rebuild()
    assert one is not None
    assert one.dataset.query_df("SELECT count(*) AS n FROM opportunities")["n"][0] == 2
    uploads.remove_file("a.csv")
    assert uploads.rebuild() is None and uploads.result is None


def test_replacing_with_the_same_bytes_changes_nothing() -> None:
    uploads = UploadWorkspace()
    assert uploads.replace_files([_deals("a.csv", "Demo")]) is True
    assert uploads.replace_files([_deals("a.csv", "Demo")]) is False
