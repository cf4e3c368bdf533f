"""Rules as data: the shipped file, another file, allowlists, bad files refused, and findings."""

from __future__ import annotations

import hashlib
import shutil
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest
from helpers import entry, frame

from auditlab.analysis import findings, sensitive_events, travel_anomalies
from auditlab.analysis.findings import actor_findings, finding_keys, finding_summary
from auditlab.analysis.rules import load_rules, parse_rules
from auditlab.analysis.travel import new_countries
from auditlab.errors import InvalidQuery

SHIPPED = Path(str(resources.files("auditlab.analysis").joinpath("rules.toml")))


def minutes_apart(start: str, count: int, **fields) -> list[dict]:
    first = pd.Timestamp(start)
    return [
        entry((first + pd.Timedelta(minutes=n)).strftime("%Y-%m-%dT%H:%M:%SZ"), **fields)
        for n in range(count)
    ]


BURST = minutes_apart("2026-10-01T10:00:00Z", 6, action="assistant.deleted", actor="u3")
ESCALATION = entry("2026-10-02T10:00:00Z", "member.role_changed", "u2", member="u2", role="ADMIN")
TRIP = [entry("2026-10-03T10:00:00Z", actor="u1", country="DE", ip="198.51.100.7"),
        entry("2026-10-03T10:20:00Z", actor="u1", country="JP", ip="203.0.113.50")]  # fmt: skip


def rules_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.toml"
    path.write_text(text, "utf-8")
    return path


def test_a_copy_of_the_shipped_file_gives_the_same_events_and_its_own_digest(tmp_path):
    copy = tmp_path / "copy.toml"
    shutil.copyfile(SHIPPED, copy)
    df = frame([*BURST, ESCALATION, *TRIP])
    assert sensitive_events(df).equals(sensitive_events(df, rules=copy))
    assert load_rules(copy).sha256 == hashlib.sha256(SHIPPED.read_bytes()).hexdigest()
    assert load_rules().sha256 == load_rules(copy).sha256


def test_every_event_names_its_rules_in_file_order():
    table = sensitive_events(frame([ESCALATION]))
    assert table["rule"].tolist() == ["role_changed; privileged_role; own_role_changed"]
    assert table["reason"].tolist() == ["role changed; new role ADMIN; changed own role"]


def test_another_file_sets_thresholds_severities_and_which_rules_run(tmp_path):
    path = rules_file(tmp_path, """
[rules.mass_deletion]
severity = "medium"
burst = 5
window = "10min"

[rules.assistants]
severity = "low"
title = "Assistants removed"
actions = { "assistant.deleted" = "assistant deleted" }
""")  # fmt: skip
    df = frame([*BURST, ESCALATION, *TRIP])
    table = sensitive_events(df, rules=path)
    assert set(table["id"]) == {e["id"] for e in BURST}
    assert set(table["rule"]) == {"mass_deletion; assistants"}
    assert set(table["reason"]) == {"mass deletion (5+ within 10min); assistant deleted"}
    assert sensitive_events(df).empty is False and sensitive_events(frame(BURST)).empty
    found = findings(df, rules=path)
    assert found["rule"].tolist() == ["mass_deletion"] * 6 + ["assistants"] * 6
    assert set(found["severity"]) == {"medium", "low"}
    assert travel_anomalies(df, rules=path).empty  # a rule the file leaves out does not run


def test_allowlists_leave_out_service_accounts_known_networks_and_expected_countries(tmp_path):
    later = entry("2026-10-20T10:00:00Z", actor="u1", country="PT", ip="192.0.2.1")
    df = frame([*BURST, *TRIP, later])
    shipped = SHIPPED.read_text("utf-8")
    assert len(sensitive_events(df, burst=6)) == 6
    assert len(travel_anomalies(df)) == 1 and new_countries(df)["country"].tolist() == ["PT"]
    allowed = shipped.replace(
        "networks = []", 'networks = ["203.0.113.0/24"]'
    ).replace(
        "service_accounts = []", 'service_accounts = ["u3"]'
    ).replace("[allow.countries]\n", '[allow.countries]\nu1 = ["PT"]\n')  # fmt: skip
    path = rules_file(tmp_path, allowed)
    assert sensitive_events(df, rules=path, burst=6).empty
    assert travel_anomalies(df, rules=path).empty
    assert new_countries(df, rules=path).empty


@pytest.mark.parametrize(
    ("text", "named", "allowed"),
    [
        ("[rules.x]\nseverity = 'high'\nactions = {'org.updated' = 'x'}\n[other]", "other",
         "version, rules, allow"),
        ("[rules.mass_deletion]\nseverity = 'high'\nburst = 1\nwindow = '10min'",
         "rules.mass_deletion.burst", "a whole number >= 2"),
        ("[rules.mass_deletion]\nseverity = 'high'\nburst = 10\nwindow = 'soon'",
         "rules.mass_deletion.window", "a positive duration"),
        ("[rules.mass_deletion]\nseverity = 'high'\nburst = 10", "rules.mass_deletion.window",
         "is missing"),
        ("[rules.off_hours]\nseverity = 'urgent'", "rules.off_hours.severity", "high, medium, low"),
        ("[rules.api_key]\nseverity = 'low'\nactions = {'api_key.stolen' = 'x'}",
         "rules.api_key.actions", "not one of Invent's 61 actions"),
        ("[rules.mass_delection]\nseverity = 'high'\nburst = 10", "rules.mass_delection.burst",
         "is not one of auditlab's rules"),
        ("[rules.off_hours]\nseverity = 'low'\nwatch = ['admin.*']\nusual_share = 0.1\n"
         "min_history = 5\nwork_hours = [7, 20]", "rules.off_hours.watch", "names no category"),
        ("[rules.off_hours]\nseverity = 'low'\nwatch = ['org.*']\nusual_share = 0.1\n"
         "min_history = 5\nwork_hours = [20, 7]", "rules.off_hours.work_hours", "start < end"),
        ("[allow]\nnetworks = ['10.0.0.0/33']\n[rules.x]\nseverity = 'low'\n"
         "actions = {'org.updated' = 'x'}", "allow.networks[0]", "an address range"),
        ("[allow.countries]\nu1 = ['Germany']\n[rules.x]\nseverity = 'low'\n"
         "actions = {'org.updated' = 'x'}", "allow.countries.u1", "two-letter country code"),
        ("[rules.x\nseverity = 'low'", "is not valid TOML", "line 1"),
        ("version = 1", "no rule is defined", "[rules.<id>]"),
    ],
)  # fmt: skip
def test_a_bad_rules_file_is_refused_naming_the_key_and_what_is_allowed(
    tmp_path, text, named, allowed
):
    with pytest.raises(InvalidQuery) as error:
        load_rules(rules_file(tmp_path, text))
    message = str(error.value)
    assert error.value.parameter == "rules"
    assert message.startswith(f"rules file {tmp_path / 'rules.toml'}: ")
    assert named in message and allowed in message


def test_a_missing_rules_file_and_a_bad_override_name_their_parameter(tmp_path):
    with pytest.raises(InvalidQuery, match="cannot be read") as error:
        load_rules(tmp_path / "absent.toml")
    assert error.value.parameter == "rules"
    only_keys = parse_rules("[rules.k]\nseverity = 'low'\nactions = {'api_key.created' = 'k'}")
    with pytest.raises(InvalidQuery, match="burst sets the mass_deletion rule") as error:
        sensitive_events(frame(BURST), rules=only_keys, burst=3)
    assert error.value.parameter == "burst"


def test_findings_rank_rules_by_severity_then_count_and_keep_their_evidence():
    df = frame([*BURST, ESCALATION, *TRIP])
    found = findings(df)
    # high before medium; equal counts keep the file's order
    assert found["rule"].tolist() == [
        "privileged_role", "own_role_changed", "impossible_travel", "role_changed",
    ]  # fmt: skip
    travel = found.iloc[2]
    assert travel["entry_ids"] == (TRIP[0]["id"], TRIP[1]["id"])
    assert (travel["country"], travel["severity"]) == ("DE → JP", "high")
    assert travel["first"] == pd.Timestamp("2026-10-03T10:00:00Z")
    assert travel["last"] == pd.Timestamp("2026-10-03T10:20:00Z")
    assert finding_keys(found)[0] == ("privileged_role", (ESCALATION["id"],))
    summary = finding_summary(found)
    assert summary[["rule", "findings", "events", "actors"]].values.tolist() == [
        ["privileged_role", 1, 1, 1], ["own_role_changed", 1, 1, 1],
        ["impossible_travel", 1, 2, 1], ["role_changed", 1, 1, 1],
    ]  # fmt: skip
    actors = actor_findings(found)
    assert actors[["actor_id", "findings", "high", "medium", "low"]].values.tolist() == [
        ["u2", 3, 2, 1, 0], ["u1", 1, 1, 0, 0],
    ]  # fmt: skip
