"""The sandbox serves a parent org with sub-orgs behind one key, the listing included."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from helpers import NOW, PLANTED_KEY

from auditlab.sandbox import serve
from auditlab.sandbox.suborgs import generate_sub_orgs

HEADERS = {"Authorization": f"Bearer {PLANTED_KEY}"}


@pytest.fixture(scope="module")
def group() -> Iterator[Any]:
    with serve(api_key=PLANTED_KEY, seed=4, days=14, now=NOW, sub_orgs=3, rate_limit=None) as sb:
        yield sb


def get(sandbox: Any, path: str) -> httpx2.Response:
    return httpx2.get(f"{sandbox.base_url}{path}", headers=HEADERS)


def test_listing_pages_through_the_sub_orgs_oldest_first_with_members(group: Any) -> None:
    first = get(group, "/orgs/c/orgs?take=2")
    second = get(group, "/orgs/c/orgs?take=2&page=2")
    assert first.headers["pagination-count"] == second.headers["pagination-count"] == "3"
    ids = [item["id"] for item in first.json() + second.json()]
    assert ids == ["org_sandbox_sub1", "org_sandbox_sub2", "org_sandbox_sub3"]
    item = first.json()[0]
    assert {"id", "name", "plan", "created_at", "members"} <= item.keys()
    child = group.sub_orgs[0]
    assert item["name"] == child.org["name"] != group.org.org["name"]
    people = [p for p in child.people if p.kind == "person"]
    assert [m["user"]["id"] for m in item["members"]] == [p.id for p in people]
    assert {m["role"] for m in item["members"]} <= {"OWNER", "ADMIN", "DEVELOPER", "MEMBER"}
    removed = [m["user"]["id"] for m in item["members"] if m["status"] == "REMOVED"]
    assert removed == sorted(child.removed)


def test_the_parent_is_listed_by_id_as_by_c_and_a_sub_org_lists_none(group: Any) -> None:
    by_id = get(group, f"/orgs/{group.org.org_id}/orgs")
    assert by_id.json() == get(group, "/orgs/c/orgs").json()
    leaf = get(group, "/orgs/org_sandbox_sub2/orgs")
    assert (leaf.status_code, leaf.json(), leaf.headers["pagination-count"]) == (200, [], "0")


def test_listing_refuses_an_unknown_org_and_a_bad_take(group: Any) -> None:
    assert get(group, "/orgs/org_elsewhere/orgs").status_code == 404
    bad = get(group, "/orgs/c/orgs?take=101")
    assert (bad.status_code, bad.json()["parameter"]) == (400, "take")


def test_each_sub_org_serves_its_own_log(group: Any) -> None:
    seen: dict[str, set[str]] = {}
    for org_id, org in group.orgs.items():
        answer = get(group, f"/orgs/{org_id}/audit-logs?take=100")
        assert int(answer.headers["pagination-count"]) == len(org.entries)
        page = answer.json()
        assert [e["id"] for e in page] == [e["id"] for e in org.entries[:100]]
        assert {(e["org"]["id"], e["org"]["name"]) for e in page} == {(org_id, org.org["name"])}
        seen[org_id] = {e["id"] for e in org.entries}
    everyone = [ids for ids in seen.values()]
    assert sum(map(len, everyone)) == len(set().union(*everyone))  # no entry in two orgs


def test_the_answer_key_names_the_org_of_each_incident(group: Any) -> None:
    kinds = {incident.kind for incident in group.org.answer_key}
    for org_id, org in group.orgs.items():
        planted = [i for i in group.answer_key if i.org_id == org_id]
        assert {i.kind for i in planted} == kinds  # every org has every kind of its own
        ids = {e["id"] for e in org.entries}
        assert all(set(i.entry_ids) <= ids for i in planted)
    assert len(group.answer_key) == 4 * len(kinds)


def test_sub_orgs_are_the_same_for_a_seed_and_differ_between_seeds(group: Any) -> None:
    again = generate_sub_orgs(group.org, 3)
    assert [[e["id"] for e in o.entries] for o in again] == [
        [e["id"] for e in o.entries] for o in group.sub_orgs
    ]
    with serve(api_key=PLANTED_KEY, seed=5, days=14, now=NOW, sub_orgs=1) as other:
        assert other.sub_orgs[0].entries[0]["id"] != group.sub_orgs[0].entries[0]["id"]
