"""Where the API key and the base URL come from, and a key that never shows itself.

The key is looked up in this order: the ``api_key`` argument, the environment
variable ``INVENT_API_KEY``, then an ``INVENT_API_KEY=...`` line in a ``.env``
file (see :func:`find_dotenv`). It is never echoed in a message.

Which ``.env``: a notebook's kernel runs in the notebook's folder (say
``notebooks/``) while the file sits at the project's root, so the search
starts in the working directory and goes up, folder by folder, to the
project's root: the nearest folder that holds ``.git`` or ``pyproject.toml``.
The nearest ``.env`` on that way is read. Where no folder up the way marks a
project, only the working directory's ``.env`` is read: the search never
leaves the user's project, so a ``.env`` of some other project or of a
parent folder is never opened.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import httpx2

from auditlab.environment import API_KEY_VARIABLE, BASE_URL_VARIABLE
from auditlab.errors import InvalidQuery, MissingAPIKey

DEFAULT_BASE_URL = "https://api.useinvent.com"
DOTENV_NAME = ".env"
# What marks a project's root folder: the upward search for .env stops there.
PROJECT_MARKERS = (".git", "pyproject.toml")


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
    """Return the API key: the argument, else $INVENT_API_KEY, else INVENT_API_KEY in a .env.

    The ``.env`` is the one :func:`find_dotenv` finds: the nearest from the
    working directory up to the project's root.

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
    found = os.environ.get(API_KEY_VARIABLE, "").strip()
    found = found or _read_dotenv(find_dotenv(), API_KEY_VARIABLE)
    if not found:
        raise MissingAPIKey(
            f"no API key: pass api_key=..., set the {API_KEY_VARIABLE} environment "
            f"variable, or put a {API_KEY_VARIABLE}=... line in "
            f"{dotenv_folders()[-1] / DOTENV_NAME}",
            parameter="api_key",
        )
    return _checked(found)


def api_key_source(start: Path | None = None) -> str | None:
    """Return where ``resolve_api_key()`` finds the key, in words; None when nowhere.

    Either ``"the INVENT_API_KEY environment variable"`` or the path of the
    ``.env`` file that holds it, searched from ``start`` (default: the
    working directory). Never the key itself.

    >>> import os, tempfile
    >>> saved = os.environ.pop("INVENT_API_KEY", None)
    >>> project = Path(tempfile.mkdtemp()).resolve()
    >>> (project / ".git").mkdir(); (project / "notebooks").mkdir()
    >>> _ = (project / ".env").write_text("INVENT_API_KEY=sk_example")
    >>> api_key_source(project / "notebooks") == str(project / ".env")
    True
    >>> os.environ.update({} if saved is None else {"INVENT_API_KEY": saved})
    """
    if os.environ.get(API_KEY_VARIABLE, "").strip():
        return f"the {API_KEY_VARIABLE} environment variable"
    dotenv = find_dotenv(start)
    return str(dotenv) if _read_dotenv(dotenv, API_KEY_VARIABLE) else None


def dotenv_folders(start: Path | None = None) -> list[Path]:
    """Return the folders searched for a ``.env``, nearest first: ``start`` up to the project root.

    ``start`` defaults to the working directory. The project root is the
    nearest folder (``start`` included) holding ``.git`` or ``pyproject.toml``;
    with no such folder up the way, only ``start`` is searched.

    >>> import tempfile
    >>> project = Path(tempfile.mkdtemp()).resolve()
    >>> (project / "pyproject.toml").touch(); (project / "notebooks").mkdir()
    >>> [p.relative_to(project).as_posix() for p in dotenv_folders(project / "notebooks")]
    ['notebooks', '.']
    """
    here = (start or Path.cwd()).resolve()
    folders = []
    for folder in (here, *here.parents):
        folders.append(folder)
        if any((folder / marker).exists() for marker in PROJECT_MARKERS):
            return folders
    return [here]


def find_dotenv(start: Path | None = None) -> Path | None:
    """Return the ``.env`` file the key is read from: the nearest in :func:`dotenv_folders`.

    None when none of those folders has one.

    >>> import tempfile
    >>> project = Path(tempfile.mkdtemp()).resolve()
    >>> (project / ".git").mkdir(); (project / ".env").touch(); (project / "notebooks").mkdir()
    >>> find_dotenv(project / "notebooks") == project / ".env"
    True
    """
    for folder in dotenv_folders(start):
        if (folder / DOTENV_NAME).is_file():
            return folder / DOTENV_NAME
    return None


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
        url = httpx2.URL(chosen)
    except (httpx2.InvalidURL, TypeError):
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


def _read_dotenv(path: Path | None, name: str) -> str:
    """Return the last value given to name in a .env file, '' when absent (or path is None).

    Understands ``NAME=value``, ``export NAME=value``, single or double quotes
    and ``#`` comments; nothing else of the dotenv dialect is needed here.
    """
    if path is None:
        return ""
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
