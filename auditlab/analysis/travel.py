"""Where each actor is: impossible travel between countries, and countries new to an actor.

Distances are capital-to-capital (see ``auditlab.analysis.geo``), so travel
inside one country is never seen and neighbouring countries are a few
hundred km apart. The thresholds are the ``impossible_travel`` and
``new_country`` rules (:mod:`auditlab.analysis.rules`); events from an address
in ``allow.networks`` and events of ``allow.service_accounts`` are left out,
and a country in ``allow.countries`` for an actor is never new to them.
"""

from __future__ import annotations

import ipaddress
import os
from typing import NamedTuple

import numpy as np
import pandas as pd

from auditlab.analysis.geo import capitals, countries, distance_km
from auditlab.analysis.rules import Allow, Rules, resolve_rules
from auditlab.analysis.vocabulary import TimeBound, codes, in_window, utc_array

TRAVEL_COLUMNS = (
    "actor_id", "actor_name", "first_id", "second_id", "first_country", "second_country",
    "minutes_apart", "distance_km", "speed_kmh",
)  # fmt: skip
NEW_COUNTRY_COLUMNS = (
    "actor_id", "actor_name", "country", "country_name", "first_seen", "first_id", "ip",
)  # fmt: skip
RuleSource = Rules | str | os.PathLike[str] | None


class Tracks(NamedTuple):
    """Each actor's located events, oldest first per actor, as parallel arrays."""

    rows: np.ndarray  # positions in the frame
    actor: np.ndarray  # actor codes
    country: np.ndarray  # country codes into ``countries``
    at: np.ndarray  # datetime64[us], UTC
    countries: pd.Index


def tracks(df: pd.DataFrame, allow: Allow | None = None) -> Tracks:
    """Return the events that name both an actor and a country, ordered by actor then time.

    Events from ``allow.networks`` and of ``allow.service_accounts`` are left out.

    >>> from auditlab.frame import empty_frame
    >>> len(tracks(empty_frame()).rows)
    0
    """
    actor, _ = codes(df["actor_id"])
    country, names = codes(df["country"])
    at = utc_array(df["created_at"])
    counted = (actor >= 0) & (country >= 0)
    if allow is not None:
        counted &= ~df["actor_id"].isin(allow.service_accounts).to_numpy(dtype=bool)
        counted &= ~in_networks(df["ip"], allow.networks)
    rows = np.flatnonzero(counted)
    rows = rows[np.lexsort((at[rows], actor[rows]))]
    return Tracks(rows, actor[rows], country[rows], at[rows], names)


def in_networks(ips: pd.Series, networks: tuple) -> np.ndarray:
    """Return, per address, whether it lies in one of ``networks`` (False when missing).

    >>> nets = (ipaddress.ip_network("198.51.100.0/24"),)
    >>> in_networks(pd.Series(["198.51.100.7", "203.0.113.9", None]), nets).tolist()
    [True, False, False]
    """
    if not networks:
        return np.zeros(len(ips), dtype=bool)
    found, unique = pd.factorize(ips.astype("str"))

    def inside(text: str) -> bool:
        try:
            address = ipaddress.ip_address(text.strip())
        except ValueError:
            return False
        return any(address in network for network in networks)

    hits = np.array([inside(text) for text in unique], dtype=bool)
    return np.where(found >= 0, hits[np.maximum(found, 0)] if len(hits) else False, False)


def travel_anomalies(
    df: pd.DataFrame,
    max_speed_kmh: float | None = None,
    *,
    since: TimeBound = None,
    until: TimeBound = None,
    rules: RuleSource = None,
) -> pd.DataFrame:
    """Return consecutive events of one actor from two countries too far apart to travel.

    Each row is a pair of consecutive located events of one actor whose
    countries' capitals are further apart than ``max_speed_kmh`` allows in
    the time between them. ``actor_name`` is the name on the second event.
    Events without a country are skipped; a country without a known position
    never makes a pair. ``since``/``until`` keep the pairs whose second event
    falls within them. Newest pair first. ``max_speed_kmh`` replaces the
    ``impossible_travel`` rule's own; ``rules`` is a ``Rules``, a rules file or
    None for the shipped rules.

    >>> from auditlab.frame import empty_frame
    >>> travel_anomalies(empty_frame()).columns.tolist()[:3]
    ['actor_id', 'actor_name', 'first_id']
    """
    chosen = resolve_rules(rules).with_settings("impossible_travel", max_speed_kmh=max_speed_kmh)
    rule = chosen.rules.get("impossible_travel")
    # Without the rule no speed is too fast: the same (empty) table.
    max_speed_kmh = rule.settings["max_speed_kmh"] if rule else np.inf
    track = tracks(df, chosen.allow)
    moved = np.flatnonzero(
        (track.actor[1:] == track.actor[:-1]) & (track.country[1:] != track.country[:-1])
    )
    where = capitals().reindex(track.countries.astype("str"))
    lat, lon = where["latitude"].to_numpy(), where["longitude"].to_numpy()
    start, end = track.country[moved], track.country[moved + 1]
    distance = distance_km(lat[start], lon[start], lat[end], lon[end])
    minutes = (track.at[moved + 1] - track.at[moved]) / np.timedelta64(1, "m")
    with np.errstate(divide="ignore", invalid="ignore"):
        speed = np.where(distance > 0, distance / (minutes / 60), 0.0)
    keep = speed > max_speed_kmh
    keep &= in_window(pd.Series(track.at[moved + 1]).dt.tz_localize("UTC"), since, until).to_numpy()
    pairs, newest = moved[keep], np.argsort(track.at[moved + 1][keep], kind="stable")[::-1]
    pairs = pairs[newest]
    first, second = track.rows[pairs], track.rows[pairs + 1]
    return pd.DataFrame({
        "actor_id": df["actor_id"].array[first], "actor_name": df["actor_name"].array[second],
        "first_id": df["id"].array[first], "second_id": df["id"].array[second],
        "first_country": track.countries[track.country[pairs]],
        "second_country": track.countries[track.country[pairs + 1]],
        "minutes_apart": minutes[keep][newest], "distance_km": distance[keep][newest],
        "speed_kmh": speed[keep][newest],
    }).astype({column: "str" for column in TRAVEL_COLUMNS[:6]})  # fmt: skip


def new_countries(
    df: pd.DataFrame,
    *,
    since: TimeBound = None,
    until: TimeBound = None,
    rules: RuleSource = None,
) -> pd.DataFrame:
    """Return each actor's first event from a country, when it came after their first days.

    An actor's first days (the ``new_country`` rule's ``settling_in`` from their
    first event of any kind) show where they normally are; a country first seen
    later is new, unless ``allow.countries`` expects it for them. Columns:
    ``NEW_COUNTRY_COLUMNS``; ``since``/``until`` keep firsts within them.
    Oldest first.

    >>> from auditlab.frame import empty_frame
    >>> new_countries(empty_frame()).columns.tolist()[:3]
    ['actor_id', 'actor_name', 'country']
    """
    chosen = resolve_rules(rules)
    rule = chosen.rules.get("new_country")
    if rule is None:  # without the rule nothing is new: the same table, empty
        df = df.iloc[:0]
    actor, _ = codes(df["actor_id"])
    at = utc_array(df["created_at"])
    began = pd.Series(at[actor >= 0]).groupby(actor[actor >= 0]).min()
    track = tracks(df, chosen.allow)
    pair = track.actor * max(len(track.countries), 1) + track.country
    # Tracks are ordered by actor then time: each (actor, country)'s first row wins.
    first = np.sort(np.unique(pair, return_index=True)[1])
    settling_in = rule.settings["settling_in"] if rule else pd.Timedelta(0)
    settled = began.reindex(track.actor[first]).to_numpy() + settling_in.to_numpy()
    first = first[track.at[first] >= settled]
    rows = track.rows[first]
    country = track.countries[track.country[first]].astype("str")
    table = pd.DataFrame({
        "actor_id": df["actor_id"].array[rows], "actor_name": df["actor_name"].array[rows],
        "country": country,
        "country_name": countries()["country_name"].reindex(country).array,
        "first_seen": df["created_at"].array[rows], "first_id": df["id"].array[rows],
        "ip": df["ip"].array[rows],
    }).astype({c: "str" for c in NEW_COUNTRY_COLUMNS if c != "first_seen"})  # fmt: skip
    expected = [
        code in chosen.allow.countries.get(actor, ())
        for actor, code in zip(table["actor_id"], table["country"], strict=True)
    ]
    table = table[in_window(table["first_seen"], since, until) & ~np.array(expected, dtype=bool)]
    return table.sort_values(["first_seen", "first_id"], ignore_index=True)
