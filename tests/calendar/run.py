"""Runs the whole test suite with the wall clock moved: the proof that no test owns a date.

    python tests/calendar/run.py            # every setting below
    python tests/calendar/run.py --quick    # the rollover minute and one far time zone (CI)
    python tests/calendar/run.py --only leap-day

Each setting runs ``pytest`` once, with every Python process of the run (pytest,
its workers, notebook kernels, child processes) reading one moved, running
wall clock (see ``sitecustomize.py`` beside this file) and ``TZ`` set. Exits
non-zero when any setting fails; prints one line per setting with its time.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


@dataclass(frozen=True)
class Setting:
    name: str
    moment: str  # ISO-8601 with offset: where the wall clock starts
    tz: str
    why: str


SETTINGS = (
    Setting("rollover", "2026-12-06T23:59:20+00:00", "UTC",
            "a Sunday's last 40 s: the UTC day rolls over mid-run"),
    Setting("far-east", "2026-12-07T10:30:00+00:00", "Pacific/Kiritimati",
            "UTC+14: the local date is a day ahead of UTC's"),
    Setting("sunday", "2026-12-06T12:00:00+00:00", "UTC", "a quiet weekend day"),
    Setting("new-year", "2027-01-01T00:00:05+00:00", "UTC", "the year's first seconds"),
    Setting("leap-day", "2028-02-29T12:00:00+00:00", "UTC", "29 February 2028"),
    Setting("dst-berlin", "2027-03-28T00:59:20+00:00", "Europe/Berlin",
            "clocks jump from 02:00 to 03:00 local mid-run"),
    Setting("dst-adak", "2027-03-14T11:59:20+00:00", "America/Adak",
            "UTC-10 to UTC-9 mid-run, the local date a day behind UTC's evening"),
)  # fmt: skip
QUICK = ("rollover", "far-east")


def run(setting: Setting, pytest_args: list[str]) -> tuple[int, float]:
    """Return (pytest's exit status, seconds) of the suite run under ``setting``."""
    environment = {
        **os.environ,
        "AUDITLAB_TRAVEL": f"{setting.moment}@{time.time()}",
        "TZ": setting.tz,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
    }
    # time_machine is imported before pytest (sitecustomize), so pytest cannot rewrite
    # the asserts of its plugin module and says so: expected here, and harmless
    quiet = ["-W", "ignore::pytest.PytestAssertRewriteWarning"]
    command = [sys.executable, "-m", "pytest", *quiet, *pytest_args]
    print(f"== {setting.name}: {setting.moment} TZ={setting.tz} ({setting.why})", flush=True)
    started = time.monotonic()
    status = subprocess.run(command, cwd=ROOT, env=environment, check=False).returncode
    return status, time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK)}")
    parser.add_argument("--only", nargs="+", choices=[s.name for s in SETTINGS])
    parser.add_argument("pytest_args", nargs="*", default=["-n", "2", "--dist", "loadfile", "-q"])
    args = parser.parse_args(argv)
    chosen = args.only or (QUICK if args.quick else [s.name for s in SETTINGS])
    results = [(s, *run(s, args.pytest_args)) for s in SETTINGS if s.name in chosen]
    print("\ncalendar runs:")
    for setting, status, seconds in results:
        verdict = "passed" if status == 0 else f"FAILED (pytest exit {status})"
        where = f"{setting.moment} TZ={setting.tz:<19}"
        print(f"  {setting.name:<11} {where} {verdict} in {seconds:.0f} s")
    return 0 if all(status == 0 for _, status, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
