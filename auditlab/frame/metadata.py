"""One action's ``metadata`` JSON text -> one column per metadata key."""

from __future__ import annotations

import orjson
import pandas as pd

from auditlab.errors import InvalidQuery


def expand_metadata(df: pd.DataFrame, action: str) -> pd.DataFrame:
    """Return the rows of ``action`` with ``id`` and one column per metadata key.

    The index is aligned with ``df``. Keys appear in the order first seen; a
    row without a key has NaN there. A metadata key called ``id`` becomes
    ``metadata_id`` so it cannot hide the entry id. With no such rows the
    result is an empty frame with just ``id``. Unknown actions are allowed
    (they are data); a non-string ``action`` raises ``InvalidQuery``.

    >>> df = pd.DataFrame({"id": ["a1", "a2"], "action": ["member.role_changed", "chat.deleted"],
    ...     "metadata": ['{"previous_role":"DEVELOPER","new_role":"ADMIN"}', None]})
    >>> expand_metadata(df, "member.role_changed")
       id previous_role new_role
    0  a1     DEVELOPER    ADMIN
    """
    if not isinstance(action, str):
        raise InvalidQuery(
            f"action must be one action name as a string, e.g. 'member.role_changed'; "
            f"got {type(action).__name__}",
            parameter="action",
        )
    rows = df.loc[df["action"] == action, ["id", "metadata"]]
    if rows.empty:
        return pd.DataFrame({"id": pd.Series([], dtype="str")})
    records = [_object(text) for text in rows["metadata"]]
    expanded = pd.DataFrame.from_records(records, index=rows.index)
    expanded = expanded.rename(columns={"id": "metadata_id"})
    expanded.insert(0, "id", rows["id"])
    return expanded


def _object(text: object) -> dict:
    """Return the metadata object of one row, ``{}`` when null or not an object."""
    if not isinstance(text, str):
        return {}
    value = orjson.loads(text)
    return value if isinstance(value, dict) else {}
