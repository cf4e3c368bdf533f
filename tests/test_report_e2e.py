"""`auditlab report` end to end against the sandbox, and the HTML opened in headless Chromium.

Each report is written once per session (one as recorded, one pseudonymized,
sharing a cache) and every test reads the same files; `make test` keeps a
file's tests on one xdist worker (--dist loadfile), so that is once per run.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import nbformat
import pytest
from helpers import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    PLANTED_KEY,
    TODAY,
    assert_key_absent,
    days_before,
    files_containing_key,
)

import auditlab
from auditlab.cli import main
from auditlab.report import data_digest, external_references, plotly_bootstrap_html
from auditlab.report.findings import SENSITIVE, WHERE_FROM, report_sections

pytestmark = pytest.mark.slow

FIGURES_IN_REPORT = 6  # timeline, users, actions, heatmap, country map, IPs


@dataclass
class Report:
    html: str
    notebook: Path


@pytest.fixture(scope="session")
def report_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("report-cache")


def _write_report(sandbox, cache: Path, folder: Path, *extra: str) -> Report:
    html, notebook = folder / "report.html", folder / "executed.ipynb"
    argv = [
        "report",
        "--base-url", sandbox.base_url,
        "--cache-dir", str(cache),
        "--out", str(html),
        "--keep-notebook", str(notebook),
        "--tz", "Europe/Berlin",
        # the 90 days that end on the pinned sandbox's today (the command's
        # system clock is later, so every one of them is a past day to it)
        "--from", days_before(89).isoformat(),
        "--to", TODAY.isoformat(),
        *extra,
    ]  # fmt: skip
    status = main(argv)
    assert status == 0, f"auditlab report exited with {status}"
    return Report(html.read_text("utf-8"), notebook)


@pytest.fixture(scope="session")
def report(sandbox, report_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Report:
    """Return the compliance report of the 90 days up to the sandbox's today, as recorded."""
    return _write_report(sandbox, report_cache, tmp_path_factory.mktemp("report"))


@pytest.fixture(scope="session")
def pseudonymized(
    sandbox, report_cache: Path, report: Report, tmp_path_factory: pytest.TempPathFactory
) -> Report:
    """Return the same report with --pseudonymize (after `report`, so the cache is warm)."""
    folder = tmp_path_factory.mktemp("pseudonymized")
    return _write_report(sandbox, report_cache, folder, "--pseudonymize")


def test_report_command_writes_html_with_every_section(report: Report) -> None:
    assert report.html.startswith("<!DOCTYPE html>")
    assert list(report_sections(report.html)) == [
        "Scope and data provenance", "Headline figures", "Activity timeline", "Who did what",
        "Where from", "Sensitive events", "Evidence appendix",
    ]  # fmt: skip


def test_plotly_js_and_map_outlines_are_embedded_once(report: Report) -> None:
    assert report.html.count(plotly_bootstrap_html()) == 1
    assert report.html.count("window.PlotlyGeoAssets = {") == 1
    assert report.html.count('class="plotly-graph-div"') == FIGURES_IN_REPORT


def test_html_has_no_code_and_loads_nothing_from_the_network(report: Report) -> None:
    assert external_references(report.html) == []
    assert not re.search(r"<(script|link)\b[^>]*(src|href)=[\"']?(https?:)?//", report.html)
    code_cells = re.findall(r'class="([^"]*\bjp-CodeCell\b[^"]*)"', report.html)
    assert code_cells and all("jp-mod-noInput" in c for c in code_cells)
    prompts_or_editors = r'class="[^"]*\bjp-(InputPrompt|OutputPrompt|CodeMirrorEditor)\b'
    assert not re.search(prompts_or_editors, report.html)
    assert "setup_notebook" not in report.html and "audit.timeline_chart" not in report.html


def test_api_key_is_in_neither_notebook_nor_html_nor_cache(
    report: Report, pseudonymized: Report, report_cache: Path
) -> None:
    for written in (report, pseudonymized):
        assert_key_absent(written.html, "the HTML report")
        assert_key_absent(written.notebook.read_text("utf-8"), "the executed notebook")
    assert files_containing_key(report_cache) == []


def test_executed_notebook_keeps_the_parameters_but_no_key_parameter(report: Report) -> None:
    nb = nbformat.read(report.notebook, as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1
    assert "tz = " in injected[0].source and "Europe/Berlin" in injected[0].source
    assert "key" not in injected[0].source.lower()
    assert set(nb.metadata.papermill.parameters) == {
        "org_id", "date_from", "date_to", "actions", "base_url", "cache_dir", "pseudonymize", "tz",
    }  # fmt: skip


def test_report_names_every_planted_incident_where_a_reviewer_looks(
    report: Report, pseudonymized: Report, sandbox
) -> None:
    for written in (report, pseudonymized):
        sections = report_sections(written.html)
        for incident in sandbox.org.answer_key:
            section = WHERE_FROM if incident.kind == "impossible_travel" else SENSITIVE
            missing = [i for i in incident.entry_ids if i not in sections[section]]
            assert not missing, f"{incident.kind}: {missing} not in '{section}'"


def test_evidence_digest_is_recomputed_from_the_same_data(
    report: Report, sandbox, report_cache: Path
) -> None:
    evidence = report_sections(report.html)["Evidence appendix"]
    shown = re.search(r"SHA-256 of the data\s+([0-9a-f]{64})", evidence).group(1)
    period = re.search(r"from=(\d{4}-\d\d-\d\d)&to=(\d{4}-\d\d-\d\d)", evidence)
    df = auditlab.load_audit_logs(
        "c",
        date_from=period.group(1),
        date_to=period.group(2),
        base_url=sandbox.base_url,
        cache_dir=report_cache,
        progress=False,
    )
    assert f"Entries {len(df):,}" in " ".join(evidence.split())
    assert data_digest(df) == shown


def _people_and_addresses(entries: list[dict]) -> tuple[set[str], set[str], set[str]]:
    """Return every email, person's name and IP address in the sandbox's own entries."""
    text = json.dumps(entries)
    emails = set(re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", text))
    names, ips = set(), set()
    for entry in entries:
        member = entry.get("member") or {}
        for person in (entry.get("actor"), entry.get("user"), member.get("user")):
            if person and person.get("name"):
                names.add(person["name"])
        if entry.get("ip"):
            ips.add(entry["ip"])
    return emails, names, ips


def test_pseudonymized_report_shows_no_email_name_or_ip(
    report: Report, pseudonymized: Report, sandbox, report_cache: Path
) -> None:
    emails, names, ips = _people_and_addresses(sandbox.org.entries)
    # plotly.js and the map outlines are the same library code in every report.
    bootstrap = plotly_bootstrap_html()
    plain, hidden = (r.html.replace(bootstrap, "") for r in (report, pseudonymized))
    assert len(emails) > 20 and len(names) > 20 and len(ips) > 20
    assert any(e in plain for e in emails) and any(n in plain for n in names)
    assert any(ip in plain for ip in ips)
    leaked = sorted(v for v in emails | names | ips if v in hidden)
    assert leaked == []
    assert html.escape(sandbox.org.org["name"]) in hidden  # the org name may stay
    key_file = report_cache / "pseudonym.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_failing_cell_fails_the_command_with_its_error_not_a_traceback(
    sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.html"
    argv = ["report", "--org", "org_elsewhere", "--base-url", sandbox.base_url, "--out", str(out)]
    assert main([*argv, "--cache-dir", str(tmp_path / "cache")]) == 2
    err = capsys.readouterr().err
    assert "compliance_report.ipynb: cell" in err and "NotFound" in err
    assert "Traceback" not in err and "---------" not in err
    assert PLANTED_KEY not in err and not out.exists()


@pytest.mark.browser
def test_report_renders_offline_in_chromium(report: Report, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    page_file = tmp_path / "report.html"
    page_file.write_text(report.html, "utf-8")
    ARTIFACTS.mkdir(exist_ok=True)
    errors: list[str] = []
    blocked: list[str] = []

    def only_files(route) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.route("**/*", only_files)
            page.goto(page_file.as_uri(), wait_until="load")
            page.wait_for_function(
                f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= "
                f"{FIGURES_IN_REPORT}",
                timeout=30_000,
            )
            # Per figure: its traces, and the marks drawn for them (bars, tiles,
            # heatmap image, country shapes).
            drawn = page.evaluate(
                """Array.from(document.querySelectorAll('.js-plotly-plot')).map(gd => [
                    gd._fullData.length,
                    gd.querySelectorAll('g.trace path, .hm image, path.surface').length,
                    gd.querySelectorAll('path.choroplethlocation').length])"""
            )
            page.screenshot(path=str(ARTIFACTS / "compliance_report.png"), full_page=True)
        finally:
            browser.close()
    assert len(drawn) == FIGURES_IN_REPORT
    assert all(traces > 0 and marks > 0 for traces, marks, _ in drawn), drawn
    countries = sum(shapes for _, _, shapes in drawn)
    assert countries >= 10
    assert errors == [] and blocked == []


def test_times_are_shown_in_the_report_time_zone(report: Report, sandbox) -> None:
    incident = next(i for i in sandbox.org.answer_key if i.kind == "org_transferred")
    entry = next(e for e in sandbox.org.entries if e["id"] == incident.entry_ids[0])
    at = dt.datetime.fromisoformat(entry["created_at"].replace("Z", "+00:00"))
    row = re.search(rf"<tr>(?:(?!</tr>).)*{incident.entry_ids[0]}.*?</tr>", report.html, re.S)
    assert at.astimezone(ZoneInfo("Europe/Berlin")).strftime("%Y-%m-%d %H:%M:%S") in row.group()
    assert at.strftime("%Y-%m-%d %H:%M:%S") not in row.group()


def test_demo_writes_the_report_and_finds_every_planted_incident(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, cache = tmp_path / "out" / "report.html", tmp_path / "out" / "cache"
    assert main(["demo", "--out", str(out), "--cache-dir", str(cache)]) == 0
    printed = capsys.readouterr().out
    assert f"Report: {out.resolve()}" in printed
    assert "7 of 7 planted incidents found." in printed
    for kind in ("impossible_travel", "deletion_burst", "org_transferred"):
        assert re.search(rf"found\s+{kind}\s", printed)
    # The demo's sandbox makes a random key with this prefix; it reaches the kernel
    # through the environment only.
    assert "sk_sandbox_" not in printed and b"sk_sandbox_" not in out.read_bytes()
    assert [p for p in cache.rglob("*") if p.is_file() and b"sk_sandbox_" in p.read_bytes()] == []
