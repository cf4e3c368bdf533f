"""Where the report finds its notebooks: ``notebooks/``, beside the package, kept once."""

from __future__ import annotations

from pathlib import Path

import auditlab
from auditlab.errors import AuditlabError

REPORT_NOTEBOOK = "compliance_report.ipynb"
EXPLORE_NOTEBOOK = "explore.ipynb"


def notebook_path(name: str = REPORT_NOTEBOOK) -> Path:
    """Return the path of one of the project's notebooks (kept once, in ``notebooks/``).

    >>> notebook_path().name
    'compliance_report.ipynb'
    """
    path = Path(auditlab.__file__).resolve().parent.parent / "notebooks" / name
    if not path.is_file():
        raise AuditlabError(
            f"notebook {name} not found at {path}: install auditlab from its source folder "
            "(pip install -e .) so the notebooks folder sits beside the package"
        )
    return path
