"""The events a reviewer must see, each with the reasons it matters.

Rules, each vectorised over the whole frame:

- privilege changes: every ``member.role_changed`` (and sub-org role change),
  called out when the new role is ADMIN or OWNER and when actors change their own role;
- API key lifecycle: every ``api_key.*``, called out when it is the first key
  that actor created in the frame;
- SSO and domain changes: every ``sso`` and ``domain`` action that creates,
  updates or deletes a setting (not session revocations or code requests);
- the organisation deleted, disabled, transferred or detached;
- member removals (``member.removed``);
- mass deletions: ``burst`` or more ``*.deleted`` by one actor within
  ``burst_window``; every deletion of the burst is listed;
- activity after leaving: anything an actor does after their own
  ``member.removed`` ("after own removal") or ``member.left`` ("after own
  departure"), until they join again (``after_leaving``);
- off-hours administration: an administrative action (org, member
  management, SSO, domain, API key) at a time of day, in ``tz``, when its
  actor is rarely active: at most ``usual_share`` of all their events fall
  within two hours either side of that time of day, on any day. That follows each
  person's own working hours wherever they live. Actors with fewer than
  ``MIN_HISTORY`` events have no usual hours yet; for them off-hours means
  outside 07:00-20:00 in ``tz``. Weekends alone are not off-hours: the org
  works some.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from auditlab.actions import ACTIONS, action_category
from auditlab.analysis.vocabulary import TimeBound, codes, in_window, plain, utc_array, wall_time
from auditlab.checks import check_whole_number
from auditlab.errors import InvalidQuery

SENSITIVE_COLUMNS = (
    "id", "created_at", "action", "actor_id", "actor_name", "actor_email", "member_user_id",
    "member_role", "source", "ip", "country", "reason",
)  # fmt: skip

_CHANGED = {"sso": "SSO", "domain": "domain"}


def _is_config_change(action: str) -> bool:
    """Return whether an action creates, updates or deletes SSO or domain settings."""
    verb = action.rsplit(".", 1)[-1]
    return action_category(action) in _CHANGED and verb in ("created", "updated", "deleted")


ORG_REASONS: dict[str, str] = {
    "org.deleted": "organisation deleted",
    "org.disabled": "organisation disabled",
    "org.transferred": "organisation transferred",
    "org.transferred_to": "organisation transferred",
    "org.detached": "organisation detached",
    "org.detached_from": "organisation detached",
}
REASONS: dict[str, str] = {
    "member.role_changed": "role changed",
    "org.sub_org_member_role_changed": "sub-org role changed",
    "member.removed": "member removed",
    "api_key.created": "API key created",
    "api_key.deleted": "API key deleted",
    **ORG_REASONS,
    **{a: f"{_CHANGED[action_category(a)]} change" for a in ACTIONS if _is_config_change(a)},
}
# The administrative actions the off-hours rule watches.
OFF_HOURS_ACTIONS: frozenset[str] = frozenset(
    a for a in ACTIONS if action_category(a) in ("org", "sso", "domain", "api_key")
) | {"member.invited", "member.removed", "member.role_changed"}
PRIVILEGED_ROLES = ("ADMIN", "OWNER")
# The actions by which a member leaves the org, and what the rule calls them.
DEPARTURES: dict[str, str] = {"member.removed": "removal", "member.left": "departure"}
MIN_HISTORY = 100
WORK_HOURS = (7, 20)
BIN_MINUTES = 15
BINS = 24 * 60 // BIN_MINUTES
NEIGHBOURS = 120 // BIN_MINUTES  # two hours either side: absorbs a clock change


def sensitive_events(
    df: pd.DataFrame,
    *,
    tz: str = "UTC",
    since: TimeBound = None,
    until: TimeBound = None,
    burst: int = 10,
    burst_window: str = "10min",
    usual_share: float = 0.02,
) -> pd.DataFrame:
    """Return the events a reviewer must see, newest first, each with its ``reason``.

    Columns: ``SENSITIVE_COLUMNS``; ``reason`` joins every rule the event
    meets with "; ". The rules read the whole frame (a first API key, a
    removal, a burst, usual hours); ``since``/``until`` then keep the events
    created within them. The module docstring lists the rules.

    >>> from auditlab.frame import empty_frame
    >>> sensitive_events(empty_frame()).columns[-1]
    'reason'
    """
    window = _checked_window(burst, burst_window, usual_share)
    df = df[list(SENSITIVE_COLUMNS[:-1])].reset_index(drop=True)
    actors, names = codes(df["actor_id"])
    action = df["action"]
    role_changed = (action == "member.role_changed").to_numpy(dtype=bool)
    departed = after_leaving(df)
    # A rule's text is a string, or a function of the flagged rows for texts that vary.
    rules: list[tuple[np.ndarray, str | Callable[[pd.DataFrame], pd.Series]]] = [
        (action.isin(REASONS.keys()).to_numpy(dtype=bool),
         lambda rows: plain(rows["action"]).map(REASONS)),
        (role_changed & df["member_role"].isin(PRIVILEGED_ROLES).to_numpy(dtype=bool),
         lambda rows: "new role " + plain(rows["member_role"])),
        (role_changed & (df["member_user_id"] == df["actor_id"]).to_numpy(dtype=bool),
         "changed own role"),
        (_first_api_keys(df, actors), "first API key this actor created"),
        (_bursts(df, actors, burst, window), f"mass deletion ({burst}+ within {burst_window})"),
        (departed >= 0, lambda rows: "activity after own " + plain(
            action.iloc[departed[rows.index]]).map(DEPARTURES).set_axis(rows.index)),
        (_off_hours(df, actors, len(names), tz, usual_share), "off-hours administration"),
    ]  # fmt: skip
    flagged = np.logical_or.reduce([mask for mask, _ in rules])
    flagged &= in_window(df["created_at"], since, until).to_numpy()
    table = df[flagged]
    reason = pd.Series("", index=table.index, dtype="str")
    for mask, text in rules:
        reason = reason.mask(mask[flagged], reason + "; " + (text if isinstance(text, str)
                                                             else text(table)))  # fmt: skip
    table = table.assign(reason=reason.str.removeprefix("; "))
    return table.sort_values(["created_at", "id"], ascending=False, ignore_index=True)


def _checked_window(burst: int, burst_window: str, usual_share: float) -> pd.Timedelta:
    """Return ``burst_window`` as a Timedelta once every rule setting is checked."""
    if not isinstance(usual_share, int | float) or not 0 < usual_share < 1:
        raise InvalidQuery(
            f"usual_share={usual_share!r} must be a fraction between 0 and 1",
            parameter="usual_share",
        )
    check_whole_number("burst", burst, "deletions by one actor that make a burst", minimum=2)
    problem = InvalidQuery(
        f"burst_window={burst_window!r} must be a positive duration such as '10min'",
        parameter="burst_window",
    )
    try:
        window = pd.Timedelta(burst_window)
    except (TypeError, ValueError) as error:
        raise problem from error
    if pd.isna(window) or window <= pd.Timedelta(0):
        raise problem
    return window


def _actions_where(action: pd.Series, suffix: str) -> np.ndarray:
    """Return a mask of rows whose action ends with ``suffix`` (tested once per action)."""
    names = pd.Series(action.dropna().unique(), dtype="str")
    return action.isin(names[names.str.endswith(suffix)]).to_numpy(dtype=bool)


def _first_api_keys(df: pd.DataFrame, actors: np.ndarray) -> np.ndarray:
    """Return a mask of each actor's earliest ``api_key.created``."""
    rows = np.flatnonzero((df["action"] == "api_key.created").to_numpy(dtype=bool) & (actors >= 0))
    order = rows[np.lexsort((utc_array(df["created_at"])[rows], actors[rows]))]
    first = np.unique(actors[order], return_index=True)[1]
    mask = np.zeros(len(df), dtype=bool)
    mask[order[first]] = True
    return mask


def _bursts(df: pd.DataFrame, actors: np.ndarray, burst: int, window: pd.Timedelta) -> np.ndarray:
    """Return a mask of deletions in a run of ``burst`` or more by one actor within ``window``."""
    rows = np.flatnonzero(_actions_where(df["action"], ".deleted") & (actors >= 0))
    seconds = utc_array(df["created_at"])[rows].astype("datetime64[s]").astype(np.int64)
    span = int(window.total_seconds())
    # One sorted key, actor first and then time, lets searchsorted find each
    # deletion's window; the gap between actors is wider than the window.
    offset = seconds - (seconds.min() if len(rows) else 0)
    order = np.lexsort((offset, actors[rows]))
    key = actors[rows][order].astype(np.int64) * (int(offset.max(initial=0)) + span + 1)
    key += offset[order]
    position = np.arange(len(key))
    left = np.searchsorted(key, key - span, side="left")
    full = position - left + 1 >= burst
    marks = np.zeros(len(key) + 1, dtype=np.int64)
    np.add.at(marks, left[full], 1)
    np.add.at(marks, position[full] + 1, -1)
    mask = np.zeros(len(df), dtype=bool)
    mask[rows[order]] = np.cumsum(marks)[:-1] > 0
    return mask


def after_leaving(df: pd.DataFrame) -> np.ndarray:
    """Return, per row, the position of the departure its actor acted after (-1: none).

    A departure is a ``member.removed`` or ``member.left`` naming the actor as
    the member. An event follows one when the latest of its actor's joins
    (``member.joined``) and departures before it is a departure; a join at the
    same moment as the event counts as before it, a departure as after.
    Positions count rows of ``df`` from 0.

    >>> from auditlab.frame import empty_frame
    >>> after_leaving(empty_frame()).tolist()
    []
    """
    actors, names = codes(df["actor_id"])
    found = np.full(len(df), -1, dtype=np.int64)
    action = df["action"]
    moves = np.flatnonzero(
        (action.isin([*DEPARTURES, "member.joined"]) & df["member_user_id"].notna()).to_numpy(bool)
    )
    mover = names.get_indexer(df["member_user_id"].to_numpy()[moves])
    moves, mover = moves[mover >= 0], mover[mover >= 0]
    at = utc_array(df["created_at"])
    events = np.flatnonzero(np.isin(actors, mover) & ~np.isnat(at))
    if not len(moves) or not len(events):
        return found
    leaving = action.isin(DEPARTURES).to_numpy(dtype=bool)
    # One sequence per actor, in time order: a join sorts before an event at the
    # same moment (key 2t), a departure after it (key 2t + 1).
    rows = np.concatenate([moves, events])
    is_move = np.arange(len(rows)) < len(moves)
    stamp = at[rows].astype(np.int64) - at[rows].astype(np.int64).min()
    key = 2 * stamp + (is_move & leaving[rows])
    who = np.concatenate([mover, actors[events]])
    order = np.lexsort((~is_move, key, who))
    rows, is_move = rows[order], is_move[order]
    who = who[order]
    latest = np.maximum.accumulate(np.where(is_move, np.arange(len(rows)), -1))
    own = (latest >= 0) & (who[np.maximum(latest, 0)] == who) & ~is_move
    departure = rows[np.maximum(latest, 0)]
    flagged = own & leaving[departure]
    found[rows[flagged]] = departure[flagged]
    return found


def _off_hours(
    df: pd.DataFrame, actors: np.ndarray, n_actors: int, tz: str, usual_share: float
) -> np.ndarray:
    """Return a mask of administrative actions at a time of day unusual for their actor."""
    admin = df["action"].isin(OFF_HOURS_ACTIONS).to_numpy(dtype=bool) & (actors >= 0)
    # Only actors who administer need a daily rhythm: number them 0..k-1, others -1
    # (the spare last slot is where code -1, no actor, lands).
    slot = np.full(n_actors + 1, -1, dtype=np.int64)
    administrators = np.unique(actors[admin])
    slot[administrators] = np.arange(len(administrators))
    who = slot[actors]
    local = wall_time(df["created_at"], tz)
    minute = (local.dt.hour * 60 + local.dt.minute).to_numpy(dtype=np.int64, na_value=0)
    time_bin = minute // BIN_MINUTES
    tracked = who >= 0
    counts = np.bincount(
        who[tracked] * BINS + time_bin[tracked], minlength=len(administrators) * BINS
    ).reshape(len(administrators), BINS)
    # Events near each time of day, on any day, wrapping at midnight.
    wrapped = np.concatenate([counts[:, -NEIGHBOURS:], counts, counts[:, :NEIGHBOURS]], axis=1)
    running = np.pad(wrapped.cumsum(axis=1), ((0, 0), (1, 0)))
    nearby = running[:, 2 * NEIGHBOURS + 1 :] - running[:, : -2 * NEIGHBOURS - 1]
    rows = np.flatnonzero(admin)
    history = counts.sum(axis=1)[who[rows]]
    usual = nearby[who[rows], time_bin[rows]] > usual_share * history
    start, end = WORK_HOURS
    in_work_hours = (minute[rows] >= start * 60) & (minute[rows] < end * 60)
    mask = np.zeros(len(df), dtype=bool)
    mask[rows] = ~np.where(history >= MIN_HISTORY, usual, in_work_hours)
    return mask
