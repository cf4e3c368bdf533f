"""`auditlab report` end to end against the sandbox, and the HTML opened in headless Chromium.

Each report is written once per session and every test reads the same files;
`make test` keeps a file's tests on one xdist worker (--dist loadfile), so
that is once per run. One report is as recorded, with the shipped rules, a
workbook and a PDF; the other, sharing the cache, is pseudonymized, with a
rules file of its own and the first report's findings, less some, as baseline.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import re
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import nbformat
import pytest
from helpers import (
    ARTIFACTS,
    PLANTED_KEY,
    TODAY,
    assert_key_absent,
    days_before,
    files_containing_key,
    offline_page,
)

import auditlab
from auditlab.analysis.rules import load_rules
from auditlab.cli import main
from auditlab.report import data_digest, external_references, plotly_bootstrap_html
from auditlab.report.findings import SENSITIVE, WHERE_FROM, report_sections

pytestmark = pytest.mark.slow

FIGURES_IN_REPORT = 7  # timeline, users, actions, heatmap, country map, IPs, privileged access


SEVERITY_ORDER = ("high", "medium", "low")
SHIPPED_RULES = Path(auditlab.__file__).parent / "analysis" / "rules.toml"
# The second report's own rules: mass deletion made low, and one rule of its own.
CUSTOM_RULES = SHIPPED_RULES.read_text("utf-8").replace(
    '[rules.mass_deletion]\nseverity = "high"', '[rules.mass_deletion]\nseverity = "low"'
) + '\n[rules.assistant_removed]\nseverity = "medium"\nactions = { "assistant.deleted" = "x" }\n'
# Rules whose findings the baseline leaves out: the second report marks them new.
LEFT_OUT_OF_BASELINE = ("org_change", "after_removal")


@dataclass
class Report:
    html: str
    notebook: Path
    folder: Path

    @property
    def findings(self) -> dict:
        return json.loads((self.folder / "report.findings.json").read_text("utf-8"))


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
    return Report(html.read_text("utf-8"), notebook, folder)


@pytest.fixture(scope="session")
def report(sandbox, report_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Report:
    """Return the compliance report of the 90 days up to the sandbox's today, as recorded,
    with its workbook and PDF."""
    folder = tmp_path_factory.mktemp("report")
    return _write_report(sandbox, report_cache, folder, "--xlsx", str(folder / "report.xlsx"),
                         "--pdf", str(folder / "report.pdf"))  # fmt: skip


@pytest.fixture(scope="session")
def pseudonymized(
    sandbox, report_cache: Path, report: Report, tmp_path_factory: pytest.TempPathFactory
) -> Report:
    """Return the same report with --pseudonymize, --rules and --baseline (after `report`,
    so the cache is warm): the baseline is the first report's findings less some rules'."""
    folder = tmp_path_factory.mktemp("pseudonymized")
    rules, baseline = folder / "rules.toml", folder / "old.findings.json"
    rules.write_text(CUSTOM_RULES, "utf-8")
    old = report.findings
    old["findings"] = [f for f in old["findings"] if f["rule"] not in LEFT_OUT_OF_BASELINE]
    baseline.write_text(json.dumps(old), "utf-8")
    return _write_report(sandbox, report_cache, folder, "--pseudonymize", "--rules", str(rules),
                         "--baseline", str(baseline))  # fmt: skip


def test_report_command_writes_html_with_every_section(report: Report) -> None:
    assert report.html.startswith("<!DOCTYPE html>")
    assert list(report_sections(report.html)) == [
        "Scope and data provenance", "Headline figures", "Findings", "Activity timeline",
        "Who did what", "Where from", "Sensitive events", "Privileged access during the period",
        "Evidence appendix",
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
        assert_key_absent(json.dumps(written.findings), "the findings file")
    assert files_containing_key(report_cache) == []


def test_executed_notebook_keeps_the_parameters_but_no_key_parameter(report: Report) -> None:
    nb = nbformat.read(report.notebook, as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1
    assert "tz = " in injected[0].source and "Europe/Berlin" in injected[0].source
    assert "key" not in injected[0].source.lower()
    assert set(nb.metadata.papermill.parameters) == {
        "org_id", "include_sub_orgs", "date_from", "date_to", "actions", "base_url",
        "cache_dir", "pseudonymize", "tz", "rules", "baseline", "findings_out", "workbook_out",
        "history_from",
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


def test_privileged_access_section_names_who_held_power_and_the_review_findings(
    report: Report, sandbox
) -> None:
    section = " ".join(report_sections(report.html)["Privileged access during the period"].split())
    start = dt.datetime.combine(days_before(89), dt.time(), dt.UTC)
    key = sandbox.org.access_key
    held = {t.name for t in key if t.privileged and (t.to_at is None or _at(t.to_at) > start)}
    assert held and all(name in section for name in held)
    outside = {t.name for t in key if t.privileged} - held
    assert not any(f"{name} " in section for name in outside)
    planted = {i.kind: i for i in sandbox.org.answer_key}
    for kind in ("off_hours_privilege_escalation", "org_transferred", "activity_after_removal"):
        assert all(entry_id in section for entry_id in planted[kind].entry_ids), kind
    for rule in ("grant_by_non_holder", "org_change", "after_removal", "privileged_quiet"):
        assert f"{rule} " in section
    assert "Roles were read from" in section and "from the organisation's first day" in section


def _at(stamp: str) -> dt.datetime:
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))


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
    assert "Cache verified never verified against the server's counts" in " ".join(evidence.split())
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
    written = json.dumps(pseudonymized.findings, ensure_ascii=False)
    assert sorted(v for v in emails | names | ips if v in written) == []
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


# Per category axis of every chart: its name, its categories, the labels drawn, and how
# many pairs of those labels overlap on the page.
EVERY_LABEL = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).flatMap(gd =>
    ['xaxis', 'yaxis'].filter(name => gd._fullLayout[name] &&
        gd._fullLayout[name].type === 'category').map(name => {
        const boxes = Array.from(gd.querySelectorAll(`g.${name[0]}tick text`))
            .filter(t => t.textContent).map(t => t.getBoundingClientRect());
        let overlaps = 0;
        boxes.forEach((a, i) => boxes.slice(i + 1).forEach(b => {
            if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 &&
                b.top < a.bottom - 1) overlaps++;
        }));
        return [name, gd._fullLayout[name]._categories.length, boxes.length, overlaps];
    }))"""


def _work_in_tables(page, entry_id: str) -> dict:
    """Sort and search the sensitive events' table as a reviewer would; return what it showed."""
    found: dict = page.evaluate("""() => ({
        datatables: document.querySelectorAll('table.dataTable').length,
        longest_page: Math.max(...Array.from(document.querySelectorAll('table.dataTable'))
            .map(t => t.tBodies[0].rows.length)),
        page_width: document.documentElement.scrollWidth})""")
    table = page.locator("table.dataTable").last  # the sensitive events, in section 7
    column = table.locator("thead th").all_inner_texts().index("Country") + 1

    def countries() -> list[str]:
        shown = table.locator(f"tbody tr td:nth-child({column})").all_inner_texts()
        return [text for text in shown if text != "—"]  # a missing country sorts first

    for order in ("asc", "desc"):  # DataTables redraws just after the click
        table.locator("thead th", has_text="Country").click()
        table.locator(f"thead th.dt-ordering-{order}", has_text="Country").wait_for()
        found[f"countries_{'up' if order == 'asc' else 'down'}"] = countries()
    container = table.locator("xpath=ancestor::div[contains(@class, 'dt-container')]")
    container.locator("input[type=search]").fill(entry_id)
    container.locator(".dt-info", has_text=" of 1 ").wait_for(timeout=5_000)
    id_column = table.locator("thead th").all_inner_texts().index("Id") + 1
    found["found"] = table.locator(f"tbody tr td:nth-child({id_column})").all_inner_texts()
    found["info"] = container.locator(".dt-info").inner_text()
    # The table is wider than its box: the box scrolls, not the page.
    found["box"] = table.evaluate("t => [t.parentElement.scrollWidth, t.parentElement.clientWidth]")
    return found


@pytest.mark.browser
def test_report_renders_offline_in_chromium(report: Report, tmp_path: Path, sandbox) -> None:
    transfer = next(i for i in sandbox.org.answer_key if i.kind == "org_transferred")
    incident_id = transfer.entry_ids[0]
    page_file = tmp_path / "report.html"
    page_file.write_text(report.html, "utf-8")
    ARTIFACTS.mkdir(exist_ok=True)
    with offline_page(page_file) as opened:
        page = opened.page
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
        labels = page.evaluate(EVERY_LABEL)
        world = page.evaluate(
            """['land', 'coastlines', 'countries'].map(layer => document.querySelectorAll(
                '.js-plotly-plot g.layer.' + layer + ' path').length)"""
        )
        page.screenshot(path=str(ARTIFACTS / "compliance_report.png"), full_page=True)
        tables = _work_in_tables(page, incident_id)
    assert tables["datatables"] >= 3 and tables["longest_page"] == 15
    assert tables["countries_up"] == sorted(tables["countries_up"])
    assert tables["countries_down"] == sorted(tables["countries_down"], reverse=True)
    assert tables["countries_up"] != tables["countries_down"]
    assert tables["found"] == [incident_id] and tables["info"].startswith("Showing 1 to 1 of 1")
    assert tables["page_width"] <= 1280 and tables["box"][0] > tables["box"][1]
    # Every category on every category axis is labelled, and no two labels overlap.
    # actors, actions, the matrix's two axes, IP addresses, who held privileged access
    assert len(labels) == 6, labels
    assert all(shown == categories > 0 and overlaps == 0
               for _, categories, shown, overlaps in labels), labels  # fmt: skip
    assert all(paths > 0 for paths in world), world  # the map draws the world around
    assert len(drawn) == FIGURES_IN_REPORT
    assert all(traces > 0 and marks > 0 for traces, marks, _ in drawn), drawn
    countries = sum(shapes for _, _, shapes in drawn)
    assert countries >= 10
    assert opened.errors == [] and opened.blocked == []


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


# -- findings first, rules as data, what is new, exports ---------------------------------------

def _cards(page: str) -> list[tuple[str, str, int, int, int]]:
    """Return each card's rule, severity and counts, in page order (attributes in any order)."""
    cards = []
    for tag in re.findall(r'<div class="auditlab-card"[^>]*>', page):
        data = dict(re.findall(r'data-(\w+)="([^"]*)"', tag))
        cards.append((data["rule"], data["severity"], int(data["findings"]),
                      int(data["events"]), int(data["actors"])))  # fmt: skip
    return cards


def _expected_cards(findings: list[dict]) -> list[tuple[str, str, int, int, int]]:
    """Return, per rule in the findings file, what its card must say."""
    rules: dict[str, list[dict]] = {}
    for finding in findings:
        rules.setdefault(finding["rule"], []).append(finding)
    return [
        (rule, rows[0]["severity"], len(rows), len({i for f in rows for i in f["entry_ids"]}),
         len({f["actor_id"] for f in rows if f["actor_id"]}))
        for rule, rows in rules.items()
    ]  # fmt: skip


def test_findings_come_first_one_card_per_rule_by_severity_then_count(report: Report) -> None:
    sections = list(report_sections(report.html))
    assert sections.index("Findings") == sections.index("Headline figures") + 1
    cards = _cards(report.html)
    assert sorted(cards) == sorted(_expected_cards(report.findings["findings"]))
    ranks = [(SEVERITY_ORDER.index(severity), -count) for _, severity, count, _, _ in cards]
    assert ranks == sorted(ranks) and len(cards) >= 8
    findings_text = report_sections(report.html)["Findings"]
    for finding in report.findings["findings"]:  # every card's evidence lists its entries
        assert all(i in findings_text for i in finding["entry_ids"])
    assert "Actors by findings" in findings_text


def test_findings_file_names_each_findings_rule_entries_actor_and_times(
    report: Report, sandbox
) -> None:
    document = report.findings
    rules = load_rules()
    assert document["format"] == "auditlab-findings" and document["version"] == 1
    assert document["report"]["rules_sha256"] == rules.sha256
    entries = {e["id"]: e for e in sandbox.org.entries}
    for finding in document["findings"]:
        assert finding["rule"] in rules and finding["severity"] == rules[finding["rule"]].severity
        assert all(i in entries for i in finding["entry_ids"])
        assert finding["first"] <= finding["last"]
        first = entries[finding["entry_ids"][0]]
        assert finding["first"].startswith(first["created_at"][:19])
    flagged = {i for f in document["findings"] for i in f["entry_ids"]}
    for incident in sandbox.org.answer_key:
        assert set(incident.entry_ids) <= flagged, incident.kind


def test_the_evidence_appendix_gives_the_sha256_of_the_rules_used(
    report: Report, pseudonymized: Report
) -> None:
    shipped = hashlib.sha256(SHIPPED_RULES.read_bytes()).hexdigest()
    custom = hashlib.sha256(CUSTOM_RULES.encode()).hexdigest()
    for written, digest in ((report, shipped), (pseudonymized, custom)):
        evidence = " ".join(report_sections(written.html)["Evidence appendix"].split())
        assert f"SHA-256 of the rules {digest}" in evidence
    evidence = " ".join(report_sections(pseudonymized.html)["Evidence appendix"].split())
    assert f"Rules {pseudonymized.folder / 'rules.toml'} (" in evidence


def test_another_rules_file_changes_severities_and_adds_its_own_rules(
    pseudonymized: Report,
) -> None:
    cards = {rule: severity for rule, severity, *_ in _cards(pseudonymized.html)}
    assert cards["mass_deletion"] == "low" and cards["assistant_removed"] == "medium"
    assert sorted(_cards(pseudonymized.html)) == sorted(
        _expected_cards(pseudonymized.findings["findings"])
    )


def test_a_baseline_marks_every_finding_it_lacks_as_new_and_the_headline_counts_them(
    report: Report, pseudonymized: Report
) -> None:
    def keys(findings: list[dict]) -> set[tuple[str, tuple[str, ...]]]:
        return {(f["rule"], tuple(f["entry_ids"])) for f in findings}

    old = [f for f in report.findings["findings"] if f["rule"] not in LEFT_OUT_OF_BASELINE]
    now = pseudonymized.findings["findings"]
    new = {(f["rule"], tuple(f["entry_ids"])) for f in now if f["new"]}
    assert new == keys(now) - keys(old)
    assert {rule for rule, _ in new} == {*LEFT_OUT_OF_BASELINE, "assistant_removed"}
    headline = " ".join(report_sections(pseudonymized.html)["Headline figures"].split())
    assert f"{len(new):,} New since the baseline" in headline
    assert "New since the baseline" not in report_sections(report.html)["Headline figures"]
    badges = dict(re.findall(r'data-rule="(\w+)".*?(?:(\d+) new</span>|</code></div>)',
                             pseudonymized.html))  # fmt: skip
    assert {rule: int(n) for rule, n in badges.items() if n} == {
        rule: sum(1 for r, _ in new if r == rule) for rule, _ in new
    }


def test_the_workbook_has_findings_each_rules_evidence_actors_and_provenance(
    report: Report,
) -> None:
    import openpyxl

    book = openpyxl.load_workbook(report.folder / "report.xlsx", read_only=True)
    findings = report.findings["findings"]
    rules = list(dict.fromkeys(f["rule"] for f in findings))
    review = ["Privileged access", "Leavers", "Role history"]
    assert book.sheetnames == ["Findings", *rules, "Actors", *review, "Provenance"]
    assert {"grant_by_non_holder", "privileged_quiet"} <= set(rules)
    held = report_sections(report.html)["Privileged access during the period"]
    names = [row[1] for row in book["Privileged access"].iter_rows(min_row=2, values_only=True)]
    assert names and all(f"{name} " in " ".join(held.split()) + " " for name in names)
    assert book["Findings"].max_row == len(findings) + 1
    for rule in rules:
        assert book[rule].max_row == sum(f["rule"] == rule for f in findings) + 1
    actors = {f["actor_id"] for f in findings if f["actor_id"]}
    assert book["Actors"].max_row == len(actors) + 1
    rows = book["Provenance"].iter_rows(min_row=2, values_only=True)
    provenance = {item: value for item, value in rows}
    evidence = report_sections(report.html)["Evidence appendix"]
    assert provenance["SHA-256 of the data"] in evidence
    assert provenance["Query"].startswith("GET http://127.0.0.1:")


@pytest.mark.browser
def test_the_pdf_prints_every_page_with_content_charts_included(report: Report, tmp_path: Path):
    pdf = report.folder / "report.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    subprocess.run(["pdftoppm", "-r", "20", "-gray", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.pgm"))
    assert len(pages) >= 8
    for page in pages:
        # binary PGM: "P5\n<width> <height>\n255\n" then one byte per pixel
        header, pixels = page.read_bytes().split(b"\n255\n", 1)
        width, height = map(int, header.split()[1:3])
        inked = sum(1 for value in pixels if value < 200)
        # a blank page inks nothing; one line of text inks some 70 pixels at 20 dpi
        assert inked >= 20, f"{page.name} ({width}x{height}) is blank"
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, check=True).stdout
    assert b"Events per day by category" in text and b"Events by country" in text
