"""The events a reviewer must see, each with the reasons it matters.

Rules, each vectorised over the whole frame; an actor is one ``actor_id`` in
one org (``org_id``), so in a frame of several orgs each org's rules stand
apart (a removal in one org says nothing of the person's work in another):

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

from collections.abc import Callable

import numpy as np
import pandas as pd

from auditlab.actions import ACTIONS, action_category
from auditlab.analysis import lazy
from auditlab.analysis.vocabulary import TimeBound, codes, in_window, plain, utc_array, wall_time
from auditlab.checks import check_tz, check_whole_number
from auditlab.errors import InvalidQuery

SENSITIVE_COLUMNS = (
    "id", "created_at", "org_id", "action", "actor_id", "actor_name", "actor_email",
    "member_user_id", "member_role", "source", "ip", "country", "reason",
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
    """Return the events a reviewer must see, newest first, each with its org and ``reason``.

    Columns: ``SENSITIVE_COLUMNS``, text as text (no categories); ``reason``
    joins every rule the event meets with "; ". The rules read the whole
    frame (a first API key, a removal, a burst, usual hours);
    ``since``/``until`` then keep the events created within them. The module
    docstring lists the rules.

    >>> from auditlab.frame import empty_frame
    >>> sensitive_events(empty_frame()).columns[-1]
    'reason'
    """
    window = _checked_window(burst, burst_window, usual_share)
    wanted = list(SENSITIVE_COLUMNS[:-1])
    rhythm = None
    if lazy.is_lazy(df):
        watched = {*REASONS, *OFF_HOURS_ACTIONS, "api_key.created", "member.joined"}
        df, rhythm = lazy.sensitive_rows(df, wanted, watched, OFF_HOURS_ACTIONS, check_tz(tz))
    else:
        df = df[wanted].reset_index(drop=True)
    actors, names = actor_codes(df)
    action = df["action"]
    role_changed = (action == "member.role_changed").to_numpy(dtype=bool)
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
        (_after_removal(df, actors, names), "activity after own removal"),
        (_off_hours(df, actors, names, tz, usual_share, rhythm), "off-hours administration"),
    ]  # fmt: skip
    flagged = np.logical_or.reduce([mask for mask, _ in rules])
    flagged &= in_window(df["created_at"], since, until).to_numpy()
    table = df[flagged]
    reason = pd.Series("", index=table.index, dtype="str")
    for mask, text in rules:
        reason = reason.mask(mask[flagged], reason + "; " + (text if isinstance(text, str)
                                                             else text(table)))  # fmt: skip
    table = table.assign(reason=reason.str.removeprefix("; "))
    table = table.assign(**{column: plain(table[column]) for column in table.columns})
    return table.sort_values(["created_at", "id"], ascending=False, ignore_index=True)


def actor_codes(df: pd.DataFrame) -> tuple[np.ndarray, pd.MultiIndex]:
    """Return each row's actor code (-1: no actor), an actor being one actor_id in one org.

    Also the (``org_id``, ``actor_id``) each code stands for; a missing org is "".

    >>> rows = pd.DataFrame({"org_id": ["o1", "o2", "o1", None],
    ...                      "actor_id": ["u1", "u1", None, "u1"]})
    >>> found, names = actor_codes(rows)
    >>> found.tolist(), names.tolist()
    ([0, 1, -1, 2], [('o1', 'u1'), ('o2', 'u1'), ('', 'u1')])
    """
    org, orgs = codes(df["org_id"])
    who, ids = codes(df["actor_id"])
    known = who >= 0
    pair = (org[known] + 1) * max(len(ids), 1) + who[known]
    found = np.full(len(df), -1, dtype=np.int64)
    found[known], uniques = pd.factorize(pair)
    org_names = np.array(["", *orgs.astype("str")], dtype=object)[uniques // max(len(ids), 1)]
    actor_names = np.asarray(ids, dtype=object)[uniques % max(len(ids), 1)]
    return found, pd.MultiIndex.from_arrays([org_names, actor_names], names=["org_id", "actor_id"])


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


def _after_removal(df: pd.DataFrame, actors: np.ndarray, names: pd.MultiIndex) -> np.ndarray:
    """Return a mask of events by actors after their own latest removal (and no new join)."""

    def latest(action: str) -> np.ndarray:
        """Return, per actor code, when they were last the member of ``action`` (or NaT)."""
        rows = df[(df["action"] == action) & df["member_user_id"].notna()]
        rows = rows.assign(org_id=plain(rows["org_id"]).fillna(""))
        at = rows.groupby(["org_id", "member_user_id"])["created_at"].max()
        per_actor = np.full(len(names), np.datetime64("NaT"), dtype="datetime64[us]")
        known = names.get_indexer(at.index)
        per_actor[known[known >= 0]] = utc_array(at)[known >= 0]
        return per_actor[np.where(actors >= 0, actors, 0)] if len(names) else per_actor

    if not len(names):
        return np.zeros(len(df), dtype=bool)
    removal, rejoined = latest("member.removed"), latest("member.joined")
    at = utc_array(df["created_at"])
    return (actors >= 0) & (at > removal) & ~((rejoined > removal) & (at >= rejoined))


def _off_hours(
    df: pd.DataFrame,
    actors: np.ndarray,
    names: pd.MultiIndex,
    tz: str,
    usual_share: float,
    rhythm: pd.DataFrame | None = None,
) -> np.ndarray:
    """Return a mask of administrative actions at a time of day unusual for their actor.

    ``rhythm`` gives each administrator's events per time bin (rows by
    (``org_id``, ``actor_id``), columns 0..BINS-1) when df holds only some of
    their events; without it they are counted from df.
    """
    admin = df["action"].isin(OFF_HOURS_ACTIONS).to_numpy(dtype=bool) & (actors >= 0)
    # Only actors who administer need a daily rhythm: number them 0..k-1, others -1
    # (the spare last slot is where code -1, no actor, lands).
    slot = np.full(len(names) + 1, -1, dtype=np.int64)
    administrators = np.unique(actors[admin])
    slot[administrators] = np.arange(len(administrators))
    who = slot[actors]
    local = wall_time(df["created_at"], tz)
    minute = (local.dt.hour * 60 + local.dt.minute).to_numpy(dtype=np.int64, na_value=0)
    time_bin = minute // BIN_MINUTES
    if rhythm is None:
        tracked = who >= 0
        counts = np.bincount(
            who[tracked] * BINS + time_bin[tracked], minlength=len(administrators) * BINS
        ).reshape(len(administrators), BINS)
    else:
        known = rhythm.reindex(index=names[administrators], columns=range(BINS), fill_value=0)
        counts = known.to_numpy(dtype=np.int64)
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
