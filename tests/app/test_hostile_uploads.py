"""The hostile corpus through the app: every file uploaded, every page visited, no traceback.

Each file is uploaded on its own to the Data page; then the corpus is uploaded in groups of
files at once and every page is visited with whatever data the group gave. The upload budget is
lowered to ``UPLOAD_BUDGET_MB``; the peak memory one group adds stays under the allowance.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from diagnostics.budget import ledger
from diagnostics.memory import process_memory_kib
from tests.hostile_files import BOMBS, PEAK_ALLOWANCE_MB, UPLOAD_BUDGET_MB, hostile_file, names

ROOT = Path(__file__).resolve().parents[2]
PAGES = ["pages/home.py", "pages/data.py", "pages/funnel.py", "pages/quadrant.py",
         "pages/forecast.py", "pages/make_your_number.py", "pages/leadership.py",
         "pages/workshop.py"]
GROUP = 8
GROUPS = [names()[i:i + GROUP] for i in range(0, len(names()), GROUP)]



@pytest.fixture(autouse=True)
def _budget(monkeypatch: pytest.MonkeyPatch, workshop_db: Path) -> None:
    monkeypatch.setenv("MYN_UPLOAD_BUDGET_MB", str(UPLOAD_BUDGET_MB))


def _upload(files: list[str]) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/data.py").run()
    assert at.title[0].value == "Data"
    at.get("file_uploader")[0].set_value(
        [(name, hostile_file(name), "application/octet-stream") for name in files]).run()
    return at


@pytest.mark.parametrize("name", names())
def test_each_file_alone_gives_the_data_page_a_message_not_a_traceback(name: str) -> None:
    at = _upload([name])
    assert not at.exception, at.exception
    assert at.error or at.warning or at.success  # the page says what became of the file
    if name in BOMBS:
        assert any("too large to read here" in e.value for e in at.error)


# A NaN or infinite value reaching arithmetic (e.g. five won deals of 1e308 summed to infinity,
# which left the forecast's range to be computed from inf − inf) is a warning, not an error:
# here it fails the page.
@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("group", range(len(GROUPS)))
def test_every_page_survives_each_group_of_files(group: int) -> None:
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")
    base = process_memory_kib("VmRSS")
    at = _upload(GROUPS[group])
    assert not at.exception, at.exception
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
    peak_mib = (process_memory_kib("VmHWM") - base) / 1024
    assert peak_mib < PEAK_ALLOWANCE_MB, f"group {group} took {peak_mib:.0f} MiB"


def test_a_session_holds_its_uploads_in_the_ledger_until_it_lets_them_go() -> None:
    at = _upload(["plain.xlsx", "cp1250 polish.csv"])
    assert not at.exception
    held = ledger().held()
    assert held > 0
    at.button(key="use_sample").click().run()  # empties the uploader
    at.switch_page("pages/data.py").run()
    assert ledger().held() < held
