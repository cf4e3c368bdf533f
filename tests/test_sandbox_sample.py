"""The committed sample in data/sample is what the documented seed and server produce."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from auditlab.actions import ACTION_SET
from auditlab.sandbox import generate_org
from auditlab.sandbox.store import LogStore
from tools.sample import SAMPLE, TAKE

FOLDER = Path(__file__).resolve().parents[1] / "data" / "sample"


def _pages() -> list[Path]:
    return sorted(FOLDER.glob("page-*.json"))


def test_manifest_documents_the_seed_the_sample_was_made_from():
    manifest = json.loads((FOLDER / "manifest.json").read_text())
    assert manifest == {
        **SAMPLE,
        "take": TAKE,
        "pagination_count": manifest["pagination_count"],
        "pages": len(_pages()),
    }
    assert 1000 <= manifest["pagination_count"] <= 5000


def test_pages_are_byte_for_byte_what_the_server_sends_for_that_seed():
    org = generate_org(**{**SAMPLE, "now": dt.datetime.fromisoformat(SAMPLE["now"])})
    store = LogStore(org.entries)
    pages = _pages()
    for number, path in enumerate(pages, start=1):
        body, count = store.page({}, None, None, number, TAKE)
        assert path.read_bytes() == body, path.name
    assert count == len(org.entries)
    assert [i.to_dict() for i in org.answer_key] == json.loads(
        (FOLDER / "answer_key.json").read_text()
    )
    assert [t.to_dict() for t in org.access_key] == json.loads(
        (FOLDER / "access_key.json").read_text()
    )


def test_pages_parse_as_entry_arrays_newest_first_holding_the_answer_key():
    entries = [e for path in _pages() for e in json.loads(path.read_bytes())]
    assert all(len(json.loads(p.read_bytes())) == TAKE for p in _pages()[:-1])
    stamps = [e["created_at"] for e in entries]
    assert stamps == sorted(stamps, reverse=True)
    assert {e["action"] for e in entries} == ACTION_SET
    ids = {e["id"] for e in entries}
    assert len(ids) == len(entries)
    key = json.loads((FOLDER / "answer_key.json").read_text())
    assert len(key) == 7
    assert all(set(incident["entry_ids"]) <= ids for incident in key)
    assert sum(p.stat().st_size for p in _pages()) < 5_000_000
