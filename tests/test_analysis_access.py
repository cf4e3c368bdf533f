"""The access review: roles read from the log, who held power when, leavers, and the findings."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from helpers import NOW, entry, frame

import auditlab.analysis as analysis
from auditlab.errors import InvalidQuery
from auditlab.frame import pages_to_table, table_to_frame
from auditlab.sandbox import generate_org
from auditlab.sandbox.roles import Tenure

T = pd.Timestamp


def stamp(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def intervals(table: pd.DataFrame, *columns: str, member: str | None = None) -> list[tuple]:
    """Return the chosen columns of each row (of ``member``'s rows), missing values as None."""
    if member is not None:
        table = table[table["member_user_id"] == member]
    shown = table[list(columns)].astype(object)
    return [tuple(None if pd.isna(v) else v for v in row) for row in shown.itertuples(index=False)]


def change(at: str, actor: str, member: str, role: str | None, **metadata) -> dict:
    return entry(at, "member.role_changed", actor, member=member, role=role,
                 metadata=metadata or None)  # fmt: skip


def added(at: str, member: str, role: str) -> dict:
    """Return ``member`` joining in ``role``, added by the system (no actor)."""
    return entry(at, "member.joined", None, source="system", member=member, role=role)


def joined_org() -> list[dict]:
    """Return u1 joining as OWNER (by the system), then inviting u2, who joins as MEMBER."""
    return [
        added("2026-09-01T08:00:00Z", "u1", "OWNER"),
        entry("2026-09-02T09:00:00Z", "member.invited", "u1", member="u2", role="MEMBER",
              metadata={"email": "ben@example.com", "role": "MEMBER"}),
        entry("2026-09-04T10:00:00Z", "member.joined", "u2", member="u2", role="MEMBER"),
    ]  # fmt: skip


def test_roles_follow_joins_changes_and_removals_with_the_entries_that_prove_each_end():
    owner, invite, join = joined_org()
    promote = change("2026-09-10T10:00:00Z", "u1", "u2", "ADMIN", previous_role="MEMBER",
                     new_role="ADMIN")  # fmt: skip
    removal = entry("2026-09-20T10:00:00Z", "member.removed", "u1", member="u2", role="ADMIN")
    history = analysis.access_history(frame([owner, invite, join, promote, removal]))
    columns = ("role", "from", "to", "began", "ended", "granted_by_id", "granted_by_role",
               "granted_id", "from_id", "to_id", "doubt")  # fmt: skip
    assert intervals(history, *columns, member="u2") == [
        ("MEMBER", stamp(join["created_at"]), stamp(promote["created_at"]), "member.joined",
         "member.role_changed", "u1", "OWNER", invite["id"], join["id"], promote["id"], None),
        ("ADMIN", stamp(promote["created_at"]), stamp(removal["created_at"]),
         "member.role_changed", "member.removed", "u1", "OWNER", promote["id"], promote["id"],
         removal["id"], None),
    ]  # fmt: skip
    assert intervals(history, *columns[:7], member="u1") == [
        ("OWNER", stamp(owner["created_at"]), None, "member.joined", None, None, None),
    ]
    assert intervals(history, "name", "email", "member_id", member="u2")[0] == (
        "Ben Okafor", "ben@example.com", "mem_u2",
    )  # fmt: skip


def test_the_role_before_the_first_change_the_log_shows_is_unknown_never_guessed():
    named = change("2026-09-10T10:00:00Z", "u1", "u2", "ADMIN", previous_role="DEVELOPER",
                   new_role="ADMIN")  # fmt: skip
    unnamed = change("2026-09-11T10:00:00Z", "u1", "u3", "ADMIN")
    quiet = entry("2026-09-12T10:00:00Z", "assistant.updated", "u4")
    history = analysis.access_history(frame([named, unnamed, quiet]))
    columns = ("member_user_id", "role", "from", "to", "began", "ended", "granted_by_id", "doubt")
    assert intervals(history, *columns) == [
        ("u1", None, None, None, "before the log", None, None,
         "no role-bearing entry in the loaded log"),
        ("u2", "DEVELOPER", None, stamp(named["created_at"]), "before the log",
         "member.role_changed", None, None),
        ("u2", "ADMIN", stamp(named["created_at"]), None, "member.role_changed", None, "u1", None),
        ("u3", None, None, stamp(unnamed["created_at"]), "before the log", "member.role_changed",
         None, "the log does not show the role before member.role_changed"),
        ("u3", "ADMIN", stamp(unnamed["created_at"]), None, "member.role_changed", None, "u1",
         None),
        ("u4", None, None, None, "before the log", None, None,
         "no role-bearing entry in the loaded log"),
    ]  # fmt: skip


def test_history_from_leaves_out_earlier_entries_so_earlier_roles_are_unknown():
    owner, invite, join = joined_org()
    promote = change("2026-09-10T10:00:00Z", "u1", "u2", "ADMIN", previous_role="MEMBER",
                     new_role="ADMIN")  # fmt: skip
    df = frame([owner, invite, join, promote])
    history = analysis.access_history(df, history_from="2026-09-05")
    assert intervals(history, "member_user_id", "role", "from", "began", "granted_by_role") == [
        ("u1", None, None, "before the log", None),
        ("u2", "MEMBER", None, "before the log", None),
        ("u2", "ADMIN", stamp(promote["created_at"]), "member.role_changed", None),
    ]
    whole = analysis.access_history(df)
    assert intervals(whole, "role", "granted_by_role", member="u2")[-1] == ("ADMIN", "OWNER")
    with pytest.raises(InvalidQuery, match="history_from") as raised:
        analysis.access_history(df, history_from="last spring")
    assert raised.value.parameter == "history_from"


def test_roles_read_defensively_unreadable_ones_are_unknown_and_said_so():
    entries = [
        change("2026-09-10T10:00:00Z", "u1", "u2", None, previous_role=7, new_role="admin "),
        change("2026-09-11T10:00:00Z", "u1", "u3", "ADMIN", previous_role="MEMBER",
               new_role="DEVELOPER"),
        change("2026-09-12T10:00:00Z", "u1", "u4", None, new_role={"name": "ADMIN"}),
        entry("2026-09-13T10:00:00Z", "member.role_changed", "u1", member=None),
        entry("2026-09-14T10:00:00Z", "org.sub_org_member_joined", "u1", member="u5",
              role="ADMIN", metadata={"via": "invite"}),
        entry("2026-09-15T10:00:00Z", "member.joined", "u6", member="u6", role=None,
              metadata="joined"),
    ]  # fmt: skip
    df = frame(entries)
    read = analysis.role_entries(df)
    columns = ("member_user_id", "sub_org_id", "role_before", "role_after", "unread")
    assert intervals(read, *columns) == [
        ("u2", None, None, "ADMIN", "metadata.previous_role 7 is not a role"),
        ("u3", None, "MEMBER", "ADMIN",
         "metadata.new_role DEVELOPER differs from member.role ADMIN"),
        ("u4", None, None, None, 'metadata.new_role {"name":"ADMIN"} is not a role'),
        (None, None, None, None, "no member; no role named"),
        (None, None, None, "ADMIN", "no metadata.sub_org_id"),
        ("u6", None, None, None, "metadata is not an object; no role named"),
    ]  # fmt: skip
    assert read["unread"].notna().sum() == 6
    history = analysis.access_history(df)
    assert intervals(history, "role", "doubt", member="u4")[-1] == (
        None, 'metadata.new_role {"name":"ADMIN"} is not a role',
    )  # fmt: skip
    assert intervals(history, "role", "doubt", member="u6") == [
        (None, "metadata is not an object; no role named"),
    ]  # fmt: skip


def test_a_sub_org_role_is_its_own_interval_apart_from_the_orgs():
    entries = [
        added("2026-09-01T08:00:00Z", "u1", "ADMIN"),
        entry("2026-09-05T10:00:00Z", "org.sub_org_member_joined", "u1", member="u2",
              role="MEMBER", metadata={"sub_org_id": "org_sub1"}),
        entry("2026-09-06T10:00:00Z", "org.sub_org_member_role_changed", "u1", member="u2",
              role="ADMIN", metadata={"sub_org_id": "org_sub1", "previous_role": "MEMBER",
                                      "new_role": "ADMIN"}),
    ]  # fmt: skip
    history = analysis.access_history(frame(entries))
    assert intervals(history, "sub_org_id", "role", "granted_by_id", "granted_by_role",
                     member="u2") == [
        ("org_sub1", "MEMBER", "u1", "ADMIN"),
        ("org_sub1", "ADMIN", "u1", "ADMIN"),
    ]  # fmt: skip


def transfer_org() -> list[dict]:
    """Return u1 (OWNER) and u2 (ADMIN) joining, then u1 handing the org to u2."""
    return [
        added("2026-09-01T08:00:00Z", "u1", "OWNER"),
        added("2026-09-01T08:00:01Z", "u2", "ADMIN"),
        entry("2026-10-01T12:00:00Z", "org.transferred", "u1",
              metadata={"previous_owner_id": "u1", "new_owner_id": "u2"}),
    ]  # fmt: skip


def test_a_transfer_makes_the_heir_owner_and_the_previous_owners_role_unknown():
    entries = transfer_org()
    history = analysis.access_history(frame(entries))
    at = stamp(entries[2]["created_at"])
    columns = ("member_user_id", "role", "from", "to", "began", "ended", "granted_by_id", "doubt")
    assert intervals(history, *columns) == [
        ("u1", "OWNER", stamp(entries[0]["created_at"]), at, "member.joined", "org.transferred",
         None, None),
        ("u1", None, at, None, "org.transferred", None, None,
         "the log does not say which role followed org.transferred"),
        ("u2", "ADMIN", stamp(entries[1]["created_at"]), at, "member.joined", "org.transferred",
         None, None),
        ("u2", "OWNER", at, None, "org.transferred", None, "u1", None),
    ]  # fmt: skip
    later = change("2026-10-09T12:00:00Z", "u2", "u1", "DEVELOPER", previous_role="ADMIN",
                   new_role="DEVELOPER")  # fmt: skip
    filled = analysis.access_history(frame([*entries, later]))
    assert intervals(filled, "role", "from", "to", "doubt", member="u1")[1:] == [
        ("ADMIN", at, stamp(later["created_at"]), None),
        ("DEVELOPER", stamp(later["created_at"]), None, None),
    ]


def test_privileged_access_lists_each_unbroken_stretch_in_the_period():
    entries = [
        *transfer_org(),
        added("2026-09-01T08:00:02Z", "u3", "DEVELOPER"),
        change("2026-09-15T10:00:00Z", "u2", "u3", "ADMIN", previous_role="DEVELOPER",
               new_role="ADMIN"),
        change("2026-09-25T10:00:00Z", "u2", "u3", "DEVELOPER", previous_role="ADMIN",
               new_role="DEVELOPER"),
        entry("2026-10-20T09:00:00Z", "assistant.updated", "u2"),
    ]  # fmt: skip
    df = frame(entries)
    table = analysis.privileged_access(df, since="2026-09-20", until="2026-10-31")
    columns = ("member_user_id", "roles", "from", "to", "ended", "granted_by_id", "role_at_end",
               "privileged_at_end", "last_activity")  # fmt: skip
    assert intervals(table, *columns) == [
        ("u1", "OWNER", stamp(entries[0]["created_at"]), stamp(entries[2]["created_at"]),
         "org.transferred", None, None, None, stamp(entries[2]["created_at"])),
        ("u2", "ADMIN, OWNER", stamp(entries[1]["created_at"]), None, None, None, "OWNER", True,
         stamp(entries[6]["created_at"])),
        ("u3", "ADMIN", stamp(entries[4]["created_at"]), stamp(entries[5]["created_at"]),
         "member.role_changed", "u2", "DEVELOPER", False, None),
    ]  # fmt: skip
    assert analysis.privileged_access(df, since="2026-10-02")["member_user_id"].tolist() == ["u2"]
    assert analysis.privileged_access(df, until="2026-08-31").empty


def test_leavers_say_whether_the_member_lost_access():
    owner, invite, join = joined_org()
    entries = [
        owner, invite, join,
        added("2026-09-05T09:00:00Z", "u3", "ADMIN"),
        entry("2026-09-20T10:00:00Z", "member.removed", "u1", member="u2", role="MEMBER"),
        entry("2026-09-21T10:00:00Z", "member.left", "u3", member="u3", role="ADMIN"),
        entry("2026-09-22T10:00:00Z", "assistant.updated", "u3"),
        entry("2026-09-23T10:00:00Z", "chat.deleted", "u3"),
    ]  # fmt: skip
    table = analysis.leavers(frame(entries))
    columns = ("id", "action", "member_user_id", "by_id", "role", "privileged", "later_events",
               "last_event", "lost_access")  # fmt: skip
    assert intervals(table, *columns) == [
        (entries[4]["id"], "member.removed", "u2", "u1", "MEMBER", False, 0, None, True),
        (entries[5]["id"], "member.left", "u3", "u3", "ADMIN", True, 2,
         stamp(entries[7]["created_at"]), False),
    ]  # fmt: skip
    assert analysis.leavers(frame(entries), since="2026-09-21")["member_user_id"].tolist() == ["u3"]


def test_each_review_rule_finds_exactly_its_cases():
    entries = [
        *transfer_org(),
        added("2026-09-01T08:00:02Z", "u3", "DEVELOPER"),
        added("2026-09-01T08:00:03Z", "u4", "MEMBER"),
        change("2026-10-05T03:00:00Z", "u3", "u3", "ADMIN", previous_role="DEVELOPER",
               new_role="ADMIN"),
        change("2026-10-06T10:00:00Z", "u9", "u4", "ADMIN", previous_role="MEMBER",
               new_role="ADMIN"),
        entry("2026-10-10T10:00:00Z", "member.removed", "u2", member="u4", role="ADMIN"),
        entry("2026-10-11T10:00:00Z", "assistant.updated", "u4"),
        entry("2027-01-04T10:00:00Z", "assistant.updated", "u2"),
    ]  # fmt: skip
    df = frame(entries)
    found = analysis.access_findings(df, since="2026-10-01", until="2027-01-05")
    transfer, escalation, grant, after = (entries[n] for n in (2, 5, 6, 8))
    columns = ("rule", "severity", "actor_id", "first", "action", "entry_ids", "detail")
    assert found["actor_name"].tolist() == ["Ana Silva", "U4", "Chen Wei", "Chen Wei", "U9"]
    assert intervals(found, *columns) == [
        ("org_change", "high", "u1", stamp(transfer["created_at"]), "org.transferred",
         (transfer["id"],), "organisation transferred"),
        ("after_removal", "high", "u4", stamp(after["created_at"]), "assistant.updated",
         (after["id"],), "activity after own removal"),
        ("grant_by_non_holder", "high", "u3", stamp(escalation["created_at"]),
         "member.role_changed", (escalation["id"],),
         "Chen Wei (DEVELOPER) granted ADMIN to themselves"),
        ("privileged_quiet", "medium", "u3", stamp(escalation["created_at"]), None,
         (escalation["id"],), "holds ADMIN; last seen 2026-10-05, 92 days before 2027-01-05"),
        ("grant_by_unknown_role", "low", "u9", stamp(grant["created_at"]),
         "member.role_changed", (grant["id"],), "U9 (role unknown) granted ADMIN to U4"),
    ]  # fmt: skip
    patient = analysis.access_findings(df, since="2026-10-01", until="2027-01-05", quiet_days=93)
    assert "privileged_quiet" not in patient["rule"].tolist()
    assert analysis.access_findings(df, since="2026-10-12", until="2026-10-31").empty
    with pytest.raises(InvalidQuery, match="quiet_days") as raised:
        analysis.access_findings(df, quiet_days=0)
    assert raised.value.parameter == "quiet_days"


def test_the_review_rules_are_the_rules_files(tmp_path):
    entries = [*transfer_org(), added("2026-09-01T08:00:02Z", "u3", "DEVELOPER"),
               change("2026-10-05T03:00:00Z", "u3", "u3", "ADMIN", previous_role="DEVELOPER",
                      new_role="ADMIN")]  # fmt: skip
    rules = tmp_path / "rules.toml"
    rules.write_text('[rules.grant_by_non_holder]\nseverity = "medium"\ntitle = "Grants"\n')
    found = analysis.access_findings(frame(entries), rules=rules)
    assert intervals(found, "rule", "severity", "title") == [
        ("grant_by_non_holder", "medium", "Grants"),
    ]


def test_every_access_table_and_chart_works_on_an_empty_frame():
    empty = frame([])
    for name in ("role_entries", "access_history", "privileged_access", "leavers",
                 "access_findings"):  # fmt: skip
        assert getattr(analysis, name)(empty).empty
    for name in ("access_history_chart", "privileged_access_chart"):
        figure = getattr(analysis, name)(empty, since="2026-10-01", width=500)
        assert figure.layout.title.text.endswith("no events") and figure.layout.width == 500


def test_the_privileged_chart_draws_a_bar_per_role_held_clipped_to_the_window():
    entries = [*transfer_org(), entry("2026-10-20T09:00:00Z", "assistant.updated", "u2")]
    figure = analysis.privileged_access_chart(frame(entries), since="2026-09-15", tz="UTC")
    bars = {trace.name: trace for trace in figure.data}
    assert sorted(bars) == ["ADMIN", "OWNER"]
    assert list(bars["OWNER"].y) == ["Ana Silva", "Ben Okafor"]
    assert [T(b) for b in bars["OWNER"].base] == [T("2026-09-15"), T("2026-10-01T12:00")]
    until_transfer = (T("2026-10-01T12:00Z") - T("2026-09-15T00:00Z")).total_seconds() * 1000
    until_end = (T("2026-10-20T09:00Z") - T("2026-10-01T12:00Z")).total_seconds() * 1000
    assert list(bars["OWNER"].x) == [until_transfer, until_end]
    assert list(bars["ADMIN"].y) == ["Ben Okafor"] and bars["ADMIN"].x[0] == until_transfer
    assert list(figure.layout.yaxis.categoryarray) == ["Ana Silva", "Ben Okafor"]
    assert figure.layout.xaxis.type == "date"


# Against the sandbox's answer key ---------------------------------------------------------


@pytest.fixture(scope="module")
def org():
    return generate_org(seed=0, days=180, now=NOW)


@pytest.fixture(scope="module")
def df(org):
    return frame(org.entries)


def key_rows(tenures) -> list[tuple]:
    return sorted((
        (t.user_id, t.role, t.began, t.ended, t.granted_by, t.granted_id, t.from_id, t.to_id,
         None if t.from_at is None else stamp(t.from_at),
         None if t.to_at is None else stamp(t.to_at))
        for t in tenures
    ), key=repr)  # fmt: skip


HISTORY = ("member_user_id", "role", "began", "ended", "granted_by_id", "granted_id", "from_id",
           "to_id", "from", "to")  # fmt: skip


def test_the_reconstruction_is_the_sandbox_access_key_exactly(org, df):
    history = analysis.access_history(df)
    assert sorted(intervals(history, *HISTORY), key=repr) == key_rows(org.access_key)


def test_privileged_access_over_a_period_is_who_the_key_says_held_admin_or_owner(org, df):
    since, until = pd.Timestamp(NOW) - pd.Timedelta(days=89), pd.Timestamp(NOW)
    table = analysis.privileged_access(df, since=since, until=until)

    def overlaps(t) -> bool:
        return (t.to_at is None or stamp(t.to_at) > since) and stamp(t.from_at) <= until

    held = {t.user_id for t in org.access_key if t.privileged and overlaps(t)}
    assert set(table["member_user_id"]) == held
    still = {t.user_id for t in org.access_key if t.privileged and t.to_at is None}
    assert set(table.loc[table["privileged_at_end"].fillna(False), "member_user_id"]) == still


def test_a_bounded_history_shows_roles_before_it_as_unknown_unless_an_entry_names_them(org, df):
    start = pd.Timestamp(NOW) - pd.Timedelta(days=60)
    history = analysis.access_history(df, history_from=start)
    # The members the loaded part of the log shows: as actors, or as the member of an entry.
    shown_ids = {person["id"] for e in org.entries if stamp(e["created_at"]) >= start
                 for person in (e.get("actor"), (e.get("member") or {}).get("user")) if person}
    straddling = [t for t in org.access_key if t.user_id in shown_ids and stamp(t.from_at) < start
                  and (t.to_at is None or stamp(t.to_at) >= start)]  # fmt: skip
    # Of a role held across the start, the log from then on shows only the entry ending it:
    # a role change names the role before, a removal or departure the member's role, a transfer
    # the previous owner's; nothing names the heir's role before it, or a role still held.
    named = ("member.role_changed", "member.removed", "member.left")
    expected = [
        (t.user_id, t.role if t.ended in named or (t.ended and t.role == "OWNER") else None,
         "before the log", t.ended, t.to_id)
        for t in straddling
    ]  # fmt: skip
    unknown = history[history["from"].isna()]
    shown = intervals(unknown, "member_user_id", "role", "began", "ended", "to_id")
    assert sorted(shown, key=repr) == sorted(expected, key=repr)
    assert all(role is None for _, role, _, ended, _ in expected if ended is None)
    assert any(role is not None for _, role, *_ in expected)


def test_the_review_findings_are_the_planted_and_keyed_cases(org, df):
    found = analysis.access_findings(df, since=pd.Timestamp(NOW) - pd.Timedelta(days=89),
                                     until=NOW)  # fmt: skip
    planted = {i.kind: i for i in org.answer_key}
    by_rule = {rule: rows for rule, rows in found.groupby("rule")}
    escalation = planted["off_hours_privilege_escalation"]
    assert by_rule["grant_by_non_holder"]["entry_ids"].tolist() == [escalation.entry_ids]
    assert by_rule["grant_by_non_holder"]["actor_id"].tolist() == [escalation.actor_id]
    transfer = planted["org_transferred"]
    assert by_rule["org_change"]["entry_ids"].tolist() == [transfer.entry_ids]
    removal = planted["activity_after_removal"]
    assert set(by_rule["after_removal"]["entry_ids"]) == {(i,) for i in removal.entry_ids[1:]}
    # Privileged at the end and not seen for 90 days: from the entries themselves.
    last: dict[str, pd.Timestamp] = {}
    for e in org.entries:
        actor = e["actor"] or {}
        for at in (e["created_at"], actor.get("seen_at")):
            if actor.get("id") and at:
                last[actor["id"]] = max(last.get(actor["id"], stamp(at)), stamp(at))
    still = {t.user_id for t in org.access_key if t.privileged and t.to_at is None}
    quiet = {u for u in still if pd.Timestamp(NOW) - last[u] >= pd.Timedelta(days=90)}
    assert set(by_rule["privileged_quiet"]["actor_id"]) == quiet
    assert quiet
    assert set(by_rule) == {"grant_by_non_holder", "org_change", "after_removal",
                            "privileged_quiet"}  # fmt: skip


def test_the_committed_sample_reconstructs_to_its_committed_access_key():
    folder = Path(__file__).resolve().parents[1] / "data" / "sample"
    pages = [path.read_bytes() for path in sorted(folder.glob("page-*.json"))]
    df = table_to_frame(pages_to_table(pages))
    key = [Tenure(**t) for t in json.loads((folder / "access_key.json").read_text())]
    history = analysis.access_history(df)
    assert sorted(intervals(history, *HISTORY), key=repr) == key_rows(key)
    privileged = history[history["role"].isin(["ADMIN", "OWNER"])]
    assert intervals(privileged, "member_user_id", "role", "from", "to") == [
        ("usr_1cb818", "ADMIN", T("2026-09-28T14:20:00Z"), T("2026-10-16T17:19:46Z")),
        ("usr_53f628", "ADMIN", T("2026-10-18T08:00:52Z"), None),
        ("usr_7ff901", "ADMIN", T("2026-08-03T12:00:02Z"), T("2026-10-16T12:00:29Z")),
        ("usr_7ff901", "OWNER", T("2026-10-16T12:00:29Z"), None),
        ("usr_878102", "ADMIN", T("2026-08-03T12:00:03Z"), None),
        ("usr_949000", "OWNER", T("2026-08-03T12:00:01Z"), T("2026-10-16T12:00:29Z")),
        ("usr_ed6b03", "ADMIN", T("2026-08-03T12:00:04Z"), None),
        ("usr_kfe31", "ADMIN", T("2026-08-03T12:00:39Z"), None),
    ]
