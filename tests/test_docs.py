"""Every example in the package's docstrings runs and gives what it shows."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import auditlab

PACKAGE = Path(auditlab.__file__).parent
PROMPT = re.compile(r"^\s*>>> ", re.MULTILINE)


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules_with_examples() -> dict[str, int]:
    """Return each module of the package whose source shows examples, with their count."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        examples = len(PROMPT.findall(path.read_text("utf-8")))
        if examples:
            found[_module_name(path)] = examples
    return found


EXAMPLES = _modules_with_examples()


def test_every_module_of_the_package_is_importable_and_walked() -> None:
    walked = {m.name for m in pkgutil.walk_packages(auditlab.__path__, "auditlab.")}
    assert set(EXAMPLES) <= walked | {"auditlab"}
    assert sum(EXAMPLES.values()) > 200


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    failed, attempted = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert failed == 0
    # every example written in the module's source ran (none hidden from doctest)
    assert attempted == EXAMPLES[name]
