"""Per-file tables of one feed: stops, stop_times, trips, routes, agencies, transfers.

Each reader repairs what is unambiguous and drops the smallest broken unit, with a
notice (:mod:`transitmile.feeds.notices`); a missing required column still refuses.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import partridge as ptg

from ..errors import show_value
from ._parse import _column, _isin, _require_columns, _sample, _times_checked, _to_number
from ._repair import dedupe, drop_rows, drop_trips
from .notices import Notices, example_row

#: A stop farther than this from the median of a feed's stops, and farther than
#: ``_AREA_FACTOR`` times their median distance to it, lies outside the feed's area.
_AREA_MIN_KM = 1000.0
_AREA_FACTOR = 10.0


def _numbers(table: pd.DataFrame, column: str) -> tuple[pd.Series, pd.Series]:
    """Column as float64 (blanks NaN) and the mask of values that are not numbers."""
    values = pd.to_numeric(table[column], errors="coerce").astype("float64")
    return values, values.isna() & table[column].notna()


def _integers(
    table: pd.DataFrame, column: str, key: str, read_as: str, where: str, file: str,
    notices: Notices,
) -> pd.Series:  # fmt: skip
    """Read an optional integer column; a non-numeric value is blank, with a notice.

    Parameters
    ----------
    table : DataFrame
        Rows of one file (the column may be absent: all blank).
    column, key : str
        The column, and the id column shown in the message.
    read_as : str
        What the caller reads a blank as, for the message (e.g. ``"0 (a stop)"``).
    where, file : str
        ``feed/file.txt`` for the message and the file name for the notice.
    notices : Notices
        Gets one ``invalid_integer`` notice (repaired) when a value is not a number.

    Returns
    -------
    Series
        float64 values, NaN where blank or not a number.
    """
    table = table.assign(**{column: _column(table, column)})
    values, text = _numbers(table, column)
    if text.any():
        notices.add(
            "invalid_integer",
            file,
            int(text.sum()),
            "repaired",
            f"{where}: column {column!r} has a non-numeric value, read as {read_as}, "
            f"row {_sample(table, text, [key, column])}",
            example_row(table, text.to_numpy(), [key, column]),
        )
    return values


def _outside_area(lat: pd.Series, lon: pd.Series) -> np.ndarray:
    """Find the stops far outside the area of the feed's other stops (see ``_AREA_MIN_KM``)."""
    located = (lat.notna() & lon.notna()).to_numpy()
    if located.sum() < 3:
        return np.zeros(len(lat), dtype=bool)
    phi, lam = np.radians(lat.to_numpy()), np.radians(lon.to_numpy())
    phi0, lam0 = np.median(phi[located]), np.median(lam[located])
    # Haversine distance to the median point, km.
    h = np.sin((phi - phi0) / 2) ** 2 + np.cos(phi) * np.cos(phi0) * np.sin((lam - lam0) / 2) ** 2
    km = 2 * 6371.0 * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    limit = max(_AREA_MIN_KM, _AREA_FACTOR * float(np.median(km[located])))
    return located & (km > limit)


def _unlocate(
    stops: pd.DataFrame, bad: np.ndarray, code: str, action: str, message: str, notices: Notices
) -> None:
    """Clear the coordinates of the ``bad`` stops in place; one stops.txt notice."""
    columns = ["stop_id", "stop_name", "stop_lat", "stop_lon"]
    notices.add_rows(code, "stops.txt", stops, bad, action, message, columns)
    stops.loc[bad, ["stop_lat", "stop_lon"]] = np.nan
    stops.loc[bad, "cause"] = code


def _coordinates(stops: pd.DataFrame, where: str, notices: Notices) -> pd.DataFrame:
    """Parse stop_lat/stop_lon; clear unusable ones and record their cause."""
    key = ["stop_id", "stop_name"]
    out = stops.assign(cause=pd.Series(np.nan, index=stops.index, dtype=object))
    for column in ("stop_lat", "stop_lon"):
        out[column], text = _numbers(stops, column)
        if text.any():
            _unlocate(
                out,
                text.to_numpy(),
                "invalid_float",
                "dropped",
                f"{where}: column {column!r} has a non-numeric value "
                f"{show_value(stops.loc[text, column].iloc[0])} in row "
                f"{_sample(stops, text, [*key, column])}",
                notices,
            )
    lat, lon = out["stop_lat"], out["stop_lon"]
    checks = [
        (
            ((lat.abs() > 90) | (lon.abs() > 180)).to_numpy(),
            "number_out_of_range",
            "dropped",
            f"{where}: stop_lat/stop_lon out of range in row",
        ),
        (
            ((lat.abs() <= 1) & (lon.abs() <= 1)).to_numpy(),
            "point_near_origin",
            "repaired",
            f"{where}: stop within one degree of (0, 0), treated as unlocated, row",
        ),
    ]
    for bad, code, action, text in checks:
        if bad.any():
            sample = _sample(out, bad, ["stop_id", "stop_lat", "stop_lon"])
            _unlocate(out, bad, code, action, f"{text} {sample}", notices)
    far = _outside_area(out["stop_lat"], out["stop_lon"])
    if far.any():
        _unlocate(
            out,
            far,
            "stop_outside_feed_area",
            "repaired",
            f"{where}: stop over {_AREA_MIN_KM:,.0f} km from the feed's other stops, treated "
            f"as unlocated, row {_sample(out, far, ['stop_id', 'stop_lat', 'stop_lon'])}",
            notices,
        )
    return out


def _stops(
    raw: ptg.gtfs.Feed, name: str, used: pd.Series, notices: Notices
) -> tuple[pd.DataFrame, pd.Series]:
    """Keep the stops with coordinates; give the notice code of each stop_id left unusable.

    Blank ids are dropped; exact duplicate rows kept once; an id repeated with
    different values dropped; coordinates that are not numbers, out of range, within
    one degree of (0, 0) or far outside the feed's area cleared. Stops without
    coordinates are dropped, with a ``stop_without_location`` notice when ``used``
    (stop_ids of the date's stop_times) names them.
    """
    where, file = f"{name}/stops.txt", "stops.txt"
    stops = raw.stops
    _require_columns(stops, ["stop_id", "stop_lat", "stop_lon"], where)
    shown = ["stop_id", "stop_name", "stop_lat", "stop_lon"]
    blank_id = stops["stop_id"].isna()
    stops = drop_rows(
        stops,
        blank_id,
        notices,
        "missing_required_field",
        f"{where}: blank stop_id in row {_sample(stops, blank_id, stops.columns)}"
        if blank_id.any()
        else "",
        shown,
        file,
    )
    stops, repeated = dedupe(stops, "stop_id", notices, file, where)
    if len(repeated):
        first = repeated[0]
        rows = stops.loc[stops["stop_id"] == first, [c for c in shown if c in stops.columns]]
        stops = drop_rows(
            stops,
            _isin(stops["stop_id"], repeated),
            notices,
            "duplicate_key",
            f"{where}: duplicate stop_id {show_value(first)} in {len(rows)} rows "
            f"{show_value(rows.head(3).to_dict('records'), 300)} "
            f"({len(repeated)} duplicated ids in all)",
            shown,
            file,
        )
    stops = stops.assign(stop_name=_column(stops, "stop_name", pd.NA))
    out = _coordinates(stops, where, notices)
    location = _integers(out, "location_type", "stop_id", "0 (a stop)", where, file, notices)
    no_xy = (out["stop_lat"].isna() | out["stop_lon"].isna()).to_numpy()
    needed = no_xy & out["cause"].isna().to_numpy() & _isin(out["stop_id"], used)
    if needed.any():
        ids = out.loc[needed, "stop_id"].tolist()
        _unlocate(
            out,
            needed,
            "stop_without_location",
            "dropped",
            f"{where}: {len(ids)} stop(s) used by stop_times.txt have no coordinates "
            f"(blank stop_lat/stop_lon): stop_id {show_value(ids, 200)}, e.g. row "
            f"{_sample(out, needed, shown)}",
            notices,
        )
    causes = pd.concat(
        [
            pd.Series("duplicate_key", index=pd.Index(repeated, dtype=object), dtype=object),
            out.loc[out["cause"].notna()].set_index("stop_id")["cause"],
        ]
    )
    kept = out[~no_xy]
    table = pd.DataFrame(
        {
            "stop_id": kept["stop_id"],
            "stop_name": kept["stop_name"],
            "stop_lat": kept["stop_lat"],
            "stop_lon": kept["stop_lon"],
            "parent_station": _column(kept, "parent_station"),
            "location_type": location[~no_xy].fillna(0).astype("int64"),
        }
    ).reset_index(drop=True)
    return table, causes


def _stop_sequence(table: pd.DataFrame, where: str, notices: Notices) -> pd.DataFrame:
    """stop_times rows with a whole stop_sequence >= 0; other trips dropped."""
    key = ["trip_id", "stop_sequence", "stop_id"]
    sequence, text = _numbers(table, "stop_sequence")
    if text.any():
        table = drop_trips(
            table,
            text,
            notices,
            "invalid_integer",
            f"{where}: column 'stop_sequence' has a non-numeric value "
            f"{show_value(table.loc[text, 'stop_sequence'].iloc[0])} in row "
            f"{_sample(table, text, key)}",
            key,
        )
        sequence = sequence[table.index]
    bad = sequence.isna() | (sequence % 1 != 0) | (sequence < 0)
    if bad.any():
        table = drop_trips(
            table,
            bad,
            notices,
            "invalid_integer" if sequence[bad].isna().all() else "number_out_of_range",
            f"{where}: column 'stop_sequence' must be a whole number >= 0, row "
            f"{_sample(table, bad, key)}",
            key,
        )
        sequence = sequence[table.index]
    return table.assign(stop_sequence=sequence.astype("int64"))


def _stop_times(table: pd.DataFrame, name: str, notices: Notices) -> pd.DataFrame:
    """stop_times of the date, parsed and sorted; times float with NaN blanks.

    Trips with an unparseable stop_sequence or time, or a stop_sequence repeated
    with different values, are dropped; exact duplicate rows are kept once.
    """
    where = f"{name}/stop_times.txt"
    _require_columns(
        table, ["trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence"], where
    )
    key = ["trip_id", "stop_sequence", "stop_id"]
    table = _stop_sequence(table, where, notices)
    times = {}
    for column in ("arrival_time", "departure_time"):
        seconds, bad, message = _times_checked(table, column, where, key)
        times[column] = pd.Series(seconds, index=table.index)
        if bad.any():
            table = drop_trips(table, bad, notices, "invalid_time", message, [*key, column])
    if "shape_dist_traveled" in table.columns:
        distance, text = _numbers(table, "shape_dist_traveled")
        distance[text] = np.nan  # not a number: interpolate by straight-line distance
    else:
        distance = pd.Series(np.nan, index=table.index)
    out = pd.DataFrame(
        {
            "trip_id": table["trip_id"].to_numpy(),
            "stop_id": table["stop_id"].to_numpy(),
            "stop_sequence": table["stop_sequence"].to_numpy(),
            **{c: t.reindex(table.index).to_numpy() for c, t in times.items()},
            "shape_dist_traveled": distance.to_numpy(),
        }
    )
    out = out.sort_values(["trip_id", "stop_sequence"], kind="stable", ignore_index=True)
    return _repeated_sequence(out, where, notices)


def _same_as_previous(out: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Rows equal to the row before them in every column (NaN equals NaN)."""
    same = np.ones(max(len(out) - 1, 0), dtype=bool)
    for column in columns:
        values = out[column].to_numpy()
        equal = values[1:] == values[:-1]
        if values.dtype.kind == "f":
            equal |= np.isnan(values[1:]) & np.isnan(values[:-1])
        same &= equal
    return np.concatenate([[False], same]) if len(out) else np.zeros(0, dtype=bool)


def _repeated_sequence(out: pd.DataFrame, where: str, notices: Notices) -> pd.DataFrame:
    """Keep exact duplicate rows once; drop trips repeating a stop_sequence otherwise."""
    repeated = _same_as_previous(out, ["trip_id", "stop_sequence"])
    if not repeated.any():
        return out
    exact = repeated & _same_as_previous(out, list(out.columns))
    if exact.any():
        notices.add_rows(
            "duplicate_key",
            "stop_times.txt",
            out,
            exact,
            "repaired",
            f"{where}: {int(exact.sum())} rows repeat another row exactly (kept once), e.g. "
            f"{_sample(out, exact, ['trip_id', 'stop_sequence', 'stop_id'])}",
            ["trip_id", "stop_sequence", "stop_id", "arrival_time"],
        )
        out = out[~exact].reset_index(drop=True)
        repeated = _same_as_previous(out, ["trip_id", "stop_sequence"])
    if repeated.any():
        repeated |= np.concatenate([repeated[1:], [False]])  # show both rows
        out = drop_trips(
            out,
            repeated,
            notices,
            "duplicate_key",
            f"{where}: stop_sequence must increase strictly along a trip, but trip "
            f"{show_value(out.loc[repeated, 'trip_id'].iloc[0])} repeats stop_sequence "
            f"{out.loc[repeated, 'stop_sequence'].iloc[0]}: row "
            f"{_sample(out, repeated, ['trip_id', 'stop_sequence', 'stop_id'])}",
            ["trip_id", "stop_sequence", "stop_id"],
        ).reset_index(drop=True)
    return out


def _trips(
    table: pd.DataFrame,
    name: str,
    route_ids: np.ndarray,
    defined: np.ndarray,
    active: np.ndarray,
    date_services: list,
    notices: Notices,
) -> pd.DataFrame:
    """Every usable trip of trips.txt, parsed.

    Dropped: ids repeated with different values, a route_id missing from routes.txt
    (``route_ids``) or a service_id missing from the calendar files (``defined``)
    (``foreign_key_violation``), and services that run on no date (not in ``active``).
    ``date_services`` run on the service date: trips dropped there are counted.
    """
    where, file = f"{name}/trips.txt", "trips.txt"
    _require_columns(table, ["route_id", "service_id", "trip_id"], where)
    table, repeated = dedupe(table, "trip_id", notices, file, where)
    table = table.reset_index(drop=True)  # labels = positions in on_date, through the drops
    on_date = _isin(table["service_id"], date_services)

    def drop(bad: np.ndarray, code: str, message: str) -> pd.DataFrame:
        bad = np.asarray(bad)
        if not bad.any():
            return table
        notices.add_rows(
            code,
            file,
            table,
            bad,
            "dropped",
            message,
            ["trip_id", "route_id", "service_id"],
            trips_dropped=int(table.loc[bad & on_date[table.index], "trip_id"].nunique()),
        )
        return table[~bad]

    bad = _isin(table["trip_id"], repeated)
    if bad.any():
        table = drop(
            bad,
            "duplicate_key",
            f"{where}: duplicate trip_id {show_value(table.loc[bad, 'trip_id'].iloc[0])}",
        )
    bad = ~_isin(table["route_id"], route_ids)
    if bad.any():
        table = drop(
            bad,
            "foreign_key_violation",
            f"{where}: route_id {show_value(table.loc[bad, 'route_id'].iloc[0])} is not in "
            f"routes.txt ({int(bad.sum())} such trips), e.g. row "
            f"{_sample(table, bad, ['trip_id', 'route_id'])}",
        )
    for code, runs, text in (
        ("foreign_key_violation", defined, "is in neither calendar.txt nor calendar_dates.txt"),
        ("service_never_active", active, "runs on no date of the calendar"),
    ):
        bad = ~_isin(table["service_id"], runs)
        if bad.any():
            table = drop(
                bad,
                code,
                f"{where}: service_id {show_value(table.loc[bad, 'service_id'].iloc[0])} "
                f"{text} ({int(bad.sum())} such trips)",
            )
    direction = _integers(table, "direction_id", "trip_id", "unknown (-1)", where, file, notices)
    return pd.DataFrame(
        {
            "trip_id": table["trip_id"],
            "route_id": table["route_id"],
            "service_id": table["service_id"],
            "direction_id": direction.fillna(-1).astype("int64"),
            "shape_id": _column(table, "shape_id"),
        }
    ).reset_index(drop=True)


def _routes(
    raw: ptg.gtfs.Feed, name: str, date_trips: pd.DataFrame, notices: Notices
) -> pd.DataFrame:
    """Every route of routes.txt with a usable route_type and at least one trip.

    Routes with a blank or non-numeric route_type are dropped with their trips
    (``date_trips``: the raw trips of the service date, to count them); routes
    without any trip in trips.txt are dropped as ``unused_route``.
    """
    where, file = f"{name}/routes.txt", "routes.txt"
    routes = raw.routes
    _require_columns(routes, ["route_id", "route_type"], where)
    routes, repeated = dedupe(routes, "route_id", notices, file, where)
    route_type, text = _numbers(routes, "route_type")
    infinite = route_type.notna() & ~np.isfinite(route_type)  # "inf" is a number to pandas
    text, route_type = text | infinite, route_type.where(~infinite)
    duplicated = _isin(routes["route_id"], repeated)
    checks = (
        ("duplicate_key", duplicated, "duplicate route_id"),
        ("invalid_integer", text.to_numpy() & ~duplicated, "non-numeric route_type"),
        (
            "missing_required_field",
            (route_type.isna() & ~text).to_numpy() & ~duplicated,
            "blank route_type",
        ),
    )
    dropped = np.zeros(len(routes), dtype=bool)
    for code, bad, message in checks:
        if bad.any():
            lost = _isin(date_trips["route_id"], routes.loc[bad, "route_id"])
            notices.add_rows(
                code,
                file,
                routes,
                bad,
                "dropped",
                f"{where}: {message}, row {_sample(routes, bad, ['route_id', 'route_type'])}",
                ["route_id", "route_short_name", "route_type"],
                trips_dropped=int(date_trips.loc[lost, "trip_id"].nunique()),
            )
            dropped |= bad
    routes, route_type = routes[~dropped], route_type[~dropped]
    unused = ~_isin(routes["route_id"], raw.trips["route_id"])
    routes = drop_rows(
        routes,
        unused,
        notices,
        "unused_route",
        f"{where}: {int(unused.sum())} routes have no trips in trips.txt, e.g. "
        f"{_sample(routes, unused, ['route_id', 'route_short_name'])}"
        if unused.any()
        else "",
        ["route_id", "route_short_name", "route_long_name"],
        file,
    )
    return routes.assign(route_type=route_type[routes.index].astype("int64"))


def _agencies_routes(
    raw: ptg.gtfs.Feed, routes: pd.DataFrame, trips: pd.DataFrame, name: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Agencies and routes of the service date's ``trips`` (as partridge prunes them)."""
    routes = routes[_isin(routes["route_id"], trips["route_id"])]
    agency = raw.agency
    if "agency_id" in agency.columns and "agency_id" in routes.columns:
        agency = agency[agency["agency_id"].isin(routes["agency_id"])]
    agency_id = _column(agency, "agency_id").fillna(name)
    agencies = pd.DataFrame(
        {"agency_id": agency_id, "agency_name": _column(agency, "agency_name")}
    ).reset_index(drop=True)
    # A single-agency feed may leave agency_id blank.
    default = agencies["agency_id"].iloc[0] if len(agencies) == 1 else np.nan
    routes = pd.DataFrame(
        {
            "route_id": routes["route_id"],
            "agency_id": _column(routes, "agency_id").astype(object).fillna(default),
            "route_short_name": _column(routes, "route_short_name"),
            "route_long_name": _column(routes, "route_long_name"),
            "route_type": routes["route_type"],
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
