"""Which addresses events come from: per-IP counts, version, private networks, chart."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from auditlab.analysis.figures import Labeller, Labels, make_figure
from auditlab.analysis.vocabulary import TOP, TimeBound, between, busiest_first, check_top, head

if TYPE_CHECKING:
    import plotly.graph_objects as go

IP_COLUMNS = (
    "ip", "events", "actors", "countries", "first_seen", "last_seen", "version", "is_private",
)  # fmt: skip
# Networks a company's own machines use: RFC 1918, loopback and link-local
# (IPv4), unique-local, loopback and link-local (IPv6). Documentation ranges
# such as 203.0.113.0/24 are not private networks.
PRIVATE_V4 = tuple(
    ipaddress.ip_network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16")
)
PRIVATE_V6_PREFIXES = ("fc", "fd", "fe8", "fe9", "fea", "feb")
IPV4 = r"^(?P<a>\d{1,3})\.(?P<b>\d{1,3})\.(?P<c>\d{1,3})\.(?P<d>\d{1,3})$"


def is_private_ip(ips: pd.Series) -> pd.Series:
    """Return, per address, whether it belongs to a private network (see ``PRIVATE_V4``).

    >>> is_private_ip(pd.Series(["10.1.2.3", "203.0.113.9", "fd00::1", "2001:db8::1"])).tolist()
    [True, False, True, False]
    """
    text = ips.astype("str").str.strip().str.lower()
    octets = pc.extract_regex(pa.array(text, type=pa.string()), IPV4)
    numbers = np.column_stack([
        pc.struct_field(octets, name).cast(pa.float64()).to_numpy(zero_copy_only=False)
        for name in "abcd"
    ])  # fmt: skip
    valid = ~np.isnan(numbers).any(axis=1) & (numbers <= 255).all(axis=1)
    whole = np.where(valid[:, None], numbers, 0).astype(np.int64)
    value = whole @ np.array([1 << 24, 1 << 16, 1 << 8, 1], dtype=np.int64)
    private_v4 = np.logical_or.reduce(
        [(value & int(net.netmask)) == int(net.network_address) for net in PRIVATE_V4]
    ) & valid
    private_v6 = text.str.contains(":", regex=False) & (
        text.str.startswith(PRIVATE_V6_PREFIXES) | (text == "::1")
    )
    return pd.Series(private_v4 | private_v6.to_numpy(dtype=bool, na_value=False),
                     index=ips.index, name="is_private")  # fmt: skip


def ip_summary(
    df: pd.DataFrame, top: int | None = TOP, *, since: TimeBound = None, until: TimeBound = None
) -> pd.DataFrame:
    """Return one row per IP address, the ``top`` busiest first.

    Columns: ``ip, events, actors, countries`` (distinct), ``first_seen,
    last_seen``, ``version`` (4 or 6) and ``is_private`` (see :func:`is_private_ip`).
    Events without an address are left out; ``top=None`` keeps every address.

    >>> from auditlab.frame import empty_frame
    >>> ip_summary(empty_frame()).columns.tolist()[:3]
    ['ip', 'events', 'actors']
    """
    top = check_top(top)
    table = (
        between(df, since, until, columns=["id", "ip", "actor_id", "country"])
        .groupby("ip")
        .agg(
            events=("id", "size"),
            actors=("actor_id", "nunique"),
            countries=("country", "nunique"),
            first_seen=("created_at", "min"),
            last_seen=("created_at", "max"),
        )
        .reset_index()
    )
    table["version"] = np.where(table["ip"].str.contains(":", regex=False), 6, 4)
    table["is_private"] = is_private_ip(table["ip"])
    table = table.astype({"ip": "str", "version": "int64"})
    return head(busiest_first(table, "ip", IP_COLUMNS), top)


def ip_summary_chart(
    df: pd.DataFrame, top: int | None = TOP, *, since: TimeBound = None, until: TimeBound = None,
    tz: str = "UTC", title: str | None = None, labels: Labels = None, template: Any = None,
    width: int | None = None, height: int | None = None,
) -> go.Figure:  # fmt: skip
    """Return a bar chart of :func:`ip_summary`: events per address, private ones set apart.

    >>> from auditlab.frame import empty_frame
    >>> ip_summary_chart(empty_frame()).layout.title.text
    'Busiest IP addresses — no events'
    """
    table = ip_summary(df, top, since=since, until=until)

    def traces(table: pd.DataFrame, name: Labeller) -> list[dict]:
        return [
            {"type": "bar", "orientation": "h", "y": rows["ip"], "x": rows["events"],
             "name": "private network" if private else "public or unknown",
             "customdata": rows[["actors", "countries"]].to_numpy(),
             "hovertemplate": "%{y}<br>%{x} events<br>%{customdata[0]} actors, "
                              "%{customdata[1]} countries<extra></extra>"}
            for private, rows in table.groupby("is_private", sort=True)
        ]  # fmt: skip

    return make_figure(
        table, traces, args=locals(), title="Busiest IP addresses", x="events", y="ip",
        yaxis={"autorange": "reversed", "categoryorder": "array",
               "categoryarray": table["ip"].tolist()}, labelled={"y": len(table)},
    )  # fmt: skip
