"""Transit stops as an access analysis sees them: served, frequent, and their routes.

A stop is *served* in a window when at least one departure leaves it in
``[start, end)``, and *frequent* when :func:`~transitmile.feeds.frequent_stops`
lists it (mean headway at most ``max_headway_min``), so both definitions are the
feed layer's own. Walking to stops goes over the street network, from the points'
snapped positions to the stops' snapped positions, with
:func:`~transitmile.streets.street_travel_times`.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..feeds import frequent_stops, stop_service
from ..feeds.service import departures
from ..streets import Snapped, SparseTimes, street_travel_times
from .points import AccessWarning, subset_snapped

__all__ = ["window_stops", "stop_routes", "nearest", "nearest_stop_times"]


def window_stops(network, start, end, max_headway_min: float) -> pd.DataFrame:
    """Service of every network stop in the window, in ``network.stops`` order.

    Parameters
    ----------
    network : TransportNetwork
        Streets and timetable of one service date.
    start, end : str or number
        ``"HH:MM"`` or seconds after midnight.
    max_headway_min : float
        Frequent means a mean headway of at most this many minutes.

    Returns
    -------
    DataFrame
        ``stop_id, trips, mean_headway_min, served, frequent``, one row per network
        stop (station entrances and other non-boarding stops are never served).

    Warns
    -----
    AccessWarning
        No departure at all in the window, or no frequent stop.
    """
    service = stop_service(network.feed, start, end).set_index("stop_id")
    frequent = frequent_stops(network.feed, start, end, max_headway_min=max_headway_min)
    table = pd.DataFrame({"stop_id": network.stops["id"].to_numpy()})
    table["trips"] = table["stop_id"].map(service["trips"]).fillna(0).astype("int64")
    table["mean_headway_min"] = table["stop_id"].map(service["mean_headway_min"])
    table["served"] = table["trips"] > 0
    table["frequent"] = table["stop_id"].isin(frequent["stop_id"])
    if not table["served"].any():
        warnings.warn(
            f"no departure at any stop between {start} and {end} on {network.date}: "
            "every point is in the gap",
            AccessWarning,
            stacklevel=3,
        )
    elif not table["frequent"].any():
        warnings.warn(
            f"no stop has a mean headway of {max_headway_min:g} min or less between {start} "
            f"and {end} on {network.date}: every point is in the gap",
            AccessWarning,
            stacklevel=3,
        )
    return table


def stop_routes(network, start, end) -> pd.DataFrame:
    """Distinct ``(stop, route_id)`` pairs with a departure in the window.

    Returns
    -------
    DataFrame
        ``stop`` (row of ``network.stops``) and ``route_id``.
    """
    rows = departures(network.feed, start, end)[["stop_id", "route_id"]].drop_duplicates()
    position = pd.Index(network.stops["id"]).get_indexer(rows["stop_id"])
    return pd.DataFrame({"stop": position, "route_id": rows["route_id"].to_numpy()})[position >= 0]


def nearest(table: SparseTimes, columns: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the smallest time and its column, among ``columns`` (a mask) if given.

    Parameters
    ----------
    table : SparseTimes
        Seconds from each row point to each column point.
    columns : ndarray of bool, optional
        Columns that count.

    Returns
    -------
    seconds : ndarray of float64
        NaN where no counted column is reached.
    column : ndarray of int64
        Column of that time, -1 where none; ties go to the lower column.
    """
    rows = np.repeat(np.arange(table.shape[0]), np.diff(table.indptr))
    keep = np.ones(len(rows), bool) if columns is None else columns[table.indices]
    rows, cols, secs = rows[keep], table.indices[keep], table.seconds[keep]
    order = np.lexsort((cols, secs, rows))
    rows, cols, secs = rows[order], cols[order], secs[order]
    first = np.ones(len(rows), bool)
    first[1:] = rows[1:] != rows[:-1]
    seconds = np.full(table.shape[0], np.nan)
    column = np.full(table.shape[0], -1, np.int64)
    seconds[rows[first]] = secs[first]
    column[rows[first]] = cols[first]
    return seconds, column


def nearest_stop_times(
    graph,
    points: Snapped,
    stops: Snapped,
    masks: dict[str, np.ndarray],
    speed_kmh: float,
    steps_min: tuple[float, ...],
    *,
    to_stops: bool = True,
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], SparseTimes]:
    """Nearest stop of each kind for every point, searching farther only where needed.

    The first search reaches ``steps_min[0]`` minutes from every point; each later
    step searches again, up to its limit, only from the points still missing a stop
    of some kind. Times and stops are those of one search up to the last limit.

    Parameters
    ----------
    graph : StreetGraph
        The network's walk or bike graph.
    points, stops : Snapped
        Points and network stops snapped to ``graph``.
    masks : dict of str to ndarray of bool
        Kinds of stop (``"served"``, ``"frequent"``), each a mask over ``stops``.
    speed_kmh : float
        Walking or cycling speed.
    steps_min : tuple of float
        Increasing search limits, minutes.
    to_stops : bool
        Points to stops (first mile) or stops to points (last mile).

    Returns
    -------
    found : dict of str to (seconds, stop)
        Per kind, float seconds (NaN beyond the last limit or off the network) and
        the stop's row in ``stops`` (-1).
    first_table : SparseTimes
        Point x stop seconds within ``steps_min[0]`` (for counts within a walk).
    """
    wanted = np.flatnonzero(np.logical_or.reduce(list(masks.values())))
    targets = subset_snapped(stops, wanted)
    found = {k: (np.full(len(points), np.nan), np.full(len(points), -1, np.int64)) for k in masks}
    todo = np.flatnonzero(points.snapped) if len(wanted) else np.empty(0, np.int64)
    first_table = SparseTimes(
        np.zeros(len(points) + 1, np.int64), np.empty(0, np.int32), np.empty(0, np.int32),
        (len(points), len(stops)),
    )  # fmt: skip
    if not len(todo):
        return found, first_table
    first = True
    for limit in steps_min:
        sources = subset_snapped(points, todo)
        if to_stops:
            table = street_travel_times(graph, sources, targets, speed_kmh, limit * 60)
        else:
            table = street_travel_times(graph, targets, sources, speed_kmh, limit * 60).T
        if first:
            first_table, first = _widen(table, todo, len(points), wanted, len(stops)), False
        missing = np.zeros(len(todo), bool)
        for kind, mask in masks.items():
            seconds, column = nearest(table, mask[wanted])
            hit = column >= 0
            found[kind][0][todo[hit]] = seconds[hit]
            found[kind][1][todo[hit]] = wanted[column[hit]]
            missing |= ~hit
        todo = todo[missing]
        if not len(todo):
            break
    return found, first_table


def _widen(table: SparseTimes, rows: np.ndarray, n_rows: int, cols: np.ndarray, n_cols: int):
    """Put a table of some rows and columns (both increasing) back into the full numbering."""
    counts = np.zeros(n_rows, np.int64)
    counts[rows] = np.diff(table.indptr)
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return SparseTimes(
        indptr, cols[table.indices].astype(np.int32), table.seconds, (n_rows, n_cols)
    )
