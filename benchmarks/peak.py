"""``python -m benchmarks.peak SIDE PAGES_FILE``: one side's peak memory, in its own process.

Prints one JSON line: ``{"peak_mb": ..., "before_mb": ..., "rows": ...}``.

The peak is Linux's high-water mark of resident memory (``VmHWM``), reset
once the input is loaded, so it counts what the side itself adds, including
pyarrow's allocations that ``tracemalloc`` cannot see. ``ru_maxrss`` would
not do: a child process inherits its parent's high-water mark through exec.
"""

from __future__ import annotations

import gc
import json
import sys
from pathlib import Path

from benchmarks import data, frame

SIDES = {"frame-auditlab": frame.auditlab_frame, "frame-naive": frame.naive_frame}
STATUS = Path("/proc/self/status")


def status_mb(field: str) -> float:
    """Return a field of this process's ``/proc/self/status`` (e.g. ``VmHWM``) in MB."""
    for line in STATUS.read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024  # kB
    raise LookupError(f"{field} not in {STATUS}")


def _reset_peak() -> None:
    """Set the high-water mark back to the current resident size (Linux 4.0+)."""
    Path("/proc/self/clear_refs").write_text("5")


def main(argv: list[str]) -> int:
    side, path = argv
    bodies = data.read_pages(Path(path))
    gc.collect()
    _reset_peak()
    before = status_mb("VmRSS")
    result = SIDES[side](bodies)
    peak = status_mb("VmHWM") - before
    print(json.dumps({"peak_mb": peak, "before_mb": before, "rows": len(result)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
