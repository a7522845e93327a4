"""What is in a loaded Feed: one row per source feed and a total row."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .model import Feed
from .times import _trip_bounds

__all__ = ["feed_summary", "route_mode", "format_clock", "ROUTE_TYPE_NAMES"]

#: GTFS route_type -> mode name (the basic types of the GTFS reference).
ROUTE_TYPE_NAMES = {
    0: "tram",
    1: "subway",
    2: "rail",
    3: "bus",
    4: "ferry",
    5: "cable_tram",
    6: "aerial_lift",
    7: "funicular",
    11: "trolleybus",
    12: "monorail",
}

# Extended route types (Google's "Hierarchical Vehicle Type" list), by hundreds.
_EXTENDED = {1: "rail", 2: "bus", 4: "subway", 7: "bus", 8: "trolleybus", 9: "tram", 10: "ferry"}
_EXTENDED_EXACT = {1300: "aerial_lift", 1400: "funicular"}


def route_mode(route_type: pd.Series) -> pd.Series:
    """Mode name (``"bus"``, ``"rail"``...) of each GTFS route_type, ``"other"`` if unknown."""

    def name(value: int) -> str:
        value = int(value)
        if value in ROUTE_TYPE_NAMES:
            return ROUTE_TYPE_NAMES[value]
        if value in _EXTENDED_EXACT:
            return _EXTENDED_EXACT[value]
        return _EXTENDED.get(value // 100, "other")

    return route_type.map(name).astype(object)


def format_clock(seconds: float) -> str:
    """``"HH:MM:SS"`` (hours may exceed 24) from seconds after midnight; "" for NaN."""
    if seconds is None or not np.isfinite(seconds):
        return ""
    seconds = int(seconds)
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _row(feed: Feed, name: str, keep: dict[str, pd.Series]) -> dict:
    agencies = feed.agencies[keep["agencies"]]
    routes = feed.routes[keep["routes"]]
    stops = feed.stops[keep["stops"]]
    trips = feed.trips[keep["trips"]]
    st = feed.stop_times[keep["stop_times"]]
    _, last = _trip_bounds(st["trip_id"].to_numpy())
    boarding = st["departure_time"].to_numpy()[~last]
    first_dep = float(boarding.min()) if len(boarding) else np.nan
    last_dep = float(boarding.max()) if len(boarding) else np.nan
    row = {
        "feed": name,
        "service_date": feed.service_date,
        "agencies": len(agencies),
        "routes": len(routes),
    }
    modes = route_mode(routes["route_type"]).value_counts()
    for mode in sorted(set(route_mode(feed.routes["route_type"]))):
        row[f"routes_{mode}"] = int(modes.get(mode, 0))
    row.update(
        {
            "stops": len(stops),
            "stops_served": st["stop_id"].nunique(),
            "trips": len(trips),
            "headway_based_trips": int(trips["headway_based"].sum()),
            "stop_times": len(st),
            "first_departure": format_clock(first_dep),
            "last_departure": format_clock(last_dep),
            "service_span_h": (last_dep - first_dep) / 3600,
        }
    )
    return row


def feed_summary(feed: Feed) -> pd.DataFrame:
    """Agencies, routes by mode, stops, trips and service span of each feed of ``feed``.

    Returns
    -------
    DataFrame
        One row per source feed, then a ``"total"`` row when there are several:
        ``feed, service_date, agencies, routes, routes_<mode>...`` (per route_type
        name), ``stops`` (all), ``stops_served`` (with a stop time on the date),
        ``trips, headway_based_trips, stop_times, first_departure, last_departure``
        (``"HH:MM:SS"``, boarding times: trips' last stops are not departures) and
        ``service_span_h`` (hours from first to last departure).
    """
    trip_feed = feed.trips.set_index("trip_id")["feed"]
    stop_time_feed = feed.stop_times["trip_id"].map(trip_feed)
    rows = []
    for source in feed.sources:
        name = source.name
        keep = {
            "agencies": feed.agencies["feed"] == name,
            "routes": feed.routes["feed"] == name,
            "stops": feed.stops["feed"] == name,
            "trips": feed.trips["feed"] == name,
            "stop_times": stop_time_feed == name,
        }
        rows.append(_row(feed, name, keep))
    if len(feed.sources) > 1:
        everything = {
            key: pd.Series(True, index=getattr(feed, key).index)
            for key in ("agencies", "routes", "stops", "trips", "stop_times")
        }
        rows.append(_row(feed, "total", everything))
    return pd.DataFrame(rows)
