"""Results remembered once: the bundled sample's per process, an upload's per session only."""

from __future__ import annotations

import uuid

from streamlit.testing.v1 import AppTest

CALLS: list[str] = []  # what each script run below computed (the scripts run in this process)


def _sample_script() -> None:
    import streamlit as st

    from diagnostics.sample import load_sample_dataset
    from tests.app import test_memo
    from ui.memo import remembered

    key = st.session_state["memo_test_key"]
    value = remembered(load_sample_dataset(), ("count", key),
                       lambda: test_memo.CALLS.append(key) or len(test_memo.CALLS))
    st.write(f"value {value}")


def _upload_script() -> None:
    import pandas as pd
    import streamlit as st

    from diagnostics.dataset import StageConfig, build_dataset
    from diagnostics.sample import SAMPLE_NAME
    from tests.app import test_memo
    from ui.memo import remembered

    key = st.session_state["memo_test_key"]
    if "upload" not in st.session_state or st.session_state.get("replace"):
        st.session_state["replace"] = False
        frame = pd.DataFrame({"opp_id": ["A"], "stage": ["Won"], "amount": [1.0],
                              "created_date": [pd.Timestamp("2026-01-01")],
                              "close_date": [pd.Timestamp("2026-01-05")]})
        st.session_state["upload"] = build_dataset(
            frame, StageConfig(funnel=("Lead",), won=("Won",), lost=("Lost",)),
            source=SAMPLE_NAME)  # named like the sample: must not be shared anyway
    value = remembered(st.session_state["upload"], ("count", key),
                       lambda: test_memo.CALLS.append(key) or len(test_memo.CALLS))
    st.write(f"value {value}")


def _session(script: object, key: str) -> AppTest:
    at = AppTest.from_function(script, default_timeout=60)  # type: ignore[arg-type]
    at.session_state["memo_test_key"] = key
    return at.run()


def test_the_sample_result_is_computed_once_for_every_session() -> None:
    key = uuid.uuid4().hex
    first = _session(_sample_script, key)
    second = _session(_sample_script, key)
    assert not first.exception and not second.exception
    assert CALLS.count(key) == 1
    assert first.markdown[0].value == second.markdown[0].value


def test_an_upload_result_stays_in_its_session() -> None:
    from ui import memo

    key = uuid.uuid4().hex
    first = _session(_upload_script, key)
    second = _session(_upload_script, key)
    assert not first.exception and not second.exception
    assert CALLS.count(key) == 2  # one per session: nothing shared between them
    assert not any(key in repr(k) for k in memo._shared)
    first.run()  # a rerun with the same data reuses the session's result
    assert CALLS.count(key) == 2
    first.session_state["replace"] = True
    first.run()  # new data: computed again
    assert CALLS.count(key) == 3


def _chart_script() -> None:
    import altair as alt
    import pandas as pd
    import streamlit as st

    from diagnostics.sample import load_sample_dataset
    from ui.charts import show_chart

    def build() -> alt.Chart:
        frame = pd.DataFrame({"stage": ["Lead", "Demo", "Won"], "n": [30, 12, 5]})
        return alt.Chart(frame).mark_bar().encode(x=alt.X("n:Q"), y=alt.Y("stage:N"),
                                                  color=alt.Color("stage:N", title=None))

    st.altair_chart(build(), width="stretch")
    show_chart(load_sample_dataset(), ("test chart", st.session_state["memo_test_key"]), build,
               width="stretch")


def test_a_remembered_chart_is_the_element_st_altair_chart_draws() -> None:
    at = _session(_chart_script, uuid.uuid4().hex)
    assert not at.exception
    drawn, remembered = (chart.proto for chart in at.get("vega_lite_chart"))
    assert remembered.spec == drawn.spec
    assert [(d.name, d.data.data) for d in remembered.datasets] == [
        (d.name, d.data.data) for d in drawn.datasets]
    assert remembered.use_container_width == drawn.use_container_width
    at.run()  # drawn again from the remembered spec: unchanged by the first drawing
    again = at.get("vega_lite_chart")[1].proto
    assert again.spec == drawn.spec and len(again.datasets) == len(drawn.datasets) == 1
