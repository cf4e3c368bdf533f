"""A written report printed to PDF by headless Chromium, charts and tables as rendered.

Chromium is looked for in ``AUDITLAB_CHROMIUM``, then on the PATH
(``chromium``, ``chromium-browser``, ``google-chrome``); without one,
``ReportFailed`` says how to get it. The page is opened from the file with
every host name unresolvable, so printing fetches nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from auditlab.environment import CHROMIUM_VARIABLE
from auditlab.report.errors import ReportFailed

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Time the page's scripts get (virtual time) to draw charts and tables before printing.
SCRIPT_BUDGET_MS = 30_000
PRINT_TIMEOUT_S = 180
# The width charts are drawn at: the report's printed page (A4 landscape, see its template).
WINDOW = "1060,1400"


def find_chromium(executable: str | os.PathLike[str] | None = None) -> Path:
    """Return the Chromium to print with: ``executable``, ``$AUDITLAB_CHROMIUM``, or the PATH's.

    >>> find_chromium("/nonexistent/chromium")
    Traceback (most recent call last):
    ...
    auditlab.report.errors.ReportFailed: no Chromium at '/nonexistent/chromium' ...
    """
    chosen = executable or os.environ.get(CHROMIUM_VARIABLE)
    if chosen:
        path = Path(chosen)
        if path.is_file() and os.access(path, os.X_OK):
            return path
        given = "the argument" if executable else CHROMIUM_VARIABLE
        raise ReportFailed(
            f"no Chromium at {str(chosen)!r} (from {given}): "
            "a PDF is printed by headless Chromium; install it (e.g. apt-get install chromium) "
            f"or set {CHROMIUM_VARIABLE} to its executable"
        )
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return Path(found)
    raise ReportFailed(
        f"no Chromium found (looked for {', '.join(CANDIDATES)} on the PATH and "
        f"{CHROMIUM_VARIABLE}): a PDF is printed by headless Chromium; install it "
        f"(e.g. apt-get install chromium) or set {CHROMIUM_VARIABLE} to its executable"
    )


def print_pdf(
    html: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    chromium: str | os.PathLike[str] | None = None,
) -> Path:
    """Return the path of the PDF Chromium printed from the HTML file ``html``."""
    executable = find_chromium(chromium)
    target = Path(out).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="auditlab-chromium-") as profile:
        command = [
            str(executable), "--headless", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--host-resolver-rules=MAP * ~NOTFOUND", f"--user-data-dir={profile}",
            f"--window-size={WINDOW}", "--no-pdf-header-footer",
            f"--virtual-time-budget={SCRIPT_BUDGET_MS}", f"--print-to-pdf={target}",
            Path(html).resolve().as_uri(),
        ]  # fmt: skip
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.insert(1, "--no-sandbox")  # Chromium's sandbox refuses to run as root
        try:
            done = subprocess.run(command, capture_output=True, timeout=PRINT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise ReportFailed(
                f"Chromium did not print the PDF within {PRINT_TIMEOUT_S} s"
            ) from None
    if done.returncode != 0 or not target.is_file() or target.stat().st_size == 0:
        detail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise ReportFailed(
            f"Chromium could not print the PDF (exit {done.returncode}): {detail[0]}"
        )
    return target
