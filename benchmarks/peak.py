"""``python -m benchmarks.peak SIDE PAGES_FILE``: one side's peak memory, in its own process.

Prints one JSON line: ``{"peak_mb": ..., "before_mb": ...}``.
"""

from __future__ import annotations

import gc
import json
import resource
import sys
from pathlib import Path

from benchmarks import data, frame

SIDES = {"frame-auditlab": frame.auditlab_frame, "frame-naive": frame.naive_frame}


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def main(argv: list[str]) -> int:
    side, path = argv
    bodies = data.read_pages(Path(path))
    gc.collect()
    before = _max_rss_mb()
    result = SIDES[side](bodies)
    peak = _max_rss_mb() - before
    print(json.dumps({"peak_mb": peak, "before_mb": before, "rows": len(result)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
