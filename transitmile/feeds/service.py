"""Service levels of a loaded Feed in a time window: per stop and per route.

Definitions, in planners' words:

- a *departure* is a stop_times row whose departure time falls in the window
  ``[start, end)``; the last stop of a trip is not a departure (nobody can board
  there), so a terminal served only by arriving trips has 0 trips;
- ``trips`` counts departures (a loop trip calling twice at a stop counts twice);
- ``trips_per_hour = trips / window hours``;
- ``mean_headway_min = window minutes / trips``, the average wait between
  departures as a timetable reads it (not the mean of the gaps between departures,
  which depends on where the window cuts them); NaN when there are no trips;
- ``n_routes`` counts distinct routes with a departure in the window.

Times are seconds after midnight of ``feed.service_date``: a window of
``"07:00"``-``"09:00"`` does not see the previous day's trips running past midnight.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import FeedError, show_value
from ._parse import parse_clock
from .model import Feed
from .times import _trip_bounds

__all__ = ["stop_service", "frequent_stops", "route_service", "departures", "service_window"]

_STOP_COLUMNS = [
    "stop_id",
    "trips",
    "trips_per_hour",
    "mean_headway_min",
    "n_routes",
    "stop_name",
    "stop_lat",
    "stop_lon",
]


def service_window(start: str | float, end: str | float) -> tuple[int, int]:
    """``(start, end)`` in seconds after midnight from ``"HH:MM"`` strings or seconds.

    Raises
    ------
    FeedError
        Unparseable values, or ``end`` not after ``start``.
    """
    start_s, end_s = parse_clock(start, "start"), parse_clock(end, "end")
    if end_s <= start_s:
        raise FeedError(
            f"end: the time window must end after it starts, got start={show_value(start)}, "
            f"end={show_value(end)}"
        )
    return start_s, end_s


def departures(feed: Feed, start: str | float, end: str | float) -> pd.DataFrame:
    """Departures in ``[start, end)``: stop_times rows except each trip's last stop.

    Returns
    -------
    DataFrame
        ``trip_id, stop_id, stop_sequence, departure_time, route_id, direction_id``.
    """
    start_s, end_s = service_window(start, end)
    st = feed.stop_times
    _, last = _trip_bounds(st["trip_id"].to_numpy())
    time = st["departure_time"].to_numpy()
    keep = ~last & (time >= start_s) & (time < end_s)
    rows = st.loc[keep, ["trip_id", "stop_id", "stop_sequence", "departure_time"]]
    trips = feed.trips.set_index("trip_id")[["route_id", "direction_id"]]
    return rows.join(trips, on="trip_id").reset_index(drop=True)


def _levels(trips: pd.Series, window_s: int) -> pd.DataFrame:
    trips = trips.astype("int64")
    hours = window_s / 3600
    headway = (window_s / 60) / trips.where(trips > 0)
    return pd.DataFrame(
        {"trips": trips, "trips_per_hour": trips / hours, "mean_headway_min": headway.astype(float)}
    )


def stop_service(
    feed: Feed, start: str | float = "07:00", end: str | float = "09:00"
) -> pd.DataFrame:
    """Departures, frequency and routes per stop in the window ``[start, end)``.

    Parameters
    ----------
    feed : Feed
    start, end : str or number
        ``"HH:MM"`` (hours may exceed 24) or seconds after midnight of the service date.

    Returns
    -------
    DataFrame
        One row per boarding stop (location_type 0), served or not: ``stop_id, trips,
        trips_per_hour, mean_headway_min`` (window minutes / trips, NaN for 0 trips),
        ``n_routes, stop_name, stop_lat, stop_lon``. See the module docstring for the
        definitions (a trip's last stop is not a departure).
    """
    start_s, end_s = service_window(start, end)
    rows = departures(feed, start_s, end_s)
    per_stop = rows.groupby("stop_id").agg(
        trips=("trip_id", "size"), n_routes=("route_id", "nunique")
    )
    stops = feed.stops[feed.stops["location_type"] == 0].set_index("stop_id")
    per_stop = per_stop.reindex(stops.index, fill_value=0)
    table = _levels(per_stop["trips"], end_s - start_s)
    table["n_routes"] = per_stop["n_routes"].astype("int64")
    table = table.join(stops[["stop_name", "stop_lat", "stop_lon"]])
    return table.rename_axis("stop_id").reset_index()[_STOP_COLUMNS]


def frequent_stops(
    feed: Feed,
    start: str | float = "07:00",
    end: str | float = "09:00",
    max_headway_min: float = 15,
) -> pd.DataFrame:
    """Find the stops whose mean headway in ``[start, end)`` is at most ``max_headway_min``.

    Same columns as :func:`stop_service`; a 15-minute headway over 07:00-09:00
    means at least 8 departures.
    """
    if not np.isfinite(max_headway_min) or max_headway_min <= 0:
        raise FeedError(f"max_headway_min: expected minutes > 0, got {show_value(max_headway_min)}")
    table = stop_service(feed, start, end)
    return table[table["mean_headway_min"] <= max_headway_min].reset_index(drop=True)


def route_service(
    feed: Feed, start: str | float = "07:00", end: str | float = "09:00"
) -> pd.DataFrame:
    """Trips, frequency and headway per route in the window ``[start, end)``.

    A route's trip counts when it leaves its first stop in the window. Both
    directions together give ``trips`` and ``trips_per_hour``; the busier direction
    gives ``peak_direction_trips`` and ``peak_direction_headway_min`` (window minutes
    / trips that way), the wait a rider sees on one side of the street.

    Returns
    -------
    DataFrame
        One row per route of the date: ``route_id, route_short_name, route_type,
        mode, trips, trips_per_hour, mean_headway_min, peak_direction_trips,
        peak_direction_headway_min, n_stops`` (stops with a departure of the route in
        the window), ``feed``.
    """
    from .summary import route_mode

    start_s, end_s = service_window(start, end)
    st = feed.stop_times
    first, _ = _trip_bounds(st["trip_id"].to_numpy())
    origins = st.loc[first, ["trip_id", "departure_time"]]
    time = origins["departure_time"]
    starting = origins.loc[(time >= start_s) & (time < end_s), "trip_id"]
    trips = feed.trips[feed.trips["trip_id"].isin(starting)]
    by_direction = trips.groupby(["route_id", "direction_id"]).size()
    routes = feed.routes.set_index("route_id")
    total = trips.groupby("route_id").size().reindex(routes.index, fill_value=0)
    peak = by_direction.groupby(level="route_id").max().reindex(routes.index, fill_value=0)
    table = _levels(total, end_s - start_s)
    peak_levels = _levels(peak, end_s - start_s)
    table["peak_direction_trips"] = peak_levels["trips"]
    table["peak_direction_headway_min"] = peak_levels["mean_headway_min"]
    served = departures(feed, start_s, end_s).groupby("route_id")["stop_id"].nunique()
    table["n_stops"] = served.reindex(routes.index, fill_value=0).astype("int64")
    table = table.join(routes[["route_short_name", "route_type", "feed"]])
    table["mode"] = route_mode(table["route_type"])
    columns = ["route_short_name", "route_type", "mode", *table.columns[:6], "feed"]
    return table[columns].rename_axis("route_id").reset_index()
