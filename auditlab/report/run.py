"""Run a notebook with papermill and write the compliance report as one HTML file."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import nbformat

from auditlab.analysis.rules import load_rules
from auditlab.api.credentials import resolve_api_key
from auditlab.environment import API_KEY_VARIABLE
from auditlab.errors import InvalidQuery
from auditlab.report.baseline import findings_path, read_baseline
from auditlab.report.errors import ReportFailed
from auditlab.report.export import export_html
from auditlab.report.paths import REPORT_NOTEBOOK, notebook_path
from auditlab.report.pdf import find_chromium, print_pdf
from auditlab.report.scope import Scope

logger = logging.getLogger("auditlab")
KERNEL_NAME = "python3"


def run_notebook(
    notebook: str | Path,
    output: str | Path,
    parameters: Mapping[str, Any] | None = None,
    *,
    progress: bool = True,
    environment: Mapping[str, str] | None = None,
) -> nbformat.NotebookNode:
    """Return the executed notebook, also written to ``output``.

    ``environment`` is added to the kernel's environment only (the way to hand
    it an API key: never as a parameter, which papermill writes into the
    notebook). A failing cell raises ``ReportFailed`` with the cell's error
    name and message instead of a traceback.

    >>> folder = tempfile.mkdtemp()
    >>> cell = nbformat.v4.new_code_cell("6 * 7")
    >>> nbformat.write(nbformat.v4.new_notebook(cells=[cell]), f"{folder}/tiny.ipynb")
    >>> done = run_notebook(f"{folder}/tiny.ipynb", f"{folder}/done.ipynb", progress=False)
    >>> done.cells[0].outputs[0]["data"]["text/plain"]
    '42'
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError
    from traitlets.config import Config

    with _kernel_environment(environment or {}), tempfile.TemporaryDirectory() as sockets:
        # Unix sockets in a private folder rather than TCP ports on localhost:
        # no other local user can connect to the kernel and read what it computes.
        kernel = Config({"KernelManager": {"transport": "ipc", "ip": f"{sockets}/kernel"}})
        try:
            return papermill.execute_notebook(
                str(notebook),
                str(output),
                parameters=dict(parameters or {}),
                kernel_name=KERNEL_NAME,
                progress_bar=progress,
                cwd=os.getcwd(),
                config=kernel,
            )
        except PapermillExecutionError as error:
            raise ReportFailed(
                f"{Path(notebook).name}: cell {error.exec_count} failed with "
                f"{error.ename}: {error.evalue}",
                cell=error.exec_count,
            ) from None


def write_report(
    out: str | Path,
    scope: Scope,
    *,
    base_url: str | None = None,
    cache_dir: str | Path | None = None,
    pseudonymize: bool = False,
    keep_notebook: str | Path | None = None,
    progress: bool = True,
    environment: Mapping[str, str] | None = None,
    rules: str | os.PathLike[str] | None = None,
    baseline: str | os.PathLike[str] | None = None,
    xlsx: str | os.PathLike[str] | None = None,
    pdf: str | os.PathLike[str] | None = None,
) -> Path:
    """Return the path of the compliance report written as one self-contained HTML file.

    Executes ``notebooks/compliance_report.ipynb`` for the scope, exports it
    without code and checks that neither the HTML nor the executed notebook
    contains the API key before either is written where the caller asked.
    The findings go beside the HTML as JSON (:func:`findings_path`).
    ``rules`` is a TOML rules file (default: the shipped rules), ``baseline``
    an earlier report's findings file (findings it lacks are marked new);
    ``xlsx`` and ``pdf`` also write the workbook and the page printed by
    headless Chromium. Bad rules, a bad baseline or no Chromium for ``pdf``
    raise before anything is fetched.

    >>> import datetime as dt
    >>> from auditlab.sandbox import serve
    >>> folder = tempfile.mkdtemp()
    >>> with serve(api_key="sk_test_doc", days=14) as sandbox:
    ...     last = sandbox.clock().date()
    ...     scope = Scope.build(date_from=last - dt.timedelta(days=6), date_to=last)
    ...     path = write_report(f"{folder}/report.html", scope, base_url=sandbox.base_url,
    ...                         cache_dir=folder, progress=False,
    ...                         environment={"INVENT_API_KEY": "sk_test_doc"})
    >>> path.name, "sk_test_doc" in path.read_text()
    ('report.html', False)
    """
    load_rules(rules)
    if baseline is not None:
        read_baseline(baseline)
    if pdf is not None:
        find_chromium()
    parameters = {
        "org_id": scope.org_id,
        "date_from": scope.date_from.isoformat(),
        "date_to": scope.date_to.isoformat(),
        "actions": list(scope.actions),
        "base_url": base_url,
        "cache_dir": None if cache_dir is None else str(Path(cache_dir).resolve()),
        "pseudonymize": pseudonymize,
        "tz": scope.tz,
        "rules": None if rules is None else str(Path(rules).resolve()),
        "baseline": None if baseline is None else str(Path(baseline).resolve()),
        "history_from": None if scope.history_from is None else scope.history_from.isoformat(),
    }
    with tempfile.TemporaryDirectory(prefix="auditlab-report-") as work:
        executed_path = Path(work) / REPORT_NOTEBOOK
        drafts = {findings_path(out): Path(work) / "findings.json"}
        parameters["findings_out"] = str(drafts[findings_path(out)])
        if xlsx is not None:
            drafts[Path(xlsx)] = Path(work) / "report.xlsx"
            parameters["workbook_out"] = str(drafts[Path(xlsx)])
        try:
            executed = run_notebook(
                notebook_path(REPORT_NOTEBOOK),
                executed_path,
                parameters,
                progress=progress,
                environment=environment,
            )
        finally:
            if keep_notebook is not None and executed_path.exists():
                _keep(executed_path, Path(keep_notebook), environment)
        title = f"Compliance report {scope.date_from.isoformat()} to {scope.date_to.isoformat()}"
        draft = export_html(executed, Path(work) / "report.html", title=title)
        drafts[Path(out)] = draft
        for written in drafts.values():
            _refuse_secrets(written, environment)
        if pdf is not None:
            drafts[Path(pdf)] = print_pdf(draft, Path(work) / "report.pdf")
        for target, written in drafts.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(written, target)
            logger.info("wrote %s", target)
    return Path(out)


def _keep(executed: Path, target: Path, environment: Mapping[str, str] | None) -> None:
    _refuse_secrets(executed, environment)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(executed, target)


def _refuse_secrets(path: Path, environment: Mapping[str, str] | None) -> None:
    """Raise ReportFailed if the file (or, for a zip such as .xlsx, a member) holds the API key."""
    data = [path.read_bytes()]
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            data += [archive.read(member) for member in archive.namelist()]
    for secret in _secrets(environment):
        if any(secret.encode() in part for part in data):
            raise ReportFailed(f"{path.name} would contain the API key; nothing was written")


def _secrets(environment: Mapping[str, str] | None) -> list[str]:
    found = [v for k, v in (environment or {}).items() if k == API_KEY_VARIABLE and v]
    with contextlib.suppress(InvalidQuery):
        found.append(resolve_api_key())
    return found


@contextlib.contextmanager
def _kernel_environment(extra: Mapping[str, str]) -> Iterator[None]:
    """Set extra variables while the kernel starts (it inherits them), then restore."""
    saved = {name: os.environ.get(name) for name in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
