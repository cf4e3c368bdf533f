"""The benchmark code runs end to end on tiny inputs, so it cannot rot unnoticed."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.__main__ import main
from benchmarks.data import org_entries, pages
from benchmarks.frame import auditlab_frame, naive_frame
from benchmarks.harness import Figure, alternate


def test_both_frame_sides_read_the_same_entries() -> None:
    bodies = pages(org_entries(250))
    ours, naive = auditlab_frame(bodies), naive_frame(bodies)
    assert ours["id"].tolist() == naive["id"].tolist()
    assert ours["created_at"].equals(naive["created_at"])
    assert ours["action_category"].astype(str).tolist() == naive["action_category"].tolist()


def test_alternate_times_each_side_every_run() -> None:
    calls: list[str] = []
    times = alternate({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, 3)
    assert calls == ["a", "b"] * 3
    assert [len(times[side].seconds) for side in "ab"] == [3, 3]


def test_figure_renders_a_markdown_table() -> None:
    figure = Figure(9, "Example", rows=[{"entries": "10", "time": "1 s"}], notes=["a note"])
    assert figure.markdown().splitlines() == [
        "## 9. Example", "", "| entries | time |", "|---|---|", "| 10 | 1 s |", "",
        "- a note",
    ]


@pytest.mark.slow
def test_quick_run_writes_every_figure_with_rows(tmp_path: Path) -> None:
    results = tmp_path / "results.md"
    assert main(["--quick", "--runs", "1", "--only", "1", "2", "3", "4", "--output",
                 str(results)]) == 0  # fmt: skip
    text = results.read_text()
    for heading in ("## 1. Cold sync", "## 2. Frame building", "## 3. Warm load",
                    "## 4. Analysis tables"):  # fmt: skip
        section = text.split(heading, 1)[1].split("\n## ", 1)[0]
        assert "| --- |" not in section
        assert section.count("\n| ") >= 2, f"{heading} has no rows:\n{section}"
    assert "not available yet" not in text
    assert "failed:" not in text
    assert "- versions: auditlab" in text
