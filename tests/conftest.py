"""Shared fixtures: a real sandbox server on 127.0.0.1 and a planted API key.

The planted key is set in the environment for the whole run, so any test can
search an output, a log, a cache or a report for it and expect it absent.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

PLANTED_KEY = "sk_live_PLANTED_d41d8cd98f00b204e9800998ecf8427e"


@pytest.fixture(scope="session", autouse=True)
def planted_api_key() -> Iterator[str]:
    """Return the API key planted in INVENT_API_KEY for the whole session."""
    previous = os.environ.get("INVENT_API_KEY")
    os.environ["INVENT_API_KEY"] = PLANTED_KEY
    yield PLANTED_KEY
    if previous is None:
        os.environ.pop("INVENT_API_KEY", None)
    else:
        os.environ["INVENT_API_KEY"] = previous


@pytest.fixture(autouse=True)
def private_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Return a fresh cache folder per test, so no test sees another's cache."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("AUDITLAB_CACHE_DIR", str(cache))
    return cache


@pytest.fixture(scope="session")
def sandbox() -> Iterator[object]:
    """Return a running default sandbox (seed 0) that answers to the planted key."""
    from auditlab.sandbox import serve

    with serve(api_key=PLANTED_KEY, seed=0) as server:
        yield server


def assert_key_absent(text: str | bytes, where: str) -> None:
    """Fail if the planted key (or its raw bytes) appears in text."""
    needle = PLANTED_KEY.encode() if isinstance(text, bytes) else PLANTED_KEY
    assert needle not in text, f"the API key leaked into {where}"


def files_containing_key(root: Path) -> list[Path]:
    """Return every file under root whose bytes contain the planted key."""
    needle = PLANTED_KEY.encode()
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]
