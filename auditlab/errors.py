"""The exception tree: catch ``AuditlabError`` for everything, or one kind.

No message built here or by a caller ever contains the API key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date


class AuditlabError(Exception):
    """Base of every error auditlab raises on purpose."""


class InvalidQuery(AuditlabError, ValueError):
    """A parameter is not acceptable; raised before any request is sent.

    Also raised for a 400 answer, carrying the server's message.
    """

    def __init__(self, message: str, *, parameter: str | None = None) -> None:
        super().__init__(message)
        self.parameter = parameter


class MissingAPIKey(InvalidQuery):
    """No API key was given, in the environment or in a .env file."""


class APIError(AuditlabError):
    """The server answered with an error status auditlab does not retry."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class AuthError(APIError):
    """401/403: the API key is missing, invalid or not allowed."""


class NotFound(APIError):
    """404: the organisation (or path) does not exist for this key."""


class RetriesExhausted(APIError):
    """A request kept failing with transient errors after every retry."""


class EntryNotFound(AuditlabError, KeyError):
    """A frame holds no entry with the id asked for (``df.audit.entry``)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class MalformedPage(AuditlabError, ValueError):
    """A response body is not a JSON array of audit-log entries."""


class FetchIncomplete(AuditlabError):
    """Some days could not be fetched completely; the others were cached.

    ``days`` lists the UTC days that are missing or incomplete, so the caller
    knows exactly what the result lacks. When several orgs were loaded
    together, ``orgs`` maps each org that could not be fetched whole to its
    missing days (empty when the server refused the org before its days were
    known; the message then says why), and ``days`` holds them all.
    """

    def __init__(
        self,
        message: str,
        *,
        days: Sequence[date] = (),
        orgs: Mapping[str, Sequence[date]] | None = None,
    ) -> None:
        self.orgs = {org: tuple(missing) for org, missing in (orgs or {}).items()}
        self.days = tuple(days) or tuple(sorted({d for found in self.orgs.values() for d in found}))
        if self.days and not self.orgs:
            message = f"{message} (incomplete days: {day_ranges(self.days)})"
        super().__init__(message)


def day_ranges(days: Sequence[date]) -> str:
    """Return days as compact ranges, oldest first.

    >>> day_ranges([date(2026, 1, 7), date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3)])
    '2026-01-01..2026-01-03, 2026-01-07'
    """
    ordered = sorted(set(days))
    runs: list[list[date]] = []
    for day in ordered:
        if runs and (day - runs[-1][-1]).days == 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ", ".join(
        run[0].isoformat() if len(run) == 1 else f"{run[0].isoformat()}..{run[-1].isoformat()}"
        for run in runs
    )
