"""Workshops: a room answers the questionnaires; the facilitator sees the team and its gaps.

The lifecycle (create, join, answer, close, reopen), the facilitator's summary (team verdict and
score, each dimension's mean and spread, the role × dimension perception-gap matrix, the statements
with the widest disagreement, leadership-model fit by role), CSV import with a per-row report and
exports. Storage goes through ``diagnostics.workshop_store.WorkshopStore``.

How team numbers are computed (the app's own rules, shown to users):
- a participant's dimension score is the mean of their answers in that dimension;
- a dimension's team mean and spread are the mean and the population standard deviation of those
  participant scores;
- a role's cell in the gap matrix is the mean of its participants' dimension scores; its *gap* is
  that mean minus the team mean; a dimension's perception gap is the highest role mean minus the
  lowest;
- the team verdict scores the mean answer of each statement (the questionnaire accepts fractional
  answers), so it reads like one respondent answering for the room; each role's verdict likewise;
- leadership-model fit by role is the mean of each participant's fit.

The package's private modules each do one job: ``_content`` (the two instruments), ``_codes``
(codes, keys, links and roles), ``_lifecycle`` (create, join, answer, close), ``_summary``,
``_exchange`` (export and import), ``_roster`` (who counts, and as what) and ``_report``.
Import from ``diagnostics.workshop`` only.
"""

from __future__ import annotations

from diagnostics.workshop._change import (
    Change,
    DimensionChange,
    RoleChange,
    compare,
    link_baseline,
)
from diagnostics.workshop._codes import (
    CODE_ALPHABET,
    CODE_LENGTH,
    FACILITATOR_VIEW,
    ROLES,
    dashboard_path,
    facilitator_path,
    format_code,
    hash_secret,
    match_role,
    normalise_code,
    participant_path,
    qr_png,
    role_label,
)
from diagnostics.workshop._content import (
    INSTRUMENTS,
    LEADERSHIP,
    MAKE_YOUR_NUMBER,
    NOT_APPLICABLE,
    NOT_APPLICABLE_LABEL,
    Choice,
    Content,
    Statement,
    TeamVerdict,
    load_content,
)
from diagnostics.workshop._evidence import (
    Evidence,
    evidence_for,
)
from diagnostics.workshop._exchange import (
    ImportReport,
    export_frame,
    export_records,
    import_responses,
    plan_frame,
)
from diagnostics.workshop._groups import (
    POOLED,
    Group,
    Grouping,
    group_roles,
    shown_groups,
)
from diagnostics.workshop._lifecycle import (
    CLOSED,
    DEFAULT_CAP,
    JOINS_PER_MINUTE,
    MAX_CAP,
    MAX_MIN_GROUP,
    MAX_NAME,
    MAX_TEXT,
    MIN_GROUP,
    OPEN,
    CreatedWorkshop,
    Joined,
    Workshop,
    answer,
    authorise,
    close_workshop,
    create_workshop,
    get_workshop,
    join_workshop,
    max_participants,
    min_group,
    participant_answers,
    reopen_workshop,
    resume,
    set_max_participants,
    set_min_group,
)
from diagnostics.workshop._plan import (
    MAX_VOTES,
    PlanItem,
    candidate_actions,
    cast_vote,
    participant_votes,
    remove_plan_item,
    set_done,
    set_plan_item,
    vote_tally,
)
from diagnostics.workshop._read import (
    summarise,
    vote_candidates,
)
from diagnostics.workshop._report import (
    report_html,
    report_pdf,
    report_sections,
)
from diagnostics.workshop._roster import (
    change_role,
    excluded_ids,
    set_counted,
)
from diagnostics.workshop._summary import (
    WIDEST_LIMIT,
    DimensionStat,
    GapCell,
    ParticipantProgress,
    RoleResult,
    StatementGap,
    WorkshopSummary,
    summarise_answers,
)

__all__ = [
    "CLOSED",
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "DEFAULT_CAP",
    "FACILITATOR_VIEW",
    "INSTRUMENTS",
    "JOINS_PER_MINUTE",
    "LEADERSHIP",
    "MAKE_YOUR_NUMBER",
    "MAX_CAP",
    "MAX_MIN_GROUP",
    "MAX_NAME",
    "MAX_TEXT",
    "MAX_VOTES",
    "MIN_GROUP",
    "NOT_APPLICABLE",
    "NOT_APPLICABLE_LABEL",
    "OPEN",
    "POOLED",
    "ROLES",
    "WIDEST_LIMIT",
    "Change",
    "Choice",
    "Content",
    "Evidence",
    "CreatedWorkshop",
    "DimensionChange",
    "DimensionStat",
    "GapCell",
    "Group",
    "Grouping",
    "ImportReport",
    "Joined",
    "ParticipantProgress",
    "PlanItem",
    "RoleChange",
    "RoleResult",
    "Statement",
    "StatementGap",
    "TeamVerdict",
    "Workshop",
    "WorkshopSummary",
    "answer",
    "authorise",
    "candidate_actions",
    "cast_vote",
    "change_role",
    "close_workshop",
    "compare",
    "create_workshop",
    "dashboard_path",
    "evidence_for",
    "excluded_ids",
    "export_frame",
    "export_records",
    "facilitator_path",
    "format_code",
    "get_workshop",
    "group_roles",
    "hash_secret",
    "import_responses",
    "join_workshop",
    "link_baseline",
    "load_content",
    "match_role",
    "max_participants",
    "min_group",
    "normalise_code",
    "participant_answers",
    "participant_path",
    "participant_votes",
    "plan_frame",
    "qr_png",
    "remove_plan_item",
    "reopen_workshop",
    "report_html",
    "report_pdf",
    "report_sections",
    "resume",
    "role_label",
    "set_counted",
    "set_done",
    "set_max_participants",
    "set_min_group",
    "set_plan_item",
    "shown_groups",
    "summarise",
    "summarise_answers",
    "vote_candidates",
    "vote_tally",
]
