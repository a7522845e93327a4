"""First mile, last mile and the gap: who is far from frequent transit, on foot.

*First mile* (per origin): walking minutes over the street network from a home to
the nearest stop and to the nearest frequent stop, cycling minutes to the nearest
frequent stop, and how many routes are within a walk. An origin is *in the gap*
when walking to frequent transit takes longer than ``threshold_min`` minutes, or
no frequent stop is within reach at all.

*Last mile* (per destination): walking minutes from the nearest frequent stop to a
job, school or clinic, and the opportunities a rider loses to the gap.

Minutes are street seconds / 60 (not rounded): a stop 400 m away at 3.6 km/h is
6.67 minutes. Searches reach 60 minutes on foot and 30 minutes by bike; beyond
that (or off the street network) the minutes are NaN and the point is in the gap.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import AccessError, show_value
from ..streets import UnsnappedPointsWarning, snap_points
from .points import (
    analysis_attrs,
    check_columns,
    check_layer,
    check_minutes,
    result_geometry,
    snap_layer,
)
from .stops import nearest_stop_times, stop_routes, window_stops

__all__ = ["first_mile", "last_mile", "gap_summary", "WALK_SEARCH_MIN", "BIKE_SEARCH_MIN"]

#: Longest walk searched for a stop, minutes; farther stops give NaN minutes.
WALK_SEARCH_MIN = 60.0

#: Longest bike ride searched for a frequent stop, minutes.
BIKE_SEARCH_MIN = 30.0

#: Walking bands of :func:`gap_summary`, minutes.
SUMMARY_BANDS_MIN = (5, 10, 15)

#: Accessibility column read by :func:`gap_summary` (see :mod:`.accessibility`).
JOBS_45_COLUMN = "jobs_cumulative_45min"


def _steps(first: float, last: float) -> tuple[float, ...]:
    return (first, last) if first < last else (first,)


def _with_population(frame: pd.DataFrame, population: str | None) -> pd.Series:
    if population is None:
        return pd.Series(1.0, index=frame.index)
    return frame[population].astype("float64")


def first_mile(
    network,
    origins: gpd.GeoDataFrame,
    *,
    start="07:00",
    end="09:00",
    max_headway_min: float = 15,
    threshold_min: float = 10,
    speed_walking: float = 3.6,
    speed_cycling: float = 12,
    population: str | None = "population",
) -> gpd.GeoDataFrame:
    """Measure walking and cycling from each origin to transit, and whether it is in the gap.

    Parameters
    ----------
    network : TransportNetwork
        Streets and timetable of one service date.
    origins : GeoDataFrame
        Homes: unique ``id``, a CRS, points (polygons become representative points).
        H3 cell ids give hexagon geometry in the result.
    start, end : str or number
        Time window, ``"HH:MM"`` (Porto Alegre's sample feed runs 11:20-17:50: use
        ``"14:00"``-``"16:00"`` there).
    max_headway_min : float
        A stop is frequent when its mean headway in the window is at most this (min).
    threshold_min : float
        Longest acceptable walk to frequent transit, minutes.
    speed_walking, speed_cycling : float
        km/h (r5py's defaults 3.6 and 12).
    population : str or None
        Population column of ``origins`` (None: every origin counts as 1 resident).

    Returns
    -------
    GeoDataFrame
        One row per origin, in input order: the origins' columns, then
        ``population``, ``walk_min_stop`` and ``stop_id`` (nearest stop with a
        departure in the window), ``walk_min_frequent_stop``, ``frequent_stop_id``,
        ``frequent_stop_headway_min``, ``bike_min_frequent_stop``,
        ``routes_within_threshold`` (distinct routes departing in the window from
        stops within ``threshold_min`` on foot) and ``gap``. Minutes are NaN beyond
        60 minutes' walk (30 by bike) or off the street network.

    Raises
    ------
    RoutingError
        Bad origins (no ``id``, duplicate ids, no CRS), or none on the street network.
    AccessError
        Bad population column or parameters.

    Warns
    -----
    AccessWarning
        No service, or no frequent stop, in the window (every origin is in the gap).
    """
    (threshold_min,) = check_minutes(threshold_min, "threshold_min", scalar=True)
    origins = check_layer(origins, "origins", [population], what="population column")
    stops = window_stops(network, start, end, max_headway_min)
    masks = {"served": stops["served"].to_numpy(), "frequent": stops["frequent"].to_numpy()}
    points = snap_layer(network.walk, origins, "origins")
    walk, within = nearest_stop_times(
        network.walk, points, network.snapped_stops("WALK"), masks,
        speed_walking, _steps(max(threshold_min, 15.0), WALK_SEARCH_MIN),
    )  # fmt: skip
    with warnings.catch_warnings():  # the walk snap has warned about points off the network
        warnings.simplefilter("ignore", UnsnappedPointsWarning)
        bike_points = snap_points(network.bike, origins)
    bike, _ = nearest_stop_times(
        network.bike, bike_points, network.snapped_stops("BICYCLE"),
        {"frequent": masks["frequent"]}, speed_cycling, _steps(5.0, BIKE_SEARCH_MIN),
    )  # fmt: skip
    stop_ids = stops["stop_id"].to_numpy(dtype=object)
    headway = stops["mean_headway_min"].to_numpy()
    result = pd.DataFrame(origins.drop(columns=origins.geometry.name)).reset_index(drop=True)
    result["population"] = _with_population(origins, population).to_numpy()
    result["walk_min_stop"] = walk["served"][0] / 60.0
    result["stop_id"] = _ids(stop_ids, walk["served"][1])
    result["walk_min_frequent_stop"] = walk["frequent"][0] / 60.0
    result["frequent_stop_id"] = _ids(stop_ids, walk["frequent"][1])
    result["frequent_stop_headway_min"] = _take(headway, walk["frequent"][1])
    result["bike_min_frequent_stop"] = bike["frequent"][0] / 60.0
    result["routes_within_threshold"] = _routes_within(
        within, threshold_min * 60.0, stop_routes(network, start, end)
    )
    # NaN (nothing within reach) compares False, so it counts as the gap.
    result["gap"] = ~(result["walk_min_frequent_stop"] <= threshold_min)
    frame = gpd.GeoDataFrame(result, geometry=result_geometry(origins))
    frame.attrs = analysis_attrs(
        "first_mile",
        network,
        window=f"{start}-{end}",
        max_headway_min=max_headway_min,
        threshold_min=threshold_min,
        speed_walking=speed_walking,
        speed_cycling=speed_cycling,
        population=population,
        frequent_stops=int(masks["frequent"].sum()),
    )
    return frame


def _ids(ids: np.ndarray, rows: np.ndarray) -> pd.Series:
    out = np.full(len(rows), None, dtype=object)
    out[rows >= 0] = ids[rows[rows >= 0]]
    return pd.Series(out, dtype="string")


def _take(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    out = np.full(len(rows), np.nan)
    out[rows >= 0] = values[rows[rows >= 0]]
    return out


def _routes_within(table, limit_s: float, routes: pd.DataFrame) -> np.ndarray:
    """Distinct routes departing from the stops each row reaches within ``limit_s``."""
    rows = np.repeat(np.arange(table.shape[0]), np.diff(table.indptr))
    near = table.seconds <= limit_s
    pairs = pd.DataFrame({"row": rows[near], "stop": table.indices[near]})
    reached = pairs.merge(routes, on="stop")[["row", "route_id"]].drop_duplicates()
    counts = np.bincount(reached["row"].to_numpy(), minlength=table.shape[0])
    return counts.astype("int64")


def last_mile(
    network,
    destinations: gpd.GeoDataFrame,
    opportunities: str | Sequence[str] = ("jobs", "schools", "healthcare"),
    *,
    start="07:00",
    end="09:00",
    max_headway_min: float = 15,
    threshold_min: float = 10,
    speed_walking: float = 3.6,
) -> gpd.GeoDataFrame:
    """Measure the walk from frequent transit to each destination, and what the gap costs.

    Parameters
    ----------
    network : TransportNetwork
        Streets and timetable of one service date.
    destinations : GeoDataFrame
        Jobs, schools, clinics: unique ``id``, a CRS, points or polygons.
    opportunities : str or sequence of str
        Opportunity columns of ``destinations`` (numbers >= 0).
    start, end : str or number
        Time window, ``"HH:MM"``.
    max_headway_min : float
        Frequent means a mean headway of at most this many minutes.
    threshold_min : float
        Longest acceptable walk from frequent transit, minutes.
    speed_walking : float
        km/h.

    Returns
    -------
    GeoDataFrame
        One row per destination: its columns, ``walk_min_from_frequent_stop``,
        ``frequent_stop_id``, ``frequent_stop_headway_min``, ``gap`` and
        ``<opportunity>_lost_to_gap`` (the opportunities of destinations in the gap,
        0 elsewhere) per opportunity column.

    Raises
    ------
    RoutingError
        Bad destinations, or none on the street network.
    AccessError
        A missing or negative opportunity column, bad parameters.
    """
    (threshold_min,) = check_minutes(threshold_min, "threshold_min", scalar=True)
    names = [opportunities] if isinstance(opportunities, str) else list(opportunities)
    destinations = check_layer(destinations, "destinations", names, what="opportunity column")
    stops = window_stops(network, start, end, max_headway_min)
    points = snap_layer(network.walk, destinations, "destinations")
    walk, _ = nearest_stop_times(
        network.walk, points, network.snapped_stops("WALK"),
        {"frequent": stops["frequent"].to_numpy()}, speed_walking,
        _steps(max(threshold_min, 15.0), WALK_SEARCH_MIN), to_stops=False,
    )  # fmt: skip
    seconds, stop = walk["frequent"]
    result = pd.DataFrame(destinations.drop(columns=destinations.geometry.name))
    result = result.reset_index(drop=True)
    result["walk_min_from_frequent_stop"] = seconds / 60.0
    result["frequent_stop_id"] = _ids(stops["stop_id"].to_numpy(dtype=object), stop)
    result["frequent_stop_headway_min"] = _take(stops["mean_headway_min"].to_numpy(), stop)
    result["gap"] = ~(result["walk_min_from_frequent_stop"] <= threshold_min)
    for name in names:
        result[f"{name}_lost_to_gap"] = result[name].where(result["gap"], 0)
    frame = gpd.GeoDataFrame(result, geometry=result_geometry(destinations))
    frame.attrs = analysis_attrs(
        "last_mile",
        network,
        window=f"{start}-{end}",
        max_headway_min=max_headway_min,
        threshold_min=threshold_min,
        speed_walking=speed_walking,
        opportunities=names,
    )
    return frame


def weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """Return the smallest value at which the cumulative weight reaches half the total.

    Parameters
    ----------
    values : ndarray of float
        NaN counts as farther than any value.
    weights : ndarray of float
        Non-negative weights (people).

    Returns
    -------
    float
        NaN when the weights add up to 0 or the median falls among the NaN values.
    """
    values = np.where(np.isnan(values), np.inf, values)
    total = weights.sum()
    if not total > 0:
        return float("nan")
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    median = values[order][np.searchsorted(cumulative, total / 2.0)]
    return float(median) if np.isfinite(median) else float("nan")


def _summary_row(frame: pd.DataFrame) -> dict:
    people = frame["population"].to_numpy(dtype="float64")
    minutes = frame["walk_min_frequent_stop"].to_numpy(dtype="float64")
    total = people.sum()
    row = {"residents": total}
    for band in SUMMARY_BANDS_MIN:
        row[f"residents_within_{band}_min"] = people[minutes <= band].sum()
    gap = frame["gap"].to_numpy(dtype=bool)
    row["residents_in_gap"] = people[gap].sum()
    row["gap_share"] = row["residents_in_gap"] / total if total > 0 else np.nan
    row["median_walk_min_frequent_stop"] = weighted_median(minutes, people)
    if JOBS_45_COLUMN in frame.columns:
        jobs = frame[JOBS_45_COLUMN].to_numpy(dtype="float64")
        row["jobs_within_45_min_mean"] = (jobs * people).sum() / total if total > 0 else np.nan
    return row


def gap_summary(first_mile_result: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Residents near frequent transit and in the gap, overall or per group.

    Parameters
    ----------
    first_mile_result : DataFrame
        A :func:`first_mile` result (``population``, ``walk_min_frequent_stop``,
        ``gap``). Join ``accessibility(..., opportunities="jobs")`` onto it to also
        get jobs within 45 minutes (its ``jobs_cumulative_45min`` column).
    by : str, optional
        A grouping column of the result (income band, district).

    Returns
    -------
    DataFrame
        One row ``"all"``, preceded by one row per group when ``by`` is given:
        ``residents``, ``residents_within_5_min`` / ``10`` / ``15`` (walking to
        frequent transit), ``residents_in_gap``, ``gap_share`` (of residents),
        ``median_walk_min_frequent_stop`` (population-weighted; NaN when more than
        half are beyond reach) and, when the jobs column is there,
        ``jobs_within_45_min_mean`` (population-weighted mean).

    Raises
    ------
    AccessError
        Missing columns, or a ``by`` column that is not there.
    """
    if not isinstance(first_mile_result, pd.DataFrame):
        raise AccessError(
            "first_mile_result must be the DataFrame first_mile() returns, got "
            f"{type(first_mile_result).__name__}"
        )
    needed = ["population", "walk_min_frequent_stop", "gap"]
    missing = [c for c in needed + ([by] if by else []) if c not in first_mile_result.columns]
    if missing:
        raise AccessError(
            f"first_mile_result has no column(s) {missing}; is it a first_mile() result? "
            f"columns are {show_value(list(first_mile_result.columns))}"
        )
    first_mile_result = check_columns(
        first_mile_result, ["population"], "first_mile_result", what="column"
    )
    rows, labels = [], []
    if by is not None:
        for label, group in first_mile_result.groupby(by, dropna=False, sort=True):
            rows.append(_summary_row(group))
            labels.append(label)
    rows.append(_summary_row(first_mile_result))
    labels.append("all")
    table = pd.DataFrame(rows, index=pd.Index(labels, name=by or "group", dtype=object))
    table.attrs = {**first_mile_result.attrs, "analysis": "gap_summary", "by": by}
    return table
