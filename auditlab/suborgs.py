"""``list_sub_orgs``: an org's sub-orgs as a frame, one row per sub-org and member."""

from __future__ import annotations

from typing import Any

import orjson
import pandas as pd

from auditlab.api.client import InventClient
from auditlab.api.credentials import resolve_api_key, resolve_base_url
from auditlab.api.query import Query
from auditlab.api.ratelimit import INVENT_RATE_LIMIT
from auditlab.api.suborgs import fetch_sub_orgs

SUB_ORG_COLUMNS: tuple[str, ...] = (
    "org_id", "org_name", "org_plan", "org_created_at", "member_id", "member_role",
    "member_status", "member_user_id", "member_user_name", "member_user_email",
)  # fmt: skip


def list_sub_orgs(
    org_id: str = "c",
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    rate_limit: int = INVENT_RATE_LIMIT,
) -> pd.DataFrame:
    """Return the org's sub-orgs, one row per sub-org and member, in the listing's order.

    Columns: ``SUB_ORG_COLUMNS``: the sub-org (``org_id``, ``org_name``,
    ``org_plan``, ``org_created_at``, UTC) and one member (``member_id``,
    ``member_role``, ``member_status`` and the member's user). A sub-org
    without members has one row, its member columns missing. The key and the
    base URL are found as ``load_audit_logs`` finds them. Raises
    ``InvalidQuery`` for a bad org id before any request, ``NotFound`` when
    the key cannot see the org.

    >>> from auditlab.sandbox import serve
    >>> with serve(api_key="sk_test_doc", days=14, sub_orgs=2) as server:
    ...     orgs = list_sub_orgs(api_key="sk_test_doc", base_url=server.base_url)
    >>> orgs["org_id"].unique().tolist(), orgs.columns[-1]
    (['org_sandbox_sub1', 'org_sandbox_sub2'], 'member_user_email')
    """
    query = Query.build(org_id)
    key = resolve_api_key(api_key)
    url = resolve_base_url(base_url)
    with InventClient(key, url, rate_limit=rate_limit) as client:
        return sub_org_frame(fetch_sub_orgs(client, query.org_id))


def sub_org_frame(items: list[dict[str, Any]]) -> pd.DataFrame:
    """Return the listing's items flattened to one row per sub-org and member.

    Fields may be missing or null; a value that is not text is kept as its JSON text.

    >>> sub_org_frame([{"id": "o1", "members": [{"role": "ADMIN", "user": {"id": "u1"}}]},
    ...                {"id": "o2", "members": None}])[["org_id", "member_user_id"]].values.tolist()
    [['o1', 'u1'], ['o2', nan]]
    """
    rows = []
    for item in items:
        org = [item.get(name) for name in ("id", "name", "plan", "created_at")]
        members = [m for m in item.get("members") or [] if isinstance(m, dict)] or [{}]
        for member in members:
            user = member.get("user") if isinstance(member.get("user"), dict) else {}
            person = [member.get(name) for name in ("id", "role", "status")]
            rows.append([*org, *person, *(user.get(name) for name in ("id", "name", "email"))])
    frame = pd.DataFrame(
        [[_text(value) for value in row] for row in rows], columns=list(SUB_ORG_COLUMNS)
    ).astype("str")
    stamps = pd.to_datetime(frame["org_created_at"], utc=True, errors="coerce", format="ISO8601")
    return frame.assign(org_created_at=stamps.astype("datetime64[us, UTC]"))


def _text(value: Any) -> str | None:
    """Return text as it is, None as None, and any other value as its JSON text."""
    if value is None or isinstance(value, str):
        return value
    return orjson.dumps(value).decode()
