"""The examples in the API modules' docstrings run and give what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "auditlab.api",
    "auditlab.api.client",
    "auditlab.api.credentials",
    "auditlab.api.paging",
    "auditlab.api.query",
    "auditlab.api.ratelimit",
    "auditlab.api.retry",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    failed, attempted = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert attempted > 0, f"{name} shows no example"
    assert failed == 0
