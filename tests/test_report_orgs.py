"""A report over an org and its sub-orgs: a per-org breakdown, and every finding names its org."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from helpers import NOW, PLANTED_KEY, TODAY, days_before

from auditlab.cli import main
from auditlab.report.findings import SENSITIVE, WHERE_FROM, report_sections
from auditlab.sandbox import serve

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def group() -> Iterator[Any]:
    with serve(api_key=PLANTED_KEY, seed=9, days=20, now=NOW, sub_orgs=2, rate_limit=None) as sb:
        yield sb


@pytest.fixture(scope="module")
def page(group: Any, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Return the HTML report of the parent and its sub-orgs, the last 20 days."""
    folder = tmp_path_factory.mktemp("report")
    argv = [
        "report", "--base-url", group.base_url, "--cache-dir", str(folder / "cache"),
        "--out", str(folder / "report.html"), "--sub-orgs", "--no-progress",
        # the command reads the system clock, later than the pinned sandbox's today
        "--from", days_before(19).isoformat(), "--to", TODAY.isoformat(),
    ]  # fmt: skip
    assert main(argv) == 0
    return (folder / "report.html").read_text("utf-8")


def test_the_headline_breaks_the_figures_down_per_org(group: Any, page: str) -> None:
    headline = report_sections(page)["Headline figures"]
    for org_id, org in group.orgs.items():
        events = sum(e["created_at"][:10] >= str(days_before(19)) for e in org.entries)
        assert f"{org_id} {org.org['name']} {events:,} " in " ".join(headline.split())


def section_html(page: str, title: str) -> str:
    """Return the HTML of the report's section whose ``<h2>`` ends with title."""
    parts = re.split(r"<h2\b[^>]*>(.*?)</h2>", page, flags=re.DOTALL)
    return next(body for head, body in zip(parts[1::2], parts[2::2], strict=True)
                if re.sub(r"<[^>]+>|¶", "", head).strip().endswith(title))  # fmt: skip


FINDING_SECTIONS = ("Findings", WHERE_FROM, SENSITIVE, "Privileged access during the period")


def test_every_planted_incident_of_every_org_is_named_with_its_org(group: Any, page: str) -> None:
    sections = report_sections(page)
    # The finding tables: cards, travel and new countries, sensitive events, access findings.
    rows = [row for title in FINDING_SECTIONS
            for table in re.findall(r"<table\b.*?</table>", section_html(page, title), re.DOTALL)
            if "Org" in table.split("</thead>")[0]
            for row in re.findall(r"<tr\b.*?</tr>", table, re.DOTALL)]  # fmt: skip
    for title in FINDING_SECTIONS[:3]:  # there, every table of entries names their orgs
        tables = re.findall(r"<table\b.*?</table>", section_html(page, title), re.DOTALL)
        assert all("Org" in t.split("</thead>")[0] for t in tables if "alog_" in t), title
    assert {incident.org_id for incident in group.answer_key} == set(group.orgs)
    for incident in group.answer_key:
        section = sections[WHERE_FROM if incident.kind == "impossible_travel" else SENSITIVE]
        assert all(entry in section for entry in incident.entry_ids), incident
        for entry in incident.entry_ids:  # each finding showing one of its entries names its org
            showing = [row for row in rows if entry in row]
            assert showing and [r for r in showing if incident.org_id not in r] == [], incident
    scope = " ".join(sections["Scope and data provenance"].split())
    assert all(org_id in scope for org_id in group.orgs)


def test_the_evidence_appendix_says_how_to_load_the_same_orgs_again(page: str) -> None:
    evidence = " ".join(report_sections(page)["Evidence appendix"].split())
    assert "/orgs/c/audit-logs?from=" in evidence
    assert "(and the same of each org's sub-orgs)" in evidence
    assert "auditlab.load_audit_logs('c', include_sub_orgs=True, date_from=" in evidence
    assert "Fetched from the server (UTC) not recorded" not in evidence
