"""The events a reviewer must see, each with the rules it meets and their reasons.

The rules, their thresholds, severities and allowlists are data
(``auditlab/analysis/rules.toml``, see :mod:`auditlab.analysis.rules`); this
module applies the event rules, each vectorised over the whole frame:

- listing rules (``actions``): every event with one of the listed actions,
  with the reason the file gives (role changes, member removals, API keys,
  the organisation itself, SSO and domain settings);
- ``privileged_role``: a ``member.role_changed`` to one of ``roles``;
- ``own_role_changed``: actors who change their own role;
- ``first_api_key``: the first ``api_key.created`` of an actor in the frame;
- ``mass_deletion``: ``burst`` or more ``*.deleted`` by one actor within
  ``window``; every deletion of the burst is listed;
- ``after_removal``: anything an actor does after their own
  ``member.removed`` ("after own removal") or ``member.left`` ("after own
  departure"), until they join again (``after_leaving``);
- ``off_hours``: a ``watch``-ed action at a time of day, in ``tz``, when its
  actor is rarely active: at most ``usual_share`` of all their events fall
  within two hours either side of that time of day, on any day. That follows
  each person's own working hours wherever they live. Actors with fewer than
  ``min_history`` events have no usual hours yet; for them off-hours means
  outside ``work_hours`` in ``tz``. Weekends alone are not off-hours: the org
  works some.

Service accounts (``allow.service_accounts``) are left out of ``mass_deletion``
and ``off_hours``.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import pandas as pd

from auditlab.analysis.rules import BEHAVIOUR_RULES, LISTING, Rule, Rules, resolve_rules
from auditlab.analysis.vocabulary import TimeBound, codes, in_window, plain, utc_array, wall_time

SENSITIVE_COLUMNS = (
    "id", "created_at", "action", "actor_id", "actor_name", "actor_email", "member_user_id",
    "member_role", "source", "ip", "country", "rule", "reason",
)  # fmt: skip
FRAME_COLUMNS = SENSITIVE_COLUMNS[:-2]
# The actions by which a member leaves the org, and what the rules call them.
DEPARTURES: dict[str, str] = {"member.removed": "removal", "member.left": "departure"}
BIN_MINUTES = 15
BINS = 24 * 60 // BIN_MINUTES
NEIGHBOURS = 120 // BIN_MINUTES  # two hours either side: absorbs a clock change
# A rule's reason: one text, or a function of the flagged rows for texts that vary.
Reason = str | Callable[[pd.DataFrame], pd.Series]


def sensitive_events(
    df: pd.DataFrame,
    *,
    tz: str = "UTC",
    since: TimeBound = None,
    until: TimeBound = None,
    rules: Rules | str | os.PathLike[str] | None = None,
    burst: int | None = None,
    burst_window: str | None = None,
    usual_share: float | None = None,
) -> pd.DataFrame:
    """Return the events a reviewer must see, newest first, each with its ``rule`` and ``reason``.

    Columns: ``SENSITIVE_COLUMNS``; ``rule`` joins the ids of every rule the
    event meets, ``reason`` their reasons, each with "; ", in the rules'
    order. ``rules`` is a :class:`~auditlab.analysis.rules.Rules`, the path of
    a TOML rules file, or None for the shipped rules; ``burst``,
    ``burst_window`` and ``usual_share`` replace those settings of
    ``mass_deletion`` and ``off_hours``. The rules read the whole frame (a
    first API key, a removal, a burst, usual hours); ``since``/``until`` then
    keep the events created within them. The module docstring lists the rules.

    >>> from auditlab.frame import empty_frame
    >>> sensitive_events(empty_frame()).columns[-2:].tolist()
    ['rule', 'reason']
    """
    chosen = (
        resolve_rules(rules)
        .with_settings("mass_deletion", burst=burst, window=burst_window,
                       names={"window": "burst_window"})
        .with_settings("off_hours", usual_share=usual_share)
    )  # fmt: skip
    df = df[list(FRAME_COLUMNS)].reset_index(drop=True)
    hits = event_rule_hits(df, chosen, tz)
    flagged = np.zeros(len(df), dtype=bool)
    for _, mask, _ in hits:
        flagged |= mask
    flagged &= in_window(df["created_at"], since, until).to_numpy()
    table = df[flagged]
    rule = pd.Series("", index=table.index, dtype="str")
    reason = rule.copy()
    for rule_id, mask, text in hits:
        hit = mask[flagged]
        rule = rule.mask(hit, rule + "; " + rule_id)
        reason = reason.mask(hit, reason + "; " + (text if isinstance(text, str) else text(table)))
    table = table.assign(rule=rule.str.removeprefix("; "), reason=reason.str.removeprefix("; "))
    return table.sort_values(["created_at", "id"], ascending=False, ignore_index=True)


def event_rule_hits(
    df: pd.DataFrame, rules: Rules, tz: str = "UTC"
) -> list[tuple[str, np.ndarray, Reason]]:
    """Return, per event rule in ``rules`` (in order), its id, the mask of events it flags
    and its reason.

    ``df`` holds at least ``FRAME_COLUMNS``, in any order; masks are positional.

    >>> from auditlab.frame import empty_frame
    >>> [rule_id for rule_id, _, _ in event_rule_hits(empty_frame(), resolve_rules(None))][:2]
    ['role_changed', 'member_removed']
    """
    actors, names = codes(df["actor_id"])
    service = df["actor_id"].isin(rules.allow.service_accounts).to_numpy(dtype=bool)
    hits = []
    for rule in rules:
        if rule.id not in _EVENT_RULES and LISTING not in rule.settings:
            continue
        build = _EVENT_RULES.get(rule.id, _listed)
        mask, reason = build(df, rule, actors, names, tz)
        if rule.id in BEHAVIOUR_RULES:
            mask = mask & ~service
        hits.append((rule.id, mask, reason))
    return hits


def _listed(df: pd.DataFrame, rule: Rule, *_: object) -> tuple[np.ndarray, Reason]:
    reasons = rule.settings[LISTING]
    mask = df["action"].isin(reasons.keys()).to_numpy(dtype=bool)
    return mask, lambda rows: plain(rows["action"]).map(reasons)


def _role_changes(df: pd.DataFrame) -> np.ndarray:
    return (df["action"] == "member.role_changed").to_numpy(dtype=bool)


def _privileged_role(df: pd.DataFrame, rule: Rule, *_: object) -> tuple[np.ndarray, Reason]:
    granted = df["member_role"].isin(rule.settings["roles"]).to_numpy(dtype=bool)
    return _role_changes(df) & granted, lambda rows: "new role " + plain(rows["member_role"])


def _own_role_changed(df: pd.DataFrame, *_: object) -> tuple[np.ndarray, Reason]:
    own = (df["member_user_id"] == df["actor_id"]).to_numpy(dtype=bool, na_value=False)
    return _role_changes(df) & own, "changed own role"


def _first_api_key(
    df: pd.DataFrame, rule: Rule, actors: np.ndarray, *_: object
) -> tuple[np.ndarray, Reason]:
    return _first_api_keys(df, actors), "first API key this actor created"


def _mass_deletion(
    df: pd.DataFrame, rule: Rule, actors: np.ndarray, *_: object
) -> tuple[np.ndarray, Reason]:
    burst, window = rule.settings["burst"], rule.settings["window"]
    text = f"mass deletion ({burst}+ within {_duration_text(window)})"
    return _bursts(df, actors, burst, window), text


def _after_removal_rule(df: pd.DataFrame, *_: object) -> tuple[np.ndarray, Reason]:
    departed = after_leaving(df)
    action = df["action"]

    def reason(rows: pd.DataFrame) -> pd.Series:
        left = plain(action.iloc[departed[rows.index]]).map(DEPARTURES)
        return ("activity after own " + left).set_axis(rows.index)

    return departed >= 0, reason


def _off_hours_rule(
    df: pd.DataFrame, rule: Rule, actors: np.ndarray, names: pd.Index, tz: str
) -> tuple[np.ndarray, Reason]:
    return _off_hours(df, actors, len(names), tz, rule.settings), "off-hours administration"


_EVENT_RULES: dict[str, Callable[..., tuple[np.ndarray, Reason]]] = {
    "privileged_role": _privileged_role,
    "own_role_changed": _own_role_changed,
    "first_api_key": _first_api_key,
    "mass_deletion": _mass_deletion,
    "after_removal": _after_removal_rule,
    "off_hours": _off_hours_rule,
}


def _duration_text(duration: pd.Timedelta) -> str:
    """Return a duration as the short text pandas reads back: ``10min``, ``2h``, ``90s``.

    >>> _duration_text(pd.Timedelta("10min")), _duration_text(pd.Timedelta("2h"))
    ('10min', '2h')
    """
    seconds = int(duration.total_seconds())
    for unit, size in ((" days", 86400), ("h", 3600), ("min", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


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
    df: pd.DataFrame, actors: np.ndarray, n_actors: int, tz: str, settings: dict
) -> np.ndarray:
    """Return a mask of watched actions at a time of day unusual for their actor."""
    usual_share = settings["usual_share"]
    admin = df["action"].isin(settings["watch"]).to_numpy(dtype=bool) & (actors >= 0)
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
    start, end = settings["work_hours"]
    in_work_hours = (minute[rows] >= start * 60) & (minute[rows] < end * 60)
    mask = np.zeros(len(df), dtype=bool)
    mask[rows] = ~np.where(history >= settings["min_history"], usual, in_work_hours)
    return mask
