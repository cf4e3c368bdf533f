"""Pausing Python's cyclic garbage collector while many acyclic objects are made.

Parsing a page of JSON, building a synthetic org or a store of entries makes
millions of dicts, lists and tuples, none in a reference cycle, so reference
counting frees every one of them. Left running, the collector starts a pass
every few hundred new objects and walks every live one again, finding
nothing: it costs more than the work itself. A leaf: it imports only ``gc``.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the block, then restore it as it was.

    >>> import gc
    >>> with collector_paused():
    ...     gc.isenabled()
    False
    >>> gc.isenabled()
    True
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
