"""Where the report finds its notebooks: ``notebooks/``, beside the package, kept once."""

from __future__ import annotations

import sys
from pathlib import Path

from auditlab.errors import AuditlabError

REPORT_NOTEBOOK = "compliance_report.ipynb"
EXPLORE_NOTEBOOK = "explore.ipynb"


def notebook_path(name: str = REPORT_NOTEBOOK) -> Path:
    """Return the path of one of the project's notebooks (kept once, in ``notebooks/``).

    An editable install (``pip install -e .``, what the Makefile does) finds
    them beside the package; a wheel installs them to
    ``<prefix>/share/auditlab/notebooks``.

    >>> notebook_path().name
    'compliance_report.ipynb'
    """
    places = (
        Path(__file__).resolve().parents[2] / "notebooks",
        Path(sys.prefix) / "share" / "auditlab" / "notebooks",
    )
    for folder in places:
        if (folder / name).is_file():
            return folder / name
    raise AuditlabError(
        f"notebook {name} not found in {' or '.join(str(p) for p in places)}: "
        "reinstall auditlab (pip install -e . from its source folder)"
    )
