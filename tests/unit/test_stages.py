"""Stage roles, proposed order and the editable stage rows."""

from __future__ import annotations

import pytest

from diagnostics.dataset import StageConfig
from diagnostics.errors import DiagnosticsError
from diagnostics.stages import classify_stage, config_from_rows, propose_stages, stage_rows


@pytest.mark.parametrize(
    ("stage", "role"),
    [("Closed Won", "won"), ("closedwon", "won"), ("Won", "won"), ("Closed Lost", "lost"),
     ("closedlost", "lost"), ("Disqualified", "lost"), ("On hold", "excluded"),
     ("Stalled", "excluded"), ("Demo", "open"), ("Proposal/Price Quote", "open")],
)
def test_stage_roles(stage: str, role: str) -> None:
    assert classify_stage(stage) == role


def test_order_from_vocabulary_for_salesforce_defaults() -> None:
    stages = ["Negotiation/Review", "Prospecting", "Closed Won", "Proposal/Price Quote",
              "Qualification", "Closed Lost", "Needs Analysis", "Id. Decision Makers"]
    config, how = propose_stages(stages)
    assert config.funnel == ("Prospecting", "Qualification", "Needs Analysis",
                             "Id. Decision Makers", "Proposal/Price Quote", "Negotiation/Review")
    assert config.won == ("Closed Won",) and config.lost == ("Closed Lost",)
    assert "common stage names" in how


def test_history_order_beats_vocabulary() -> None:
    config, how = propose_stages(["Proposal", "Demo", "Zeta"],
                                 history_position={"Zeta": 0.1, "Demo": 0.5, "Proposal": 0.9})
    assert config.funnel == ("Zeta", "Demo", "Proposal") and "history" in how


def test_probability_order_and_unknown_stage_warning() -> None:
    config, how = propose_stages(["B", "A"], probability={"A": 10, "B": 60})
    assert config.funnel == ("A", "B") and "probability" in how
    _, how = propose_stages(["Lead", "Gizmo"])
    assert "Gizmo" in how


def test_status_only_outcomes_pipedrive_style() -> None:
    config, _ = propose_stages(["Demo", "Deal made"], status_won=["Deal made"])
    assert config.won == ("Deal made",) and config.funnel == ("Demo",)


def test_rows_round_trip_and_edits() -> None:
    config = StageConfig(funnel=("Lead", "Demo"), won=("Won",), lost=("Lost",),
                         excluded=("Hold",))
    rows = stage_rows(config)
    assert config_from_rows(rows) == config
    rows[0]["order"], rows[1]["order"] = 2, 1
    rows[1]["show_as"] = "Product demo"
    rows[3]["role"] = "open"
    rows[3]["order"] = 3
    edited = config_from_rows(rows)
    assert edited.funnel == ("Demo", "Lead", "Lost")
    assert edited.display_name("Demo") == "Product demo" and edited.lost == ()


def test_rows_need_an_open_stage() -> None:
    with pytest.raises(DiagnosticsError, match="at least one"):
        config_from_rows([{"stage": "Won", "show_as": "Won", "role": "won", "order": None}])


@pytest.mark.parametrize(
    ("won_only", "lost_only", "funnel", "won", "lost"),
    [
        # Pipedrive keeps the stage a deal was won or lost at: in a small export every deal at
        # "Negotiations Started" may be won and every one at "Contact Made" lost. Both are steps.
        (["Negotiations Started"], ["Contact Made"],
         ("Contact Made", "Demo Scheduled", "Negotiations Started"), (), ()),
        # A name that is no funnel step is an outcome stage.
        (["Gewonnen"], ["Verloren"], ("Contact Made", "Demo Scheduled", "Negotiations Started"),
         ("Gewonnen",), ("Verloren",)),
    ],
)
def test_status_only_stages_that_are_funnel_steps_stay_in_the_funnel(
    won_only: list[str], lost_only: list[str], funnel: tuple[str, ...], won: tuple[str, ...],
    lost: tuple[str, ...],
) -> None:
    names = ["Contact Made", "Demo Scheduled", "Negotiations Started", *won, *lost]
    config, _ = propose_stages(names, status_won=won_only, status_lost=lost_only)
    assert (config.funnel, config.won, config.lost) == (funnel, won, lost)
