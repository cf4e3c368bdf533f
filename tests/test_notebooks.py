"""The notebooks as shipped: stored clean, parameterised safely, and run top to bottom."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from helpers import assert_key_absent, files_containing_key

from auditlab.frame.schema import COLUMN_NAMES
from auditlab.report import EXPLORE_NOTEBOOK, REPORT_NOTEBOOK, notebook_path, run_notebook

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
REPORT_PARAMETERS = {
    "org_id", "include_sub_orgs", "date_from", "date_to", "actions", "base_url",
    "cache_dir", "pseudonymize", "tz", "rules", "baseline", "findings_out", "workbook_out",
    "history_from",
}  # fmt: skip


def _parameters_cell(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    return tagged[0]


def _assigned_names(source: str) -> set[str]:
    return {line.split("=")[0].strip() for line in source.splitlines() if " = " in line}


def test_both_notebooks_are_kept_once_in_the_notebooks_folder() -> None:
    assert [p.name for p in NOTEBOOKS] == [REPORT_NOTEBOOK, EXPLORE_NOTEBOOK]
    assert notebook_path(REPORT_NOTEBOOK) == ROOT / "notebooks" / REPORT_NOTEBOOK
    copies = [
        p
        for p in ROOT.rglob("*.ipynb")
        if not {".venv", "test-artifacts", "out"} & set(p.relative_to(ROOT).parts)
    ]
    assert sorted(copies) == NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code
    assert all(c.outputs == [] and c.execution_count is None for c in code)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_notebook_takes_an_api_key_parameter(path: Path) -> None:
    names = _assigned_names(_parameters_cell(nbformat.read(path, as_version=4)).source)
    assert names and not any("key" in name.lower() for name in names)


def test_report_notebook_parameters_are_the_documented_ones() -> None:
    cell = _parameters_cell(nbformat.read(notebook_path(REPORT_NOTEBOOK), as_version=4))
    assert _assigned_names(cell.source) == REPORT_PARAMETERS


@pytest.fixture(scope="session")
def explore_as_shipped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """Return (executed notebook, cache) of explore.ipynb run with no parameters and no key.

    With no INVENT_API_KEY the notebook must serve the sandbox itself; the
    planted key is put back afterwards for the other tests.
    """
    folder = tmp_path_factory.mktemp("explore")
    cache = folder / "cache"
    saved = {name: os.environ.pop(name, None) for name in ("INVENT_API_KEY", "INVENT_BASE_URL")}
    try:
        run_notebook(
            notebook_path(EXPLORE_NOTEBOOK),
            folder / "explore.ipynb",
            progress=False,
            environment={"AUDITLAB_CACHE_DIR": str(cache)},
        )
    finally:
        os.environ.update({k: v for k, v in saved.items() if v is not None})
    yield folder / "explore.ipynb", cache


@pytest.mark.slow
def test_explore_runs_top_to_bottom_against_its_own_sandbox(explore_as_shipped) -> None:
    executed, cache = explore_as_shipped
    nb = nbformat.read(executed, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code)
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert errors == []
    notice = code[2].outputs[0].data["text/html"]
    assert "Sandbox data." in notice and "No <code>INVENT_API_KEY</code>" in notice
    figures = [
        o for c in code for o in c.outputs if "application/vnd.plotly.v1+json" in o.get("data", {})
    ]
    assert len(figures) == 7  # six charts of the whole log, one of one person
    metadata = next(c for c in code if "expand_metadata" in c.source).outputs[0].data["text/html"]
    assert "previous_role" in metadata and "new_role" in metadata
    assert any(cache.rglob("*.parquet"))


def _cell(nb: nbformat.NotebookNode, source: str) -> nbformat.NotebookNode:
    """Return the one code cell whose source contains ``source``."""
    (cell,) = [c for c in nb.cells if c.cell_type == "code" and source in c.source]
    return cell


@pytest.mark.slow
def test_explore_is_saved_small_with_each_figure_once_and_no_plotly_js(explore_as_shipped) -> None:
    executed, _ = explore_as_shipped
    assert executed.stat().st_size < 3_000_000
    assert b"plotly.js v" not in executed.read_bytes()
    outputs = [o for c in nbformat.read(executed, as_version=4).cells for o in c.get("outputs", [])]
    figures = [o.data for o in outputs if "application/vnd.plotly.v1+json" in o.get("data", {})]
    assert len(figures) == 7
    assert all(set(figure) == {"application/vnd.plotly.v1+json"} for figure in figures)


@pytest.mark.slow
def test_explore_loads_with_a_widget_progress_bar_and_no_fallback_warning(
    explore_as_shipped,
) -> None:
    nb = nbformat.read(explore_as_shipped[0], as_version=4)
    bars = [o.data for o in _cell(nb, "auditlab.load_audit_logs(").outputs if "data" in o]
    assert len(bars) == 1 and "application/vnd.jupyter.widget-view+json" in bars[0]
    assert bars[0]["text/plain"].startswith("audit-log entries")
    streams = [o.text for c in nb.cells for o in c.get("outputs", []) if o.output_type == "stream"]
    assert not any("IProgress not found" in text for text in streams)


@pytest.mark.slow
def test_explore_lists_the_sensitive_events_with_names_and_reasons(explore_as_shipped) -> None:
    table = _cell(nbformat.read(explore_as_shipped[0], as_version=4), "sensitive_events()")
    html = table.outputs[-1].data["text/html"]
    for column in ("actor_name", "actor_email", "member_user_name", "reason"):
        assert column in html
    assert "organisation transferred" in html and "@example.com" in html


def test_explore_searches_every_column_and_shows_one_entry_whole(explore_as_shipped) -> None:
    nb = nbformat.read(explore_as_shipped[0], as_version=4)
    found = _cell(nb, "df.audit.search(").outputs[-1].data["text/html"]
    # the person's email: their own entries name it twice, as actor and as user
    assert "matched_in" in found and "actor_email, user_email" in found
    shown = _cell(nb, "df.audit.entry(").outputs[-1].data["text/html"]
    assert shown.startswith('<table class="auditlab-entry">')
    assert shown.count("<tr>") == len(COLUMN_NAMES)
    assert ">metadata</th>" in shown and ">org_config</th>" in shown
    assert "{\n  &quot;" in shown  # the configs pretty-printed, one key a line


@pytest.mark.slow
# explore.ipynb is for JupyterLab: nbconvert says it cannot draw its (plotly-only) figures
@pytest.mark.filterwarnings("ignore:Your element with mimetype")
def test_explorer_output_is_a_widget_and_a_note_where_no_widget_can_be_drawn(
    explore_as_shipped,
) -> None:
    from nbconvert import HTMLExporter

    nb = nbformat.read(explore_as_shipped[0], as_version=4)
    (shown,) = _cell(nb, "df.audit.explore()").outputs
    assert "application/vnd.jupyter.widget-view+json" in shown.data
    note = "need a running Jupyter kernel and a widget frontend"
    assert note in shown.data["text/html"]
    # saved from JupyterLab, a notebook keeps no widget state; nbconvert then shows the note
    nb.metadata.pop("widgets", None)
    html, _ = HTMLExporter().from_notebook_node(nb)
    assert note in html


@pytest.mark.slow
def test_explore_writes_no_api_key_anywhere(explore_as_shipped) -> None:
    executed, cache = explore_as_shipped
    # The notebook's own sandbox makes a random key starting with this prefix.
    sandbox_key = b"sk_sandbox_"
    assert sandbox_key not in executed.read_bytes()
    assert [p for p in cache.rglob("*") if p.is_file() and sandbox_key in p.read_bytes()] == []
    assert_key_absent(executed.read_bytes(), "the executed explore notebook")
    assert files_containing_key(cache) == []
