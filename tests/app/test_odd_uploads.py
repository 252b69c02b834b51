"""Every data page survives uploads that are thin or odd: no traceback, ever."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.app.conftest import OpenPage
from ui.state import DATASET

DATA_PAGES = ["pages/funnel.py", "pages/quadrant.py", "pages/make_your_number.py",
              "pages/data.py"]

ODD = {
    "stage and amount only": b"Stage,Amount\nLead,10\nDemo,20\nClosed Won,30\nClosed Lost,5\n",
    "a single deal": b"Opportunity ID,Stage,Amount,Close Date,Opportunity Owner\n"
                     b"1,Closed Won,100,01/15/2025,Ann\n",
    "all lost": b"Opportunity ID,Stage,Amount,Created Date,Close Date,Owner\n"
                b"1,Closed Lost,10,2025-01-01,2025-02-01,Ann\n"
                b"2,Closed Lost,20,2025-01-05,2025-02-03,Bo\n",
    "only open deals, no dates": b"Deal ID,Deal Stage,Deal owner\n1,Demo,Ann\n2,Proposal,Bo\n"
                                 b"3,Lead,Ann\n",
    "unreadable amounts and dates": b"Opportunity ID,Stage,Amount,Close Date,Owner\n"
                                    b"1,Closed Won,lots,someday,Ann\n2,Demo,??,later,Bo\n",
    "formula-looking names": b"Opportunity ID,Stage,Amount,Owner\n1,Closed Won,5,=cmd|x\n"
                             b"2,Closed Lost,3,@SUM(A1)\n",
}


@pytest.mark.parametrize("case", list(ODD))
def test_pages_render_after_an_odd_upload(
    open_page: OpenPage, case: str, workshop_db: Path
) -> None:
    at = open_page("pages/data.py")
    at.get("file_uploader")[0].set_value([(f"{case}.csv", ODD[case], "text/csv")]).run()
    assert not at.exception, at.exception
    assert at.session_state[DATASET].source == f"{case}.csv"
    for page in DATA_PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)


FUNNEL_VIEWS = ("Funnel", "Where it breaks", "Reps", "Planner: make your number")
QUADRANT_VIEWS = ("Quadrant", "Funnel plot", "Movement", "Rep drill-down")


@pytest.mark.parametrize("case", list(ODD))
def test_every_view_renders_after_an_odd_upload(
    open_page: OpenPage, case: str, workshop_db: Path
) -> None:
    at = open_page("pages/data.py")
    at.get("file_uploader")[0].set_value([(f"{case}.csv", ODD[case], "text/csv")]).run()
    at.switch_page("pages/funnel.py").run()
    for view in FUNNEL_VIEWS:
        at.radio(key="funnel_w_view").set_value(view).run()
        assert not at.exception, (view, at.exception)
    at.switch_page("pages/quadrant.py").run()
    for view in QUADRANT_VIEWS:
        at.session_state["quadrant_w_view"] = view
        at.run()
        assert not at.exception, (view, at.exception)
