"""Parameterised notebooks run with papermill, exported to self-contained HTML.

>>> from auditlab.report import Scope, data_digest, write_report
>>> Scope.build(date_from="2026-07-01", date_to="2026-09-30").days
92
"""

from auditlab.report.access import AccessReview, access_review
from auditlab.report.baseline import findings_path, mark_new, read_baseline, write_findings
from auditlab.report.digest import data_digest
from auditlab.report.errors import ReportFailed
from auditlab.report.export import export_html, external_references
from auditlab.report.findings import Finding, incidents_found, report_sections
from auditlab.report.paths import EXPLORE_NOTEBOOK, REPORT_NOTEBOOK, notebook_path
from auditlab.report.provenance import fetch_times, last_verification
from auditlab.report.pseudonym import Pseudonymizer, pseudonym_key, pseudonymize
from auditlab.report.renderer import plotly_bootstrap_html, setup_notebook
from auditlab.report.run import run_notebook, write_report
from auditlab.report.scope import Scope
from auditlab.report.source import DataSource, open_source
from auditlab.report.workbook import write_workbook

__all__ = [
    "EXPLORE_NOTEBOOK",
    "REPORT_NOTEBOOK",
    "AccessReview",
    "DataSource",
    "Finding",
    "Pseudonymizer",
    "ReportFailed",
    "Scope",
    "access_review",
    "data_digest",
    "export_html",
    "external_references",
    "fetch_times",
    "findings_path",
    "incidents_found",
    "last_verification",
    "mark_new",
    "notebook_path",
    "open_source",
    "plotly_bootstrap_html",
    "pseudonym_key",
    "pseudonymize",
    "read_baseline",
    "report_sections",
    "run_notebook",
    "setup_notebook",
    "write_findings",
    "write_report",
    "write_workbook",
]
