"""What the tests share: the planted key, the pinned clock, entry builders and fakes.

Every test's data is pinned: a sandbox org is generated at ``NOW`` (or another
explicit moment) and the loader is given the sandbox's clock, so nothing a
test asserts depends on the day, hour or time zone the suite runs in.
``make test-calendar`` runs the suite with the system clock moved to prove it.

``entry`` writes one entry in the shape of the API's example page; ``frame``
turns a list of them into the loader's DataFrame with the real schema.
``SAMPLE_ENTRIES`` is a small week of one org that the analysis tests share.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pandas as pd

from auditlab.environment import API_KEY_VARIABLE, BASE_URL_VARIABLE, CACHE_DIR_VARIABLE
from auditlab.frame import empty_frame, entries_to_table, table_to_frame

PLANTED_KEY = "sk_live_PLANTED_d41d8cd98f00b204e9800998ecf8427e"

# Screenshots of the browser tests land here (ignored by git).
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

# A Wednesday afternoon, UTC. Sandbox orgs built for tests end here; the
# sandbox's clock starts here and runs on, and the loader is given that clock.
NOW = dt.datetime(2026, 11, 18, 15, 30, tzinfo=dt.UTC)
TODAY = NOW.date()


def days_before(days: int, day: dt.date = TODAY) -> dt.date:
    """Return the day ``days`` days before ``day`` (``TODAY`` by default)."""
    return day - dt.timedelta(days=days)


def utc_day(entry: dict[str, Any]) -> str:
    """Return the UTC day of a sandbox entry as ``YYYY-MM-DD`` (its stamps end in Z)."""
    return entry["created_at"][:10]


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class OfflinePage:
    """A Chromium page that may load only files: what it logged, asked and tried to fetch."""

    page: Any
    errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


@contextlib.contextmanager
def offline_page(html_file: Path, *, width: int = 1280, height: int = 900) -> Iterator[OfflinePage]:
    """Yield html_file opened in headless Chromium with every request but file:// blocked.

    Console errors, page errors, blocked URLs and dialogs (alert, confirm,
    prompt; each dismissed) are recorded on the yielded OfflinePage.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            opened = OfflinePage(browser.new_page(viewport={"width": width, "height": height}))

            def only_files(route: Any) -> None:
                if route.request.url.startswith("file://"):
                    route.continue_()
                else:
                    opened.blocked.append(route.request.url)
                    route.abort()

            def dialog(shown: Any) -> None:
                opened.dialogs.append(f"{shown.type}: {shown.message}")
                shown.dismiss()

            def console(message: Any) -> None:
                if message.type == "error":
                    opened.errors.append(message.text)

            page = opened.page
            page.on("console", console)
            page.on("pageerror", lambda error: opened.errors.append(str(error)))
            page.on("dialog", dialog)
            page.route("**/*", only_files)
            page.goto(html_file.as_uri(), wait_until="load")
            yield opened
        finally:
            browser.close()


JUPYTER_START_S = 30


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class JupyterServer:
    """A running Jupyter server: its address and token."""

    base: str
    token: str

    def api(self, path: str) -> httpx2.Response | None:
        """Return the server's answer to GET /api/<path>, None when it does not answer."""
        try:
            return httpx2.get(f"{self.base}/api/{path}", params={"token": self.token}, timeout=2)
        except httpx2.HTTPError:
            return None

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """Return the JSON answer to POST /api/<path> with a JSON body (2xx required)."""
        answer = httpx2.post(f"{self.base}/api/{path}", params={"token": self.token}, json=body,
                            timeout=30)  # fmt: skip
        answer.raise_for_status()
        return answer.json()


@contextlib.contextmanager
def jupyter_server(
    root: Path,
    *,
    app: str = "jupyter_server",
    args: Sequence[str] = (),
    settings: dict[str, dict[str, Any]] | None = None,
) -> Iterator[JupyterServer]:
    """Yield a Jupyter server (``app``: jupyter_server or jupyterlab) serving ``root``.

    It listens on 127.0.0.1 at a free port with a random token, keeps its
    config, runtime, data and settings in ``root``'s sibling ``state``, and
    its kernels see no API key. ``settings`` are JupyterLab settings by plugin.
    The server (and so its kernels) is shut down afterwards.
    """
    port, token = free_port(), secrets.token_hex(16)
    state = root.parent / "state"
    env = {k: v for k, v in os.environ.items() if k not in (API_KEY_VARIABLE, BASE_URL_VARIABLE)}
    env[CACHE_DIR_VARIABLE] = str(state / "cache")
    for variable, folder in (
        ("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_RUNTIME_DIR", "runtime"),
        ("JUPYTER_DATA_DIR", "data"), ("JUPYTERLAB_SETTINGS_DIR", "settings"),
        ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"), ("IPYTHONDIR", "ipython"),
    ):  # fmt: skip
        env[variable] = str(state / folder)
    for plugin, values in (settings or {}).items():
        path = state / "settings" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    state.mkdir(parents=True, exist_ok=True)
    log = (state / "server.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable, "-m", app, "--no-browser", "--allow-root",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
            "--ServerApp.terminals_enabled=False", *args,
        ],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    running = JupyterServer(f"http://127.0.0.1:{port}", token)
    try:
        deadline = time.monotonic() + JUPYTER_START_S
        while (status := running.api("status")) is None or status.status_code != 200:
            assert server.poll() is None, (state / "server.log").read_text()
            assert time.monotonic() < deadline, f"{app} did not start in time"
            time.sleep(0.2)
        yield running
    finally:
        try:  # the server's own shutdown stops its kernels too
            httpx2.post(f"{running.base}/api/shutdown", params={"token": token}, timeout=5)
            server.wait(timeout=15)
        except (httpx2.HTTPError, subprocess.TimeoutExpired):
            server.kill()
            server.wait(timeout=15)
        log.close()


def assert_key_absent(text: str | bytes, where: str) -> None:
    """Fail if the planted key (or its raw bytes) appears in text."""
    needle = PLANTED_KEY.encode() if isinstance(text, bytes) else PLANTED_KEY
    assert needle not in text, f"the API key leaked into {where}"


def files_containing_key(root: Path) -> list[Path]:
    """Return every file under root whose bytes contain the planted key."""
    needle = PLANTED_KEY.encode()
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


class FakeTime:
    """A monotonic clock that only moves when someone sleeps; records every sleep."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def clock(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(round(seconds, 9))
            self.now += seconds

    def advance_to(self, moment: float) -> None:
        with self._lock:
            self.now = moment


_ids = itertools.count(1)
PEOPLE = {
    "u1": ("Ana Silva", "ana@example.com"),
    "u2": ("Ben Okafor", "ben@example.com"),
    "u3": ("Chen Wei", "chen@example.com"),
}


def person(user_id: str | None) -> dict[str, Any] | None:
    if user_id is None:
        return None
    name, email = PEOPLE.get(user_id, (user_id.title(), f"{user_id}@example.com"))
    return {"id": user_id, "name": name, "email": email, "avatar": None, "seen_at": None}


def entry(
    at: str,
    action: str = "assistant.updated",
    actor: str | None = "u1",
    *,
    country: str | None = "DE",
    ip: str | None = "198.51.100.7",
    source: str = "app",
    member: str | None = None,
    role: str | None = None,
    metadata: Any = None,
) -> dict[str, Any]:
    """Return one entry created at ``at`` (ISO-8601 UTC) by ``actor``, affecting ``member``."""
    return {
        "id": f"alog_{next(_ids):06d}",
        "action": action,
        "source": source,
        "ip": ip,
        "country": country,
        "agent": "Mozilla/5.0",
        "created_at": at,
        "actor": person(actor),
        "user": person(actor),
        "member": None if member is None else {"id": f"mem_{member}", "role": role,
                                               "user": person(member)},
        "org": {"id": "org_acme", "name": "Acme Support"},
        "metadata": metadata,
    }  # fmt: skip


def frame(entries: list[dict[str, Any]]) -> pd.DataFrame:
    """Return the loader's DataFrame of ``entries``, newest first."""
    entries = sorted(entries, key=lambda e: e["created_at"], reverse=True)
    return table_to_frame(entries_to_table(entries)) if entries else empty_frame()


SAMPLE_ENTRIES: list[dict[str, Any]] = [
    entry("2026-10-01T08:00:00Z", "assistant.updated", "u1"),
    entry("2026-10-01T09:30:00Z", "assistant.created", "u1", ip="10.0.0.5"),
    entry("2026-10-01T23:30:00Z", "member.role_changed", "u2", country="US", ip="2001:db8::1",
          member="u2", role="ADMIN"),
    entry("2026-10-02T10:00:00Z", "api_key.created", "u3", country="FR", ip="203.0.113.9"),
    entry("2026-10-02T11:00:00Z", "agent.summoned", "u1"),
    entry("2026-10-03T12:00:00Z", "org.updated", None, country=None, ip=None, source="system"),
    entry("2026-10-09T12:00:00Z", "workflow.deleted", "u3", country="JP"),
    entry("2026-10-09T12:05:00Z", "connection.updated", "u3", country="FR"),
]  # fmt: skip
