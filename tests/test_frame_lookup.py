"""``df.audit.entry(id)`` shows one entry whole; ``df.audit.search(text)`` finds rows by text."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
import pytest
from helpers import NOW, entry, frame

import auditlab.analysis  # noqa: F401  (registers df.audit)
from auditlab.errors import EntryNotFound, InvalidQuery
from auditlab.frame import pages_to_table, table_to_frame
from auditlab.frame.lookup import MATCHED_IN
from auditlab.sandbox import generate_org

ROLE_CHANGE = entry(
    "2026-10-14T08:31:56Z", "member.role_changed", "u1", member="u2", role="ADMIN",
    metadata={"previous_role": "DEVELOPER", "new_role": "ADMIN", "note": {"by": "Ana Silva"}},
)  # fmt: skip
ROLE_CHANGE["org"] |= {"config": {"email": "it@acme.example", "address": "1 Example Street"}}
ROLE_CHANGE["actor"]["department"] = "Security"  # a field no column names: kept in extra_fields
HOSTILE = entry("2026-10-14T09:00:00Z", "assistant.updated", "u3")
HOSTILE["assistant"] = {"id": "ast_1", "name": "<script>alert(1)</script>Mallory\u202egnp.exe"}
PLAIN = entry("2026-10-13T07:00:00Z", "chat.deleted", "u2", metadata={"role": "none"})
DF = frame([ROLE_CHANGE, HOSTILE, PLAIN])


# ---- entry -------------------------------------------------------------------------------------


def test_entry_holds_every_column_with_the_json_columns_parsed():
    shown = DF.audit.entry(ROLE_CHANGE["id"])
    assert list(shown.fields) == DF.columns.tolist()
    assert shown.fields["metadata"] == ROLE_CHANGE["metadata"]
    assert shown.fields["org_config"] == ROLE_CHANGE["org"]["config"]
    assert shown.fields["extra_fields"] == {"actor.department": "Security"}
    assert shown.fields["member_user_email"] == "ben@example.com"
    assert shown.fields["created_at"] == dt.datetime(2026, 10, 14, 8, 31, 56, tzinfo=dt.UTC)
    assert shown.fields["date"] == dt.date(2026, 10, 14)
    assert shown.fields["assistant_id"] is None and shown.fields["assistant_enabled"] is None


def test_entry_as_text_pretty_prints_json_under_its_field_name():
    lines = str(DF.audit.entry(ROLE_CHANGE["id"])).splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("metadata "))
    width = lines[start].index("{")
    assert lines[start : start + 7] == [
        "metadata".ljust(width) + "{",
        " " * width + '  "previous_role": "DEVELOPER",',
        " " * width + '  "new_role": "ADMIN",',
        " " * width + '  "note": {',
        " " * width + '    "by": "Ana Silva"',
        " " * width + "  }",
        " " * width + "}",
    ]
    assert "assistant_id".ljust(width) + "null" in lines


def test_entry_in_a_notebook_escapes_markup_and_reveals_hidden_characters():
    page = DF.audit.entry(HOSTILE["id"])._repr_html_()
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;Mallory⟨U+202E⟩gnp.exe" in page
    assert "\u202e" not in str(DF.audit.entry(HOSTILE["id"]))


def test_an_id_the_frame_lacks_is_a_key_error_that_says_so():
    with pytest.raises(EntryNotFound, match="no entry with id 'alog_nope' among this frame's 3"):
        DF.audit.entry("alog_nope")
    assert issubclass(EntryNotFound, KeyError)


def test_an_id_that_is_not_text_names_the_parameter():
    with pytest.raises(InvalidQuery, match="entry_id must be an entry's id as a string") as error:
        DF.audit.entry(5)
    assert error.value.parameter == "entry_id"


# ---- search ------------------------------------------------------------------------------------


def test_search_finds_the_text_in_any_case_and_says_where():
    found = DF.audit.search("BEN@example.COM")
    # Ben is PLAIN's actor and the member whose role ROLE_CHANGE changed
    assert found["id"].tolist() == [ROLE_CHANGE["id"], PLAIN["id"]]
    assert found[MATCHED_IN].tolist() == ["member_user_email", "actor_email, user_email"]
    assert found.columns.tolist() == [*DF.columns, MATCHED_IN]


def test_search_reads_values_inside_metadata_configs_and_extra_fields_but_not_keys():
    assert DF.audit.search("ana silva")[MATCHED_IN].tolist() == [
        "actor_name, user_name, metadata"  # ROLE_CHANGE: by Ana, and she is named in its note
    ]
    assert DF.audit.search("it@acme")[MATCHED_IN].tolist() == ["org_config"]
    assert DF.audit.search("security")[MATCHED_IN].tolist() == ["extra_fields"]
    # "role" is a key of both metadata objects; only PLAIN's has it in a value ("none" no)
    assert DF.audit.search("previous_role").empty
    assert DF.audit.search("none")["id"].tolist() == [PLAIN["id"]]


def test_search_finds_text_the_server_sent_as_json_escapes():
    page = (
        b'[{"id": "a1", "action": "chat.deleted",'
        b' "metadata": {"title": "Jos\\u00e9\'s \\"plan\\""}},'
        b' {"id": "a2", "action": "chat.deleted", "metadata": {"title": "Jose"}}]'
    )
    df = table_to_frame(pages_to_table([page]))
    assert df.audit.search("josé")["id"].tolist() == ["a1"]
    assert df.audit.search('"plan"')["id"].tolist() == ["a1"]


def test_search_keeps_to_the_columns_named():
    assert DF.audit.search("ana silva", columns=["metadata"])[MATCHED_IN].tolist() == ["metadata"]
    assert DF.audit.search("ben@example.com", columns="actor_email")["id"].tolist() == [PLAIN["id"]]


def test_searching_a_search_result_again_narrows_it_and_keeps_one_matched_in():
    again = DF.audit.search("example.com").audit.search("ben")
    assert again["id"].tolist() == [ROLE_CHANGE["id"], PLAIN["id"]]
    assert again.columns.tolist().count(MATCHED_IN) == 1


@pytest.mark.parametrize(
    ("arguments", "parameter", "message"),
    [
        ({"text": ""}, "text", "text must be a non-empty string"),
        ({"text": 42}, "text", "text must be a non-empty string"),
        ({"text": "a", "columns": ["created_at"]}, "columns", "'created_at' is not one"),
        ({"text": "a", "columns": ["no_such"]}, "columns", "The text columns are: id, "),
    ],
)
def test_bad_search_arguments_name_the_parameter(arguments: dict[str, Any], parameter, message):
    with pytest.raises(InvalidQuery, match=message) as error:
        DF.audit.search(**arguments)
    assert error.value.parameter == parameter


def _values(value: Any) -> list[str]:
    """Every string or number inside a raw entry, keys left out: what search promises to read."""
    if isinstance(value, dict):
        return [text for item in value.values() for text in _values(item)]
    if isinstance(value, list):
        return [text for item in value for text in _values(item)]
    if isinstance(value, bool) or value is None:
        return []
    return [str(value)]


# Texts no timestamp or boolean can hold, so every value of the raw entry is fair to read.
@pytest.mark.parametrize("text", ["Kapoor", "203.0.113", "wf_0", "ADMIN", "Mozilla/5.0 (Mac"])
def test_search_over_a_synthetic_org_finds_exactly_the_entries_holding_the_text(text):
    entries = list(generate_org(seed=3, days=20, now=NOW).entries)
    df = table_to_frame(pages_to_table([orjson.dumps(entries)]))
    truth = {e["id"] for e in entries if any(text.lower() in v.lower() for v in _values(e))}
    found = df.audit.search(text)
    assert 0 < len(truth) < len(entries)
    assert set(found["id"]) == truth and len(found) == len(truth)


def test_search_reads_text_columns_a_user_added_and_skips_columns_of_other_values():
    # DF is newest first: HOSTILE, ROLE_CHANGE, PLAIN
    df = DF.assign(note=["ask Ben", None, "x"], tags=[["ben"], [], ["ben"]], score=[1, 2, 3])
    assert df.audit.search("ben")[MATCHED_IN].tolist() == [
        "note",
        "member_user_name, member_user_email",
        "actor_name, actor_email, user_name, user_email",
    ]
    with pytest.raises(InvalidQuery, match="'tags' is not one"):
        df.audit.search("ben", columns=["tags"])
