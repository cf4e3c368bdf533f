"""Hostile text in the log, end to end: the sandbox's hostile switch, then every output over it.

One sandbox of 30 days with hostile text in 8% of its entries (and in every
actor's newest entry, so each payload is some actor's latest name) serves the
whole file; the report and the CSV export are written once per session.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import random
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pandas as pd
import pytest
from helpers import NOW, PLANTED_KEY, TODAY, days_before, offline_page

import auditlab
import auditlab.analysis as analysis
from auditlab.cli import build_parser, main
from auditlab.report import EXPLORE_NOTEBOOK, notebook_path, plotly_bootstrap_html, run_notebook
from auditlab.report.present import TABLE_TEXT_LIMIT
from auditlab.safety import FORMULA_STARTS, HIDDEN, display_text
from auditlab.sandbox import generate_org, serve
from auditlab.sandbox.hostile import (
    BIG_METADATA_BYTES,
    LONG_TEXT_CHARS,
    PAYLOADS,
    TEXT_FIELDS,
    add_hostile,
)
from auditlab.sandbox.server import Knobs

pytestmark = pytest.mark.slow

DAYS = 30
RATE = 0.08
FIRST_DAY = days_before(DAYS - 1)
LONG_NAME = next(p for p in PAYLOADS if len(p) == LONG_TEXT_CHARS)
LYING = [p for p in PAYLOADS if HIDDEN.search(p)]
# Any trace of a payload turned into markup: an element or attribute it would add.
INJECTED = "#injected, img[src='x'], svg[onload], [onerror], [onload], [style*='80px']"
csv.field_size_limit(sys.maxsize)  # the 5 MB metadata is one cell


@dataclass
class Written:
    html: str
    notebook: Path
    workbook: Path


@pytest.fixture(scope="session")
def hostile() -> Iterator[Any]:
    """Return a running sandbox of 30 days up to NOW with hostile text in 8% of entries."""
    with serve(api_key=PLANTED_KEY, seed=0, days=DAYS, now=NOW, hostile=RATE) as server:
        yield server


@pytest.fixture(scope="session")
def hostile_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile-cache")


@pytest.fixture(scope="session")
def hostile_frame(hostile: Any, hostile_cache: Path) -> pd.DataFrame:
    return _load(hostile, hostile_cache)


def _load(server: Any, cache: Path) -> pd.DataFrame:
    return auditlab.load_audit_logs(
        "c",
        date_from=FIRST_DAY.isoformat(),
        date_to=TODAY.isoformat(),
        base_url=server.base_url,
        cache_dir=cache,
        progress=False,
        clock=server.clock,
    )


@pytest.fixture(scope="session")
def hostile_report(
    hostile: Any, hostile_cache: Path, tmp_path_factory: pytest.TempPathFactory
) -> Written:
    """Return the compliance report of the hostile sandbox's 30 days, written once."""
    folder = tmp_path_factory.mktemp("hostile-report")
    out, notebook = folder / "report.html", folder / "executed.ipynb"
    workbook = folder / "report.xlsx"
    argv = [
        "report", "--base-url", hostile.base_url, "--cache-dir", str(hostile_cache),
        "--out", str(out), "--keep-notebook", str(notebook), "--no-progress",
        "--from", FIRST_DAY.isoformat(), "--to", TODAY.isoformat(), "--xlsx", str(workbook),
    ]  # fmt: skip
    assert main(argv) == 0
    return Written(out.read_text("utf-8"), notebook, workbook)


def _fetch_csv(server: Any, cache: Path, out: Path, *extra: str) -> list[list[str]]:
    argv = [
        "fetch", "--base-url", server.base_url, "--cache-dir", str(cache), "--no-progress",
        "--from", FIRST_DAY.isoformat(), "--to", TODAY.isoformat(), "--out", str(out), *extra,
    ]  # fmt: skip
    assert main(argv) == 0
    with out.open(newline="", encoding="utf-8") as file:
        return list(csv.reader(file))


def _is_formula(cell: str) -> bool:
    """Return True if a spreadsheet would evaluate the cell (a formula start, not a number)."""
    if not cell.startswith(FORMULA_STARTS):
        return False
    try:
        float(cell)
    except ValueError:
        return True
    return False


def _visible(page: str) -> str:
    """Return the report without the plotly.js library it embeds (the same in every report)."""
    return page.replace(plotly_bootstrap_html(), "")


# -- the switch ---------------------------------------------------------------------------


def test_hostile_switch_fills_every_free_text_field_and_spares_the_answer_key(hostile) -> None:
    clean = {e["id"]: e for e in generate_org(seed=0, days=DAYS, now=NOW).entries}
    served = hostile.org.entries
    assert [e["id"] for e in served] == list(clean)
    changed = [e for e in served if e != clean[e["id"]]]
    actors = {e["actor"]["id"] for e in served if e.get("actor")}
    assert RATE * len(served) * 0.8 < len(changed) < RATE * len(served) * 1.2 + len(actors)
    planted = {i for incident in hostile.org.answer_key for i in incident.entry_ids}
    by_id = {e["id"]: e for e in served}
    assert planted and all(by_id[i] == clean[i] for i in planted)

    def at(entry: dict, path: tuple[str, ...]) -> Any:
        for key in path:
            entry = entry.get(key) if isinstance(entry, dict) else None
        return entry

    for path in TEXT_FIELDS:
        assert {at(e, path) for e in changed} & set(PAYLOADS), path
    assert {e["agent"] for e in changed} & set(PAYLOADS)
    texts = {at(e, path) for e in changed for path in TEXT_FIELDS} | {e["agent"] for e in changed}
    assert set(PAYLOADS) <= texts | {e["metadata"]["note"] for e in changed}
    big = [e for e in changed if len(json.dumps(e["metadata"])) >= BIG_METADATA_BYTES]
    assert len(big) == 1
    assert all(set(e["metadata"]) in ({"note", "title"}, {"instructions", "note"}) for e in changed)


def test_hostile_switch_gives_the_same_text_for_a_seed_and_other_text_for_another() -> None:
    runs = []
    for seed in (3, 3, 4):
        org = generate_org(seed=3, days=14, now=NOW)
        add_hostile(org.entries, RATE, random.Random(seed), keep=org.answer_key)
        runs.append(org.entries)
    assert runs[0] == runs[1] and runs[0] != runs[2]


def test_hostile_switch_on_the_command_line_and_its_bounds() -> None:
    assert build_parser().parse_args(["sandbox", "--hostile", "0.08"]).hostile == 0.08
    with pytest.raises(ValueError, match="hostile"):
        Knobs(hostile=1.5)


def test_live_entries_get_hostile_text_but_no_big_metadata() -> None:
    org = generate_org(seed=5, days=14, now=NOW)
    before = len(org.entries)
    with serve(org=org, api_key="k", seed=5, live=20, hostile=1.0) as server:
        server.server.append_live()
    fresh = org.entries[: len(org.entries) - before]
    assert len(fresh) == 20
    assert all(e["agent"] in PAYLOADS and set(e["metadata"]) == {"note", "title"} for e in fresh)


# -- the data is kept as sent, whatever its size ------------------------------------------


def test_huge_names_and_metadata_load_cache_and_stay_whole(
    hostile, hostile_frame: pd.DataFrame, hostile_cache: Path
) -> None:
    df = hostile_frame
    first = FIRST_DAY.isoformat()
    assert len(df) == sum(e["created_at"][:10] >= first for e in hostile.org.entries)
    assert (df["actor_name"] == LONG_NAME).any() and (df["agent"] == LONG_NAME).any()
    biggest = df["metadata"].str.len().max()
    assert biggest >= BIG_METADATA_BYTES
    sent = next(e for e in hostile.org.entries if len(json.dumps(e["metadata"])) >= biggest - 100)
    row = df.loc[df["id"] == sent["id"], "metadata"].iloc[0]
    assert json.loads(row) == sent["metadata"]
    hostile.stats.reset()
    again = _load(hostile, hostile_cache)
    # only today is asked again: every past day comes from the cache
    assert all(f"from={TODAY.isoformat()}" in query for query in hostile.stats.queries)
    def past(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[frame["date"] < pd.Timestamp(TODAY)].reset_index(drop=True)

    pd.testing.assert_frame_equal(past(again), past(df))


def test_the_data_keeps_every_payload_exactly_as_sent(hostile_frame: pd.DataFrame) -> None:
    names = set(hostile_frame["actor_name"].dropna())
    assert set(PAYLOADS) <= names
    assert "Mallory\u202egnp.exe" in names and "Mallory⟨U+202E⟩gnp.exe" not in names


# -- CSV ----------------------------------------------------------------------------------


def test_csv_export_has_no_formula_cell_and_raw_keeps_text_as_sent(
    hostile, hostile_cache: Path, hostile_frame: pd.DataFrame, tmp_path: Path
) -> None:
    safe = _fetch_csv(hostile, hostile_cache, tmp_path / "x.csv")
    raw = _fetch_csv(hostile, hostile_cache, tmp_path / "raw.csv", "--raw")
    assert len(safe) == len(raw) == len(hostile_frame) + 1
    assert all(len(row) == len(safe[0]) for row in safe)
    assert [cell for row in safe for cell in row if _is_formula(cell)] == []
    formulas = [cell for row in raw for cell in row if _is_formula(cell)]
    assert len(formulas) > 100  # the check above had something to catch
    column = raw[0].index("actor_name")
    assert [row[column] for row in raw[1:]] == hostile_frame["actor_name"].fillna("").tolist()
    escaped = [row[column] for row in safe[1:]]
    assert escaped.count("'" + LONG_NAME) == (hostile_frame["actor_name"] == LONG_NAME).sum()


def test_workbook_stores_no_formula_and_shows_no_text_a_spreadsheet_would_run(
    hostile_report: Written,
) -> None:
    import openpyxl

    book = openpyxl.load_workbook(hostile_report.workbook)
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    texts = [c.value for c in cells if isinstance(c.value, str)]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    assert [text for text in texts if _is_formula(text)] == []
    # hostile names reached the workbook, escaped: the checks above had something to catch
    assert any(text.startswith("'=") for text in texts)


# -- the report, its notebook and the charts ----------------------------------------------


def test_report_shows_every_hidden_character_as_a_marker(
    hostile_report: Written, hostile_frame: pd.DataFrame
) -> None:
    page = _visible(hostile_report.html)
    assert HIDDEN.findall(page) == []
    assert not re.search(r"\\u(?:202[a-e]|200[b-f]|206[0-9a-f]|feff|000d)", page, re.IGNORECASE)
    latest = analysis.actor_breakdown(hostile_frame, top=None)["actor_name"]
    lying = [name for name in latest.dropna() if HIDDEN.search(name)]
    assert set(lying) == set(LYING)  # every lying payload is some actor's latest name
    for name in lying:
        assert html.escape(display_text(name, TABLE_TEXT_LIMIT), quote=False) in page
    assert "Mallorygnp.exe" not in page  # nor a name shown without its controls
    for char in {c for name in lying for c in HIDDEN.findall(name)}:
        assert f"⟨U+{ord(char):04X}⟩" in page


def test_report_cuts_long_text_and_stays_small(hostile_report: Written) -> None:
    page = _visible(hostile_report.html)
    cut = "=" + "W" * (TABLE_TEXT_LIMIT - 1) + f"… [{LONG_TEXT_CHARS - TABLE_TEXT_LIMIT:,} more"
    assert cut in page
    assert "W" * 1000 not in hostile_report.html
    assert len(page) < 2_000_000  # 5 MB of metadata and names of 100,000 characters stayed out


def test_report_notebook_outputs_show_markers_not_controls(hostile_report: Written) -> None:
    nb = nbformat.read(hostile_report.notebook, as_version=4)
    shown = [
        str(value)
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        for mime, value in output.get("data", {}).items()
        if mime in ("text/html", "text/plain") and "PlotlyGeoAssets" not in str(value)
    ]
    assert any("⟨U+202E⟩" in text for text in shown)
    assert [text[:80] for text in shown if HIDDEN.search(text)] == []


@pytest.mark.browser
def test_report_in_chromium_runs_no_payload_and_injects_no_element(
    hostile_report: Written, tmp_path: Path
) -> None:
    page_file = tmp_path / "report.html"
    page_file.write_text(hostile_report.html, "utf-8")
    with offline_page(page_file) as opened:
        page = opened.page
        page.wait_for_function(
            "document.querySelectorAll('.js-plotly-plot .main-svg').length >= 6", timeout=30_000
        )
        # Hover over every bar and tile, so plotly draws each hover label once.
        for mark in page.query_selector_all(".js-plotly-plot g.trace path")[:400]:
            box = mark.bounding_box()
            if box and box["width"] > 0 and box["height"] > 0:
                page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        found = page.evaluate(
            """selector => ({
                injected: document.querySelectorAll(selector).length,
                handlers: Array.from(document.querySelectorAll('*')).filter(element =>
                    Array.from(element.attributes).some(a => a.name.startsWith('on'))).length,
                alerts: Array.from(document.scripts).filter(s =>
                    /^\\s*alert\\(/.test(s.textContent)).length,
                links: Array.from(document.querySelectorAll('a'))
                    .map(a => a.getAttribute('href') || a.getAttribute('xlink:href') || '')
                    .filter(h => !h.startsWith('#')),
                text: document.body.innerText + Array.from(
                    document.querySelectorAll('svg text')).map(t => t.textContent).join(' '),
                width: document.documentElement.scrollWidth - window.innerWidth,
            })""",
            INJECTED,
        )
    assert opened.dialogs == []
    assert found["injected"] == 0 and found["handlers"] == 0 and found["alerts"] == 0
    assert found["links"] == []
    assert opened.errors == [] and opened.blocked == []
    assert found["width"] <= 0  # nothing pushed the page wider than the window
    assert HIDDEN.findall(found["text"]) == []
    assert "Mallory⟨U+202E⟩gnp.exe" in found["text"]
    assert '<a href="https://attacker.example/">Ana Silva</a>' in found["text"]


def test_explore_notebook_over_hostile_data_shows_markers_in_its_tables(
    hostile, tmp_path: Path
) -> None:
    executed = run_notebook(
        notebook_path(EXPLORE_NOTEBOOK),
        tmp_path / "explore.ipynb",
        {
            "base_url": hostile.base_url,
            "cache_dir": str(tmp_path / "cache"),
            "date_from": (TODAY - dt.timedelta(days=6)).isoformat(),
            "date_to": TODAY.isoformat(),
        },
        progress=False,
    )
    tables = [
        str(output["data"]["text/html"])
        for cell in executed.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if "<table" in str(output.get("data", {}).get("text/html", ""))
    ]
    assert tables and [t[:80] for t in tables if HIDDEN.search(t)] == []
    assert any("⟨U+" in table for table in tables)


def test_csv_keyword_in_python_is_raw(hostile_frame: pd.DataFrame) -> None:
    text = auditlab.to_csv(hostile_frame.head(200), raw=True)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert [cell for row in rows for cell in row if _is_formula(cell)]
    safe = list(csv.reader(io.StringIO(auditlab.to_csv(hostile_frame.head(200)), newline="")))
    assert [cell for row in safe for cell in row if _is_formula(cell)] == []
