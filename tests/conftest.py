"""Shared fixtures: a real sandbox server on 127.0.0.1 and a planted API key.

The planted key is set in the environment for the whole run, so any test can
search an output, a log, a cache or a report for it and expect it absent.
What the fixtures share with plain functions lives in ``helpers.py``.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import NOW, PLANTED_KEY


def pytest_report_header() -> str:
    """Say which wall clock and time zone the run sees (``make test-calendar`` moves them)."""
    return f"wall clock: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M:%S} UTC, TZ={time.tzname[0]}"


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
    """Return a running sandbox (seed 0, 180 days up to NOW) answering to the planted key.

    Its clock starts at NOW; give a loader ``clock=sandbox.clock`` to agree on today.
    """
    from auditlab.sandbox import serve

    with serve(api_key=PLANTED_KEY, seed=0, now=NOW) as server:
        yield server
