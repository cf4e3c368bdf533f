"""The report's own error, under ``AuditlabError`` like every other."""

from __future__ import annotations

from auditlab.errors import AuditlabError


class ReportFailed(AuditlabError):
    """The report could not be made: a notebook cell failed, or the HTML was unsafe.

    ``cell`` is the execution count of the failing cell when one failed.
    """

    def __init__(self, message: str, *, cell: int | None = None) -> None:
        super().__init__(message)
        self.cell = cell
