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
- activity after removal: anything an actor does after their own latest
  ``member.removed``, unless they joined again in between;
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

import numpy as np
import pandas as pd

from auditlab.actions import ACTIONS, action_category
from auditlab.analysis.vocabulary import TimeBound, in_window, plain, utc_array, wall_time
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
ADMIN_ACTIONS: frozenset[str] = frozenset(
    a for a in ACTIONS if action_category(a) in ("org", "sso", "domain", "api_key")
) | {"member.invited", "member.removed", "member.role_changed"}
PRIVILEGED_ROLES = ("ADMIN", "OWNER")
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
    window = _burst_window(burst, burst_window)
    df = df.reset_index(drop=True)
    action = df["action"]
    role_changed = (action == "member.role_changed").to_numpy(dtype=bool)
    role = plain(df["member_role"]).fillna("")
    rules: list[tuple[np.ndarray, str | pd.Series]] = [
        (action.isin(REASONS.keys()).to_numpy(dtype=bool), plain(action.map(REASONS))),
        (role_changed & role.isin(PRIVILEGED_ROLES).to_numpy(), "new role " + role),
        (role_changed & (df["member_user_id"] == df["actor_id"]).to_numpy(dtype=bool),
         "changed own role"),
        (_first_api_keys(df), "first API key this actor created"),
        (_bursts(df, burst, window), f"mass deletion ({burst}+ within {burst_window})"),
        (_after_removal(df), "activity after own removal"),
        (_off_hours(df, tz, usual_share), "off-hours administration"),
    ]  # fmt: skip
    flagged = np.logical_or.reduce([mask for mask, _ in rules])
    flagged &= in_window(df["created_at"], since, until).to_numpy()
    table = df.loc[flagged, list(SENSITIVE_COLUMNS[:-1])]
    reason = pd.Series("", index=table.index, dtype="str")
    for mask, text in rules:
        text = text[flagged] if isinstance(text, pd.Series) else text
        reason = reason.mask(mask[flagged], reason + "; " + text)
    table["reason"] = reason.str.removeprefix("; ")
    return table.sort_values(["created_at", "id"], ascending=False, ignore_index=True)


def _burst_window(burst: int, burst_window: str) -> pd.Timedelta:
    if isinstance(burst, bool) or not isinstance(burst, int) or burst < 2:
        raise InvalidQuery(f"burst={burst!r} must be a whole number >= 2", parameter="burst")
    try:
        window = pd.Timedelta(burst_window)
    except (TypeError, ValueError) as error:
        window = None
        cause: Exception | None = error
    else:
        cause = None
    if window is None or window <= pd.Timedelta(0):
        raise InvalidQuery(
            f"burst_window={burst_window!r} must be a positive duration such as '10min'",
            parameter="burst_window",
        ) from cause
    return window


def _actions_where(action: pd.Series, predicate: str) -> np.ndarray:
    """Return a mask of rows whose action ends with ``predicate`` (tested once per action)."""
    names = pd.Series(action.dropna().unique(), dtype="str")
    return action.isin(names[names.str.endswith(predicate)]).to_numpy(dtype=bool)


def _first_api_keys(df: pd.DataFrame) -> np.ndarray:
    """Return a mask of each actor's earliest ``api_key.created``."""
    created = df[(df["action"] == "api_key.created") & df["actor_id"].notna()]
    first = created.groupby("actor_id")["created_at"].idxmin()
    mask = np.zeros(len(df), dtype=bool)
    mask[first.to_numpy(dtype=np.int64)] = True
    return mask


def _bursts(df: pd.DataFrame, burst: int, window: pd.Timedelta) -> np.ndarray:
    """Return a mask of deletions in a run of ``burst`` or more by one actor within ``window``."""
    rows = np.flatnonzero(_actions_where(df["action"], ".deleted") & df["actor_id"].notna())
    actors = pd.factorize(df["actor_id"].to_numpy()[rows])[0].astype(np.int64)
    seconds = utc_array(df["created_at"].iloc[rows]).astype("datetime64[s]").astype(np.int64)
    span = int(window.total_seconds())
    # One sorted key, actor first and then time, lets searchsorted find each
    # deletion's window; the gap between actors is wider than the window.
    offset = seconds - (seconds.min() if len(rows) else 0)
    order = np.lexsort((offset, actors))
    key = actors[order] * (int(offset.max(initial=0)) + span + 1) + offset[order]
    position = np.arange(len(key))
    left = np.searchsorted(key, key - span, side="left")
    full = position - left + 1 >= burst
    marks = np.zeros(len(key) + 1, dtype=np.int64)
    np.add.at(marks, left[full], 1)
    np.add.at(marks, position[full] + 1, -1)
    mask = np.zeros(len(df), dtype=bool)
    mask[rows[order]] = np.cumsum(marks)[:-1] > 0
    return mask


def _after_removal(df: pd.DataFrame) -> np.ndarray:
    """Return a mask of events by actors after their own latest removal (and no new join)."""

    def latest(action: str) -> pd.Series:
        rows = df[(df["action"] == action) & df["member_user_id"].notna()]
        return rows.groupby("member_user_id")["created_at"].max()

    removed_at = latest("member.removed")
    candidates = np.flatnonzero(df["actor_id"].isin(removed_at.index))
    actors = df["actor_id"].to_numpy()[candidates]
    removal = utc_array(removed_at.reindex(actors))
    rejoined = utc_array(latest("member.joined").reindex(actors))
    at = utc_array(df["created_at"])[candidates]
    mask = np.zeros(len(df), dtype=bool)
    mask[candidates] = (at > removal) & ~((rejoined > removal) & (at >= rejoined))
    return mask


def _off_hours(df: pd.DataFrame, tz: str, usual_share: float) -> np.ndarray:
    """Return a mask of administrative actions at a time of day unusual for their actor."""
    local = wall_time(df["created_at"], tz)
    minute = (local.dt.hour * 60 + local.dt.minute).to_numpy(dtype=np.int64, na_value=0)
    time_bin = minute // BIN_MINUTES
    actors, names = pd.factorize(df["actor_id"].to_numpy())
    known = actors >= 0
    counts = np.bincount(
        actors[known] * BINS + time_bin[known], minlength=len(names) * BINS
    ).reshape(len(names), BINS)
    # Events near each time of day, on any day, wrapping at midnight.
    wrapped = np.concatenate([counts[:, -NEIGHBOURS:], counts, counts[:, :NEIGHBOURS]], axis=1)
    running = np.concatenate([np.zeros((len(names), 1), dtype=np.int64), wrapped.cumsum(axis=1)],
                             axis=1)  # fmt: skip
    nearby = running[:, 2 * NEIGHBOURS + 1 :] - running[:, : -2 * NEIGHBOURS - 1]
    totals = counts.sum(axis=1)
    actor = np.where(known, actors, 0)
    history = totals[actor] if len(names) else np.zeros(len(df), dtype=np.int64)
    usual = (
        nearby[actor, time_bin] > usual_share * history
        if len(names)
        else np.zeros(len(df), dtype=bool)
    )
    start, end = WORK_HOURS
    in_work_hours = (minute >= start * 60) & (minute < end * 60)
    regular = np.where(history >= MIN_HISTORY, usual, in_work_hours)
    admin = df["action"].isin(ADMIN_ACTIONS).to_numpy(dtype=bool)
    return admin & known & ~regular
