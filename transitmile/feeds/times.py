"""Complete stop times (interpolation) and expand frequencies.txt trips."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import FeedError, show_value
from ._parse import _isin, _parse_times, _require_columns, _sample, _to_number, _trip_bounds
from ._repair import drop_trips
from .notices import Notices


def _cumulative(values: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Cumulative sum restarting at every trip start (``values`` is 0 there)."""
    total = np.cumsum(values)
    start = np.maximum.accumulate(np.where(first, np.arange(len(values)), 0))
    return total - total[start]


def _distance_along(st: pd.DataFrame, stops: pd.DataFrame, first: np.ndarray) -> np.ndarray:
    """Metres (or shape units) travelled since the first stop of each trip.

    shape_dist_traveled when a trip gives it at every stop and it never decreases;
    otherwise the straight-line distance between consecutive stops, in a local UTM
    projection.
    """
    points = gpd.GeoSeries.from_xy(stops["stop_lon"], stops["stop_lat"], crs="EPSG:4326")
    projected = points.to_crs(points.estimate_utm_crs())
    xy = pd.DataFrame({"x": projected.x.to_numpy(), "y": projected.y.to_numpy()})
    xy.index = stops["stop_id"].to_numpy()
    x = xy["x"].reindex(st["stop_id"].to_numpy()).to_numpy()
    y = xy["y"].reindex(st["stop_id"].to_numpy()).to_numpy()
    step = np.hypot(np.diff(x, prepend=x[0]), np.diff(y, prepend=y[0]))
    step[first] = 0.0
    straight = _cumulative(step, first)

    shape = st["shape_dist_traveled"].to_numpy("float64")
    shape_step = np.diff(shape, prepend=0.0)
    shape_step[first] = 0.0
    usable = pd.Series(~np.isnan(shape) & (shape_step >= 0)).groupby(st["trip_id"].to_numpy())
    whole_trip = usable.transform("all").to_numpy()
    return np.where(whole_trip, shape, straight)


def _check_times(
    st: pd.DataFrame, where: str, notices: Notices
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Fill one-sided blanks; drop trips whose edges lack times or whose times go back.

    Returns the rows kept and their arrival and departure times (float, NaN blank).
    """
    columns = ["trip_id", "stop_sequence", "stop_id", "arrival_time", "departure_time"]
    arrival = st["arrival_time"].to_numpy("float64")
    departure = st["departure_time"].to_numpy("float64")
    st = st.assign(
        arrival_time=np.where(np.isnan(arrival), departure, arrival),
        departure_time=np.where(np.isnan(departure), arrival, departure),
    )
    trip_id = st["trip_id"].to_numpy()
    first, last = _trip_bounds(trip_id)
    open_end = (first | last) & st["arrival_time"].isna().to_numpy()
    if open_end.any():
        st = drop_trips(
            st,
            open_end,
            notices,
            "missing_trip_edge",
            f"{where}: the first and last stop of a trip need arrival/departure times; "
            f"trip {show_value(trip_id[open_end][0])} has none at its "
            f"{'first' if first[open_end][0] else 'last'} stop, row "
            f"{_sample(st, open_end, columns[:4])}",
            columns,
        ).reset_index(drop=True)
        trip_id = st["trip_id"].to_numpy()
        first, _ = _trip_bounds(trip_id)
    arrival = st["arrival_time"].to_numpy()
    departure = st["departure_time"].to_numpy()
    timed = np.flatnonzero(~np.isnan(arrival))
    gap = np.zeros(len(st), dtype=bool)
    same_trip = ~first[timed[1:]] & (trip_id[timed[1:]] == trip_id[timed[:-1]])
    gap[timed[1:]] = same_trip & (arrival[timed[1:]] < departure[timed[:-1]])
    for code, bad in (
        ("stop_time_with_departure_before_arrival_time", departure < arrival),
        ("stop_time_with_arrival_before_previous_departure_time", gap),
    ):
        bad = bad[st.index.to_numpy()] if len(bad) != len(st) else bad
        if bad.any():
            st = drop_trips(
                st,
                bad,
                notices,
                code,
                f"{where}: times go backwards along trip "
                f"{show_value(st['trip_id'].to_numpy()[bad][0])} (departure before arrival, or "
                f"arrival before the previous stop's departure), row {_sample(st, bad, columns)}",
                columns,
            )
    if len(st) != len(arrival):
        arrival, departure = arrival[st.index], departure[st.index]
        st = st.reset_index(drop=True)
    return st, arrival.copy(), departure.copy()


def _check_distances(st: pd.DataFrame, where: str, notices: Notices) -> None:
    """Report trips whose shape_dist_traveled decreases (interpolated by straight lines)."""
    shape = st["shape_dist_traveled"].to_numpy("float64")
    if np.isnan(shape).all():
        return
    step = np.diff(shape, prepend=np.nan)
    step[_trip_bounds(st["trip_id"].to_numpy())[0]] = np.nan
    decreasing = step < 0
    if decreasing.any():
        columns = ["trip_id", "stop_sequence", "stop_id", "shape_dist_traveled"]
        notices.add_rows(
            "decreasing_or_equal_stop_time_distance",
            "stop_times.txt",
            st,
            decreasing,
            "repaired",
            f"{where}: shape_dist_traveled decreases along "
            f"{st.loc[decreasing, 'trip_id'].nunique()} trips (their blank times are "
            f"interpolated by straight-line distance instead), row "
            f"{_sample(st, decreasing, columns)}",
            columns,
        )


def _complete_times(
    st: pd.DataFrame, stops: pd.DataFrame, name: str, notices: Notices
) -> pd.DataFrame:
    """Fill blank times: one-sided blanks from the other side, then interpolation.

    A stop with neither time gets a time interpolated between the surrounding timed
    stops of its trip, in proportion to the distance along the trip
    (:func:`_distance_along`); where the two timed stops are at the same distance,
    in proportion to the number of stops. Interpolated times are rounded to the second.
    Trips whose first or last stop has no time, or whose times go backwards, are
    dropped (:func:`_check_times`).
    """
    where = f"{name}/stop_times.txt"
    st, arrival, departure = _check_times(st, where, notices)
    _check_distances(st, where, notices)
    timed = ~np.isnan(arrival)
    trip_id = st["trip_id"].to_numpy()
    first, _ = _trip_bounds(trip_id)
    interpolated = ~timed
    if interpolated.any():
        position = np.arange(len(st))
        before = np.maximum.accumulate(np.where(timed, position, 0))
        after = np.minimum.accumulate(np.where(timed, position, len(st))[::-1])[::-1]
        distance = _distance_along(st, stops, first)
        todo = np.flatnonzero(interpolated)
        b, a = before[todo], after[todo]
        span = distance[a] - distance[b]
        with np.errstate(invalid="ignore", divide="ignore"):
            by_distance = (distance[todo] - distance[b]) / span
        by_count = (todo - b) / (a - b)
        fraction = np.clip(np.where(span > 0, by_distance, by_count), 0.0, 1.0)
        value = np.round(departure[b] + fraction * (arrival[a] - departure[b]))
        arrival[todo] = value
        departure[todo] = value
    return pd.DataFrame(
        {
            "trip_id": trip_id,
            "stop_id": st["stop_id"].to_numpy(),
            "stop_sequence": st["stop_sequence"].to_numpy(),
            "arrival_time": arrival.astype("int64"),
            "departure_time": departure.astype("int64"),
            "interpolated": interpolated,
        }
    )


def _expand_frequencies(
    frequencies: pd.DataFrame, trips: pd.DataFrame, stop_times: pd.DataFrame, name: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Turn frequencies.txt template trips into scheduled trips.

    Each frequencies.txt row gives departures at ``start_time + k * headway_secs`` for
    every such time before ``end_time`` (end exclusive). A template's stop times are
    shifted so that its first departure falls on each of them; trip ids become
    ``"<template>#<k>"`` with k counted over all rows of the template in time order.
    """
    trips = trips.assign(headway_based=False, frequency_block=np.int64(-1), headway_s=np.nan)
    if frequencies.empty:
        return trips, stop_times
    where = f"{name}/frequencies.txt"
    _require_columns(frequencies, ["trip_id", "start_time", "end_time", "headway_secs"], where)
    key = ["trip_id", "start_time", "end_time", "headway_secs"]
    rows = frequencies.reset_index(drop=True)
    start = _parse_times(rows, "start_time", where, key)
    end = _parse_times(rows, "end_time", where, key)
    headway = _to_number(rows, "headway_secs", where, key).to_numpy()
    exact = _to_number(rows.assign(exact_times=rows.get("exact_times")), "exact_times", where, key)
    bad = np.isnan(start) | np.isnan(end) | ~(headway > 0)
    if bad.any():
        raise FeedError(
            f"{where}: start_time, end_time and a headway_secs > 0 are required, row "
            f"{_sample(rows, bad, key)}"
        )
    unknown = ~_isin(rows["trip_id"], stop_times["trip_id"])
    if unknown.any():
        raise FeedError(
            f"{where}: trip_id {show_value(rows.loc[unknown, 'trip_id'].iloc[0])} has no "
            f"stop_times.txt rows"
        )
    count = np.maximum(np.ceil((end - start) / headway), 0).astype("int64")
    block = np.repeat(np.arange(len(rows)), count)
    step = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    runs = pd.DataFrame(
        {
            "template": rows["trip_id"].to_numpy()[block],
            "frequency_block": block.astype("int64"),
            "first_departure": start[block] + step * headway[block],
            "headway_s": headway[block].astype("float64"),
            "headway_based": (exact.fillna(0).to_numpy() != 1)[block],
        }
    ).sort_values(["template", "first_departure"], kind="stable", ignore_index=True)
    runs["trip_id"] = runs["template"] + "#" + runs.groupby("template").cumcount().astype(str)

    templates = stop_times[stop_times["trip_id"].isin(rows["trip_id"])]
    origin = templates.groupby("trip_id", sort=False)["departure_time"].first()
    runs["shift"] = (runs["first_departure"] - runs["template"].map(origin)).astype("int64")
    expanded = runs[["template", "trip_id", "shift"]].merge(
        templates.rename(columns={"trip_id": "template"}), on="template"
    )
    for column in ("arrival_time", "departure_time"):
        expanded[column] = expanded[column] + expanded["shift"]
    expanded = expanded.drop(columns=["template", "shift"])

    new_trips = runs.merge(
        trips.drop(columns=["headway_based", "frequency_block", "headway_s"]).rename(
            columns={"trip_id": "template"}
        ),
        on="template",
    )[trips.columns]
    is_template = trips["trip_id"].isin(rows["trip_id"])
    trips = pd.concat([trips[~is_template], new_trips], ignore_index=True)
    stop_times = pd.concat(
        [stop_times[~stop_times["trip_id"].isin(rows["trip_id"])], expanded], ignore_index=True
    ).sort_values(["trip_id", "stop_sequence"], kind="stable", ignore_index=True)
    return trips, stop_times
