"""Per-file tables of one feed: stops, stop_times, trips, routes, agencies, transfers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import partridge as ptg

from ..errors import FeedError, show_value
from ._parse import _column, _isin, _parse_times, _require_columns, _sample, _to_number


def _stops(raw: ptg.gtfs.Feed, name: str) -> pd.DataFrame:
    where = f"{name}/stops.txt"
    stops = raw.stops
    _require_columns(stops, ["stop_id", "stop_lat", "stop_lon"], where)
    blank_id = stops["stop_id"].isna()
    if blank_id.any():
        raise FeedError(f"{where}: blank stop_id in row {_sample(stops, blank_id, stops.columns)}")
    duplicated = stops["stop_id"].duplicated(keep=False)
    if duplicated.any():
        first = stops.loc[duplicated, "stop_id"].iloc[0]
        shown = [c for c in ("stop_id", "stop_name", "stop_lat", "stop_lon") if c in stops]
        rows = stops.loc[stops["stop_id"] == first, shown]
        raise FeedError(
            f"{where}: duplicate stop_id {show_value(first)} in {len(rows)} rows "
            f"{show_value(rows.head(3).to_dict('records'), 300)} "
            f"({stops.loc[duplicated, 'stop_id'].nunique()} duplicated ids in all)"
        )
    key = ["stop_id", "stop_name"]
    out = pd.DataFrame(
        {
            "stop_id": stops["stop_id"],
            "stop_name": stops.get("stop_name", pd.Series(pd.NA, index=stops.index)),
            "stop_lat": _to_number(stops, "stop_lat", where, key),
            "stop_lon": _to_number(stops, "stop_lon", where, key),
            "parent_station": stops.get("parent_station", pd.Series(np.nan, index=stops.index)),
        }
    )
    location = stops.get("location_type", pd.Series(np.nan, index=stops.index))
    out["location_type"] = (
        _to_number(stops.assign(location_type=location), "location_type", where, key)
        .fillna(0)
        .astype("int64")
    )
    return out


def _check_coordinates(stops: pd.DataFrame, used: pd.Series, name: str) -> pd.DataFrame:
    """Stops used by stop_times need coordinates; unused ones without are dropped."""
    where = f"{name}/stops.txt"
    bad_range = (stops["stop_lat"].abs() > 90) | (stops["stop_lon"].abs() > 180)
    if bad_range.any():
        raise FeedError(
            f"{where}: stop_lat/stop_lon out of range in row "
            f"{_sample(stops, bad_range, ['stop_id', 'stop_lat', 'stop_lon'])}"
        )
    no_xy = stops["stop_lat"].isna() | stops["stop_lon"].isna()
    needed = no_xy & _isin(stops["stop_id"], used)
    if needed.any():
        ids = stops.loc[needed, "stop_id"].tolist()
        raise FeedError(
            f"{where}: {len(ids)} stop(s) used by stop_times.txt have no coordinates "
            f"(blank stop_lat/stop_lon): stop_id {show_value(ids, 200)}, e.g. row "
            f"{_sample(stops, needed, ['stop_id', 'stop_name', 'stop_lat', 'stop_lon'])}"
        )
    unknown = ~_isin(used, stops["stop_id"])
    if unknown.any():
        raise FeedError(
            f"{name}/stop_times.txt: stop_id {show_value(used[unknown].iloc[0])} "
            f"is not in stops.txt ({unknown.sum()} such stop_times rows)"
        )
    return stops[~no_xy].reset_index(drop=True)


def _stop_times(table: pd.DataFrame, name: str) -> pd.DataFrame:
    """stop_times of the date, parsed, sorted and checked; times float with NaN blanks."""
    where = f"{name}/stop_times.txt"
    _require_columns(
        table, ["trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence"], where
    )
    if table.empty:
        raise FeedError(
            f"{where}: no rows for the trips that run on the date (a header alone?); "
            "every trip needs its stop times"
        )
    key = ["trip_id", "stop_sequence", "stop_id"]
    sequence = _to_number(table, "stop_sequence", where, key)
    bad = sequence.isna() | (sequence % 1 != 0) | (sequence < 0)
    if bad.any():
        raise FeedError(
            f"{where}: column 'stop_sequence' must be a whole number >= 0, row "
            f"{_sample(table, bad, key)}"
        )
    out = pd.DataFrame(
        {
            "trip_id": table["trip_id"].to_numpy(),
            "stop_id": table["stop_id"].to_numpy(),
            "stop_sequence": sequence.to_numpy().astype("int64"),
            "arrival_time": _parse_times(table, "arrival_time", where, key),
            "departure_time": _parse_times(table, "departure_time", where, key),
        }
    )
    if "shape_dist_traveled" in table.columns:
        out["shape_dist_traveled"] = _to_number(table, "shape_dist_traveled", where, key).to_numpy()
    else:
        out["shape_dist_traveled"] = np.nan
    out = out.sort_values(["trip_id", "stop_sequence"], kind="stable", ignore_index=True)
    repeated = out.duplicated(["trip_id", "stop_sequence"], keep=False)
    if repeated.any():
        raise FeedError(
            f"{where}: stop_sequence must increase strictly along a trip, but trip "
            f"{show_value(out.loc[repeated, 'trip_id'].iloc[0])} repeats stop_sequence "
            f"{out.loc[repeated, 'stop_sequence'].iloc[0]}: row "
            f"{_sample(out, repeated, ['trip_id', 'stop_sequence', 'stop_id'])}"
        )
    return out


def _trips(table: pd.DataFrame, name: str) -> pd.DataFrame:
    where = f"{name}/trips.txt"
    _require_columns(table, ["route_id", "service_id", "trip_id"], where)
    duplicated = table["trip_id"].duplicated(keep=False)
    if duplicated.any():
        raise FeedError(
            f"{where}: duplicate trip_id {show_value(table.loc[duplicated, 'trip_id'].iloc[0])}"
        )
    direction = _to_number(
        table.assign(direction_id=_column(table, "direction_id")),
        "direction_id",
        where,
        ["trip_id"],
    )
    return pd.DataFrame(
        {
            "trip_id": table["trip_id"],
            "route_id": table["route_id"],
            "service_id": table["service_id"],
            "direction_id": direction.fillna(-1).astype("int64"),
            "shape_id": _column(table, "shape_id"),
        }
    ).reset_index(drop=True)


def _agencies_routes(view: ptg.gtfs.Feed, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    agency, routes = view.agency, view.routes
    where = f"{name}/routes.txt"
    _require_columns(routes, ["route_id", "route_type"], where)
    agency_id = _column(agency, "agency_id").fillna(name)
    agencies = pd.DataFrame(
        {"agency_id": agency_id, "agency_name": _column(agency, "agency_name")}
    ).reset_index(drop=True)
    route_type = _to_number(routes, "route_type", where, ["route_id", "route_type"])
    if route_type.isna().any():
        raise FeedError(
            f"{where}: blank route_type, row {_sample(routes, route_type.isna(), ['route_id'])}"
        )
    # A single-agency feed may leave agency_id blank.
    default = agencies["agency_id"].iloc[0] if len(agencies) == 1 else np.nan
    routes = pd.DataFrame(
        {
            "route_id": routes["route_id"],
            "agency_id": _column(routes, "agency_id").astype(object).fillna(default),
            "route_short_name": _column(routes, "route_short_name"),
            "route_long_name": _column(routes, "route_long_name"),
            "route_type": route_type.astype("int64"),
        }
    ).reset_index(drop=True)
    return agencies, routes


def _transfers(table: pd.DataFrame, name: str) -> pd.DataFrame:
    columns = ["from_stop_id", "to_stop_id", "transfer_type", "min_transfer_time"]
    if table.empty:
        return pd.DataFrame(
            {c: pd.Series(dtype="str" if "stop" in c else "float64") for c in columns}
        ).astype({"transfer_type": "int64"})
    where = f"{name}/transfers.txt"
    _require_columns(table, ["from_stop_id", "to_stop_id"], where)
    key = ["from_stop_id", "to_stop_id"]
    table = table.assign(
        transfer_type=_column(table, "transfer_type"),
        min_transfer_time=_column(table, "min_transfer_time"),
    )
    return pd.DataFrame(
        {
            "from_stop_id": table["from_stop_id"],
            "to_stop_id": table["to_stop_id"],
            "transfer_type": _to_number(table, "transfer_type", where, key)
            .fillna(0)
            .astype("int64"),
            "min_transfer_time": _to_number(table, "min_transfer_time", where, key),
        }
    ).reset_index(drop=True)
