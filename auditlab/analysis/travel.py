"""Where each actor is: impossible travel between countries, and countries new to an actor.

Distances are capital-to-capital (see ``auditlab.analysis.geo``), so travel
inside one country is never seen and neighbouring countries are a few
hundred km apart.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from auditlab.analysis.geo import capitals, countries, distance_km
from auditlab.analysis.vocabulary import TimeBound, in_window, plain, utc_array
from auditlab.errors import InvalidQuery

TRAVEL_COLUMNS = (
    "actor_id", "first_id", "second_id", "first_country", "second_country", "minutes_apart",
    "distance_km", "speed_kmh",
)  # fmt: skip
NEW_COUNTRY_COLUMNS = (
    "actor_id", "actor_name", "country", "country_name", "first_seen", "first_id", "ip",
)  # fmt: skip
SETTLING_IN = pd.Timedelta(days=7)


def located(df: pd.DataFrame) -> pd.DataFrame:
    """Return the events that name both an actor and a country, oldest first per actor.

    >>> from auditlab.frame import empty_frame
    >>> located(empty_frame()).empty
    True
    """
    rows = df[df["actor_id"].notna() & df["country"].notna()]
    actors = pd.factorize(rows["actor_id"].to_numpy())[0]
    order = np.lexsort((utc_array(rows["created_at"]), actors))
    return rows.iloc[order]


def travel_anomalies(
    df: pd.DataFrame,
    max_speed_kmh: float = 1000,
    *,
    since: TimeBound = None,
    until: TimeBound = None,
) -> pd.DataFrame:
    """Return consecutive events of one actor from two countries too far apart to travel.

    Each row is a pair of consecutive located events of one actor whose
    countries' capitals are further apart than ``max_speed_kmh`` allows in
    the time between them. Events without a country are skipped; a country
    without a known position never makes a pair. ``since``/``until`` keep the
    pairs whose second event falls within them. Newest pair first.

    >>> from auditlab.frame import empty_frame
    >>> travel_anomalies(empty_frame()).columns.tolist()[:3]
    ['actor_id', 'first_id', 'second_id']
    """
    if isinstance(max_speed_kmh, bool) or not max_speed_kmh > 0:
        raise InvalidQuery(
            f"max_speed_kmh={max_speed_kmh!r} must be a positive number", parameter="max_speed_kmh"
        )
    rows = located(df)
    actor = rows["actor_id"].to_numpy()
    country = plain(rows["country"]).to_numpy()
    moved = np.flatnonzero((actor[1:] == actor[:-1]) & (country[1:] != country[:-1]))
    first, second = rows.iloc[moved], rows.iloc[moved + 1]
    where = capitals()
    start = where.reindex(country[moved])
    end = where.reindex(country[moved + 1])
    distance = distance_km(
        start["latitude"].to_numpy(), start["longitude"].to_numpy(),
        end["latitude"].to_numpy(), end["longitude"].to_numpy(),
    )  # fmt: skip
    minutes = (utc_array(second["created_at"]) - utc_array(first["created_at"])) / np.timedelta64(
        1, "m"
    )
    with np.errstate(divide="ignore"):
        speed = np.where(minutes > 0, distance / (minutes / 60), np.inf)
    pairs = pd.DataFrame({
        "actor_id": actor[moved], "first_id": first["id"].to_numpy(),
        "second_id": second["id"].to_numpy(), "first_country": country[moved],
        "second_country": country[moved + 1], "minutes_apart": minutes,
        "distance_km": distance, "speed_kmh": np.where(distance > 0, speed, 0.0),
        "second_at": second["created_at"].to_numpy(),
    })  # fmt: skip
    pairs = pairs.astype({column: "str" for column in TRAVEL_COLUMNS[:5]})
    pairs = pairs.astype({column: "float64" for column in TRAVEL_COLUMNS[5:]})
    keep = (pairs["speed_kmh"] > max_speed_kmh) & in_window(pairs["second_at"], since, until)
    return pairs[keep].sort_values("second_at", ascending=False, ignore_index=True)[
        list(TRAVEL_COLUMNS)
    ]


def new_countries(
    df: pd.DataFrame, *, since: TimeBound = None, until: TimeBound = None
) -> pd.DataFrame:
    """Return each actor's first event from a country, when it came after their first week.

    An actor's first week (``SETTLING_IN`` from their first event of any kind)
    shows where they normally are; a country first seen later is new. Columns:
    ``NEW_COUNTRY_COLUMNS``; ``since``/``until`` keep firsts within them.
    Oldest first.

    >>> from auditlab.frame import empty_frame
    >>> new_countries(empty_frame()).columns.tolist()[:3]
    ['actor_id', 'actor_name', 'country']
    """
    began = df[df["actor_id"].notna()].groupby("actor_id")["created_at"].min()
    firsts = located(df).drop_duplicates(["actor_id", "country"])
    settled = utc_array(began.reindex(firsts["actor_id"].to_numpy())) + SETTLING_IN.to_numpy()
    firsts = firsts[utc_array(firsts["created_at"]) >= settled]
    firsts = firsts[in_window(firsts["created_at"], since, until)]
    table = pd.DataFrame({
        "actor_id": firsts["actor_id"], "actor_name": firsts["actor_name"],
        "country": plain(firsts["country"]), "first_seen": firsts["created_at"],
        "first_id": firsts["id"], "ip": firsts["ip"],
    })  # fmt: skip
    names = countries()["country_name"].reindex(table["country"])
    table.insert(3, "country_name", names.to_numpy())
    table = table.astype({"country_name": "str"})
    return table.sort_values(["first_seen", "first_id"], ignore_index=True)
