"""The installed version of auditlab, read once from the package's metadata.

A leaf: it imports nothing of auditlab, so every module may import it, and
``pyproject.toml`` is the only place the version is written.

>>> from auditlab._version import __version__
>>> __version__ != ""
True
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__: str = version("auditlab")
except PackageNotFoundError:  # a source tree on sys.path that was never installed
    __version__ = "0+unknown"
