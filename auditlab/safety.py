"""Text from the log, made safe for the people who read auditlab's output.

Everything a member can type (names of assistants, workflows, connections and
broadcasts, display names, the browser agent, metadata) reaches what auditlab
writes. Two things keep it from misleading or attacking the reader:

- **Display** (:func:`display_text`): characters that change the direction of
  text or take no space (``U+202E``, ``U+200B``, ...) are shown as
  ``⟨U+202E⟩``, so ``"Mallory\\u202egnp.exe"`` cannot pose as
  ``"Malloryexe.png"``, and text longer than a limit is cut with a visible
  ``… [N more characters]``. HTML escaping stays the job of whatever renders
  (pandas' ``to_html``, plotly); this is about what the characters mean.
- **Spreadsheets** (:func:`csv_safe`): a text cell starting with ``=``, ``+``,
  ``-``, ``@``, tab or carriage return is a formula to Excel and LibreOffice;
  OWASP's rule puts a ``'`` before it so it stays text. Numbers stay numbers.

Only what is shown or exported changes: the DataFrame, the cache and Parquet
keep every entry exactly as the server sent it. A leaf: pandas is imported
by the functions that take frames.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

from auditlab.checks import check_whole_number

if TYPE_CHECKING:
    import pandas as pd

DISPLAY_LIMIT = 300
# OWASP, "CSV Injection": what makes a spreadsheet read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_ESCAPE = "'"

# Characters that change how the text around them reads while showing nothing
# themselves: every Unicode format character (category Cf: the bidirectional
# embeddings, overrides, isolates and marks, zero-width space, joiners, word
# joiner, byte-order mark, soft hyphen, invisible operators, tag characters),
# control characters other than tab and newline (ANSI escapes, carriage
# return), the line and paragraph separators, and the blank-looking letters
# used to fake empty names (Hangul fillers, combining grapheme joiner, Khmer
# inherent vowels). tests/test_safety.py checks every Cf character is here.
HIDDEN = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891"
    "\u08e2\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064"
    "\u2066-\u206f\u3164\ufeff\uffa0\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)


def reveal_controls(text: str) -> str:
    """Return text with every bidi control and invisible character shown as ``⟨U+XXXX⟩``.

    >>> reveal_controls("Mallory\\u202egnp.exe")
    'Mallory⟨U+202E⟩gnp.exe'
    >>> reveal_controls("admin\\u200b"), reveal_controls("Zoë Ng")
    ('admin⟨U+200B⟩', 'Zoë Ng')
    """
    return HIDDEN.sub(lambda found: f"⟨U+{ord(found.group()):04X}⟩", text)


def shorten(text: str, limit: int = DISPLAY_LIMIT) -> str:
    """Return text cut to ``limit`` characters, followed by how many were left out.

    >>> shorten("x" * 1000, limit=5)
    'xxxxx… [995 more characters]'
    >>> shorten("short")
    'short'
    """
    check_whole_number("limit", limit, "characters shown", minimum=0)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit:,} more characters]"


def display_text(value: object, limit: int = DISPLAY_LIMIT) -> object:
    """Return a text value as a person should see it (cut, then controls revealed).

    The cut counts the characters as sent; values other than text come back
    unchanged.

    >>> display_text("\\u202e" + "a" * 400, limit=3)
    '⟨U+202E⟩aa… [398 more characters]'
    >>> display_text(42), display_text(None)
    (42, None)
    """
    if not isinstance(value, str):
        return value
    return reveal_controls(shorten(value, limit))


def formula_safe(value: object) -> object:
    """Return a text value with a ``'`` before it if a spreadsheet would run it as a formula.

    >>> formula_safe("=HYPERLINK(A1)"), formula_safe("-2+3"), formula_safe(-2), formula_safe("Ana")
    ("'=HYPERLINK(A1)", "'-2+3", -2, 'Ana')
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return FORMULA_ESCAPE + value
    return value


def csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of df whose text cells and column names a spreadsheet keeps as text.

    OWASP's rule: a text cell that starts with ``=``, ``+``, ``-``, ``@``, tab
    or carriage return gets a leading ``'``. Numeric, boolean and time columns
    are left as they are, so numbers stay numbers.

    >>> import pandas as pd
    >>> df = pd.DataFrame({"name": ["=1+1", "Ana", None], "events": [-2, 3, 4]})
    >>> csv_safe(df).to_dict("list")
    {'name': ["'=1+1", 'Ana', nan], 'events': [-2, 3, 4]}
    """

    def formulas(column: pd.Series) -> pd.Series:
        return column.str.startswith(FORMULA_STARTS)

    return _text_cells(df, formula_safe, formulas)


def display_frame(df: pd.DataFrame | pd.Series, limit: int = DISPLAY_LIMIT) -> Any:
    """Return a copy of df (or a Series) with every text cell and label through display_text.

    Column names and index labels are text too. Cells are found by
    vectorized string tests first, so a large frame costs little when little
    in it needs showing differently.

    >>> import pandas as pd
    >>> display_frame(pd.DataFrame({"actor_name": ["Mallory\\u202egnp.exe"]}))["actor_name"][0]
    'Mallory⟨U+202E⟩gnp.exe'
    """
    check_whole_number("limit", limit, "characters shown", minimum=0)

    def shown(value: object) -> object:
        return display_text(value, limit)

    def needs(column: pd.Series) -> pd.Series:
        return column.str.contains(HIDDEN.pattern, regex=True) | (column.str.len() > limit)

    return _text_cells(df, shown, needs)


def frame_html(df: pd.DataFrame) -> str:
    """Return pandas' own notebook HTML of df, its shown text cells through display_text.

    Only the rows and columns pandas shows (``display.max_rows`` and
    ``display.max_columns``) are formatted, so a large frame displays at once.

    >>> import pandas as pd
    >>> "⟨U+202E⟩" in frame_html(pd.DataFrame({"name": ["Mallory\\u202egnp.exe"]}))
    True
    """
    import pandas as pd

    rows = pd.get_option("display.max_rows")
    if rows and len(df) > rows:
        rows = pd.get_option("display.min_rows") or rows
    labelled = df.set_axis(_labels(df.index, display_text), axis=0)
    return labelled.set_axis(_labels(df.columns, display_text), axis=1).to_html(
        notebook=True,
        max_rows=rows,
        max_cols=pd.get_option("display.max_columns"),
        show_dimensions=pd.get_option("display.show_dimensions"),
        formatters=[display_text if _is_text(dtype) else None for dtype in df.dtypes],
    )


@overload
def to_csv(df: pd.DataFrame, path: None = None, *, raw: bool = False) -> str: ...
@overload
def to_csv(df: pd.DataFrame, path: str | Path, *, raw: bool = False) -> None: ...
def to_csv(df: pd.DataFrame, path: str | Path | None = None, *, raw: bool = False) -> str | None:
    """Return df as CSV text (RFC 4180), or write it to ``path`` (atomically) and return None.

    Text cells that a spreadsheet would run as formulas are escaped
    (:func:`csv_safe`) unless ``raw=True``: use ``raw`` only for a program
    that reads the file, never for a file a person may open in a spreadsheet.

    >>> import pandas as pd
    >>> df = pd.DataFrame({"name": ["@SUM(A1)"], "events": [-1]})
    >>> to_csv(df), to_csv(df, raw=True)
    ("name,events\\r\\n'@SUM(A1),-1\\r\\n", 'name,events\\r\\n@SUM(A1),-1\\r\\n')
    """
    # RFC 4180's CRLF rows: the writer then quotes every cell holding a carriage
    # return, which a reader (Excel, pandas) would otherwise take for a new row.
    text = (df if raw else csv_safe(df)).to_csv(index=False, lineterminator="\r\n")
    if path is None:
        return text
    from auditlab.cache.files import write_atomic

    write_atomic(Path(path), text.encode())
    return None


def _is_text(dtype: Any) -> bool:
    """Return True for a dtype that can hold text: strings, categories of strings, objects."""
    import pandas as pd

    if isinstance(dtype, pd.CategoricalDtype):
        return _is_text(dtype.categories.dtype)
    return pd.api.types.is_string_dtype(dtype)


def _text_cells(
    df: pd.DataFrame | pd.Series,
    change: Callable[[object], object],
    needs: Callable[[pd.Series], pd.Series],
) -> Any:
    """Return a copy of df with ``change`` applied to each text cell, column name and label.

    ``needs`` is a vectorized test over a text column: where it is False,
    ``change`` would change nothing and is not called.
    """
    import pandas as pd

    if isinstance(df, pd.Series):
        out = _changed(df, change, needs)
    else:
        out = df.copy(deep=False)
        for i in range(df.shape[1]):
            column = df.iloc[:, i]
            new = _changed(column, change, needs)
            if new is not column:
                out.isetitem(i, new)
        out.columns = _labels(df.columns, change)
    return out.set_axis(_labels(df.index, change), axis=0)


def _changed(
    column: pd.Series, change: Callable[[object], object], needs: Callable[[pd.Series], pd.Series]
) -> pd.Series:
    """Return the column with ``change`` applied to its text cells (itself when none changes)."""
    import pandas as pd

    dtype = column.dtype
    if not _is_text(dtype):
        return column
    if isinstance(dtype, pd.CategoricalDtype):
        categories = [change(value) for value in dtype.categories]
        if categories == dtype.categories.tolist():
            return column
        if len(set(categories)) == len(categories):
            return column.cat.rename_categories(categories)
        column = column.astype(dtype.categories.dtype)
    if pd.api.types.is_object_dtype(column.dtype):
        return column.map(change)
    hits = needs(column).fillna(False).to_numpy(dtype=bool)
    if not hits.any():
        return column
    column = column.copy()
    column[hits] = column[hits].map(change)
    return column


def _labels(labels: pd.Index, change: Callable[[object], object]) -> pd.Index:
    """Return index or column labels with ``change`` applied to the text ones."""
    import pandas as pd

    if isinstance(labels, pd.MultiIndex):
        return labels.set_levels([_labels(level, change) for level in labels.levels])
    return labels.map(change) if _is_text(labels.dtype) else labels
