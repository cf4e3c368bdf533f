"""``auditlab fetch`` through the command line entry point, against the sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from helpers import NOW, PLANTED_KEY, days_before, files_containing_key

from auditlab.cli import main
from auditlab.sandbox import serve


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    with serve(api_key=PLANTED_KEY, seed=4, days=14, now=NOW, rate_limit=None) as running:
        yield running


def fetch(server: Any, *arguments: str) -> int:
    # The command reads the system clock: every day of the pinned org is past for it.
    return main(["fetch", "--base-url", server.base_url, "--no-progress", *arguments])


def test_fetch_writes_parquet_with_every_entry_and_says_where(
    server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "logs.parquet"
    assert fetch(server, "--out", str(out)) == 0
    written = pd.read_parquet(out)
    assert written["id"].tolist() == [e["id"] for e in server.org.entries]
    assert capsys.readouterr().out == f"wrote {len(written):,} rows to {out.resolve()}\n"
    assert out.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "logs.parquet"]


def test_fetch_writes_csv_with_the_filters_applied(
    server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "deleted.csv"
    day = days_before(7)
    status = fetch(server, "--action", "chat.deleted", "--from", day.isoformat(), "--out", str(out))
    assert status == 0
    expected = [
        e["id"]
        for e in server.org.entries
        if e["action"] == "chat.deleted" and e["created_at"][:10] >= day.isoformat()
    ]
    assert pd.read_csv(out)["id"].tolist() == expected
    assert f"wrote {len(expected):,} rows" in capsys.readouterr().out


def test_fetch_refuses_an_unknown_suffix_before_any_request(
    server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.stats.reset()
    assert fetch(server, "--out", str(tmp_path / "logs.xlsx")) == 2
    assert "--out" in capsys.readouterr().err and server.stats.requests == 0


def test_fetch_reports_bad_input_naming_the_parameter(
    server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.stats.reset()
    assert fetch(server, "--from", "2026-13-01", "--out", str(tmp_path / "x.csv")) == 2
    err = capsys.readouterr().err
    assert "date_from" in err and PLANTED_KEY not in err
    assert server.stats.requests == 0


def test_fetch_leaves_the_key_in_no_file(server: Any, tmp_path: Path) -> None:
    assert fetch(server, "--out", str(tmp_path / "logs.csv")) == 0
    assert files_containing_key(tmp_path) == []
