"""Where the API key and the base URL come from, and a key that never shows itself.

The key is looked up in this order: the ``api_key`` argument, the environment
variable ``INVENT_API_KEY``, then an ``INVENT_API_KEY=...`` line in a ``.env``
file in the current working directory. It is never echoed in a message.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import httpx

from auditlab.environment import API_KEY_VARIABLE, BASE_URL_VARIABLE
from auditlab.errors import InvalidQuery, MissingAPIKey

DEFAULT_BASE_URL = "https://api.useinvent.com"
DOTENV_NAME = ".env"


class ApiKey:
    """An API key that hides itself from repr, str and format.

    >>> key = ApiKey("sk_live_secret")
    >>> repr(key), str(key), f"{key}"
    ("ApiKey('***')", '***', '***')
    >>> key.reveal()
    'sk_live_secret'
    """

    __slots__ = ("_secret",)

    def __init__(self, secret: str) -> None:
        self._secret = secret

    def reveal(self) -> str:
        """Return the key itself, for the Authorization header only."""
        return self._secret

    def scrub(self, text: str) -> str:
        """Return text with every occurrence of the key replaced by '***'.

        >>> ApiKey("sk_1").scrub("bad key sk_1")
        'bad key ***'
        """
        return text.replace(self._secret, "***") if self._secret else text

    def __repr__(self) -> str:
        return "ApiKey('***')"

    def __str__(self) -> str:
        return "***"

    def __format__(self, spec: str) -> str:
        return "***"

    def __reduce__(self) -> None:
        raise TypeError("an API key is not picklable, so it cannot land in a file by accident")


def resolve_api_key(api_key: str | None = None) -> str:
    """Return the API key: the argument, else $INVENT_API_KEY, else INVENT_API_KEY in ./.env.

    Raises MissingAPIKey (an InvalidQuery naming ``api_key``) when none of the
    three sources has one, and InvalidQuery when the key cannot be sent in an
    HTTP header. The message never contains the key.

    >>> resolve_api_key("sk_live_example")
    'sk_live_example'
    """
    if api_key is not None:
        if not isinstance(api_key, str) or not api_key.strip():
            raise MissingAPIKey(
                "api_key must be a non-empty string; or leave it None to read "
                f"{API_KEY_VARIABLE} from the environment or a {DOTENV_NAME} file",
                parameter="api_key",
            )
        return _checked(api_key.strip())
    found = os.environ.get(API_KEY_VARIABLE, "").strip() or _read_dotenv(
        Path.cwd() / DOTENV_NAME, API_KEY_VARIABLE
    )
    if not found:
        raise MissingAPIKey(
            f"no API key: pass api_key=..., set the {API_KEY_VARIABLE} environment "
            f"variable, or put a {API_KEY_VARIABLE}=... line in {Path.cwd() / DOTENV_NAME}",
            parameter="api_key",
        )
    return _checked(found)


def resolve_base_url(base_url: str | None = None) -> str:
    """Return the base URL: the argument, else $INVENT_BASE_URL, else Invent's own.

    It must be https; plain http is accepted only for loopback hosts
    (127.0.0.0/8, ::1, localhost), where the local sandbox runs. A trailing
    slash is dropped.

    >>> resolve_base_url("http://127.0.0.1:8787/")
    'http://127.0.0.1:8787'
    >>> resolve_base_url("http://example.com")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    auditlab.errors.InvalidQuery: base_url 'http://example.com' must use https ...
    """
    chosen = base_url if base_url is not None else os.environ.get(BASE_URL_VARIABLE, "").strip()
    chosen = chosen or DEFAULT_BASE_URL
    if not isinstance(chosen, str):
        raise InvalidQuery(
            f"base_url must be a string like {DEFAULT_BASE_URL!r}", parameter="base_url"
        )
    try:
        url = httpx.URL(chosen)
    except (httpx.InvalidURL, TypeError):
        url = None
    if url is None or not url.host or url.scheme not in ("https", "http"):
        raise InvalidQuery(
            f"base_url {chosen!r} is not an absolute http(s) URL like {DEFAULT_BASE_URL!r}",
            parameter="base_url",
        )
    if url.scheme == "http" and not is_loopback(url.host):
        raise InvalidQuery(
            f"base_url {chosen!r} must use https (plain http only for loopback hosts: "
            "127.0.0.0/8, ::1, localhost)",
            parameter="base_url",
        )
    return chosen.rstrip("/")


def is_loopback(host: str) -> bool:
    """Return True for localhost and loopback addresses (127.0.0.0/8, ::1).

    >>> is_loopback("127.0.0.2"), is_loopback("::1"), is_loopback("10.0.0.1")
    (True, True, False)
    """
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _checked(key: str) -> str:
    if not key.isascii() or not key.isprintable() or any(ch.isspace() for ch in key):
        raise InvalidQuery(
            "api_key has characters an API key cannot contain (spaces, control or "
            "non-ASCII characters); copy it again from the Invent dashboard",
            parameter="api_key",
        )
    return key


def _read_dotenv(path: Path, name: str) -> str:
    """Return the last value given to name in a .env file, '' when absent.

    Understands ``NAME=value``, ``export NAME=value``, single or double quotes
    and ``#`` comments; nothing else of the dotenv dialect is needed here.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError, PermissionError, UnicodeDecodeError):
        return ""
    value = ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("export "):
            line = line.removeprefix("export ").lstrip()
        key, sep, rest = line.partition("=")
        if not sep or key.strip() != name:
            continue
        value = _unquote(rest.strip())
    return value


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] in "'\"":
        closing = value.find(value[0], 1)
        if closing > 0:
            return value[1:closing]
    return value.split(" #", 1)[0].strip()
