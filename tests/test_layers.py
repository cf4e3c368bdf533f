"""Layers: a client user pays for no pandas, and no module inside auditlab imports the package."""

from __future__ import annotations

import ast
import importlib.metadata
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import auditlab

PACKAGE = Path(auditlab.__file__).resolve().parent
HEAVY = ("pandas", "pyarrow", "plotly", "auditlab.analysis", "auditlab.frame")


def imported_after(code: str) -> list[str]:
    """Return the heavy modules in sys.modules after running ``code`` in a fresh interpreter."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    output = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    modules = json.loads(output.splitlines()[-1])
    return sorted({m for m in modules for h in HEAVY if m == h or m.startswith(f"{h}.")})


@pytest.mark.parametrize(
    "code",
    [
        "import auditlab",
        "import auditlab.api",
        "from auditlab.api import InventClient, Query",
        "import auditlab.sandbox",
        "import auditlab.cli; auditlab.cli.build_parser()",
    ],
)
def test_the_client_the_sandbox_and_the_command_line_load_no_pandas_or_pyarrow(code):
    assert imported_after(code) == []


def test_a_frame_from_the_loader_has_the_accessor_after_a_plain_import_auditlab(tmp_path):
    code = f"""
import datetime as dt
import auditlab
from auditlab.sandbox import serve
with serve(api_key="k", days=14, now=dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)) as sandbox:
    df = auditlab.load_audit_logs(
        "c", date_from="2026-10-20", date_to="2026-10-31", base_url=sandbox.base_url,
        api_key="k", cache_dir={str(tmp_path)!r}, progress=False, clock=sandbox.clock,
    )
assert df.audit.timeline()["events"].sum() == len(df) > 0
assert len(df.audit.actor_breakdown_chart().data) == 2
"""
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)


def test_importing_the_analysis_registers_the_accessor_on_any_audit_frame():
    code = """
import auditlab.frame
import pandas as pd
assert not hasattr(auditlab.frame.empty_frame(), "audit")
import auditlab.analysis
assert auditlab.frame.empty_frame().audit.timeline().empty
"""
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_the_version_is_the_installed_packages_and_written_once():
    assert auditlab.__version__ == importlib.metadata.version("auditlab")
    written = [
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if "__version__ =" in path.read_text() or "__version__: str =" in path.read_text()
    ]
    assert written == ["_version.py"]


def package_imports() -> list[tuple[str, str]]:
    """Return (module file, what it takes) for every import of the top package itself."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        where = path.relative_to(PACKAGE).as_posix()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found += [(where, a.name) for a in node.names if a.name == "auditlab"]
            elif isinstance(node, ast.ImportFrom) and node.module == "auditlab":
                found += [
                    (where, a.name) for a in node.names
                    if not (PACKAGE / a.name).is_dir() and not (PACKAGE / f"{a.name}.py").exists()
                ]  # fmt: skip
    return found


def test_no_module_inside_auditlab_imports_the_top_package():
    assert package_imports() == []


def spelled_out(pattern: str) -> list[str]:
    """Return module:line of every code string (docstrings aside) that matches ``pattern``."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text())
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
            and node.body and isinstance(node.body[0], ast.Expr)
        }  # fmt: skip
        found += [
            f"{path.relative_to(PACKAGE).as_posix()}:{node.lineno}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in docstrings and re.search(pattern, node.value)
        ]  # fmt: skip
    return found


def test_environment_variable_names_are_spelled_out_only_in_environment_py():
    found = spelled_out(r"\b(INVENT|AUDITLAB)_[A-Z_]+\b")
    assert len(found) == 5 and {where.split(":")[0] for where in found} == {"environment.py"}
