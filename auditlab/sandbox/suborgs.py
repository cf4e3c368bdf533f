"""Sub-organisations: a parent org's children, each with a log of its own, and their listing.

Invent lists an org's sub-orgs with ``GET /orgs/{org_id}/orgs``, paged with
``page``/``take`` like the audit log, each item carrying ``id``, ``name``,
``plan``, ``created_at`` and ``members`` with their ``role`` and ``status``.
The sandbox generates each sub-org from a seed of its own, derived from the
parent's, so each has its own people, background and planted incidents, and
the whole group is the same for the same seed. A sub-org has no sub-orgs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import orjson

from auditlab.sandbox.generate import SyntheticOrg, generate_org

SUB_ORG_NAMES: tuple[str, ...] = (
    "Harbor & Pine Retail", "Harbor & Pine Logistics", "Harbor & Pine Nordics",
    "Harbor & Pine Labs", "Harbor & Pine Americas", "Harbor & Pine Asia-Pacific",
)  # fmt: skip
SUB_ORG_PLANS: tuple[str, ...] = ("business", "pro", "enterprise")
# Members who still belong to the org, and the one its planted removal took out.
ACTIVE, REMOVED = "ACTIVE", "REMOVED"


def sub_org_seed(seed: int, number: int) -> int:
    """Return the seed of a parent's ``number``-th sub-org (0-based), distinct per number.

    >>> sub_org_seed(0, 0) != sub_org_seed(0, 1) != sub_org_seed(1, 0)
    True
    """
    return int(np.random.SeedSequence([seed, number + 1]).generate_state(1)[0])


def generate_sub_orgs(parent: SyntheticOrg, count: int) -> list[SyntheticOrg]:
    """Return ``count`` sub-orgs of parent: same days, ``now`` and scale, seeds of their own.

    Their ids are the parent's with ``_sub1``, ``_sub2``, ... appended.

    >>> parent = generate_org(seed=1, days=14, now=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    >>> [child.org_id for child in generate_sub_orgs(parent, 2)]
    ['org_sandbox_sub1', 'org_sandbox_sub2']
    """
    if count < 0:
        raise ValueError(f"sub_orgs must be 0 or more, got {count}")
    return [
        generate_org(
            seed=sub_org_seed(parent.seed, number),
            days=parent.days,
            now=parent.now,
            org_id=f"{parent.org_id}_sub{number + 1}",
            scale=parent.scale,
            name=SUB_ORG_NAMES[number % len(SUB_ORG_NAMES)]
            + ("" if number < len(SUB_ORG_NAMES) else f" {number // len(SUB_ORG_NAMES) + 1}"),
        )
        for number in range(count)
    ]


def listing_item(org: SyntheticOrg, number: int = 0) -> dict[str, Any]:
    """Return the listing's item for one sub-org: id, name, plan, created_at and members.

    Every person of the org is a member (the API bot is a key, not a member);
    the member its planted removal took out has status ``REMOVED``.

    >>> org = generate_org(seed=1, days=14, now=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    >>> item = listing_item(org)
    >>> sorted(item), item["members"][0]["status"]
    (['created_at', 'id', 'members', 'name', 'plan'], 'ACTIVE')
    """
    created = org.now - dt.timedelta(days=org.days + 30 - number)
    return {
        "id": org.org_id,
        "name": org.org["name"],
        "plan": SUB_ORG_PLANS[number % len(SUB_ORG_PLANS)],
        "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "members": [
            {
                "id": person.member_id,
                "role": person.role,
                "status": REMOVED if person.id in org.removed else ACTIVE,
                "user": {"id": person.id, "name": person.name, "email": person.email},
            }
            for person in org.people
            if person.kind == "person"
        ],
    }


def listing_page(children: list[SyntheticOrg], page: int, take: int) -> tuple[bytes, int]:
    """Return one page of the listing of ``children`` as a JSON array body, and the count.

    Sub-orgs are listed oldest first, as they were created (``_sub1`` first).

    >>> listing_page([], 1, 100)
    (b'[]', 0)
    """
    chosen = children[(page - 1) * take : page * take]
    first = (page - 1) * take
    items = [listing_item(child, first + n) for n, child in enumerate(chosen)]
    return orjson.dumps(items), len(children)
