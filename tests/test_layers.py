"""Layers: a client user pays for no pandas, no module inside auditlab imports the package,
and the HTTP client is httpx2."""

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


def package_trees() -> list[tuple[str, ast.Module]]:
    """Return (module file, its syntax tree) for every module of the package."""
    return [
        (path.relative_to(PACKAGE).as_posix(), ast.parse(path.read_text()))
        for path in sorted(PACKAGE.rglob("*.py"))
    ]


def package_imports() -> list[tuple[str, str]]:
    """Return (module file, what it takes) for every import of the top package itself."""
    found = []
    for where, tree in package_trees():
        for node in ast.walk(tree):
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


UNMAINTAINED = ("httpx", "httpcore")  # httpx2 and httpcore2 replace them


def unmaintained_imports(tree: ast.AST) -> list[int]:
    """Return the lines of every import of httpx or httpcore (or a submodule) in ``tree``."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        else:
            continue
        lines += [node.lineno for name in names if name.split(".")[0] in UNMAINTAINED]
    return lines


def test_the_import_check_sees_every_spelling_of_httpx_and_lets_httpx2_pass():
    source = """
import httpx
from httpx import Client
import json, httpx._models as models
def later():
    import httpcore
import httpx2
from httpx2 import URL
from . import httpx_helpers
"""
    assert unmaintained_imports(ast.parse(source)) == [2, 3, 4, 6]


def test_auditlab_imports_its_http_client_as_httpx2_never_httpx():
    trees = dict(package_trees())
    found = {where: unmaintained_imports(tree) for where, tree in trees.items()}
    assert {where: lines for where, lines in found.items() if lines} == {}
    assert any(
        isinstance(node, ast.Import) and [a.name for a in node.names] == ["httpx2"]
        for node in trees["api/client.py"].body
    )


def spelled_out(pattern: str) -> list[str]:
    """Return module:line of every code string (docstrings aside) that matches ``pattern``."""
    found = []
    for where, tree in package_trees():
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
            and node.body and isinstance(node.body[0], ast.Expr)
        }  # fmt: skip
        found += [
            f"{where}:{node.lineno}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in docstrings and re.search(pattern, node.value)
        ]  # fmt: skip
    return found


def test_environment_variable_names_are_spelled_out_only_in_environment_py():
    found = spelled_out(r"\b(INVENT|AUDITLAB)_[A-Z_]+\b")
    assert len(found) == 5 and {where.split(":")[0] for where in found} == {"environment.py"}
