"""Header recognition across CRMs, kind detection, and saved mappings."""

from __future__ import annotations

import json

import pytest

from diagnostics.errors import DiagnosticsError
from diagnostics.mapping import (
    TableMapping,
    detect_kind,
    field_specs,
    mapping_from_json,
    mapping_to_json,
    normalise_header,
    propose_mapping,
)

SALESFORCE = ["Opportunity Name", "Account Name", "Opportunity Owner", "Stage", "Amount",
              "Close Date", "Created Date", "Type", "Lead Source", "Probability (%)"]
HUBSPOT = ["Record ID", "Deal Name", "Deal Stage", "Deal owner", "Amount", "Close Date",
           "Create Date", "Pipeline"]
PIPEDRIVE = ["Deal - ID", "Deal - Title", "Deal - Owner", "Deal - Stage", "Deal - Value",
             "Deal - Status", "Deal - Deal created", "Deal - Won time", "Deal - Lost time",
             "Deal - Expected close date", "Deal - Last activity date"]
HOMEMADE = ["opportunity_id", "sales_agent", "product", "account", "deal_stage", "engage_date",
            "close_date", "close_value"]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (SALESFORCE, {"rep": "Opportunity Owner", "stage": "Stage", "amount": "Amount",
                      "close_date": "Close Date", "created_date": "Created Date",
                      "probability": "Probability (%)"}),
        (HUBSPOT, {"opp_id": "Record ID", "rep": "Deal owner", "stage": "Deal Stage",
                   "amount": "Amount", "created_date": "Create Date"}),
        (PIPEDRIVE, {"opp_id": "Deal - ID", "rep": "Deal - Owner", "stage": "Deal - Stage",
                     "amount": "Deal - Value", "status": "Deal - Status",
                     "created_date": "Deal - Deal created", "won_date": "Deal - Won time",
                     "lost_date": "Deal - Lost time", "close_date": "Deal - Expected close date",
                     "last_activity": "Deal - Last activity date"}),
        (HOMEMADE, {"opp_id": "opportunity_id", "rep": "sales_agent", "stage": "deal_stage",
                    "created_date": "engage_date", "amount": "close_value",
                    "product": "product"}),
    ],
    ids=["salesforce", "hubspot", "pipedrive", "homemade"],
)
def test_crm_headers_map_to_canonical_fields(headers: list[str], expected: dict[str, str]) -> None:
    mapping = propose_mapping(headers, "opportunities")
    assert {k: mapping.get(k) for k in expected} == expected
    assert len(set(mapping.values())) == len(mapping)  # a header is used once


@pytest.mark.parametrize(
    ("headers", "kind"),
    [
        (SALESFORCE, "opportunities"),
        (HUBSPOT, "opportunities"),
        (["Assigned To", "Task Subtype", "Date", "Related To"], "activities"),
        (["activity_id", "sales_agent", "activity_type", "activity_date"], "activities"),
        (["Opportunity ID", "To Stage", "Last Modified"], "stage_history"),
        (["opportunity_id", "stage", "entered_date"], "stage_history"),
    ],
)
def test_kind_detection(headers: list[str], kind: str) -> None:
    assert detect_kind(headers)[0] == kind


@pytest.mark.parametrize(
    ("header", "normal"),
    [("Deal - Owner", "owner"), ("  Close_Date ", "close date"), ("Probability (%)",
                                                                  "probability %"),
     ("Créé le", "cree le")],
)
def test_header_normalisation(header: str, normal: str) -> None:
    assert normalise_header(header) == normal


def test_every_field_has_a_label_and_synonyms() -> None:
    for specs in field_specs().values():
        names = [s.name for s in specs]
        assert len(names) == len(set(names))
        assert all(s.label and s.synonyms for s in specs)


def test_saved_mapping_round_trips() -> None:
    table = TableMapping("opportunities", {"rep": "Owner", "stage": "Stage"},
                         {"close_date": "dmy"}, {"amount": True})
    text = mapping_to_json([table], {"funnel": ["A", "B"], "won": ["W"], "lost": [],
                                     "excluded": [], "renames": {"A": "Lead"}})
    saved = mapping_from_json(text)
    assert saved.tables["opportunities"] == table
    assert saved.stages is not None and saved.stages["renames"] == {"A": "Lead"}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("not json", "not valid JSON"),
        (json.dumps({"version": 9}), "version 9"),
        (json.dumps({"version": 1, "tables": {"deals": {"kind": "opportunities"}}}), "tables"),
        (json.dumps({"version": 1, "tables": {"opportunities": {
            "kind": "opportunities", "columns": {"colour": "X"}}}}), "colour"),
        (json.dumps({"version": 1, "surprise": True}), "surprise"),
    ],
)
def test_bad_mapping_files_are_named_precisely(document: str, message: str) -> None:
    with pytest.raises(DiagnosticsError) as err:
        mapping_from_json(document)
    assert message in str(err.value)
