"""The notebooks, the README and the benchmarks speak the analysis API's current names."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from auditlab.analysis.renamed import RENAMED

ROOT = Path(__file__).resolve().parent.parent
OLD_NAME = re.compile(r"\b(" + "|".join(RENAMED) + r")\b")


def code_of(path: Path) -> str:
    if path.suffix == ".ipynb":
        notebook = nbformat.read(path, as_version=4)
        return "\n".join(cell.source for cell in notebook.cells)
    return path.read_text()


@pytest.mark.parametrize(
    "path",
    [*sorted((ROOT / "notebooks").glob("*.ipynb")), ROOT / "benchmarks" / "analysis.py"],
    ids=lambda p: p.name,
)
def test_no_old_analysis_name_is_used(path):
    assert OLD_NAME.findall(code_of(path)) == []


def test_the_readme_names_old_names_only_to_say_they_are_deprecated():
    readme = code_of(ROOT / "README.md")
    assert re.findall(OLD_NAME.pattern + r"\(", readme) == []
    assert "user_breakdown" in readme and "DeprecationWarning" in readme


def test_explore_drills_into_an_actor_by_actor_id():
    source = code_of(ROOT / "notebooks" / "explore.ipynb")
    assert 'df["actor_id"] == actor_id' in source
    assert "user_id" not in source
