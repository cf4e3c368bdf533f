"""Timing, peak memory and reporting shared by every figure."""

from __future__ import annotations

import datetime as dt
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Runs:
    """Seconds taken by repeated runs of one side of a comparison."""

    seconds: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    def spread(self) -> str:
        """Return 'median (min-max)' in seconds, e.g. '1.23 s (1.20-1.31)'."""
        return f"{self.median:.3g} s ({min(self.seconds):.3g}-{max(self.seconds):.3g})"


@dataclass
class Figure:
    """One numbered figure of results.md: a table of rows and notes under it."""

    number: int
    title: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    headline: str = ""
    measured: str = ""

    def markdown(self) -> str:
        lines = [f"## {self.number}. {self.title}", ""]
        if self.measured:
            lines += [f"_Measured {self.measured}._", ""]
        if self.rows:
            headers = list(self.rows[0])
            lines.append("| " + " | ".join(headers) + " |")
            lines.append("|" + "---|" * len(headers))
            lines += ["| " + " | ".join(str(row.get(h, "")) for h in headers) + " |"
                      for row in self.rows]  # fmt: skip
            lines.append("")
        lines += [f"- {note}" for note in self.notes]
        return "\n".join(lines).rstrip() + "\n"


def alternate(sides: dict[str, Callable[[], Any]], runs: int) -> dict[str, Runs]:
    """Return the run times of each side, the sides taking turns run after run.

    Taking turns in one process spreads any drift of a shared machine over
    both sides instead of charging it to one.
    """
    seconds: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(runs):
        for name, side in sides.items():
            gc.collect()
            start = time.perf_counter()
            side()
            seconds[name].append(time.perf_counter() - start)
    return {name: Runs(tuple(times)) for name, times in seconds.items()}


def peak_memory_mb(side: str, *args: str) -> float:
    """Return the peak resident memory (MB) one side adds, measured in a fresh process.

    ``python -m benchmarks.peak side args...`` loads its input, resets the
    resident-memory high-water mark, runs the side once and reports how far
    the mark rose. A process per side is the honest measure here: pyarrow
    allocates outside Python's allocator, where tracemalloc cannot see.
    """
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.peak", side, *args],
        cwd=ROOT.parent, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])["peak_mb"]


def ratio(numerator: float, denominator: float) -> str:
    return f"{numerator / denominator:.1f}x" if denominator else "n/a"


def unavailable(number: int, title: str, error: BaseException) -> Figure:
    """Return a figure that says which part of auditlab it is waiting for."""
    return Figure(number, title, notes=[f"not available yet: {type(error).__name__}: {error}"])


def run_figure(number: int, title: str, build: Callable[[], Figure]) -> Figure:
    """Return the figure, or one that says plainly why it could not be measured."""
    started = f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, load average {_load()}"
    try:
        figure = build()
    except ImportError as error:
        figure = unavailable(number, title, error)
    except Exception as error:  # a broken figure must not hide the others
        last = traceback.format_exception_only(error)[-1].strip()
        figure = Figure(number, title, notes=[f"failed: {last}"])
    figure.measured = started
    return figure


def machine() -> list[str]:
    """Return the lines describing where and with what the figures were measured."""
    packages = ("auditlab", "pandas", "pyarrow", "orjson", "msgspec", "httpx2", "httpx", "plotly")
    versions = ", ".join(f"{name} {_version(name)}" for name in packages)
    return [
        f"- date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {platform.machine()}, {os.cpu_count()} CPUs, {_memory_gb()}, "
        f"{platform.system()} {platform.release()}",
        f"- python: {platform.python_version()} ({platform.python_implementation()})",
        f"- versions: {versions}",
        f"- load average at start: {_load()}",
    ]


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _memory_gb() -> str:
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return "memory unknown"
    return f"{pages / 2**30:.0f} GB RAM"


def _load() -> str:
    try:
        return ", ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


HEADLINE_START, HEADLINE_END = "<!-- headline:start -->", "<!-- headline:end -->"


def update_headlines(readme: Path, figures: Iterable[Figure]) -> None:
    """Replace the headline rows of the measured figures in README.md, keep the others."""
    text = readme.read_text()
    head, rest = text.split(HEADLINE_START, 1)
    block, tail = rest.split(HEADLINE_END, 1)
    rows = {
        int(line.split("|")[1]): line
        for line in block.strip().splitlines()
        if line.startswith("|") and line.split("|")[1].strip().isdigit()
    }
    for figure in figures:
        if figure.headline:
            rows[figure.number] = f"| {figure.number} | {figure.title} | {figure.headline} |"
    table = ["| # | figure | headline |", "|---|---|---|", *(rows[n] for n in sorted(rows))]
    readme.write_text(head + HEADLINE_START + "\n" + "\n".join(table) + "\n" + HEADLINE_END + tail)


def write_results(path: Path, figures: Iterable[Figure], command: str) -> None:
    """Write results.md; figures not measured now keep their earlier section."""
    sections = _sections(path.read_text()) if path.exists() else {}
    sections.update({figure.number: figure.markdown() for figure in figures})
    text = "\n".join([
        "# auditlab benchmark results",
        "",
        "Each figure gives the median of several runs with min-max; comparisons alternate",
        "both sides in the same process run. Each section says when it was measured;",
        f"the last run was `{command}`, on:",
        "",
        *machine(),
        "",
        *(sections[number] for number in sorted(sections)),
    ])  # fmt: skip
    path.write_text(text)


def _sections(text: str) -> dict[int, str]:
    """Return the figure sections of an earlier results.md, by figure number."""
    sections = {}
    for part in text.split("\n## ")[1:]:
        number = part.split(".", 1)[0]
        if number.isdigit():
            sections[int(number)] = "## " + part.rstrip() + "\n"
    return sections
