"""``auditlab cache info|clear`` through the command line entry point."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import NOW, PLANTED_KEY, days_before

from auditlab import load_audit_logs
from auditlab.cli import main
from auditlab.sandbox import serve


@pytest.fixture
def two_orgs(private_cache_dir: Path) -> Iterator[dict[str, Any]]:
    """Return two sandboxes loaded into one cache, one of them with a filtered tree too."""
    with (
        serve(api_key=PLANTED_KEY, org_id="org_one", seed=5, days=14, now=NOW,
              rate_limit=None) as one,
        serve(api_key="sk_other_key", org_id="org_two", seed=6, days=14, now=NOW,
              rate_limit=None) as two,
    ):
        load_audit_logs(base_url=one.base_url, progress=False, clock=one.clock)
        load_audit_logs(base_url=one.base_url, progress=False, action="chat.deleted",
                        clock=one.clock)
        load_audit_logs(api_key="sk_other_key", base_url=two.base_url, progress=False,
                        clock=two.clock)
        yield {"org_one": one, "org_two": two}


def test_info_lists_each_org_with_days_entries_size_and_filtered_trees(
    two_orgs: dict[str, Any], private_cache_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["cache", "info"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"cache {private_cache_dir}: 2 org(s), ")
    yesterday = days_before(1)
    for org_id, server in two_orgs.items():
        oldest = dt.date.fromisoformat(server.org.entries[-1]["created_at"][:10])
        days = (yesterday - oldest).days + 1  # every past day is complete, empty ones too
        expected = (
            f"org {org_id}: {days} day(s) {oldest}..{yesterday}, "
            f"{len(server.org.entries):,} entries, "
        )
        assert expected in out
    assert "\n  filtered: action=chat.deleted\n" in out


def test_clear_one_org_leaves_the_other(
    two_orgs: dict[str, Any], private_cache_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["cache", "clear", "--org", "org_one", "--yes"]) == 0
    assert sorted(p.name for p in private_cache_dir.glob("org=*")) == ["org=org_two"]
    assert "cleared org org_one" in capsys.readouterr().out


def test_clear_everything_removes_every_org_and_key_fingerprint(
    two_orgs: dict[str, Any], private_cache_dir: Path
) -> None:
    assert main(["cache", "clear", "--yes", "--cache-dir", str(private_cache_dir)]) == 0
    assert list(private_cache_dir.iterdir()) == []


def test_clear_without_yes_and_without_a_terminal_deletes_nothing(
    two_orgs: dict[str, Any], private_cache_dir: Path
) -> None:
    assert main(["cache", "clear"]) == 2
    assert len(list(private_cache_dir.glob("org=*"))) == 2


def test_clear_of_an_org_not_cached_names_the_cached_ones(
    two_orgs: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["cache", "clear", "--org", "org_three", "--yes"]) == 2
    err = capsys.readouterr().err
    assert "org_three" in err and "org_one, org_two" in err
