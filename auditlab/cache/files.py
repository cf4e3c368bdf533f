"""Private, atomic files: where the cache lives and how a file lands there.

Every file is written under a temporary name in its own folder, flushed to
disk, renamed over the final name and the folder flushed too, so a process
killed at any moment leaves either the old file or the new one, never half of
one; the next write of that file removes the temporary the killed one left.
Files are 0600 and folders 0700: an audit log is nobody else's business.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson
import platformdirs
from filelock import FileLock

from auditlab.environment import CACHE_DIR_VARIABLE
from auditlab.errors import InvalidQuery

FILE_MODE = 0o600
FOLDER_MODE = 0o700
# A temporary this old belongs to a write that was killed, not to one in progress.
STALE_TEMPORARY_SECONDS = 600
# Files written at once by write_many: each write waits mostly on fsync, which
# leaves the interpreter free, so a month of day parts lands in a fraction of the time.
PARALLEL_WRITES = 8


def cache_root(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Return the cache root: the argument, else $AUDITLAB_CACHE_DIR, else the user cache dir.

    Nothing is created here; raises InvalidQuery naming ``cache_dir`` when the
    path is not a folder.

    >>> cache_root("/tmp/auditlab-doc")
    PosixPath('/tmp/auditlab-doc')
    """
    if cache_dir is None:
        cache_dir = os.environ.get(CACHE_DIR_VARIABLE, "").strip() or platformdirs.user_cache_dir(
            "auditlab"
        )
    if not isinstance(cache_dir, str | os.PathLike) or not str(cache_dir).strip():
        raise InvalidQuery(
            f"cache_dir must be a folder path (str or pathlib.Path), not {cache_dir!r}",
            parameter="cache_dir",
        )
    root = Path(cache_dir).expanduser()
    if root.exists() and not root.is_dir():
        raise InvalidQuery(
            f"cache_dir {str(root)!r} exists and is not a folder", parameter="cache_dir"
        )
    return root


def private_folder(path: Path) -> Path:
    """Return path after creating it and any missing parents with mode 0700."""
    missing = []
    for folder in (path, *path.parents):
        if folder.is_dir():
            break
        missing.append(folder)
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=FOLDER_MODE)
        os.chmod(folder, FOLDER_MODE)  # mkdir's mode is masked by the umask
    return path


def write_atomic(path: Path, data: bytes) -> None:
    """Write data to path atomically, as a 0600 file in a 0700 folder.

    Temporaries of earlier writes of path that were killed midway (older
    than ``STALE_TEMPORARY_SECONDS``) are removed.
    """
    folder = private_folder(path.parent)
    temporary = folder / f".{path.name}.{secrets.token_hex(6)}.tmp"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        _remove_stale_temporaries(path, temporary)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _sync_folder(folder)


def write_many(files: Mapping[Path, bytes]) -> None:
    """Write each path's bytes as ``write_atomic`` does, several files at once.

    Each file is atomic on its own; when one write fails the others still
    finish, and the first error is raised after them.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> write_many({folder / "a" / "x.bin": b"1", folder / "b" / "x.bin": b"22"})
    >>> sorted(p.stat().st_size for p in folder.rglob("x.bin"))
    [1, 2]
    """
    if len(files) <= 1:
        for path, data in files.items():
            write_atomic(path, data)
        return
    with ThreadPoolExecutor(max_workers=min(PARALLEL_WRITES, len(files))) as pool:
        futures = [pool.submit(write_atomic, path, data) for path, data in files.items()]
    for future in futures:
        future.result()


def _remove_stale_temporaries(path: Path, ours: Path) -> None:
    # Ages are read on the file system's own clock (our fresh temporary's
    # mtime), which a network share or a moved process clock may not share.
    stale = ours.stat().st_mtime - STALE_TEMPORARY_SECONDS
    for temporary in path.parent.glob(f".{path.name}.*.tmp"):
        with contextlib.suppress(FileNotFoundError):  # another process got there first
            if temporary != ours and temporary.stat().st_mtime < stale:
                temporary.unlink()


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold, for the block, the lock every process takes before it rewrites path.

    A file lock (``.<name>.lock`` beside path, 0600) shared by every thread
    and process on the machine: two notebooks, or a notebook and ``auditlab
    report``, syncing into one cache folder take turns at a read-modify-write
    of the same file instead of losing one another's update.

    >>> import tempfile
    >>> with locked(Path(tempfile.mkdtemp()) / "_manifest.json"):
    ...     pass
    """
    folder = private_folder(path.parent)
    with FileLock(folder / f".{path.name}.lock", mode=FILE_MODE):
        yield


def write_json(path: Path, value: Any) -> None:
    """Write value as indented JSON, atomically and privately."""
    write_atomic(path, orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))


def read_json(path: Path) -> Any:
    """Return the JSON value in path, or None when the file is absent or unreadable."""
    try:
        return orjson.loads(path.read_bytes())
    except (FileNotFoundError, orjson.JSONDecodeError):
        return None


def _sync_folder(folder: Path) -> None:
    """Flush a folder's entry list, so a rename survives a power cut."""
    if os.name != "posix":
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
