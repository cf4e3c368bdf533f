"""Figure 2: frame building, raw page bytes -> typed DataFrame, against json_normalize."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pandas as pd

from auditlab.actions import action_category
from auditlab.frame import pages_to_table, table_to_frame
from auditlab.frame.schema import BOOL, CATEGORY, COLUMNS, TIMESTAMP
from benchmarks import data
from benchmarks.harness import Figure, alternate, peak_memory_mb, ratio

SIZES = (10_000, 100_000, 1_000_000)
TARGET_SPEEDUP = 5.0
# From this size on, each side runs once: json_normalize alone takes minutes
# and about 10 GB there.
ONE_RUN_FROM = 1_000_000

_TIMESTAMPS = [c.name for c in COLUMNS if c.type == TIMESTAMP]
_CATEGORIES = [c.name for c in COLUMNS if c.type == CATEGORY and c.kind == "value"]
_BOOLEANS = [c.name for c in COLUMNS if c.type == BOOL]


def auditlab_frame(bodies: list[bytes]) -> pd.DataFrame:
    """Return the typed DataFrame of raw pages, auditlab's way."""
    return table_to_frame(pages_to_table(bodies))


def naive_frame(bodies: list[bytes]) -> pd.DataFrame:
    """Return a DataFrame of raw pages the usual way, with the same dtype conversions.

    ``json.loads`` per page, ``pd.json_normalize``, dots to underscores, then
    what auditlab's frame gives: UTC timestamps, categoricals, nullable
    booleans, the action category and the UTC day.
    """
    entries = []
    for body in bodies:
        entries.extend(json.loads(body))
    df = pd.json_normalize(entries)
    df.columns = [name.replace(".", "_") for name in df.columns]
    for name in df.columns.intersection(_TIMESTAMPS):
        df[name] = pd.to_datetime(df[name], utc=True, format="ISO8601")
    for name in df.columns.intersection(_CATEGORIES):
        df[name] = df[name].astype("category")
    for name in df.columns.intersection(_BOOLEANS):
        df[name] = df[name].astype("boolean")
    df["action_category"] = df["action"].map(action_category).astype("category")
    df["date"] = df["created_at"].dt.tz_localize(None).dt.normalize()
    return df


def frame_building(sizes: tuple[int, ...] = SIZES, runs: int = 3) -> Figure:
    """Return figure 2: both sides timed alternately per size, peak memory per side."""
    figure = Figure(2, "Frame building: raw page bytes -> typed DataFrame")
    verdicts = []
    headline = ""
    with tempfile.TemporaryDirectory(prefix="auditlab-bench-") as folder:
        for size in sizes:
            bodies = data.pages(data.org_entries(size))
            times = alternate(
                {"auditlab": lambda b=bodies: auditlab_frame(b),
                 "naive": lambda b=bodies: naive_frame(b)},
                runs if size < ONE_RUN_FROM else 1,
            )  # fmt: skip
            path = str(data.write_pages(bodies, Path(folder) / f"pages-{size}.ndjson"))
            del bodies
            ours_mb = peak_memory_mb("frame-auditlab", path)
            naive_mb = peak_memory_mb("frame-naive", path)
            ours, naive = times["auditlab"], times["naive"]
            figure.rows.append({
                "entries": f"{size:,}",
                "auditlab": ours.spread(),
                "json_normalize": naive.spread(),
                "auditlab entries/s": f"{size / ours.median:,.0f}",
                "json_normalize entries/s": f"{size / naive.median:,.0f}",
                "speed-up": ratio(naive.median, ours.median),
                "auditlab peak MB": f"{ours_mb:,.0f}",
                "json_normalize peak MB": f"{naive_mb:,.0f}",
                "memory ratio": ratio(naive_mb, ours_mb),
            })  # fmt: skip
            met = naive.median >= TARGET_SPEEDUP * ours.median and ours_mb <= naive_mb
            verdicts.append(f"{size:,}: {'met' if met else 'MISSED'}")
            if size == 200_000 or not headline:
                headline = (
                    f"{size:,} entries: {ratio(naive.median, ours.median)} faster than "
                    f"json_normalize ({size / ours.median:,.0f} entries/s), peak memory "
                    f"{ours_mb:,.0f} MB vs {naive_mb:,.0f} MB"
                )
    figure.headline = headline
    figure.notes += [
        "Input: the sandbox org (seed 0, 180 days, scaled) as 100-entry response bodies. "
        "auditlab: `table_to_frame(pages_to_table(bodies))`. json_normalize: `json.loads` "
        "per page, `pd.json_normalize`, then the same dtype conversions (UTC timestamps, "
        "categoricals, nullable booleans, action category, UTC day).",
        "Peak MB: how far resident memory's high-water mark (Linux `VmHWM`, reset after "
        "loading the pages) rose while one side ran once, in a fresh process per side.",
        f"From {ONE_RUN_FROM:,} entries each side runs once (json_normalize takes minutes "
        "and about 10 GB there).",
        f"Target (issue 3): at least {TARGET_SPEEDUP:.0f}x faster with no more peak memory "
        f"on 200k entries. Per size: {'; '.join(verdicts)}.",
    ]
    return figure
