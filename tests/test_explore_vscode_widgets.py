"""The explorer drawn by VS Code's own ipywidgets 8 manager on a live kernel, in headless Chromium.

VS Code's Jupyter extension renders ipywidgets with the bundle it publishes as
``@vscode/jupyter-ipywidgets8`` (its ``WidgetManager``). This test loads that
bundle unchanged into a page (``tests/vscode/``, installed with ``npm ci``),
connects it to a python3 kernel of a real ``jupyter server`` on 127.0.0.1 with
``@jupyterlab/services``, runs a cell that shows ``df.audit.explore()`` over a
pinned sandbox org (after ``report.setup_notebook(standalone=False)``, as
explore.ipynb starts, whose HTML output the page inserts with its scripts run),
renders the widget output as VS Code does (``get_model``, ``create_view``,
``display_view``), then uses the pickers. VS Code hands the
plotly figures inside the explorer's Output widgets to its own plotly renderer
through ``registerMimeRenderer``; here a renderer drawing them with the
plotly.js that ships in python's plotly stands in for it. VS Code itself (its
webview, its messaging to the kernel, its renderers) is not run.

The page and the bundle are served by a small static server on 127.0.0.1; the
Jupyter server allows that origin only. Both stop at the end; every wait is bounded.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import plotly
import pytest
from helpers import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, NOW, free_port, jupyter_server

pytestmark = [pytest.mark.slow, pytest.mark.browser]

HERE = Path(__file__).resolve().parent / "vscode"
NPM_CI_S = 240
RENDER_S = 60
REDRAW_S = 20
EXPLORER_CHARTS = 4  # timeline, actors, actions, map
# As explore.ipynb starts: its first cell shows the map outlines (HTML) that plotly.js draws
# the map with, instead of fetching them from its CDN.
CELL = f"""
import datetime as dt
import auditlab.analysis
from auditlab import report
report.setup_notebook(standalone=False)
from auditlab.frame import entries_to_table, table_to_frame
from auditlab.sandbox import generate_org
org = generate_org(seed=0, days=14, now=dt.datetime.fromisoformat({NOW.isoformat()!r}))
df = table_to_frame(entries_to_table(org.entries))
df.audit.explore()
"""
TITLE = "document.querySelector('.auditlab-explorer .js-plotly-plot .gtitle').textContent"


@dataclass
class VSCodeRun:
    """What the page showed after rendering the explorer, picking an actor and searching."""

    seconds: float
    dropdowns: int
    sliders: int
    search_boxes: int
    explorer_charts: int
    charts: list[list[int]]  # per plotly plot: [traces, marks drawn, country shapes]
    table_rows: int  # rows the events table (an itables DataTable) shows on its first page
    title_before: str
    status_before: str
    picked: str
    title_after: str
    status_after: str
    title_searched: str
    status_searched: str
    errors: list[str]


def _node_modules() -> Path:
    """Return tests/vscode/node_modules, running ``npm ci`` first when it is missing or stale."""
    installed = HERE / "node_modules" / ".package-lock.json"
    lock = HERE / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        npm = shutil.which("npm")
        assert npm, "npm is needed to install VS Code's widget manager (tests/vscode)"
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=HERE,
                       check=True, timeout=NPM_CI_S)  # fmt: skip
    return HERE / "node_modules"


def _build(folder: Path) -> Path:
    """Return ``folder`` holding the page, its bundle, VS Code's, RequireJS and plotly.js."""
    folder.mkdir()
    modules = _node_modules()
    subprocess.run(
        [modules / ".bin" / "esbuild", HERE / "page.js", "--bundle", "--format=esm",
         "--platform=browser", "--external:./ipywidgets.js", "--log-level=warning",
         f"--outfile={folder / 'page.bundle.js'}"],
        check=True, timeout=60,
    )  # fmt: skip
    shutil.copy(modules / "@vscode" / "jupyter-ipywidgets8" / "dist" / "ipywidgets.js", folder)
    shutil.copy(modules / "requirejs" / "require.js", folder)
    shutil.copy(Path(plotly.__file__).parent / "package_data" / "plotly.min.js", folder)
    shutil.copy(HERE / "page.html", folder)
    return folder


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def static_server(folder: Path) -> Iterator[str]:
    """Yield the address of an HTTP server on 127.0.0.1 serving ``folder``; stop it afterwards."""
    handler = functools.partial(_Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def vscode_run(tmp_path_factory: pytest.TempPathFactory) -> VSCodeRun:
    """Return what Chromium showed of the explorer in VS Code's widget manager."""
    from playwright.sync_api import sync_playwright

    work = tmp_path_factory.mktemp("vscode")
    site = _build(work / "site")
    (work / "root").mkdir()
    ARTIFACTS.mkdir(exist_ok=True)
    errors: list[str] = []
    with static_server(site) as origin, jupyter_server(
        work / "root", args=[f"--ServerApp.allow_origin={origin}"]
    ) as jupyter, sync_playwright() as playwright:
        kernel = jupyter.post("kernels", {"name": "python3"})
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(f"{origin}/page.html")
            page.wait_for_function("typeof window.runAndRender === 'function'",
                                   timeout=REDRAW_S * 1000)  # fmt: skip
            started = time.monotonic()
            page.evaluate(
                """args => {
                    runAndRender(args).catch(e => { window.renderError = String(e); });
                }""",
                {"baseUrl": jupyter.base, "token": jupyter.token, "kernelId": kernel["id"],
                 "code": CELL},
            )  # fmt: skip
            page.wait_for_function(
                f"document.querySelectorAll('.auditlab-explorer .js-plotly-plot .main-svg')"
                f".length >= {EXPLORER_CHARTS} || window.renderError",
                timeout=RENDER_S * 1000,
            )
            seconds = time.monotonic() - started
            assert page.evaluate("window.renderError") is None, page.evaluate("window.renderError")
            explorer = page.locator(".auditlab-explorer")
            seen = explorer.evaluate(
                """e => ({
                    dropdowns: e.querySelectorAll('.widget-dropdown select').length,
                    sliders: e.querySelectorAll('.widget-slider .noUi-target').length,
                    search: e.querySelectorAll('.widget-text input[type=text]').length,
                    explorer: e.querySelectorAll('.js-plotly-plot').length,
                    tables: e.querySelectorAll('.dt-container tbody tr').length,
                    charts: [...e.querySelectorAll('.js-plotly-plot')].map(gd => [
                        gd._fullData.length,
                        gd.querySelectorAll('g.trace path, .hm image, path.surface').length,
                        gd.querySelectorAll('path.choroplethlocation').length]),
                })"""
            )
            title_before = page.evaluate(TITLE)
            status = explorer.locator(".auditlab-explorer-status")
            status_before = status.inner_text()
            actor = explorer.locator(".widget-dropdown select").first
            picked = actor.evaluate("s => s.options[2].textContent").replace("\xa0", " ")
            actor.select_option(index=2)
            page.wait_for_function(f"!{TITLE}.endsWith('everything')", timeout=REDRAW_S * 1000)
            title_after, status_after = page.evaluate(TITLE), status.inner_text()
            page.screenshot(path=str(ARTIFACTS / "explorer-vscode.png"))
            box = explorer.locator(".widget-text input")
            box.fill(picked.split("<")[1].split(">")[0])
            box.press("Enter")
            page.wait_for_function(f"{TITLE}.endsWith('\"')", timeout=REDRAW_S * 1000)
            title_searched, status_searched = page.evaluate(TITLE), status.inner_text()
        finally:
            browser.close()
    return VSCodeRun(
        seconds, seen["dropdowns"], seen["sliders"], seen["search"], seen["explorer"],
        seen["charts"], seen["tables"], title_before, status_before, picked, title_after,
        status_after, title_searched, status_searched, errors,
    )  # fmt: skip


def test_the_pickers_and_search_box_are_drawn(vscode_run: VSCodeRun) -> None:
    assert (vscode_run.dropdowns, vscode_run.sliders, vscode_run.search_boxes) == (4, 1, 1)


def test_the_output_areas_show_the_plotly_charts_with_marks(vscode_run: VSCodeRun) -> None:
    assert vscode_run.explorer_charts == EXPLORER_CHARTS
    assert all(traces > 0 and marks + shapes > 0 for traces, marks, shapes in vscode_run.charts)
    # the map, drawn from the outlines setup_notebook showed (no network here)
    assert [shapes >= 10 for *_, shapes in vscode_run.charts] == [False, False, False, True]
    assert vscode_run.title_before == "Events per day: everything"
    assert vscode_run.seconds < RENDER_S


def test_the_events_table_shows_its_first_page(vscode_run: VSCodeRun) -> None:
    assert vscode_run.table_rows == 15  # an itables DataTable's page of the newest events


def test_picking_an_actor_goes_through_the_kernel_and_redraws(vscode_run: VSCodeRun) -> None:
    name = vscode_run.picked.split(" <")[0]
    count = vscode_run.picked.rsplit("· ", 1)[1]
    assert vscode_run.title_after == f"Events per day: {name}"
    assert vscode_run.status_after.startswith(f"{count} of ") and name in vscode_run.status_after
    assert vscode_run.status_after.split(" of ")[0] != vscode_run.status_before.split(" of ")[0]


def test_searching_on_enter_redraws_with_the_search(vscode_run: VSCodeRun) -> None:
    name, email = vscode_run.picked.split(" <")[0], vscode_run.picked.split("<")[1].split(">")[0]
    count = vscode_run.picked.rsplit("· ", 1)[1]
    assert vscode_run.title_searched == f'Events per day: {name} · "{email}"'
    assert vscode_run.status_searched.startswith(f"{count} of ")


def test_the_page_logs_no_error(vscode_run: VSCodeRun) -> None:
    assert vscode_run.errors == []
