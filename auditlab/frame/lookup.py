"""Drilling into an audit-log frame: one entry shown whole, and a search across every text.

``entry(df, entry_id)`` (also ``df.audit.entry(entry_id)``) returns an
:class:`Entry`: every column of one entry, the JSON-text columns
(``metadata``, ``org_config``, ``org_features``, ``assistant_config``,
``extra_fields``) parsed and pretty-printed, shown as a two-column table in
a notebook and as indented text elsewhere. ``search(df, text)`` (also
``df.audit.search(text)``) returns the rows where some text column holds
the text, ignoring case: names, emails, ids, addresses, the browser agent,
and the values inside the JSON columns (not their keys, so ``"role"`` does
not match every ``{"new_role": ...}``).

Both treat what they show as untrusted: hidden and direction-changing
characters are revealed and the HTML is escaped. Nothing is cut: an entry
shows each value whole.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import pandas as pd

from auditlab.errors import EntryNotFound, InvalidQuery
from auditlab.frame.schema import COLUMNS
from auditlab.safety import reveal_controls

# Columns holding JSON text: searched by value, shown parsed and indented.
JSON_TEXT_COLUMNS = frozenset(c.name for c in COLUMNS if c.kind in ("json", "extra"))
# The column search adds: which columns of a row held the text.
MATCHED_IN = "matched_in"


@dataclass(frozen=True)
class Entry:
    """One audit-log entry whole: ``fields`` maps every column to its value, JSON parsed.

    In a notebook it shows as a table of field and value; ``str()`` gives
    the same as indented text. Null fields are kept (shown as ``null``).
    """

    fields: dict[str, Any]

    def __str__(self) -> str:
        width = max((len(name) for name in self.fields), default=0)
        lines = []
        for name, value in self.fields.items():
            text = _shown(value).replace("\n", "\n" + " " * (width + 2))
            lines.append(f"{name:<{width}}  {text}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"Entry({self.fields.get('id')!r}, {self.fields.get('action')!r})"

    def _repr_html_(self) -> str:
        null = ' style="color:#888"'
        rows = "".join(
            f'<tr><th style="text-align:left;vertical-align:top">{html.escape(name)}</th>'
            f"<td{null if value is None else ''}>"
            f'<pre style="margin:0;white-space:pre-wrap;word-break:break-word">'
            f"{html.escape(_shown(value))}</pre></td></tr>"
            for name, value in self.fields.items()
        )
        return f'<table class="auditlab-entry">{rows}</table>'


def entry(df: pd.DataFrame, entry_id: str) -> Entry:
    """Return the entry with id ``entry_id``, every column, JSON columns parsed.

    Raises :class:`auditlab.errors.EntryNotFound` (a KeyError) when the
    frame has no such entry, and ``InvalidQuery`` for an id that is not text.

    >>> from auditlab.frame import pages_to_table, table_to_frame
    >>> page = b'[{"id": "a1", "action": "member.role_changed", "actor": {"name": "Lena"},'
    >>> page += b' "created_at": "2026-10-14T08:31:56Z", "metadata": {"new_role": "ADMIN"}}]'
    >>> df = table_to_frame(pages_to_table([page]))
    >>> shown = entry(df, "a1")
    >>> shown.fields["actor_name"], shown.fields["metadata"]
    ('Lena', {'new_role': 'ADMIN'})
    >>> print(str(shown).splitlines()[1])
    created_at            2026-10-14T08:31:56+00:00
    """
    if not isinstance(entry_id, str):
        raise InvalidQuery(
            f"entry_id must be an entry's id as a string, e.g. 'alog_01JD8Z6Q4V2M7K9T3XW5B1RCEH'; "
            f"got {type(entry_id).__name__}",
            parameter="entry_id",
        )
    rows = df[(df["id"] == entry_id).fillna(False).astype(bool)]
    if rows.empty:
        raise EntryNotFound(
            f"no entry with id {entry_id!r} among this frame's {len(df):,} entries; "
            "df.audit.search(text) finds entries by any text they hold"
        )
    row = rows.iloc[0]
    return Entry({name: _field(name, row[name]) for name in df.columns})


def search(df: pd.DataFrame, text: str, *, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Return the rows where some text column holds ``text`` (any case), with ``matched_in``.

    Every text column is read unless ``columns`` names some: plain text as
    it is, the JSON-text columns by the values they hold (strings and
    numbers, at any depth; keys do not match). The rows keep the frame's
    order and columns, with ``matched_in`` added: the columns that held the
    text, comma-separated.

    >>> from auditlab.frame import pages_to_table, table_to_frame
    >>> page = b'[{"id": "a1", "action": "member.added", "actor": {"email": "lena@example.com"}},'
    >>> page += b' {"id": "a2", "action": "chat.deleted", "metadata": {"by": "LENA@example.com"}},'
    >>> page += b' {"id": "a3", "action": "chat.deleted", "metadata": {"lena@example.com": 1}}]'
    >>> df = table_to_frame(pages_to_table([page]))
    >>> search(df, "Lena@Example.com")[["id", "matched_in"]]
       id   matched_in
    0  a1  actor_email
    1  a2     metadata
    """
    matched = _matches(df, text, columns)
    hits = matched.any(axis=1)
    result = df.loc[hits].drop(columns=MATCHED_IN, errors="ignore")
    where = matched.loc[hits]
    names = where.columns.to_numpy()
    result[MATCHED_IN] = [", ".join(names[flags]) for flags in where.to_numpy()]
    return result


def holding(df: pd.DataFrame, text: str, *, columns: Sequence[str] | None = None) -> pd.Series:
    """Return which rows ``search(df, text)`` keeps, as a boolean Series on df's index.

    >>> from auditlab.frame import empty_frame
    >>> holding(empty_frame(), "lena").tolist()
    []
    """
    return _matches(df, text, columns).any(axis=1)


def _matches(df: pd.DataFrame, text: str, columns: Sequence[str] | None) -> pd.DataFrame:
    """Return, per row and searched column, whether the column holds ``text``."""
    if not isinstance(text, str) or not text:
        raise InvalidQuery(
            "text must be a non-empty string to look for, e.g. an email, a name or an id; "
            f"got {text!r}",
            parameter="text",
        )
    searched = _searched_columns(df, columns)
    found = {column: _holds(df[column], text, column in JSON_TEXT_COLUMNS) for column in searched}
    return pd.DataFrame(found, index=df.index, columns=list(searched), dtype=bool)


def _searched_columns(df: pd.DataFrame, columns: Sequence[str] | None) -> list[str]:
    """Return the text columns to search: every one, or those ``columns`` names."""
    text = [name for name in df.columns if name != MATCHED_IN and _is_text(df[name])]
    if columns is None:
        return text
    if isinstance(columns, str):
        columns = [columns]
    unknown = [name for name in columns if name not in text]
    if unknown:
        raise InvalidQuery(
            f"columns must name text columns of the frame; {', '.join(map(repr, unknown))} "
            f"is not one. The text columns are: {', '.join(text)}",
            parameter="columns",
        )
    return list(columns)


def _is_text(column: pd.Series) -> bool:
    """Return whether a column holds text (strings, or categories of strings; nulls allowed)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        column = pd.Series(column.cat.categories, dtype=column.cat.categories.dtype)
    if column.dtype == object:
        return pd.api.types.infer_dtype(column, skipna=True) in ("string", "empty")
    return pd.api.types.is_string_dtype(column)


def _holds(column: pd.Series, text: str, is_json: bool) -> pd.Series:
    """Return which values of a column hold ``text``, any case, as text or as JSON values."""
    if isinstance(column.dtype, pd.CategoricalDtype):  # each distinct value read once
        holds = _holds(pd.Series(column.cat.categories), text, is_json).to_list()
        # a null's code is -1: the False appended last
        return pd.Series(np.array([*holds, False])[column.cat.codes], index=column.index)
    contains = column.str.contains(text, case=False, regex=False, na=False)
    if not is_json:
        return contains
    # The raw JSON holding the text is necessary for a value to, unless escapes
    # (\u00e9, \") stand between them; only those rows are decoded to be sure.
    maybe = (contains | column.str.contains("\\", regex=False, na=False)).to_numpy(bool)
    holds = np.zeros(len(column), dtype=bool)
    needle = text.lower()
    holds[maybe] = [_json_holds(value, needle) for value in column.to_numpy()[maybe]]
    return pd.Series(holds, index=column.index)


def _json_holds(text: str, needle: str) -> bool:
    """Return whether a JSON text holds ``needle`` (lower case) in a string or number value."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return needle in text.lower()  # not JSON after all: read it as text
    return any(needle in leaf.lower() for leaf in _leaves(value))


def _leaves(value: Any) -> Iterator[str]:
    """Return the string and number values inside a decoded JSON value, as text."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    elif isinstance(value, str):
        yield value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield str(value)


def _field(name: str, value: Any) -> Any:
    """Return one cell as Python: None for null, JSON columns decoded, timestamps as datetimes."""
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return None
    if name in JSON_TEXT_COLUMNS and isinstance(value, str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    if isinstance(value, pd.Timestamp):
        if value.tzinfo is None and value == value.normalize():
            return value.date()  # the ``date`` column: a calendar day
        return value.to_pydatetime()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def _shown(value: Any) -> str:
    """Return a field as text to read: JSON indented, times in ISO form, hidden characters shown."""
    if value is None:
        return "null"
    if isinstance(value, dict | list):
        text = json.dumps(value, indent=2, ensure_ascii=False)
    elif isinstance(value, dt.date):
        text = value.isoformat()
    else:
        text = str(value)
    return reveal_controls(text)
