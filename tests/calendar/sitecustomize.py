"""Moves every Python process of a calendar run to one shared, running clock.

``tests/calendar/run.py`` puts this folder on ``PYTHONPATH`` and sets
``AUDITLAB_TRAVEL=<ISO moment>@<real epoch seconds>``; Python imports this
module at start-up, so pytest, its xdist workers, notebook kernels and any
child process all read the same moved wall clock: the moment, plus however
long ago (in real time) the run began. ``time.monotonic`` stays real, so
waits and timeouts behave as always.

time-machine rather than libfaketime: libfaketime 0.9.10 (Debian 12) breaks
Python 3.11's waits either way: with CLOCK_MONOTONIC faked a timed lock wait
sleeps for the whole offset (days), and with it left real ``time.sleep``
fails with EINVAL.
"""

import os

_TRAVEL = os.environ.get("AUDITLAB_TRAVEL")
if _TRAVEL:
    import datetime as _dt
    import time as _time

    import time_machine as _time_machine

    _moment, _, _began = _TRAVEL.partition("@")
    _elapsed = _time.time() - float(_began)
    _destination = _dt.datetime.fromisoformat(_moment) + _dt.timedelta(seconds=_elapsed)
    # an epoch number, not an aware datetime, so time-machine leaves TZ as the run set it
    _time_machine.travel(_destination.timestamp(), tick=True).start()
