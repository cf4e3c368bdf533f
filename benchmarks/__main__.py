"""``python -m benchmarks`` (``make bench``): measure every figure, write results.md.

``--quick`` runs every figure on tiny inputs in seconds (the smoke test uses
it); ``--only 2 4`` measures some figures; ``--runs`` sets the repetitions.
Full-size figures each run in a fresh process.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

from benchmarks.harness import ROOT, Figure, run_figure, update_headlines, write_results

TITLES = {
    1: "Cold sync throughput against the sandbox",
    2: "Frame building: raw page bytes -> typed DataFrame",
    3: "Warm load from the cache",
    4: "Analysis tables",
    5: "`auditlab report` end to end",
    6: "The report at scale",
}


def plan(quick: bool, runs: int) -> dict[int, Callable[[], Figure]]:
    """Return the function measuring each figure, full size or tiny."""

    def cold_sync() -> Figure:
        from benchmarks.sync import cold_sync

        if quick:
            from benchmarks.limiters import Matrix

            tiny = Matrix(told=50, window_s=1.0, latency_ms=2.5, days=30, scale=1.0)
            return cold_sync(limits=((6_000, 0.005),), runs=runs, latency_scale=0.05,
                             matrix=tiny)  # fmt: skip
        return cold_sync(runs=runs)

    def frame_building() -> Figure:
        from benchmarks.frame import SIZES, frame_building

        return frame_building((2_000,) if quick else (*SIZES[:2], 200_000, *SIZES[2:]), runs)

    def warm_load() -> Figure:
        from benchmarks.warm import SIZES, warm_load

        return warm_load((2_000,) if quick else SIZES, runs)

    def analysis_tables() -> Figure:
        from benchmarks.analysis import SIZES, analysis_tables

        return analysis_tables((2_000,) if quick else SIZES, runs)

    def report_end_to_end() -> Figure:
        from benchmarks.report import report_end_to_end

        return report_end_to_end(runs=1 if quick else runs, days=30 if quick else 180)

    def report_at_scale() -> Figure:
        from benchmarks.report import report_at_scale

        return report_at_scale(*((3_000, 150) if quick else ()))

    builders = (
        cold_sync, frame_building, warm_load, analysis_tables, report_end_to_end, report_at_scale,
    )  # fmt: skip
    return {number: partial(run_figure, number, TITLES[number], build)
            for number, build in zip(TITLES, builders, strict=True)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny inputs, seconds per figure")
    parser.add_argument("--only", type=int, nargs="+", choices=sorted(TITLES), metavar="N",
                        help="measure only these figures (1-6)")  # fmt: skip
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (3)")
    parser.add_argument("--output", type=Path, default=ROOT / "results.md",
                        help="where to write the results (benchmarks/results.md)")  # fmt: skip
    # How a figure measured in its own process is asked for (see below).
    parser.add_argument("--here", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--command", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    measures = plan(args.quick, args.runs)
    command = args.command or (
        "make bench" if not (args.quick or args.only)
        else "python -m benchmarks " + " ".join(sys.argv[1:] if argv is None else argv)
    )  # fmt: skip
    for number in args.only or sorted(TITLES):
        print(f"measuring figure {number}: {TITLES[number]}", file=sys.stderr, flush=True)
        if not (args.quick or args.here):
            # Each full-size figure runs in a fresh process: the heap a figure leaves
            # behind (1M entries parsed by json_normalize) must not slow the next one.
            subprocess.run(
                [sys.executable, "-m", "benchmarks", "--here", "--only", str(number),
                 "--runs", str(args.runs), "--output", str(args.output), "--command", command],
                cwd=ROOT.parent, check=True,
            )  # fmt: skip
            continue
        figure = measures[number]()
        # Written figure by figure, so a long run stopped midway keeps what it measured.
        write_results(args.output, [figure], command)
        if not args.quick:
            update_headlines(ROOT / "README.md", [figure])
        print(figure.markdown(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
