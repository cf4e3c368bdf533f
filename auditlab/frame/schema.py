"""The one Arrow schema of a flat audit-log table, declared once.

Each column says where it comes from in an entry (a dotted path), so the frame
builder, the cache and the tests all read the same declaration. Nested objects
become prefixed columns (``member.user.email`` -> ``member_user_email``);
objects kept whole are JSON text; ``action_category`` and ``date`` are derived.

Choices made once, here, for every consumer:

- ``org_config``, ``org_features``, ``assistant_config`` and ``metadata`` stay
  whole as compact JSON text (their keys vary by org, assistant and action);
  ``auditlab.expand_metadata`` turns one action's metadata into columns.
- Low-cardinality text is dictionary-encoded (``category`` in pandas): the
  values Invent draws from a short list (action, source, country, roles,
  types, plan) and the text that describes the org or an assistant rather
  than the event, repeated on every entry that names them (``org_name``,
  ``org_logo_url``, ``org_config``, ``org_features``, ``assistant_config``)
  and the browser ``agent``. Kept as plain text, these few values would be
  copied into every row: about 560 MB of a million-entry frame, and most of
  the time it takes to read one back from the cache.
- ``extra_fields`` holds every field no column names, top-level or nested, as
  one JSON object keyed by dotted path (``{"actor.department": "IT"}``), or
  null when there is none.
- A surprising type never fails a build: where text is expected, a number,
  boolean or object is kept as its JSON text (``5`` -> ``"5"``); where a
  timestamp, boolean or object is expected, an unreadable value becomes null
  and is kept in ``extra_fields``. Timestamps without an offset are UTC.

In pandas (``table_to_frame``) the Arrow types become: dictionary ->
``category``; timestamp -> ``datetime64[us, UTC]``; bool -> nullable
``boolean``; string -> pandas' ``str``; and ``date`` -> ``datetime64[ms]`` at
midnight of the UTC day (tz-naive: a calendar day, not an instant), which
groups, resamples and plots as fast as any datetime column, where Python
``date`` objects would make an object column.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pyarrow as pa

Kind = Literal["value", "json", "derived", "extra"]

STRING = pa.string()
CATEGORY = pa.dictionary(pa.int32(), pa.string())
TIMESTAMP = pa.timestamp("us", tz="UTC")
BOOL = pa.bool_()


@dataclass(frozen=True)
class Column:
    """One column of the flat table: its name, Arrow type and source in an entry."""

    name: str
    type: pa.DataType
    path: tuple[str, ...] = ()
    kind: Kind = "value"


def _person(prefix: str, path: tuple[str, ...]) -> list[Column]:
    return [
        Column(f"{prefix}_id", STRING, (*path, "id")),
        Column(f"{prefix}_name", STRING, (*path, "name")),
        Column(f"{prefix}_email", STRING, (*path, "email")),
        Column(f"{prefix}_avatar", STRING, (*path, "avatar")),
        Column(f"{prefix}_seen_at", TIMESTAMP, (*path, "seen_at")),
    ]


COLUMNS: tuple[Column, ...] = (
    Column("id", STRING, ("id",)),
    Column("created_at", TIMESTAMP, ("created_at",)),
    Column("date", pa.date32(), kind="derived"),
    Column("action", CATEGORY, ("action",)),
    Column("action_category", CATEGORY, kind="derived"),
    Column("source", CATEGORY, ("source",)),
    Column("ip", STRING, ("ip",)),
    Column("country", CATEGORY, ("country",)),
    Column("agent", CATEGORY, ("agent",)),
    *_person("actor", ("actor",)),
    *_person("user", ("user",)),
    Column("assistant_id", STRING, ("assistant", "id")),
    Column("assistant_name", STRING, ("assistant", "name")),
    Column("assistant_enabled", BOOL, ("assistant", "enabled")),
    Column("assistant_avatar_url", STRING, ("assistant", "avatar_url")),
    Column("assistant_deleted", BOOL, ("assistant", "deleted")),
    Column("assistant_config", CATEGORY, ("assistant", "config"), kind="json"),
    Column("workflow_id", STRING, ("workflow", "id")),
    Column("workflow_name", STRING, ("workflow", "name")),
    Column("workflow_access", CATEGORY, ("workflow", "access")),
    Column("workflow_org_id", STRING, ("workflow", "org_id")),
    Column("connection_id", STRING, ("connection", "id")),
    Column("connection_type", CATEGORY, ("connection", "type")),
    Column("connection_name", STRING, ("connection", "name")),
    Column("broadcast_id", STRING, ("broadcast", "id")),
    Column("broadcast_name", STRING, ("broadcast", "name")),
    Column("member_id", STRING, ("member", "id")),
    Column("member_role", CATEGORY, ("member", "role")),
    *_person("member_user", ("member", "user")),
    Column("org_id", STRING, ("org", "id")),
    Column("org_name", CATEGORY, ("org", "name")),
    Column("org_verified", BOOL, ("org", "verified")),
    Column("org_logo_url", CATEGORY, ("org", "logo_url")),
    Column("org_plan", CATEGORY, ("org", "plan")),
    Column("org_config", CATEGORY, ("org", "config"), kind="json"),
    Column("org_features", CATEGORY, ("org", "features"), kind="json"),
    Column("metadata", STRING, ("metadata",), kind="json"),
    # Every field the server sent that no column above names, as one JSON
    # object keyed by its path, so nothing the server adds is lost.
    Column("extra_fields", STRING, kind="extra"),
)

SCHEMA: pa.Schema = pa.schema([pa.field(c.name, c.type) for c in COLUMNS])
COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
CATEGORICAL_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.type == CATEGORY)
JSON_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.kind == "json")
