"""The analysis tables through DuckDB (a relation, a dataset) equal the DataFrame path's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from helpers import NOW, PLANTED_KEY, days_before

import auditlab
import auditlab.analysis as analysis
from auditlab.errors import InvalidQuery
from auditlab.sandbox import serve

PARENT, SUB1 = "org_sandbox", "org_sandbox_sub1"
RULED = {"off_hours_privilege_escalation", "first_api_key", "deletion_burst",
         "activity_after_removal", "sso_profile_deleted", "org_transferred"}  # fmt: skip


@pytest.fixture(scope="module")
def group(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path, pd.DataFrame]]:
    """Return a sandbox of two orgs (with unknown actions and fields), its cache and its frame."""
    cache = tmp_path_factory.mktemp("cache")
    with serve(api_key=PLANTED_KEY, seed=8, days=20, now=NOW, sub_orgs=1, chaos=0.02,
               rate_limit=None) as sandbox:  # fmt: skip
        df = auditlab.load_audit_logs(
            include_sub_orgs=True, base_url=sandbox.base_url, cache_dir=cache, progress=False,
            clock=sandbox.clock,
        )  # fmt: skip
        yield sandbox, cache, df


def sources(cache: Path) -> dict[str, Any]:
    """Return the group's cache as a DuckDB relation and as a pyarrow dataset."""
    orgs = [PARENT, SUB1]
    return {
        "relation": auditlab.duckdb(orgs, cache_dir=cache),
        "dataset": auditlab.dataset(orgs, cache_dir=cache),
    }


SINCE, UNTIL = str(days_before(12)), str(days_before(3))
CASES: list[tuple[str, dict[str, Any]]] = [
    ("timeline", {}),
    ("timeline", {"freq": "W", "by": None, "tz": "America/New_York"}),
    ("timeline", {"freq": "h", "by": "source", "since": SINCE, "until": UNTIL}),
    ("timeline", {"freq": "M", "by": "country", "tz": "Asia/Kolkata"}),
    ("timeline", {"freq": "2D", "by": "org_id"}),
    ("timeline", {"freq": "30min", "by": None, "tz": "Australia/Sydney", "until": UNTIL}),
    ("actor_breakdown", {}),
    ("actor_breakdown", {"top": None, "since": SINCE}),
    ("action_breakdown", {"top": None}),
    ("action_breakdown", {"top": 5, "until": UNTIL}),
    ("actor_action_matrix", {}),
    ("actor_action_matrix", {"top": 3, "since": SINCE, "until": UNTIL}),
    ("country_summary", {"top": None}),
    ("country_summary", {"since": SINCE}),
    ("ip_summary", {"top": None}),
    ("ip_summary", {"top": 7, "until": UNTIL}),
    ("sensitive_events", {}),
    (
        "sensitive_events",
        {
            "tz": "Europe/Berlin",
            "since": SINCE,
            "burst": 4,
            "burst_window": "1h",
            "usual_share": 0.05,
        },
    ),
]


@pytest.mark.parametrize(("name", "arguments"), CASES)
@pytest.mark.parametrize("kind", ["relation", "dataset"])
def test_each_table_through_duckdb_equals_the_dataframe_path(
    group: tuple[Any, Path, pd.DataFrame], name: str, arguments: dict[str, Any], kind: str
) -> None:
    _, cache, df = group
    function = getattr(analysis, name)
    expected = function(df, **arguments)
    assert len(expected) > 0
    pd.testing.assert_frame_equal(function(sources(cache)[kind], **arguments), expected)


@pytest.mark.parametrize(
    "name",
    ["timeline_chart", "actor_breakdown_chart", "action_breakdown_chart",
     "actor_action_matrix_chart", "country_summary_chart", "ip_summary_chart"],
)  # fmt: skip
def test_each_chart_drawn_from_duckdb_is_the_dataframe_chart(
    group: tuple[Any, Path, pd.DataFrame], name: str
) -> None:
    _, cache, df = group
    function = getattr(analysis, name)
    relation = sources(cache)["relation"]
    assert (
        function(relation, tz="Europe/Berlin").to_json()
        == function(df, tz="Europe/Berlin").to_json()
    )


def test_every_planted_incident_is_found_in_its_own_org_through_duckdb(
    group: tuple[Any, Path, pd.DataFrame],
) -> None:
    sandbox, cache, _ = group
    found = analysis.sensitive_events(sources(cache)["relation"])
    org_of = dict(zip(found["id"], found["org_id"], strict=True))
    planted = [i for i in sandbox.answer_key if i.kind in RULED]
    assert {i.org_id for i in planted} == {PARENT, SUB1}
    for incident in planted:
        assert {org_of.get(entry) for entry in incident.entry_ids} == {incident.org_id}, incident


def test_a_removal_in_one_org_says_nothing_of_the_same_person_in_another() -> None:
    from helpers import entry, frame

    removal = entry("2026-10-01T09:00:00Z", "member.removed", "u1", member="u2", role="MEMBER")
    elsewhere = entry("2026-10-01T10:00:00Z", "assistant.updated", "u2")
    elsewhere["org"] = {"id": "org_other", "name": "Other"}
    same_org = entry("2026-10-01T11:00:00Z", "assistant.updated", "u2")
    table = analysis.sensitive_events(frame([removal, elsewhere, same_org]))
    flagged = table[table["reason"] == "activity after own removal"]
    assert flagged["id"].tolist() == [same_org["id"]]


def test_a_bad_by_or_freq_is_refused_on_the_duckdb_path_too(
    group: tuple[Any, Path, pd.DataFrame],
) -> None:
    _, cache, _ = group
    relation = sources(cache)["relation"]
    for arguments, parameter in (({"by": "colour"}, "by"), ({"freq": "fortnight"}, "freq"),
                                 ({"tz": "Mars/Olympus"}, "tz")):  # fmt: skip
        with pytest.raises(InvalidQuery) as caught:
            analysis.timeline(relation, **arguments)
        assert caught.value.parameter == parameter
