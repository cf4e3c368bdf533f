"""The frame layer: raw entries and response bodies -> one typed table and DataFrame."""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
from pathlib import Path

import orjson
import pandas as pd
import pyarrow as pa
import pytest

import auditlab.frame.build as build
from auditlab import InvalidQuery
from auditlab.errors import MalformedPage
from auditlab.frame import (
    COLUMNS,
    SCHEMA,
    empty_frame,
    entries_to_table,
    expand_metadata,
    pages_to_table,
    table_to_frame,
    typed,
)
from auditlab.frame.schema import BOOL, CATEGORY, COLUMN_NAMES, TIMESTAMP
from auditlab.sandbox import generate_org
from auditlab.sandbox.chaos import add_chaos

EXAMPLE = Path(__file__).parent / "data" / "audit_logs_page.example.json"


@pytest.fixture(scope="module")
def body() -> bytes:
    return EXAMPLE.read_bytes()


@pytest.fixture(scope="module")
def entries(body: bytes) -> list[dict]:
    return json.loads(body)


@pytest.fixture(scope="module")
def rows(body: bytes) -> list[dict]:
    """Return the example page's rows as Python dicts, one per entry."""
    return pages_to_table([body]).to_pylist()


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def dtypes(df: pd.DataFrame) -> dict[str, str]:
    return {name: str(dtype) for name, dtype in df.dtypes.items()}


def one_row(entry: dict) -> dict:
    return entries_to_table([entry]).to_pylist()[0]


def test_filled_entry_becomes_flat_columns(rows: list[dict]) -> None:
    row = rows[0]
    assert row["id"] == "alog_01JD8Z6Q4V2M7K9T3XW5B1RCEH"
    assert row["created_at"] == at("2026-10-14T08:31:56Z")
    assert row["date"] == dt.date(2026, 10, 14)
    assert (row["action"], row["action_category"]) == ("member.role_changed", "member")
    assert (row["source"], row["ip"], row["country"]) == ("app", "203.0.113.42", "DE")
    assert row["agent"].startswith("Mozilla/5.0 (Macintosh")
    assert (row["actor_id"], row["actor_name"]) == ("usr_7f3a", "Lena Vogel")
    assert row["actor_email"] == "lena.vogel@example.com"
    assert row["actor_avatar"] == "https://cdn.example.com/a/usr_7f3a.png"
    assert row["actor_seen_at"] == at("2026-10-14T08:30:02Z")
    assert row["user_seen_at"] == at("2026-10-14T08:30:02Z")
    assert (row["member_id"], row["member_role"]) == ("mem_91c2", "ADMIN")
    assert (row["member_user_id"], row["member_user_name"]) == ("usr_2b8d", "Omar Haddad")
    assert row["member_user_avatar"] is None
    assert row["member_user_seen_at"] == at("2026-10-13T17:05:44Z")
    assert (row["org_id"], row["org_name"], row["org_plan"]) == (
        "org_acme", "Acme Support", "business",
    )
    assert (row["org_verified"], row["org_logo_url"]) == (True, None)
    assert row["org_config"] == (
        '{"email":"it@example.com","address":"1 Example Street, Berlin",'
        '"terms_url":"https://example.com/terms","privacy_url":"https://example.com/privacy"}'
    )
    assert row["org_features"] == (
        '{"enterprise":false,"workflows":true,"broadcasts":true,"slack_access":true}'
    )
    assert row["metadata"] == '{"previous_role":"DEVELOPER","new_role":"ADMIN"}'
    assert row["extra_fields"] is None


def test_affected_objects_and_their_config_become_columns(rows: list[dict]) -> None:
    row = rows[1]
    assert (row["action"], row["action_category"], row["source"]) == (
        "assistant.updated", "assistant", "api",
    )
    assert (row["ip"], row["country"]) == ("2001:db8:85a3::8a2e:370:7334", "US")
    assert (row["actor_id"], row["actor_avatar"], row["actor_seen_at"]) == ("usr_c410", None, None)
    assert (row["assistant_id"], row["assistant_name"]) == ("ast_5521", "Returns Helper")
    assert (row["assistant_enabled"], row["assistant_deleted"]) == (True, False)
    assert row["assistant_avatar_url"] is None
    assert row["assistant_config"] == (
        '{"conversation":{"welcome_banner":"Hi! How can I help with your return?",'
        '"suggested_messages":["Start a return","Where is my refund?"],'
        '"auto_intro_message":null,"enable_auto_csat":true}}'
    )
    assert (row["workflow_id"], row["workflow_name"]) == ("wf_0931", "Refund approval")
    assert (row["workflow_access"], row["workflow_org_id"]) == ("PRIVATE", "org_acme")
    assert (row["connection_id"], row["connection_type"], row["connection_name"]) == (
        "con_77aa", "SLACK", "#support-alerts",
    )
    assert (row["broadcast_id"], row["broadcast_name"]) == ("brd_12", "Holiday hours")
    assert row["metadata"] == '{"fields":["instructions","model"]}'


def test_null_objects_give_nulls(rows: list[dict]) -> None:
    null_member = rows[1]
    member_columns = ("id", "role", "user_id", "user_seen_at")
    assert all(null_member[f"member_{c}"] is None for c in member_columns)
    null_actor = rows[2]
    assert all(null_actor[c] is None for c in COLUMN_NAMES if c.startswith(("actor_", "user_")))
    assert (null_actor["ip"], null_actor["country"], null_actor["agent"]) == (None, None, None)
    assert null_actor["metadata"] is None  # JSON null is a missing value, not the text "null"


def test_absent_objects_give_nulls(rows: list[dict]) -> None:
    row = rows[2]
    absent = ("assistant_", "workflow_", "connection_", "broadcast_", "member_")
    assert [c for c in COLUMN_NAMES if c.startswith(absent) and row[c] is not None] == []
    assert (row["action"], row["action_category"], row["source"]) == (
        "api_key.created", "api_key", "admin",
    )
    assert (row["created_at"], row["date"]) == (at("2026-10-13T23:58:00Z"), dt.date(2026, 10, 13))
    assert row["org_id"] == "org_acme"


def test_table_has_exactly_the_schema(body: bytes) -> None:
    table = pages_to_table([body])
    assert table.schema == SCHEMA
    assert table.column_names == list(COLUMN_NAMES)
    assert table.num_rows == 3


def expected_dtype(column_type: pa.DataType) -> str:
    return {
        CATEGORY: "category",
        TIMESTAMP: "datetime64[us, UTC]",
        BOOL: "boolean",
        pa.date32(): "datetime64[ms]",
    }.get(column_type, "str")


def test_frame_dtypes_are_as_declared(body: bytes) -> None:
    df = table_to_frame(pages_to_table([body]))
    assert list(df.columns) == list(COLUMN_NAMES)
    assert {c.name: str(df[c.name].dtype) for c in COLUMNS} == {
        c.name: expected_dtype(c.type) for c in COLUMNS
    }
    assert str(df["created_at"].dt.tz) == "UTC"
    assert df["date"].tolist() == [pd.Timestamp("2026-10-14")] * 2 + [pd.Timestamp("2026-10-13")]
    assert df["org_verified"].tolist() == [True, True, True]
    assert df["assistant_enabled"].isna().tolist() == [True, False, True]


def test_categories_hold_the_values_seen(body: bytes) -> None:
    df = table_to_frame(pages_to_table([body]))
    assert sorted(df["action"].cat.categories) == [
        "api_key.created", "assistant.updated", "member.role_changed",
    ]
    assert sorted(df["action_category"].cat.categories) == ["api_key", "assistant", "member"]
    assert sorted(df["source"].cat.categories) == ["admin", "api", "app"]
    assert df["country"].tolist()[:2] == ["DE", "US"]
    assert df["country"].isna().tolist() == [False, False, True]


def test_offsets_are_converted_to_utc_and_date_is_the_utc_day() -> None:
    row = one_row({"id": "a", "created_at": "2026-10-14T01:30:00+02:00"})
    assert row["created_at"] == dt.datetime(2026, 10, 13, 23, 30, tzinfo=dt.UTC)
    assert row["date"] == dt.date(2026, 10, 13)


def test_unknown_fields_are_kept_in_extra_fields() -> None:
    entry = {
        "id": "a",
        "action": "member.joined",
        "risk_score": 3,
        "actor": {"id": "usr_1", "department": "IT"},
        "member": {"id": "m", "user": {"id": "u", "locale": "de"}},
        "org": {"id": "org_1", "region": {"name": "eu"}},
    }
    row = one_row(entry)
    assert json.loads(row["extra_fields"]) == {
        "risk_score": 3,
        "actor.department": "IT",
        "member.user.locale": "de",
        "org.region": {"name": "eu"},
    }
    assert (row["actor_id"], row["member_user_id"], row["org_id"]) == ("usr_1", "u", "org_1")


def test_unknown_action_is_kept_with_its_category() -> None:
    table = entries_to_table(
        [{"id": "a", "action": "vault.opened"}, {"id": "b", "action": "email.domain.verified"}]
    )
    assert table.column("action").to_pylist() == ["vault.opened", "email.domain.verified"]
    assert table.column("action_category").to_pylist() == ["vault", "domain"]


def test_category_is_derived_per_distinct_action_in_row_order() -> None:
    actions = ["sso.domain.created", "chat.deleted", "sso.profile.updated", "chat.deleted", None]
    table = entries_to_table([{"id": str(i), "action": a} for i, a in enumerate(actions)])
    assert table.column("action_category").to_pylist() == ["sso", "chat", "sso", "chat", None]


def test_text_columns_keep_a_surprising_value_as_its_json_text() -> None:
    row = one_row({"id": 7, "ip": {"v4": "10.0.0.1"}, "country": 49, "actor": {"name": True}})
    assert (row["id"], row["ip"], row["country"], row["actor_name"]) == (
        "7", '{"v4":"10.0.0.1"}', "49", "true",
    )
    assert row["extra_fields"] is None


def test_unreadable_typed_values_become_null_and_are_kept_in_extra_fields() -> None:
    row = one_row({
        "id": "a",
        "created_at": "last tuesday",
        "assistant": {"enabled": "yes", "deleted": False},
        "user": {"seen_at": 1760430716},
        "workflow": "wf_1",
    })
    assert (row["created_at"], row["date"], row["user_seen_at"]) == (None, None, None)
    assert (row["assistant_enabled"], row["assistant_deleted"], row["workflow_id"]) == (
        None, False, None,
    )
    assert json.loads(row["extra_fields"]) == {
        "created_at": "last tuesday",
        "assistant.enabled": "yes",
        "user.seen_at": 1760430716,
        "workflow": "wf_1",
    }


def test_timestamp_without_offset_is_read_as_utc_beside_unreadable_ones() -> None:
    table = entries_to_table([
        {"id": "a", "created_at": "2026-10-14T08:31:56"},
        {"id": "b", "created_at": "2026-10-14T08:31:56Z"},
        {"id": "c", "created_at": "soon"},
    ])
    assert table.column("created_at").to_pylist() == [at("2026-10-14T08:31:56Z")] * 2 + [None]
    assert table.column("extra_fields").to_pylist() == [None, None, '{"created_at":"soon"}']


def test_integers_beyond_64_bits_survive_in_json_columns() -> None:
    row = one_row({"id": "a", "metadata": {"n": 123456789012345678901234567890}})
    assert row["metadata"] == '{"n":123456789012345678901234567890}'


def test_items_that_are_not_objects_are_skipped_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="auditlab"):
        table = entries_to_table([{"id": "a"}, "alog_2", None])
    assert table.column("id").to_pylist() == ["a"]
    assert "skipped 2 audit-log entries" in caplog.text


def test_body_that_is_not_an_array_raises_malformed_page() -> None:
    with pytest.raises(MalformedPage, match="JSON dict, expected an array"):
        pages_to_table([b'{"message": "oops"}'])
    with pytest.raises(MalformedPage, match="not valid JSON"):
        pages_to_table([b"[{"])


@pytest.mark.parametrize("table", [
    entries_to_table([]),
    pages_to_table([]),
    pages_to_table([b"[]", b"[]"]),
])
def test_empty_input_gives_an_empty_typed_table(table: pa.Table) -> None:
    assert table.schema == SCHEMA
    assert table.num_rows == 0
    assert dtypes(table_to_frame(table)) == dtypes(empty_frame())


def test_empty_frame_has_every_column_and_dtype(body: bytes) -> None:
    empty = empty_frame()
    assert len(empty) == 0
    assert dtypes(empty) == dtypes(table_to_frame(pages_to_table([body])))


def test_pages_equal_entries_across_batches(
    body: bytes, entries: list[dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Batches of 2 rows give each batch its own dictionaries, which must unify.
    monkeypatch.setattr(build, "BATCH_ROWS", 2)
    shuffled = [entries[2], entries[0], {**entries[1], "action": "vault.opened"}]
    pages = [body, orjson.dumps(shuffled), body]
    from_pages = pages_to_table(pages)
    from_entries = entries_to_table(entries + shuffled + entries)
    assert from_pages.num_rows == 9
    assert from_pages.equals(from_entries)
    assert from_pages.column("action_category").to_pylist()[3:6] == ["api_key", "member", "vault"]


def test_rows_pick_and_order_the_entries_of_all_bodies(body: bytes, entries: list[dict]) -> None:
    # rows number the objects of every body one after another; an item not an object has none
    second = orjson.dumps([7, entries[2], entries[0]])
    table = pages_to_table([body, second], rows=[4, 0, 2])
    assert table.schema == entries_to_table(entries).schema
    assert table.to_pylist() == entries_to_table([entries[0], entries[0], entries[2]]).to_pylist()
    assert pages_to_table([body], rows=[0, 1, 2]).equals(pages_to_table([body]))


def test_frame_from_a_table_read_back_without_dictionaries_is_conformed(body: bytes) -> None:
    table = pages_to_table([body])
    plain = table.cast(pa.schema([pa.field(f.name, pa.string()) if f.type == CATEGORY else f
                                  for f in SCHEMA]))
    assert table_to_frame(plain).equals(table_to_frame(table))


def test_expand_metadata_gives_one_column_per_key(body: bytes) -> None:
    df = table_to_frame(pages_to_table([body]))
    roles = expand_metadata(df, "member.role_changed")
    assert roles.to_dict("list") == {
        "id": ["alog_01JD8Z6Q4V2M7K9T3XW5B1RCEH"],
        "previous_role": ["DEVELOPER"],
        "new_role": ["ADMIN"],
    }
    assert roles.index.tolist() == [0]
    fields = expand_metadata(df, "assistant.updated")
    assert fields.index.tolist() == [1]
    assert fields["fields"].tolist() == [["instructions", "model"]]


def test_expand_metadata_of_null_metadata_gives_just_ids(body: bytes) -> None:
    df = table_to_frame(pages_to_table([body]))
    keys = expand_metadata(df, "api_key.created")
    assert keys.to_dict("list") == {"id": ["alog_01JD8YZZ1D5E9H2J4K6M8N0PQR"]}
    assert keys.index.tolist() == [2]


def test_expand_metadata_keeps_the_entry_id_apart_from_a_metadata_id() -> None:
    df = table_to_frame(entries_to_table([
        {"id": "a", "action": "x.y", "metadata": {"id": "inner", "n": 1}},
        {"id": "b", "action": "x.y", "metadata": {"n": 2, "m": 3}},
    ]))
    expanded = expand_metadata(df, "x.y")
    assert list(expanded.columns) == ["id", "metadata_id", "n", "m"]
    assert expanded["id"].tolist() == ["a", "b"]
    assert expanded["metadata_id"].tolist()[0] == "inner"


def test_expand_metadata_without_rows_gives_an_empty_frame_with_id(body: bytes) -> None:
    df = table_to_frame(pages_to_table([body]))
    for frame in (df, empty_frame()):
        expanded = expand_metadata(frame, "workflow.created")
        assert list(expanded.columns) == ["id"]
        assert len(expanded) == 0


def test_expand_metadata_rejects_an_action_that_is_not_a_string(body: bytes) -> None:
    df = table_to_frame(pages_to_table([body]))
    with pytest.raises(InvalidQuery, match="action must be one action name") as caught:
        expand_metadata(df, ["member.role_changed"])
    assert caught.value.parameter == "action"


def test_documented_shape_takes_the_fast_path_and_surprises_do_not(
    body: bytes, entries: list[dict]
) -> None:
    assert typed.decode(body) is not None
    assert typed.decode(orjson.dumps([{**entries[0], "risk_score": 3}])) is None
    assert typed.decode(orjson.dumps([{**entries[0], "ip": 5}])) is None
    assert typed.decode(b'{"message": "oops"}') is None


@pytest.mark.parametrize("raw", [
    b'{"a":1.50,"b":1e5,"c":-0,"d":[1.0]}',
    b'{"s":"caf\\u00e9 \\"x\\"","t":"a, b: c"}',
    b'{ "spaced" : [ 1 , 2 ] }',
    b'{"plain":"usr_1","n":[1,2,-3],"ok":true,"none":null}',
])
def test_raw_json_slices_are_spelled_as_orjson_spells_them(raw: bytes) -> None:
    page = b'[{"id": "a", "metadata": ' + raw + b"}]"
    assert typed.decode(page) is not None
    fast = pages_to_table([page]).column("metadata").to_pylist()
    assert fast == [orjson.dumps(orjson.loads(raw)).decode()]


@pytest.fixture(scope="module")
def org_entries() -> list[dict]:
    org = generate_org(seed=5, days=30, now=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    return org.entries


def test_sandbox_org_round_trips_through_pages_and_frame(org_entries: list[dict]) -> None:
    pages = [orjson.dumps(org_entries[i : i + 100]) for i in range(0, len(org_entries), 100)]
    table = pages_to_table(pages)
    assert table.equals(entries_to_table(org_entries))
    df = table_to_frame(table)
    assert df["id"].tolist() == [e["id"] for e in org_entries]
    metadata = table.column("metadata").to_pylist()
    assert [None if m is None else orjson.loads(m) for m in metadata] == [
        e.get("metadata") for e in org_entries
    ]
    assert df["created_at"].tolist() == [pd.Timestamp(e["created_at"]) for e in org_entries]
    assert set(df["action"].cat.categories) == {e["action"] for e in org_entries}
    assert df["extra_fields"].isna().all()


def test_chaos_pages_keep_unknown_actions_and_fields(org_entries: list[dict]) -> None:
    chaotic = [dict(e) for e in org_entries[:300]]
    changed = add_chaos(chaotic, 0.2, random.Random(1))
    pages = [orjson.dumps(chaotic[i : i + 100]) for i in range(0, len(chaotic), 100)]
    table = pages_to_table(pages)
    assert table.equals(entries_to_table(chaotic))
    assert table.column("action").to_pylist() == [e["action"] for e in chaotic]
    extras = [orjson.loads(t) for t in table.column("extra_fields").to_pylist() if t]
    assert len(extras) == changed
    assert all("risk_score" in extra and "org.region" in extra for extra in extras)


def test_python_values_json_cannot_hold_never_fail_a_build() -> None:
    row = one_row({"id": "a", 7: "seven", "ip": {"when": dt.date(2026, 10, 14)}})
    assert row["ip"] == '{"when":"2026-10-14"}'
    assert json.loads(row["extra_fields"]) == {"7": "seven"}


def test_expand_metadata_is_offered_at_the_top_level() -> None:
    import auditlab

    assert auditlab.expand_metadata is expand_metadata
    assert auditlab.SCHEMA is SCHEMA
