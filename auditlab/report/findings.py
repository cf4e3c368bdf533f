"""What a written report shows, read back from its HTML, section by section.

The demo uses it to say which planted incidents the report found; a reviewer
can use it to check a report against a list of entry ids.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from html import unescape
from typing import Any

WHERE_FROM = "Where from"
SENSITIVE = "Sensitive events"
# Where a reviewer looks for each kind of incident; any other kind is a sensitive event.
SECTION_OF_KIND: dict[str, str] = {"impossible_travel": WHERE_FROM}

_HEADING = re.compile(r"<h2\b[^>]*>(.*?)</h2>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_SCRIPT = re.compile(r"<script\b.*?</script>", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Finding:
    """Whether a report names every entry of one incident in the section it belongs to."""

    kind: str
    section: str
    found: bool
    missing: tuple[str, ...]


def report_sections(page: str) -> dict[str, str]:
    """Return the visible text of each ``<h2>`` section of a report, keyed by its title.

    A leading number ("5. Where from") is dropped from the title.

    >>> report_sections("<h2>1. Scope</h2><p>a &amp; b</p><h2>Where from</h2><td>x</td>")
    {'Scope': ' a & b ', 'Where from': ' x '}
    """
    page = _SCRIPT.sub(" ", page)
    parts = _HEADING.split(page)
    sections: dict[str, str] = {}
    for title, body in zip(parts[1::2], parts[2::2], strict=True):
        name = re.sub(r"^\s*\d+\.\s*", "", _text(title)).replace("¶", "").strip()
        sections[name] = _text(body)
    return sections


def incidents_found(page: str, answer_key: Iterable[Any]) -> list[Finding]:
    """Return, per incident (``.kind``, ``.entry_ids``), whether its section names all its ids.

    >>> class I: kind, entry_ids = "org_transferred", ("alog_1",)
    >>> incidents_found("<h2>Sensitive events</h2><td>alog_1</td>", [I])[0].found
    True
    """
    sections = report_sections(page)
    findings = []
    for incident in answer_key:
        section = SECTION_OF_KIND.get(incident.kind, SENSITIVE)
        text = sections.get(section, "")
        missing = tuple(i for i in incident.entry_ids if i not in text)
        findings.append(Finding(incident.kind, section, not missing, missing))
    return findings


def _text(fragment: str) -> str:
    return unescape(_TAG.sub(" ", fragment))
