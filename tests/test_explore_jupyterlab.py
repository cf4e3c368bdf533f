"""explore.ipynb as a user meets it: JupyterLab on 127.0.0.1, headless Chromium, Run All.

One session fixture starts JupyterLab (a free port, a random token, its own
settings, runtime and cache folders) on a copy of the notebook, opens it in
Debian's Chromium, runs every cell from the Run menu, then changes the
explorer's actor picker and searches a table. The tests read what it saw. The
server and its kernel are shut down at the end; every wait is bounded.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, JupyterServer, jupyter_server

from auditlab.report import EXPLORE_NOTEBOOK, notebook_path

pytestmark = [pytest.mark.slow, pytest.mark.browser]

PLOTLY = "application/vnd.plotly.v1+json"
NOTEBOOK_CHARTS = 7  # six of the whole log, one of one person
EXPLORER_CHARTS = 4  # timeline, actors, actions, map
OPEN_S = 40
RUN_ALL_S = 90
REDRAW_S = 20
# JupyterLab settings for the run: every cell rendered (no windowing), no news prompt.
SETTINGS = {
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
}
ALL_RAN = """() => {
    const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
    const failed = [...document.querySelectorAll(
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
        .some(e => e.textContent.includes('Traceback'));
    return failed || (prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent)));
}"""
EXPLORER_TITLE = "document.querySelector('.auditlab-explorer .js-plotly-plot .gtitle').textContent"


@dataclass
class LabRun:
    """What the browser saw after Run All and after using the explorer and a table."""

    seconds: float
    unexecuted: int
    errors: list[str]
    charts: list[list[int]]  # per plotly plot: [traces, marks drawn, country shapes]
    explorer_charts: int
    progress_bars: list[str]  # the width of each widget progress bar's filled part
    explorer_note_shown: bool
    tables: int  # the DataTables on the page
    cut_cells: list[str]  # cells of those whose text does not fit (overlaps the next)
    title_before: str
    title_after: str
    picked: str
    status_after: str
    title_searched: str  # after typing the picked actor's email into the explorer's search box
    status_searched: str
    search: str
    search_info: str
    rows_after_search: list[str]
    saved: bytes  # the notebook as JupyterLab saved it after all that
    console_errors: list[str]


def _notebook_url(lab: JupyterServer) -> str:
    """Return the address that opens the explore notebook in JupyterLab."""
    return f"{lab.base}/lab/tree/notebooks/{EXPLORE_NOTEBOOK}?token={lab.token}"


def _wait_for_connected_kernel(lab: JupyterServer, seconds: float) -> None:
    """Return once a kernel is idle with a browser connected to it (Run All needs one)."""
    deadline = time.monotonic() + seconds
    while True:
        kernels = lab.api("kernels")
        # a server still starting may answer with an error object instead of the list
        listed = kernels.json() if kernels is not None and kernels.status_code == 200 else []
        if isinstance(listed, list) and any(
            k["execution_state"] == "idle" and k["connections"] > 0 for k in listed
        ):
            return
        assert time.monotonic() < deadline, "the notebook's kernel did not start in time"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def lab_run(tmp_path_factory: pytest.TempPathFactory) -> LabRun:
    """Return what Chromium saw running a copy of explore.ipynb in JupyterLab, with no API key."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    root = tmp_path_factory.mktemp("lab") / "project"
    (root / "notebooks").mkdir(parents=True)
    shutil.copy(notebook_path(EXPLORE_NOTEBOOK), root / "notebooks" / EXPLORE_NOTEBOOK)
    ARTIFACTS.mkdir(exist_ok=True)
    console: list[str] = []
    with (
        jupyter_server(root, app="jupyterlab", args=["--LabApp.extension_manager=readonly"],
                       settings=SETTINGS) as lab,
        sync_playwright() as playwright,
    ):  # fmt: skip
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
            page.goto(_notebook_url(lab))
            _wait_for_connected_kernel(lab, OPEN_S)
            started = time.monotonic()
            page.click("li.lm-MenuBar-item:has-text('Run')")
            page.click("li.lm-Menu-item[data-command='runmenu:run-all']")
            try:
                page.wait_for_function(ALL_RAN, timeout=RUN_ALL_S * 1000)
            except PlaywrightTimeout:
                page.screenshot(path=str(ARTIFACTS / "explore-stalled.png"), full_page=True)
                raise
            seconds = time.monotonic() - started
            page.wait_for_function(
                f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= "
                f"{NOTEBOOK_CHARTS + EXPLORER_CHARTS}",
                timeout=REDRAW_S * 1000,
            )
            seen = page.evaluate(
                """() => ({
                    unexecuted: [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
                        .filter(p => !/\\[\\d+\\]/.test(p.textContent)).length,
                    errors: [...document.querySelectorAll(
                        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
                        .map(e => e.textContent).filter(t => /Traceback|Error/.test(t)),
                    charts: [...document.querySelectorAll('.js-plotly-plot')].map(gd => [
                        gd._fullData.length,
                        gd.querySelectorAll('g.trace path, .hm image, path.surface').length,
                        gd.querySelectorAll('path.choroplethlocation').length]),
                    explorer: document.querySelectorAll('.auditlab-explorer .js-plotly-plot')
                        .length,
                    bars: [...document.querySelectorAll('.jp-OutputArea-output .progress-bar')]
                        .map(bar => bar.style.width),
                    note: !!document.querySelector('.auditlab-explorer-note'),
                    tables: document.querySelectorAll('.dt-container').length,
                    cut: [...document.querySelectorAll('.dt-container tbody td')]
                        .filter(td => td.scrollWidth > td.clientWidth + 1)
                        .map(td => td.textContent),
                })"""
            )
            explorer = page.locator(".auditlab-explorer")
            title_before = page.evaluate(EXPLORER_TITLE)
            actor = explorer.locator(".widget-dropdown select").first
            picked = actor.evaluate("s => s.options[2].textContent").replace("\xa0", " ")
            actor.select_option(index=2)
            page.wait_for_function(f"!{EXPLORER_TITLE}.endsWith('everything')",
                                   timeout=REDRAW_S * 1000)  # fmt: skip
            title_after = page.evaluate(EXPLORER_TITLE)
            status_after = explorer.locator(".auditlab-explorer-status").inner_text()
            explorer.evaluate("e => e.closest('.jp-Cell').scrollIntoView()")
            page.set_viewport_size({"width": 1400, "height": 1900})
            page.wait_for_timeout(500)  # let plotly refit the taller window
            page.screenshot(path=str(ARTIFACTS / "explorer.png"))
            box = explorer.locator(".widget-text input")
            box.fill(picked.split("<")[1].split(">")[0])
            box.press("Enter")
            page.wait_for_function(f"{EXPLORER_TITLE}.endsWith('\"')", timeout=REDRAW_S * 1000)
            title_searched = page.evaluate(EXPLORER_TITLE)
            status_searched = explorer.locator(".auditlab-explorer-status").inner_text()
            search, info, rows = _search_sensitive_events(page)
            saved = _save(page, root / "notebooks" / EXPLORE_NOTEBOOK)
        finally:
            browser.close()
    return LabRun(
        seconds, seen["unexecuted"], seen["errors"], seen["charts"], seen["explorer"],
        seen["bars"], seen["note"], seen["tables"], seen["cut"], title_before, title_after,
        picked, status_after, title_searched, status_searched, search, info, rows, saved,
        console,
    )  # fmt: skip


def _search_sensitive_events(page) -> tuple[str, str, list[str]]:
    """Type the first row's actor into the sensitive events' search box; return what it shows."""
    table = page.locator(".dt-container", has=page.locator("caption", has_text="sensitive events"))
    name = table.locator("tbody tr").first.locator("td").nth(3).inner_text()
    table.locator("input[type=search]").fill(name)
    page.wait_for_function(
        "t => t.querySelector('.dt-info').textContent.includes('filtered')",
        arg=table.element_handle(), timeout=REDRAW_S * 1000,
    )  # fmt: skip
    rows = table.locator("tbody tr").all_inner_texts()
    return name, table.locator(".dt-info").inner_text(), rows


def _save(page, path: Path) -> bytes:
    """Save the notebook from the File menu; return the file once JupyterLab has written it."""
    before = path.read_bytes()
    page.click("li.lm-MenuBar-item:has-text('File')")
    page.click("li.lm-Menu-item[data-command='docmanager:save']")
    deadline = time.monotonic() + REDRAW_S
    while True:  # until the file has changed and is whole: it may be read mid-write (empty)
        saved = path.read_bytes()
        if saved != before and _is_json(saved):
            return saved
        assert time.monotonic() < deadline, "JupyterLab did not save the notebook"
        time.sleep(0.2)


def _is_json(text: bytes) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def test_run_all_executes_every_cell_without_an_error(lab_run: LabRun) -> None:
    assert lab_run.unexecuted == 0
    assert lab_run.errors == []
    assert lab_run.seconds < RUN_ALL_S


def test_every_chart_is_drawn_with_marks_and_the_map_with_countries(lab_run: LabRun) -> None:
    assert len(lab_run.charts) == NOTEBOOK_CHARTS + EXPLORER_CHARTS
    assert all(traces > 0 and marks > 0 for traces, marks, _ in lab_run.charts), lab_run.charts
    # the whole log's map and the explorer's, drawn from the bundled outlines
    assert sum(shapes >= 10 for _, _, shapes in lab_run.charts) == 2


def test_loading_shows_a_widget_progress_bar_that_fills(lab_run: LabRun) -> None:
    assert lab_run.progress_bars == ["100%"]


def test_explorer_is_drawn_as_a_widget_with_its_charts(lab_run: LabRun) -> None:
    assert lab_run.explorer_charts == EXPLORER_CHARTS
    assert not lab_run.explorer_note_shown  # the note is only for views without widgets
    assert lab_run.title_before == "Events per day: everything"


def test_picking_an_actor_redraws_the_explorer_for_them(lab_run: LabRun) -> None:
    name = lab_run.picked.split(" <")[0]
    count = lab_run.picked.rsplit("· ", 1)[1]
    assert lab_run.title_after == f"Events per day: {name}"
    assert lab_run.status_after.startswith(f"{count} of ") and name in lab_run.status_after


def test_searching_the_actors_email_redraws_with_the_search_and_keeps_their_events(
    lab_run: LabRun,
) -> None:
    name, email = lab_run.picked.split(" <")[0], lab_run.picked.split("<")[1].split(">")[0]
    count = lab_run.picked.rsplit("· ", 1)[1]
    assert lab_run.title_searched == f'Events per day: {name} · "{email}"'
    # every event of theirs holds their email (as actor_email): the count stays
    assert lab_run.status_searched.startswith(f"{count} of ")
    assert lab_run.status_searched.endswith(f'{name} · "{email}"')


def test_long_tables_show_every_cell_whole(lab_run: LabRun) -> None:
    assert lab_run.tables >= 4  # the first entries, the explorer's, sensitive events, one IP's
    assert lab_run.cut_cells == []


def test_a_long_table_searches_its_rows(lab_run: LabRun) -> None:
    assert "filtered from" in lab_run.search_info
    assert lab_run.rows_after_search and all(lab_run.search in r for r in lab_run.rows_after_search)


def test_the_saved_notebook_is_small_and_carries_no_plotly_js(lab_run: LabRun) -> None:
    saved = json.loads(lab_run.saved)
    figures = [
        o["data"] for c in saved["cells"] for o in c.get("outputs", [])
        if PLOTLY in o.get("data", {})
    ]  # fmt: skip
    assert len(figures) == NOTEBOOK_CHARTS
    # one copy from the kernel (plotly's JSON, no HTML); JupyterLab's plotly extension
    # adds a PNG snapshot of each figure it drew, for viewers without the extension
    assert all(set(figure) == {PLOTLY, "image/png"} for figure in figures)
    assert b"plotly.js v" not in lab_run.saved
    assert len(lab_run.saved) < 3_000_000


def test_the_page_logs_no_error(lab_run: LabRun) -> None:
    assert lab_run.console_errors == []
