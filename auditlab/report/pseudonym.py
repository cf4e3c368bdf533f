"""Stable keyed pseudonyms for people and addresses, so a report can leave the team.

A value always maps to the same pseudonym under one secret (so counts, joins
and "same person" survive), and nobody without the secret can map it back or
test a guess. The secret is never the API key: ``AUDITLAB_PSEUDONYM_KEY``, else
a random one created once at ``<cache root>/pseudonym.key`` (mode 0600).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd

from auditlab.cache.files import cache_root
from auditlab.environment import PSEUDONYM_KEY_VARIABLE

KEY_FILE = "pseudonym.key"
DIGITS = 10

# Columns that name or reach a person, by what they hold. Ids stay: they are
# opaque already and let a reviewer with access to Invent follow up.
PERSON_PREFIXES: tuple[str, ...] = ("actor", "user", "member_user")
EMAIL_COLUMNS: tuple[str, ...] = tuple(f"{p}_email" for p in PERSON_PREFIXES)
NAME_COLUMNS: tuple[str, ...] = tuple(f"{p}_name" for p in PERSON_PREFIXES)
# Avatar URLs may embed a name, an email hash or a user id: hashed like a name.
AVATAR_COLUMNS: tuple[str, ...] = tuple(f"{p}_avatar" for p in PERSON_PREFIXES)
IP_COLUMNS: tuple[str, ...] = ("ip",)
# Text that may mention people or addresses anywhere inside it: JSON objects
# kept whole, and the names people give to what they create ("Lena's bot").
# Not ``agent``: browser versions such as Chrome/130.0.0.0 look like addresses.
TEXT_COLUMNS: tuple[str, ...] = (
    "metadata", "assistant_config", "org_config", "org_features", "extra_fields",
    "assistant_name", "workflow_name", "connection_name", "broadcast_name",
)  # fmt: skip

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")


class Pseudonymizer:
    """Maps emails, names and IP addresses to stable keyed pseudonyms.

    >>> p = Pseudonymizer(b"secret")
    >>> p.email("lena.vogel@example.com") == p.email("lena.vogel@example.com")
    True
    >>> p.email("lena.vogel@example.com").endswith("@pseudonym.invalid")
    True
    >>> p.ip("2001:db8::1").startswith("ip6:"), p.ip("203.0.113.9").startswith("ip4-")
    (True, True)
    """

    def __init__(self, key: bytes) -> None:
        self._key = key

    def __repr__(self) -> str:
        return "Pseudonymizer(key=<hidden>)"

    def token(self, kind: str, value: str) -> str:
        """Return the first hex digits of HMAC-SHA256(key, kind + NUL + value)."""
        mac = hmac.new(self._key, f"{kind}\0{value}".encode(), hashlib.sha256)
        return mac.hexdigest()[:DIGITS]

    def email(self, value: str) -> str:
        """Return the pseudonym of an email address (case-insensitive)."""
        return f"user-{self.token('email', value.strip().lower())}@pseudonym.invalid"

    def name(self, value: str) -> str:
        """Return the pseudonym of a person's name."""
        return f"Person {self.token('name', value.strip())}"

    def ip(self, value: str) -> str:
        """Return the pseudonym of an IP address; IPv6 ones keep a ':' so the version shows."""
        value = value.strip().lower()
        token = self.token("ip", value)
        return f"ip6:{token}" if ":" in value else f"ip4-{token}"

    def url(self, value: str) -> str:
        """Return the pseudonym of a URL that may identify a person (an avatar)."""
        return f"https://avatar.pseudonym.invalid/{self.token('url', value)}"

    def text(self, value: str, names: Iterable[str] = ()) -> str:
        """Return text with every email, IP address and one of ``names`` replaced."""
        value = _EMAIL.sub(lambda m: self.email(m.group()), value)
        value = _IPV6.sub(lambda m: self._ipv6_or_same(m.group()), value)
        value = _IPV4.sub(lambda m: self.ip(m.group()), value)
        for name in names:
            value = value.replace(name, self.name(name))
        return value

    def _ipv6_or_same(self, text: str) -> str:
        # Times such as 12:30:05 look like IPv6 to the pattern; an address has a
        # double colon or eight groups.
        return self.ip(text) if "::" in text or text.count(":") == 7 else text

    def frame(self, df: pd.DataFrame) -> pd.DataFrame:
        """Return a copy of df with every person and address column pseudonymized.

        >>> df = pd.DataFrame({"actor_email": ["a@example.com", None], "ip": ["10.0.0.1", None]})
        >>> out = Pseudonymizer(b"k").frame(df)
        >>> out["actor_email"].str.startswith("user-").tolist()[0], out["ip"].isna().tolist()
        (True, [False, True])
        """
        out = df.copy()
        names = sorted(
            {n for c in NAME_COLUMNS if c in df for n in df[c].dropna().unique() if str(n).strip()},
            key=len,
            reverse=True,  # longest first, so "Ana Li" never spoils "Ana Lima"
        )
        plans: list[tuple[tuple[str, ...], Callable[[str], str]]] = [
            (EMAIL_COLUMNS, self.email),
            (NAME_COLUMNS, self.name),
            (AVATAR_COLUMNS, self.url),
            (IP_COLUMNS, self.ip),
            (TEXT_COLUMNS, lambda text: self.text(text, names)),
        ]
        for columns, mapping in plans:
            for column in columns:
                if column in out:
                    out[column] = _map_values(out[column], mapping)
        return out


def _map_values(column: pd.Series, mapping: Callable[[str], str]) -> pd.Series:
    """Return column with mapping applied once per distinct value; missing stays missing."""
    categorical = isinstance(column.dtype, pd.CategoricalDtype)
    values = column.astype("str")
    distinct = values.dropna().unique()
    mapped = values.map(dict(zip(distinct, map(mapping, distinct), strict=True)))
    return mapped.astype("category") if categorical else mapped.astype("str")


def pseudonym_key(cache_dir: str | Path | None = None) -> bytes:
    """Return the pseudonym secret: ``AUDITLAB_PSEUDONYM_KEY``, else the cache's key file.

    The file is created once with 32 random bytes and mode 0600, and read
    from then on, so pseudonyms stay stable from one report to the next.

    >>> import os; os.environ[PSEUDONYM_KEY_VARIABLE] = "s3cret"; pseudonym_key()
    b's3cret'
    >>> del os.environ[PSEUDONYM_KEY_VARIABLE]
    """
    from_env = os.environ.get(PSEUDONYM_KEY_VARIABLE)
    if from_env:
        return from_env.encode()
    path = cache_root(cache_dir) / KEY_FILE
    if not path.exists():
        _create_key_file(path)
    return path.read_text("ascii").strip().encode()


def _create_key_file(path: Path) -> None:
    """Write a random secret to path unless another process got there first."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as file:
            file.write(secrets.token_hex(32))
            file.flush()
            os.fsync(file.fileno())
        # link() never replaces: the first writer's secret is the one everyone reads.
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
    finally:
        draft.unlink()


def pseudonymize(df: pd.DataFrame, *, cache_dir: str | Path | None = None) -> pd.DataFrame:
    """Return df with emails, people's names, avatars and IP addresses replaced by pseudonyms.

    Apply it right after loading, before any analysis, so nothing downstream
    sees a real value. ``org_name`` and every id stay as they are.

    >>> from auditlab.frame import empty_frame
    >>> pseudonymize(empty_frame()).empty
    True
    """
    return Pseudonymizer(pseudonym_key(cache_dir)).frame(df)
