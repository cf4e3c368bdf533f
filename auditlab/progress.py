"""The progress bar of a load or sync: entries fetched, advanced from any thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from auditlab.api.paging import OnPage


@contextmanager
def entries_bar(show: bool) -> Iterator[OnPage | None]:
    """Yield a thread-safe ``on_page(n)`` that advances a tqdm bar of entries, or None.

    tqdm.auto draws a widget in Jupyter and a line in a terminal.

    >>> with entries_bar(False) as on_page:
    ...     on_page is None
    True
    """
    if not show:
        yield None
        return
    from tqdm.auto import tqdm

    bar = tqdm(desc="audit-log entries", unit=" entries")
    lock = threading.Lock()

    def on_page(new: int) -> None:
        with lock:
            bar.update(new)

    try:
        yield on_page
    finally:
        bar.close()
