"""Which folder an org's entries live in, never keyed by the literal ``c``.

``c`` means "the key's own org", so two keys for two orgs both asking for
``c`` must land in two folders. The real org id comes from the entries'
``org.id``, read from an entry the first time a key asks for an org (a
request for the newest, or a page a sync fetches anyway); the answer is
remembered under a one-way fingerprint of the key and the server
(``<root>/_keys/<fingerprint>.json``). The key itself is never written.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from auditlab.cache.files import locked, read_json, write_json

KEYS_FOLDER = "_keys"
OWN_ORG = "c"
_SAFE_FOLDER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def key_fingerprint(api_key: str, base_url: str) -> str:
    """Return a one-way fingerprint of a key on one server (24 hex digits).

    >>> len(key_fingerprint("sk_live_example", "https://api.useinvent.com"))
    24
    """
    return hashlib.sha256(f"{base_url}\n{api_key}".encode()).hexdigest()[:24]


def org_folder_name(org_id: str) -> str:
    """Return org_id when it is safe as a folder name, else a hash of it.

    >>> org_folder_name("org_7Qm2"), org_folder_name("../etc")[:3]
    ('org_7Qm2', 'id-')
    """
    if _SAFE_FOLDER.fullmatch(org_id):
        return org_id
    return "id-" + hashlib.sha256(org_id.encode()).hexdigest()[:24]


def resolve_org_folder(
    root: Path, fingerprint: str, org_id: str, newest_entry: Callable[[], Any]
) -> str:
    """Return the folder name for org_id as seen by the key with this fingerprint.

    The first time, ``newest_entry()`` is called (one request, e.g. page 1
    with take=1) and its ``org.id`` is remembered. An org without entries is
    kept under the key's fingerprint and asked again next time.
    """
    book_path = root / KEYS_FOLDER / f"{fingerprint}.json"
    known = _book(book_path).get(org_id)
    if isinstance(known, str):
        return org_folder_name(known)
    entry = newest_entry()
    org = entry.get("org") if isinstance(entry, dict) else None
    real = org.get("id") if isinstance(org, dict) else None
    if not isinstance(real, str) or not real:
        if org_id == OWN_ORG:
            return f"key-{fingerprint}"
        real = org_id
    with locked(book_path):  # another process may be adding another org to this book
        book = _book(book_path)
        book[org_id] = real
        write_json(book_path, book)
    return org_folder_name(real)


def known_org_folder(root: Path, fingerprint: str | None, org_id: str) -> str | None:
    """Return the folder a sync put org_id in, without asking the server; None when none did.

    ``fingerprint`` is the key's (``key_fingerprint``), None when no key is
    at hand: an explicit org id then names its folder itself; ``c`` needs
    the key's book.

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> (root / "org=org_a").mkdir()
    >>> known_org_folder(root, None, "org_a"), known_org_folder(root, None, "c")
    ('org_a', None)
    """
    known = _book(root / KEYS_FOLDER / f"{fingerprint}.json").get(org_id) if fingerprint else None
    if isinstance(known, str):
        folder = org_folder_name(known)
    elif org_id == OWN_ORG:
        folder = f"key-{fingerprint}" if fingerprint else ""
    else:
        folder = org_folder_name(org_id)
    return folder if folder and (root / f"org={folder}").is_dir() else None


def _book(path: Path) -> dict[str, Any]:
    """Return the orgs a key's book names, by the id asked for (empty when none)."""
    book = read_json(path)
    return book if isinstance(book, dict) else {}
