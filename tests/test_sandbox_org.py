"""The synthetic org: deterministic, realistic, and holding exactly the planted incidents."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict

import pytest

from auditlab.actions import ACTION_SET, ACTIONS, action_category
from auditlab.sandbox import generate_org
from auditlab.sandbox.incidents import KINDS

NOW = dt.datetime(2026, 11, 20, 15, 30, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def org():
    return generate_org(seed=11, days=180, now=NOW)


def _ts(entry: dict) -> dt.datetime:
    return dt.datetime.fromisoformat(entry["created_at"])


def _planted(org) -> set[str]:
    return {entry_id for incident in org.answer_key for entry_id in incident.entry_ids}


def test_same_seed_gives_the_same_org_and_another_seed_a_different_one():
    first = generate_org(seed=5, days=30, now=NOW)
    again = generate_org(seed=5, days=30, now=NOW)
    other = generate_org(seed=6, days=30, now=NOW)
    assert first.entries == again.entries
    assert first.answer_key == again.answer_key
    assert [e["id"] for e in first.entries] != [e["id"] for e in other.entries]
    assert first.people != other.people


def test_history_runs_from_days_ago_up_to_now_newest_first(org):
    stamps = [_ts(e) for e in org.entries]
    assert stamps == sorted(stamps, reverse=True)
    assert stamps[0] <= NOW and NOW - stamps[0] < dt.timedelta(minutes=10)
    assert stamps[-1] >= NOW - dt.timedelta(days=180)
    assert stamps[-1] < NOW - dt.timedelta(days=179)


def test_now_defaults_to_the_current_time_so_today_has_entries():
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    org = generate_org(seed=2, days=14)
    newest = _ts(org.entries[0])
    assert before - dt.timedelta(minutes=10) <= newest <= dt.datetime.now(dt.UTC)


def test_ids_are_unique_and_look_like_sortable_log_ids(org):
    ids = [e["id"] for e in org.entries]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"alog_[0-9A-HJKMNP-TV-Z]{26}", i) for i in ids)
    assert ids == sorted(ids, reverse=True)


def test_every_documented_action_occurs_updates_common_org_changes_rare(org):
    counts = Counter(e["action"] for e in org.entries)
    assert set(counts) == ACTION_SET
    assert counts.most_common(1)[0][0] == "assistant.updated"
    assert counts["assistant.updated"] > 20 * counts["assistant.deleted"]
    assert counts["org.transferred"] == counts["sso.profile.deleted"] == counts["org.deleted"] == 1


def test_default_volume_is_a_busy_weekday_and_a_quiet_weekend(org):
    per_day = Counter(_ts(e).date() for e in org.entries)
    full_days = [d for d in per_day if NOW.date() - dt.timedelta(days=179) < d < NOW.date()]
    weekday = [per_day[d] for d in full_days if d.weekday() < 5]
    weekend = [per_day[d] for d in full_days if d.weekday() >= 5]
    assert 100 <= sum(weekday) / len(weekday) <= 250
    assert sum(weekend) / len(weekend) < 0.3 * sum(weekday) / len(weekday)
    assert 20_000 <= len(org.entries) <= 35_000


def test_scale_multiplies_the_volume():
    small = generate_org(seed=1, days=30, now=NOW)
    large = generate_org(seed=1, days=30, now=NOW, scale=3.0)
    assert 2.5 < len(large.entries) / len(small.entries) < 3.5


def test_people_bot_and_system_act_as_documented(org):
    humans = [p for p in org.people if p.kind == "person"]
    assert 15 <= len(humans) <= 40
    by_source = defaultdict(set)
    for e in org.entries:
        by_source[e["source"]].add((e["actor"] or {}).get("id"))
    bot = next(p for p in org.people if p.kind == "bot")
    assert by_source["api"] == {bot.id}
    assert by_source["system"] == {None} and by_source["admin"] == {None}
    api = [e for e in org.entries if e["source"] == "api"]
    assert {e["agent"] for e in api} == {"python-httpx/0.28.1"}
    ips = {ip for p in humans for ip in p.ips}
    assert any(":" in ip for ip in ips) and any("." in ip for ip in ips)


def test_people_act_from_home_on_stable_ips_inside_their_working_hours(org):
    planted = _planted(org)
    people = {p.id: p for p in org.people if p.kind == "person"}
    for e in org.entries:
        person = people.get((e["actor"] or {}).get("id"))
        if person is None or e["id"] in planted:
            continue
        stamp = _ts(e)
        local = person.local_hour(stamp.hour + stamp.minute / 60)
        assert person.work_start - 0.01 <= local <= person.work_end + 0.01, e["id"]
        assert e["country"] == person.country and e["ip"] in person.ips


def test_nested_objects_are_filled_per_action_like_the_example_page(org):
    expected = {
        "assistant": "assistant", "action": "assistant", "chat": "assistant",
        "member": "member", "connection": "connection", "integration": "connection",
        "workflow": "workflow", "broadcast": "broadcast",
    }  # fmt: skip
    for e in org.entries:
        assert e["org"]["id"] == org.org_id
        target = expected.get(action_category(e["action"]))
        for key in ("assistant", "workflow", "connection", "broadcast", "member"):
            if key == target:
                assert isinstance(e[key], dict) and e[key]["id"], (e["action"], key)
            else:
                assert e.get(key) is None, (e["action"], key)
        if e["source"] in ("app", "api"):
            assert e["actor"] == e["user"] and e["ip"] and e["country"] and e["agent"]
        else:
            assert e["actor"] is None and e["user"] is None and e["ip"] is None
            present = {k for k in ("assistant", "workflow", "connection", "broadcast") if k in e}
            assert present <= {target}


def test_role_changes_carry_the_previous_and_new_role(org):
    changes = [e for e in org.entries if e["action"] == "member.role_changed"]
    assert changes
    for e in changes:
        assert set(e["metadata"]) == {"previous_role", "new_role"}
        assert e["member"]["role"] == e["metadata"]["new_role"]


def test_answer_key_lists_each_kind_once_with_entries_of_the_right_actions(org):
    by_id = {e["id"]: e for e in org.entries}
    assert [i.kind for i in org.answer_key] == list(KINDS)
    actions = {
        i.kind: [by_id[entry_id]["action"] for entry_id in i.entry_ids] for i in org.answer_key
    }
    assert actions["off_hours_privilege_escalation"] == ["member.role_changed"]
    assert actions["first_api_key"] == ["api_key.created"]
    assert actions["sso_profile_deleted"] == ["sso.profile.deleted"]
    assert actions["org_transferred"] == ["org.transferred"]
    assert len(actions["deletion_burst"]) >= 10
    assert all(a.endswith(".deleted") for a in actions["deletion_burst"])
    assert actions["activity_after_removal"][0] == "member.removed"
    for incident in org.answer_key:
        assert incident.why
        for entry_id in incident.entry_ids:
            assert NOW - _ts(by_id[entry_id]) < dt.timedelta(days=60)


def test_detectors_over_the_log_find_exactly_the_planted_incidents(org):
    planted = {i.kind: i for i in org.answer_key}
    chronological = org.entries[::-1]
    people = {p.id: p for p in org.people}

    last_seen: dict[str, dict] = {}
    travel = set()
    for e in chronological:
        actor = (e["actor"] or {}).get("id")
        if actor is None:
            continue
        before = last_seen.get(actor)
        hop = before is not None and before["country"] != e["country"]
        if hop and _ts(e) - _ts(before) < dt.timedelta(hours=6):
            travel.add((actor, before["id"], e["id"]))
        last_seen[actor] = e
    trip = planted["impossible_travel"]
    assert (trip.actor_id, *trip.entry_ids) in travel
    # The only other hop is the way back home, right after the planted one.
    assert all(x in trip.entry_ids for _, x, _ in travel)

    escalations = set()
    for e in chronological:
        if e["action"] == "member.role_changed" and e["metadata"]["new_role"] == "ADMIN":
            actor = people[e["actor"]["id"]]
            stamp = _ts(e)
            local = actor.local_hour(stamp.hour + stamp.minute / 60)
            admin = actor.role in ("OWNER", "ADMIN")
            if not admin or not actor.work_start <= local <= actor.work_end:
                escalations.add(e["id"])
    assert escalations == set(planted["off_hours_privilege_escalation"].entry_ids)

    key_makers = Counter(
        e["actor"]["id"] for e in chronological if e["action"] == "api_key.created"
    )
    assert [a for a, n in key_makers.items() if n == 1] == [planted["first_api_key"].actor_id]

    deletions = defaultdict(list)
    for e in chronological:
        if e["action"].endswith(".deleted") and e["actor"]:
            deletions[e["actor"]["id"]].append(_ts(e))
    bursts = {
        actor
        for actor, stamps in deletions.items()
        if any(b - a < dt.timedelta(minutes=10) for a, b in zip(stamps, stamps[4:], strict=False))
    }
    assert bursts == {planted["deletion_burst"].actor_id}

    removed_at = {
        e["member"]["user"]["id"]: _ts(e) for e in chronological if e["action"] == "member.removed"
    }
    after = {
        e["id"]
        for e in chronological
        if e["actor"] and e["actor"]["id"] in removed_at and _ts(e) > removed_at[e["actor"]["id"]]
    }
    assert after == set(planted["activity_after_removal"].entry_ids[1:])


def test_a_short_history_still_has_every_action_and_incident():
    org = generate_org(seed=4, days=14, now=NOW)
    assert {e["action"] for e in org.entries} == set(ACTIONS)
    ids = {e["id"] for e in org.entries}
    assert all(set(i.entry_ids) <= ids for i in org.answer_key)


def test_bad_arguments_are_refused_with_the_parameter_named():
    with pytest.raises(ValueError, match="days"):
        generate_org(days=5)
    with pytest.raises(ValueError, match="scale"):
        generate_org(scale=0)


def test_access_key_holds_the_role_history_the_org_was_given(org):
    tenures = defaultdict(list)
    for t in org.access_key:
        tenures[t.user_id].append(t)
    by_id = {e["id"]: e for e in org.entries}
    start = _ts(org.entries[-1])
    # The roster: everyone joins in the first minute, added by the system, in their role.
    for person in org.people:
        first = tenures[person.id][0]
        assert (first.role, first.began, first.granted_by) == (person.role, "member.joined", None)
        assert _ts(by_id[first.from_id]) - start < dt.timedelta(minutes=1)
        assert by_id[first.from_id]["source"] == "system"
    planted = {i.kind: i for i in org.answer_key}
    owner, heir = org.people[0], next(p for p in org.people if p.role == "ADMIN")
    transfer = planted["org_transferred"].entry_ids[0]
    assert [(t.role, t.to_id, t.ended) for t in tenures[owner.id]] == [
        ("OWNER", transfer, "org.transferred"), (None, None, None),
    ]  # fmt: skip
    heirs = [(t.role, t.granted_by) for t in tenures[heir.id]]
    assert heirs == [("ADMIN", None), ("OWNER", owner.id)]
    climber = planted["off_hours_privilege_escalation"]
    assert [(t.role, t.granted_by, t.to_id) for t in tenures[climber.actor_id]][1:] == [
        ("ADMIN", climber.actor_id, None),
    ]
    removed = planted["activity_after_removal"]
    assert [(t.to_id, t.ended) for t in tenures[removed.actor_id]] == [
        (removed.entry_ids[0], "member.removed"),
    ]
    # The temporary admin: promoted by an admin, put back weeks later.
    admins = {p.id for p in org.people if p.role == "ADMIN"}
    staff = {p.id: p.role for p in org.people if p.role in ("DEVELOPER", "MEMBER")}
    elevated = [u for u, ts in tenures.items() if u in staff and len(ts) == 3]
    assert len(elevated) == 1
    ups = tenures[elevated[0]]
    assert [t.role for t in ups] == [staff[elevated[0]], "ADMIN", staff[elevated[0]]]
    assert ups[1].granted_by in admins and ups[2].granted_by in admins
    assert dt.timedelta(days=6) < _ts(by_id[ups[2].from_id]) - _ts(by_id[ups[1].from_id])
    # The consultant: ADMIN from the roster on, quiet for the last 90 days and more.
    outsiders = [u for u in tenures if u.startswith("usr_k")]
    assert len(outsiders) == 1
    (held,) = tenures[outsiders[0]]
    assert (held.role, held.to_id) == ("ADMIN", None)
    acts = [_ts(e) for e in org.entries if (e["actor"] or {}).get("id") == outsiders[0]]
    assert 6 <= len(acts) <= 10 and NOW - max(acts) > dt.timedelta(days=90)
