"""Text from the audit log made safe to show and to open: visible controls, bounded length,
no formulas in a spreadsheet.

Names, emails and metadata come from whoever can write to the org; they may
hold bidirectional-override or zero-width characters that make text read
differently from what it is, very long values, or text a spreadsheet would run
as a formula. A leaf: it imports nothing of auditlab, and pandas only where a
frame is asked for.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

# Bidirectional controls (embeddings, overrides, isolates, marks) and zero-width characters.
_HIDDEN = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
# Cells a spreadsheet would read as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def reveal_controls(text: str) -> str:
    """Return text with every bidi control and zero-width character shown as ``⟨U+XXXX⟩``.

    >>> reveal_controls("invoice\\u202etxt.exe")
    'invoice⟨U+202E⟩txt.exe'
    """
    return _HIDDEN.sub(lambda m: f"⟨U+{ord(m.group()):04X}⟩", text)


def shorten(text: str, limit: int = 300) -> str:
    """Return text cut to ``limit`` characters with a visible marker saying how much was cut.

    >>> shorten("abcdef", limit=4)
    'abcd… [2 more characters]'
    """
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit:,} more characters]"


def display_text(value: object, limit: int = 300) -> object:
    """Return a text value with its controls revealed and cut to ``limit``; others unchanged.

    >>> display_text("a\\u200bb"), display_text(42)
    ('a⟨U+200B⟩b', 42)
    """
    if isinstance(value, str):
        return shorten(reveal_controls(value), limit)
    return value


def csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of df whose text cells that a spreadsheet would run start with ``'``.

    >>> import pandas as pd
    >>> csv_safe(pd.DataFrame({"name": ["=HYPERLINK(1)", "-1", "Ana"]}))["name"].tolist()
    ["'=HYPERLINK(1)", "'-1", 'Ana']
    """
    import pandas as pd

    safe = df.copy()
    for name in safe.columns:
        column = safe[name]
        if isinstance(column.dtype, pd.CategoricalDtype):
            column = column.astype(object)
        if not (pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column)):
            continue
        safe[name] = column.map(
            lambda v: f"'{v}" if isinstance(v, str) and v.startswith(FORMULA_STARTS) else v
        )
    return safe
