"""Write the committed sample: a small synthetic org as the raw JSON pages the server sends.

A maintenance script of this repository, not part of the package. Run from
the repository root to regenerate ``data/sample/`` (same bytes every time:
fixed seed, fixed ``now``)::

    make sample

The pages are fetched over real HTTP from ``serve()``, so they are exactly what
a client receives. Next to them go ``manifest.json`` (how they were made, the
``pagination-count``), ``answer_key.json`` (the planted incidents) and
``access_key.json`` (who held which role when).
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

import httpx2
import orjson

from auditlab.api.query import PARAMETER_NAMES
from auditlab.sandbox.generate import generate_org
from auditlab.sandbox.server import serve

SAMPLE: dict[str, Any] = {
    "seed": 0,
    "days": 90,
    "now": "2026-11-01T12:00:00Z",
    "org_id": "org_sandbox",
    "scale": 0.2,
}
TAKE = 100


def write_sample(folder: Path) -> dict[str, Any]:
    """Return the manifest after writing the sample's pages into ``folder``.

    >>> import tempfile
    >>> write_sample(Path(tempfile.mkdtemp()))["pages"] > 10
    True
    """
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("page-*.json"):
        old.unlink()
    now = dt.datetime.fromisoformat(SAMPLE["now"])
    org = generate_org(**{**SAMPLE, "now": now})
    pages = 0
    count = 0
    with (
        serve(org=org, api_key="sample", rate_limit=None) as sandbox,
        httpx2.Client(
            base_url=sandbox.base_url, headers={"Authorization": "Bearer sample"}
        ) as client,
    ):
        while True:
            params = {PARAMETER_NAMES["page"]: pages + 1, PARAMETER_NAMES["take"]: TAKE}
            response = client.get("/orgs/c/audit-logs", params=params)
            response.raise_for_status()
            count = int(response.headers["pagination-count"])
            if response.content == b"[]":
                break
            pages += 1
            (folder / f"page-{pages:04d}.json").write_bytes(response.content)
    manifest = {**SAMPLE, "take": TAKE, "pagination_count": count, "pages": pages}
    (folder / "manifest.json").write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    for name, items in (("answer_key", org.answer_key), ("access_key", org.access_key)):
        key = [item.to_dict() for item in items]
        (folder / f"{name}.json").write_bytes(orjson.dumps(key, option=orjson.OPT_INDENT_2))
    return manifest


def main() -> None:
    """Regenerate the sample folder (default ``data/sample``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("data/sample"))
    manifest = write_sample(parser.parse_args().out)
    print(f"wrote {manifest['pages']} pages, {manifest['pagination_count']} entries")


if __name__ == "__main__":
    main()
