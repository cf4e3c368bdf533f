"""An org's sub-orgs: ``GET /orgs/{org_id}/orgs``, paged like the audit log.

The listing is another endpoint of the same API, behind the same key, rate
limit and retries, so it is asked through ``InventClient.fetch_page`` with a
query whose path is the listing's (``SubOrgQuery``). Items are kept as the
server sent them; ``auditlab.suborgs`` makes a frame of them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from auditlab.api.client import InventClient
from auditlab.api.query import Query


@dataclass(frozen=True)
class SubOrgQuery(Query):
    """The listing of an org's sub-orgs: the org, and no filter (only paging is sent).

    >>> SubOrgQuery.build("c").to_url("https://api.useinvent.com")
    'https://api.useinvent.com/orgs/c/orgs'
    """

    @property
    def path(self) -> str:
        """Return the listing's path for this query's org, the org id quoted."""
        return f"/orgs/{quote(self.org_id, safe='')}/orgs"


def fetch_sub_orgs(client: InventClient, org_id: str = "c") -> list[dict[str, Any]]:
    """Return the listing's items for org_id, as the server sent them, each sub-org once.

    Page 1 gives the count; the other pages follow (a group rarely has more
    than a hundred sub-orgs, so one request usually does). Items that are not
    JSON objects are skipped; an item seen on an earlier page is not repeated.

    >>> from auditlab.sandbox import serve
    >>> with serve(api_key="sk_test_doc", days=14, sub_orgs=2) as server:
    ...     with InventClient("sk_test_doc", server.base_url) as client:
    ...         [item["id"] for item in fetch_sub_orgs(client)]
    ['org_sandbox_sub1', 'org_sandbox_sub2']
    """
    query = SubOrgQuery.build(org_id)
    first = client.fetch_page(query, 1)
    items = first.entries
    for number in range(2, math.ceil(first.count / first.take) + 1):
        page = client.fetch_page(query, number)
        items.extend(page.entries)
        if page.is_short:
            break
    unique: dict[Any, dict[str, Any]] = {}
    for item in items:
        unique.setdefault(item.get("id") or object(), item)
    return list(unique.values())
