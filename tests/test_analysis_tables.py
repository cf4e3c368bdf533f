"""The analysis tables: exact numbers on a hand-built week, checked against plain counts."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from helpers import SAMPLE_ENTRIES, entry, frame

import auditlab.analysis as analysis
from auditlab.actions import action_category
from auditlab.errors import InvalidQuery
from auditlab.frame import empty_frame

SAMPLE = frame(SAMPLE_ENTRIES)
# The tables whose columns are fixed (the matrix's columns are the categories present).
TABLES = [
    "timeline", "actor_breakdown", "action_breakdown", "country_summary", "ip_summary",
    "sensitive_events", "travel_anomalies", "new_countries",
]  # fmt: skip


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).tz_convert("UTC")


def counted(table: pd.DataFrame, *keys: str) -> Counter:
    """Return the table's events as a Counter keyed by ``keys``."""
    return Counter(
        {tuple(row[k] for k in keys): row["events"] for row in table.to_dict("records")}
    )


def test_timeline_counts_each_day_and_category_like_a_plain_count():
    expected = Counter(
        (pd.Timestamp(e["created_at"][:10], tz="UTC"), action_category(e["action"]))
        for e in SAMPLE_ENTRIES
    )
    table = analysis.timeline(SAMPLE)
    assert table.columns.tolist() == ["period", "action_category", "events"]
    assert counted(table, "period", "action_category") == expected
    assert table["period"].is_monotonic_increasing
    assert table["events"].sum() == len(SAMPLE_ENTRIES)


def test_timeline_periods_are_days_in_the_given_time_zone():
    tokyo = ZoneInfo("Asia/Tokyo")
    expected = Counter(
        pd.Timestamp(dt.datetime.fromisoformat(e["created_at"]).astimezone(tokyo).date(), tz=tokyo)
        for e in SAMPLE_ENTRIES
    )
    table = analysis.timeline(SAMPLE, by=None, tz="Asia/Tokyo")
    assert counted(table, "period") == {(k,): v for k, v in expected.items()}
    assert str(table["period"].dt.tz) == "Asia/Tokyo"
    # 23:30 UTC on 1 October is the morning of 2 October in Tokyo.
    day = table.set_index("period")["events"]
    assert day[pd.Timestamp("2026-10-01", tz=tokyo)] == 2
    assert day[pd.Timestamp("2026-10-02", tz=tokyo)] == 3


def test_timeline_weeks_start_on_monday_and_can_split_by_any_column():
    table = analysis.timeline(SAMPLE, freq="W", by="country")
    assert table.columns.tolist() == ["period", "country", "events"]
    week = pd.Timestamp("2026-09-28", tz="UTC")
    first = table[table["period"] == week].set_index("country")["events"]
    assert first[first.index.notna()].to_dict() == {"DE": 3, "FR": 1, "US": 1}
    # The system event has no country: it is counted, under a missing value.
    assert first[first.index.isna()].tolist() == [1]
    assert table["events"].sum() == len(SAMPLE_ENTRIES)


def test_timeline_rejects_an_unknown_freq_by_or_tz_naming_the_parameter():
    for kwargs, parameter in [({"freq": "fortnight"}, "freq"), ({"by": "colour"}, "by"),
                              ({"tz": "Mars/Olympus"}, "tz")]:  # fmt: skip
        with pytest.raises(InvalidQuery, match=parameter) as raised:
            analysis.timeline(SAMPLE, **kwargs)
        assert raised.value.parameter == parameter


def test_since_and_until_keep_a_window_and_a_bare_until_date_includes_its_day():
    table = analysis.timeline(SAMPLE, by=None, since="2026-10-02", until="2026-10-03")
    assert table["events"].tolist() == [2, 1]
    late = analysis.action_breakdown(SAMPLE, since=dt.datetime(2026, 10, 9, 12, 1, tzinfo=dt.UTC))
    assert late["action"].tolist() == ["connection.updated"]
    with pytest.raises(InvalidQuery, match="since"):
        analysis.action_breakdown(SAMPLE, since="last tuesday")


def test_actor_breakdown_gives_one_exact_row_per_actor():
    table = analysis.actor_breakdown(SAMPLE)
    expected = pd.DataFrame({
        "actor_id": ["u1", "u3", "u2"],
        "actor_name": ["Ana Silva", "Chen Wei", "Ben Okafor"],
        "actor_email": ["ana@example.com", "chen@example.com", "ben@example.com"],
        "events": [3, 3, 1],
        "actions": [3, 3, 1],
        "first_seen": [utc("2026-10-01T08:00Z"), utc("2026-10-02T10:00Z"),
                       utc("2026-10-01T23:30Z")],
        "last_seen": [utc("2026-10-02T11:00Z"), utc("2026-10-09T12:05Z"),
                      utc("2026-10-01T23:30Z")],
        "countries": [1, 2, 1],
        "ips": [2, 2, 1],
        "sensitive_events": [0, 1, 1],
    })  # fmt: skip
    expected = expected.astype(
        {c: "str" for c in ("actor_id", "actor_name", "actor_email")}
        | {c: table[c].dtype for c in ("first_seen", "last_seen")}
    )
    pd.testing.assert_frame_equal(table, expected)
    assert dict(zip(table["actor_id"], table["events"], strict=True)) == Counter(
        e["actor"]["id"] for e in SAMPLE_ENTRIES if e["actor"]
    )


def test_action_breakdown_counts_events_and_distinct_actors_including_unknown_actions():
    table = analysis.action_breakdown(SAMPLE)
    assert counted(table, "action_category", "action") == Counter(
        (action_category(e["action"]), e["action"]) for e in SAMPLE_ENTRIES
    )
    unknown = table[table["action"] == "agent.summoned"].iloc[0]
    assert (unknown["action_category"], unknown["events"], unknown["actors"]) == ("agent", 1, 1)
    system = table[table["action"] == "org.updated"].iloc[0]
    assert system["actors"] == 0


def test_actor_action_matrix_holds_each_actors_events_per_category():
    matrix = analysis.actor_action_matrix(SAMPLE)
    assert matrix.index.name == "actor_id" and matrix.columns.name == "action_category"
    assert matrix.index.tolist() == ["u1", "u3", "u2"]
    cells = Counter((e["actor"]["id"], action_category(e["action"]))
                    for e in SAMPLE_ENTRIES if e["actor"])  # fmt: skip
    stacked = matrix.stack()
    assert {k: v for k, v in stacked.items() if v} == dict(cells)
    assert matrix.columns[0] == "assistant"
    assert analysis.actor_action_matrix(SAMPLE, top=1).index.tolist() == ["u1"]
    with pytest.raises(InvalidQuery, match="top"):
        analysis.actor_action_matrix(SAMPLE, top=0)


def test_country_summary_names_each_country_with_its_iso3_code():
    table = analysis.country_summary(SAMPLE)
    assert table.values.tolist() == [
        ["DE", "Germany", "DEU", 3, 1, 2],
        ["FR", "France", "FRA", 2, 1, 2],
        ["JP", "Japan", "JPN", 1, 1, 1],
        ["US", "United States", "USA", 1, 1, 1],
    ]
    assert counted(table, "country") == Counter(
        (e["country"],) for e in SAMPLE_ENTRIES if e["country"]
    )


def test_country_summary_keeps_a_code_it_cannot_name():
    table = analysis.country_summary(frame([entry("2026-10-01T08:00:00Z", country="XX")]))
    assert table["country"].tolist() == ["XX"]
    assert table["country_name"].isna().all() and table["iso3"].isna().all()


def test_ip_summary_counts_per_address_with_version_and_private_network():
    table = analysis.ip_summary(SAMPLE).set_index("ip")
    assert table["events"].to_dict() == Counter(e["ip"] for e in SAMPLE_ENTRIES if e["ip"])
    shared = table.loc["198.51.100.7"]
    assert (shared["actors"], shared["countries"]) == (2, 3)
    assert shared["first_seen"] == utc("2026-10-01T08:00Z")
    assert shared["last_seen"] == utc("2026-10-09T12:05Z")
    assert table["version"].to_dict() == {
        "198.51.100.7": 4, "10.0.0.5": 4, "2001:db8::1": 6, "203.0.113.9": 4,
    }  # fmt: skip
    assert table["is_private"].to_dict() == {
        "198.51.100.7": False, "10.0.0.5": True, "2001:db8::1": False, "203.0.113.9": False,
    }  # fmt: skip


def test_new_countries_lists_a_country_first_seen_after_the_actors_first_week():
    table = analysis.new_countries(SAMPLE)
    assert table.values.tolist() == [
        ["u3", "Chen Wei", "org_acme", "JP", "Japan", utc("2026-10-09T12:00Z"),
         SAMPLE_ENTRIES[6]["id"], "198.51.100.7"],
    ]
    assert analysis.new_countries(SAMPLE, until="2026-10-08").empty


@pytest.mark.parametrize("name", TABLES)
def test_every_table_answers_an_empty_frame_with_its_columns_and_dtypes(name):
    full = getattr(analysis, name)(SAMPLE)
    empty = getattr(analysis, name)(empty_frame())
    assert isinstance(empty, pd.DataFrame) and empty.empty
    assert empty.dtypes.astype(str).to_dict() == full.dtypes.astype(str).to_dict()


def test_matrix_of_an_empty_frame_is_empty_with_named_axes():
    matrix = analysis.actor_action_matrix(empty_frame())
    assert matrix.shape == (0, 0)
    assert (matrix.index.name, matrix.columns.name) == ("actor_id", "action_category")


def test_accessor_tables_equal_the_functions():
    for name in [*TABLES, "actor_action_matrix"]:
        method, function = getattr(SAMPLE.audit, name), getattr(analysis, name)
        pd.testing.assert_frame_equal(method(), function(SAMPLE))
    pd.testing.assert_frame_equal(
        SAMPLE.audit.timeline("W", by="source", tz="Europe/Berlin"),
        analysis.timeline(SAMPLE, "W", by="source", tz="Europe/Berlin"),
    )
    assert set(analysis.__all__) <= set(dir(SAMPLE.audit))


@pytest.mark.parametrize("name", [*TABLES, "actor_action_matrix"])
def test_tables_do_not_depend_on_categoricals_row_order_or_a_unique_index(name):
    text = SAMPLE.astype(
        {c: "str" for c in SAMPLE.columns if isinstance(SAMPLE[c].dtype, pd.CategoricalDtype)}
    )
    shuffled = SAMPLE.iloc[[3, 0, 7, 5, 1, 6, 2, 4]].set_axis([0] * len(SAMPLE))
    function = getattr(analysis, name)
    for variant in (text, shuffled):
        pd.testing.assert_frame_equal(
            function(variant), function(SAMPLE), check_dtype=False, check_categorical=False
        )


def test_private_networks_are_rfc1918_loopback_link_local_and_unique_local_only():
    from auditlab.analysis.ips import is_private_ip

    cases = {
        "10.0.0.1": True, "172.15.0.1": False, "172.16.0.1": True, "172.31.255.255": True,
        "172.32.0.1": False, "192.168.1.1": True, "127.0.0.1": True, "169.254.3.3": True,
        "8.8.8.8": False, "203.0.113.9": False, "1.2.3.4.5": False, "300.1.1.1": False,
        "fe80::1": True, "FD12::1": True, "::1": True, "2001:db8::1": False, "abc": False,
    }  # fmt: skip
    addresses = pd.Series([*cases, None], dtype="str")
    assert is_private_ip(addresses).tolist() == [*cases.values(), False]
