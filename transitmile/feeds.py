"""GTFS feeds for one service date: load, merge, complete times, expand frequencies.

Reading is done by partridge (``ptg.load_feed`` with a view on the trips of the
date); every value a router depends on is parsed and checked here, so that a
broken feed gives a :class:`~transitmile.errors.FeedError` naming the file,
column and an offending row rather than a traceback from deep inside pandas.

The result is a :class:`Feed`: plain data frames in one id namespace, with times
in integer seconds after midnight of the service date and no missing values.
"""

from __future__ import annotations

import datetime
import hashlib
import re
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import partridge as ptg

from ._progress import progress_bar
from .data import file_sha256
from .errors import FeedError, show_value

__all__ = [
    "Feed",
    "FeedSource",
    "load_feeds",
    "busiest_date",
    "service_dates",
    "parse_clock",
]

#: Files without which a feed cannot be routed.
REQUIRED_FILES = ("stops.txt", "stop_times.txt", "trips.txt", "routes.txt")

#: Id columns that get the ``"<feed name>:"`` prefix when feeds are merged.
_ID_COLUMNS = {
    "agencies": ("agency_id",),
    "routes": ("route_id", "agency_id"),
    "stops": ("stop_id", "parent_station"),
    "trips": ("trip_id", "route_id", "service_id", "shape_id"),
    "stop_times": ("trip_id", "stop_id"),
    "transfers": ("from_stop_id", "to_stop_id"),
}


@dataclass
class FeedSource:
    """Where one feed of a :class:`Feed` came from.

    Attributes
    ----------
    name : str
        Feed name, the file stem unless ``names=`` was given (e.g. ``"poa_eptc"``).
    path : Path
        The zip file or folder as given.
    sha256 : str
        Of the zip, or of the sorted member files for a folder.
    """

    name: str
    path: Path
    sha256: str


@dataclass
class Feed:
    """One or more GTFS feeds for one service date, merged into one id namespace.

    Attributes
    ----------
    service_date : datetime.date
    sources : list of FeedSource
    agencies : DataFrame
        ``agency_id, agency_name, feed``.
    routes : DataFrame
        ``route_id, agency_id, route_short_name, route_long_name, route_type (int), feed``.
    stops : DataFrame
        ``stop_id, stop_name, stop_lat, stop_lon, parent_station, location_type, feed``:
        every stop with coordinates, served on the date or not.
    trips : DataFrame
        ``trip_id, route_id, service_id, direction_id, shape_id, feed, headway_based,
        frequency_block, headway_s``: the trips running on the date, frequency trips expanded.
    stop_times : DataFrame
        ``trip_id, stop_id, stop_sequence, arrival_time, departure_time, interpolated``,
        times in int64 seconds after midnight (may exceed 86,400), sorted by trip and sequence.
    transfers : DataFrame
        ``from_stop_id, to_stop_id, transfer_type, min_transfer_time`` (may be empty).
    """

    service_date: datetime.date
    sources: list[FeedSource]
    agencies: pd.DataFrame
    routes: pd.DataFrame
    stops: pd.DataFrame
    trips: pd.DataFrame
    stop_times: pd.DataFrame
    transfers: pd.DataFrame


# --------------------------------------------------------------------------- opening


def _folder_sha256(folder: Path) -> str:
    digest = hashlib.sha256()
    for member in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(member.relative_to(folder).as_posix().encode())
        digest.update(file_sha256(member).encode())
    return digest.hexdigest()


def _feed_root(names: Iterable[str], where: str) -> str:
    """The folder (relative, "" for the top) holding the feed files, else FeedError."""
    folders: dict[str, set[str]] = {}
    for name in names:
        parent, _, base = name.replace("\\", "/").rpartition("/")
        if parent.split("/")[0] == "__MACOSX" or base.startswith("._"):
            continue
        folders.setdefault(parent, set()).add(base)
    # The feed sits where stops.txt is; a zip wrapping it in a sub-folder is common.
    candidates = sorted(
        (len(set(REQUIRED_FILES) & files), -len(folder), folder)
        for folder, files in folders.items()
    )
    best = candidates[-1][2] if candidates else ""
    missing = sorted(set(REQUIRED_FILES) - folders.get(best, set()))
    if missing:
        found = sorted(folders.get(best, set()))
        raise FeedError(
            f"{where}: not a GTFS feed, missing required file(s) {missing}; "
            f"found {show_value(found, 200)}"
        )
    return best


@contextmanager
def _feed_folder(path: Path) -> Iterator[Path]:
    """A folder partridge can read: the folder itself, or the zip extracted."""
    if path.is_dir():
        names = [p.relative_to(path).as_posix() for p in path.rglob("*.txt")]
        yield path / _feed_root(names, str(path))
    elif path.is_file() and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            root = _feed_root(archive.namelist(), str(path))
            with tempfile.TemporaryDirectory(prefix="transitmile-gtfs-") as tmp:
                members = [
                    m for m in archive.namelist() if m.rpartition("/")[0] == root.rstrip("/")
                ]
                archive.extractall(tmp, members=members)
                yield Path(tmp) / root
    elif path.exists():
        raise FeedError(f"{str(path)!r} is neither a GTFS zip file nor a folder")
    else:
        raise FeedError(f"GTFS feed {str(path)!r} not found")


def _read_config() -> nx.DiGraph:
    # partridge's view and pruning, without its converters: values stay strings and
    # are parsed here, where a bad value can be reported by file, column and row.
    config = ptg.config.default_config()
    for _, attrs in config.nodes(data=True):
        attrs.pop("converters", None)
    return config


def _raw(folder: Path) -> ptg.gtfs.Feed:
    return ptg.load_feed(str(folder), config=ptg.config.empty_config())


# --------------------------------------------------------------------------- checks


def _isin(values: pd.Series, allowed: pd.Series | np.ndarray) -> np.ndarray:
    # Deduplicate first: pandas' arrow-string isin walks the allowed values in Python.
    return values.isin(pd.unique(np.asarray(allowed, dtype=object))).to_numpy()


def _sample(table: pd.DataFrame, mask: pd.Series | np.ndarray, columns: Sequence[str]) -> str:
    bad = table.loc[np.asarray(mask), [c for c in columns if c in table.columns]]
    first = bad.iloc[0].to_dict()
    more = f" (and {len(bad) - 1} more rows)" if len(bad) > 1 else ""
    return f"{show_value(first, 200)}{more}"


def _require_columns(table: pd.DataFrame, columns: Sequence[str], where: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise FeedError(
            f"{where}: missing required column(s) {missing}; found {list(table.columns)}"
        )


def _to_number(table: pd.DataFrame, column: str, where: str, key: Sequence[str]) -> pd.Series:
    """Column as float64; blanks stay NaN, anything else unparseable is a FeedError."""
    values = pd.to_numeric(table[column], errors="coerce").astype("float64")
    bad = values.isna() & table[column].notna()
    if bad.any():
        raise FeedError(
            f"{where}: column {column!r} has a non-numeric value "
            f"{show_value(table.loc[bad, column].iloc[0])} in row "
            f"{_sample(table, bad, [*key, column])}"
        )
    return values


_CLOCK = re.compile(r"^(\d+):(\d{1,2}):(\d{1,2})$")


def _parse_times(table: pd.DataFrame, column: str, where: str, key: Sequence[str]) -> np.ndarray:
    """GTFS ``H:MM:SS`` times as float seconds after midnight, NaN for blanks."""
    text = table[column].astype("string")
    parts = text.str.extract(_CLOCK.pattern)
    bad = parts[0].isna() & text.notna()
    if bad.any():
        value = text[bad].iloc[0]
        what = "negative" if str(value).lstrip().startswith("-") else "unparseable"
        raise FeedError(
            f"{where}: {what} time {show_value(value)} in column {column!r} (expected "
            f"HH:MM:SS, hours may exceed 24), row {_sample(table, bad, [*key, column])}"
        )
    h, m, s = (pd.to_numeric(parts[i]).to_numpy("float64", na_value=np.nan) for i in range(3))
    out_of_range = (m >= 60) | (s >= 60)
    if out_of_range.any():
        raise FeedError(
            f"{where}: time {show_value(text[out_of_range].iloc[0])} in column {column!r} has "
            f"minutes or seconds >= 60, row {_sample(table, out_of_range, [*key, column])}"
        )
    return h * 3600 + m * 60 + s


def parse_clock(value: str | float | int, parameter: str = "time") -> int:
    """Seconds after midnight from ``"HH:MM"``, ``"HH:MM:SS"`` or a number of seconds.

    Parameters
    ----------
    value : str or number
        ``"07:30"`` (hours may exceed 24, e.g. ``"25:10"``) or seconds after midnight.
    parameter : str
        Parameter name for the error message.

    Raises
    ------
    FeedError
        Unparseable or negative.
    """
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        if not np.isfinite(value) or value < 0:
            raise FeedError(f"{parameter}: expected seconds >= 0, got {show_value(value)}")
        return int(round(value))
    match = re.fullmatch(r"\s*(\d+):(\d{2})(?::(\d{2}))?\s*", str(value))
    if not match or int(match[2]) >= 60 or int(match[3] or 0) >= 60:
        raise FeedError(
            f"{parameter}: expected 'HH:MM', 'HH:MM:SS' or seconds, got {show_value(value)}"
        )
    return int(match[1]) * 3600 + int(match[2]) * 60 + int(match[3] or 0)


# --------------------------------------------------------------------------- calendar

_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _parse_dates(table: pd.DataFrame, column: str, where: str) -> pd.Series:
    dates = pd.to_datetime(table[column], format="%Y%m%d", errors="coerce")
    bad = dates.isna()
    if bad.any():
        raise FeedError(
            f"{where}: column {column!r} has a date that is not YYYYMMDD: "
            f"{show_value(table.loc[bad, column].iloc[0])} in row "
            f"{_sample(table, bad, ['service_id', column])}"
        )
    return dates


def _service_days(raw: ptg.gtfs.Feed, name: str) -> pd.DataFrame:
    """Every (date, service_id) with service, from calendar.txt and calendar_dates.txt.

    Same rules as partridge's ``read_service_ids_by_date`` (calendar ranges on their
    weekdays, then calendar_dates additions, then removals), done with frames.
    """
    calendar, exceptions = raw.calendar, raw.calendar_dates
    frames = []
    if not calendar.empty:
        where = f"{name}/calendar.txt"
        _require_columns(calendar, ["service_id", *_DAYS, "start_date", "end_date"], where)
        start = _parse_dates(calendar, "start_date", where)
        end = _parse_dates(calendar, "end_date", where)
        flags = np.column_stack([_to_number(calendar, d, where, ["service_id"]) for d in _DAYS])
        lengths = np.maximum((end - start).dt.days.to_numpy() + 1, 0)
        rows = np.repeat(np.arange(len(calendar)), lengths)
        offsets = np.arange(len(rows)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        dates = start.to_numpy()[rows] + offsets.astype("timedelta64[D]")
        weekday = pd.DatetimeIndex(dates).day_of_week.to_numpy()
        keep = flags[rows, weekday] == 1
        frames.append(
            pd.DataFrame(
                {"date": dates[keep], "service_id": calendar["service_id"].to_numpy()[rows][keep]}
            )
        )
    added = removed = None
    if not exceptions.empty:
        where = f"{name}/calendar_dates.txt"
        _require_columns(exceptions, ["service_id", "date", "exception_type"], where)
        dates = _parse_dates(exceptions, "date", where)
        kind = _to_number(exceptions, "exception_type", where, ["service_id", "date"])
        table = pd.DataFrame({"date": dates, "service_id": exceptions["service_id"]})
        added, removed = table[kind == 1], table[kind == 2]
        frames.append(added)
    if not frames:
        raise FeedError(f"{name}: neither calendar.txt nor calendar_dates.txt has any rows")
    days = pd.concat(frames, ignore_index=True).drop_duplicates()
    if removed is not None and len(removed):
        key = pd.MultiIndex.from_frame(days[["date", "service_id"]])
        gone = pd.MultiIndex.from_frame(removed[["date", "service_id"]])
        days = days[~key.isin(gone)]
    days = days.assign(date=pd.to_datetime(days["date"]).dt.date)
    return days.reset_index(drop=True)


def _trip_counts(raw: ptg.gtfs.Feed, name: str) -> pd.Series:
    """Trips (rows of trips.txt) running on each date, indexed by date."""
    days = _service_days(raw, name)
    per_service = raw.trips.groupby("service_id").size().rename("trips")
    counts = days.join(per_service, on="service_id").fillna({"trips": 0})
    return counts.groupby("date")["trips"].sum().astype("int64")


def service_dates(path: str | Path) -> pd.Series:
    """Number of trips on each date with service in one feed (zip or folder).

    Returns
    -------
    Series
        Trips (rows of trips.txt) per ``datetime.date``, sorted by date.
    """
    path = Path(path)
    with _feed_folder(path) as folder:
        return _trip_counts(_raw(folder), path.stem).sort_index()


def _parse_date(date: str | datetime.date) -> datetime.date | str:
    if isinstance(date, datetime.datetime):
        return date.date()
    if isinstance(date, datetime.date):
        return date
    if isinstance(date, str) and date == "busiest":
        return date
    try:
        return datetime.date.fromisoformat(str(date))
    except ValueError:
        raise FeedError(
            f"date: expected 'busiest', a datetime.date or 'YYYY-MM-DD', got {show_value(date)}"
        ) from None


def _pick_busiest(counts: Sequence[pd.Series]) -> datetime.date:
    total = pd.concat(counts, axis=1).fillna(0).sum(axis=1)
    # Most trips over all feeds together; the earliest such date on a tie (as partridge).
    total = total.sort_index()
    return total.idxmax()


def busiest_date(paths: str | Path | Sequence[str | Path]) -> datetime.date:
    """The date with the most trips over all the given feeds together.

    Parameters
    ----------
    paths : path or list of paths
        GTFS zip files or folders.

    Returns
    -------
    datetime.date
        The earliest date among those with the highest total trip count.
    """
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    return _pick_busiest([service_dates(p) for p in paths])


# --------------------------------------------------------------------------- tables


def _stops(raw: ptg.gtfs.Feed, name: str) -> pd.DataFrame:
    where = f"{name}/stops.txt"
    stops = raw.stops
    _require_columns(stops, ["stop_id", "stop_lat", "stop_lon"], where)
    blank_id = stops["stop_id"].isna()
    if blank_id.any():
        raise FeedError(f"{where}: blank stop_id in row {_sample(stops, blank_id, stops.columns)}")
    duplicated = stops["stop_id"].duplicated(keep=False)
    if duplicated.any():
        raise FeedError(
            f"{where}: duplicate stop_id {show_value(stops.loc[duplicated, 'stop_id'].iloc[0])} "
            f"({duplicated.sum()} rows share an id), e.g. row "
            f"{_sample(stops, duplicated, ['stop_id', 'stop_name', 'stop_lat', 'stop_lon'])}"
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


def _trip_bounds(trip_id: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks of the first and the last row of each trip (rows sorted by trip)."""
    change = trip_id[1:] != trip_id[:-1]
    first = np.concatenate([[True], change])
    last = np.concatenate([change, [True]])
    return first, last


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


def _complete_times(st: pd.DataFrame, stops: pd.DataFrame, name: str) -> pd.DataFrame:
    """Fill blank times: one-sided blanks from the other side, then interpolation.

    A stop with neither time gets a time interpolated between the surrounding timed
    stops of its trip, in proportion to the distance along the trip
    (:func:`_distance_along`); where the two timed stops are at the same distance,
    in proportion to the number of stops. Interpolated times are rounded to the second.
    """
    where = f"{name}/stop_times.txt"
    arrival = st["arrival_time"].to_numpy("float64").copy()
    departure = st["departure_time"].to_numpy("float64").copy()
    arrival = np.where(np.isnan(arrival), departure, arrival)
    departure = np.where(np.isnan(departure), arrival, departure)
    timed = ~np.isnan(arrival)
    trip_id = st["trip_id"].to_numpy()
    first, last = _trip_bounds(trip_id)
    open_end = (first | last) & ~timed
    if open_end.any():
        raise FeedError(
            f"{where}: the first and last stop of a trip need arrival/departure times; "
            f"trip {show_value(trip_id[open_end][0])} has none at its "
            f"{'first' if first[open_end][0] else 'last'} stop, row "
            f"{_sample(st, open_end, ['trip_id', 'stop_sequence', 'stop_id', 'arrival_time'])}"
        )
    backwards = departure < arrival
    timed_positions = np.flatnonzero(timed)
    gap = np.zeros(len(st), dtype=bool)
    previous_departure = departure[timed_positions[:-1]]
    same_trip = ~first[timed_positions[1:]] & (
        trip_id[timed_positions[1:]] == trip_id[timed_positions[:-1]]
    )
    gap[timed_positions[1:]] = same_trip & (arrival[timed_positions[1:]] < previous_departure)
    backwards |= gap
    if backwards.any():
        raise FeedError(
            f"{where}: times go backwards along trip {show_value(trip_id[backwards][0])} "
            f"(departure before arrival, or arrival before the previous stop's departure), row "
            f"{_sample(st, backwards, ['trip_id', 'stop_sequence', 'arrival_time', 'departure_time'])}"
        )

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


def _column(table: pd.DataFrame, column: str, fill: object = np.nan) -> pd.Series:
    return table[column] if column in table.columns else pd.Series(fill, index=table.index)


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


# --------------------------------------------------------------------------- loading


def _date_range_text(counts: pd.Series) -> str:
    if counts.empty:
        return "the feed has no service on any date"
    return (
        f"the feed has service on {len(counts)} dates from {counts.index.min()} to "
        f"{counts.index.max()} (calendar.txt / calendar_dates.txt)"
    )


def _load_one(folder: Path, raw: ptg.gtfs.Feed, name: str, date: datetime.date) -> dict:
    days = _service_days(raw, name)
    service_ids = sorted(set(days.loc[days["date"] == date, "service_id"]))
    counts = _trip_counts(raw, name)
    if not service_ids or counts.get(date, 0) == 0:
        raise FeedError(f"{name}: no service on {date}; {_date_range_text(counts[counts > 0])}")
    view = ptg.load_feed(
        str(folder), view={"trips.txt": {"service_id": service_ids}}, config=_read_config()
    )
    trips = _trips(view.trips, name)
    raw_times = _stop_times(view.stop_times, name)
    stops = _check_coordinates(_stops(raw, name), raw_times["stop_id"], name)
    stop_times = _complete_times(raw_times, stops, name)
    trips = trips[_isin(trips["trip_id"], stop_times["trip_id"])]
    trips, stop_times = _expand_frequencies(view.frequencies, trips, stop_times, name)
    agencies, routes = _agencies_routes(view, name)
    # From the raw feed: partridge would prune them through every stop_times row.
    transfers = _transfers(raw.transfers, name)
    transfers = transfers[
        _isin(transfers["from_stop_id"], stops["stop_id"])
        & _isin(transfers["to_stop_id"], stops["stop_id"])
    ]
    return {
        "agencies": agencies,
        "routes": routes,
        "stops": stops,
        "trips": trips.reset_index(drop=True),
        "stop_times": stop_times,
        "transfers": transfers.reset_index(drop=True),
    }


def _prefixed(tables: dict, name: str, prefix: bool) -> dict:
    out = {}
    for key, table in tables.items():
        table = table.copy()
        if prefix:
            for column in _ID_COLUMNS[key]:
                present = table[column].notna()
                table[column] = table[column].astype(object)
                table.loc[present, column] = name + ":" + table.loc[present, column].astype(str)
        if key != "stop_times" and key != "transfers":
            table["feed"] = name
        out[key] = table
    return out


def _names(paths: Sequence[Path], names: Sequence[str] | None) -> list[str]:
    if names is None:
        names = [p.stem if p.suffix.lower() == ".zip" else p.name for p in paths]
    elif isinstance(names, str) or len(names) != len(paths):
        raise FeedError(
            f"names: expected one name per feed ({len(paths)}), got {show_value(names)}"
        )
    names = [str(n) for n in names]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise FeedError(
            f"names: feed names must be unique (they prefix every id), {repeated} repeats; "
            "pass names=[...] to tell the feeds apart"
        )
    return names


def load_feeds(
    paths: str | Path | Sequence[str | Path],
    date: str | datetime.date = "busiest",
    names: Sequence[str] | None = None,
    progress: bool | None = None,
) -> Feed:
    """Load GTFS feeds for one service date, merged, with complete stop times.

    Parameters
    ----------
    paths : path or list of paths
        GTFS zip files (the feed may sit in a sub-folder of the zip) or folders.
    date : ``"busiest"``, datetime.date or ``"YYYY-MM-DD"``
        Service date. ``"busiest"`` takes the date with the most trips over all the
        feeds together (earliest on a tie), see :func:`busiest_date`.
    names : list of str, optional
        Feed names, one per path (default: file stems, e.g. ``"poa_eptc"``). With
        several feeds, or when names are given, every id is prefixed ``"<name>:"``.
    progress : bool, optional
        Show a progress bar over the feeds (default: ``settings.progress``).

    Returns
    -------
    Feed
        Times in int64 seconds after midnight of the date; blank non-timepoint times
        interpolated (``stop_times.interpolated``); frequencies.txt trips expanded.

    Raises
    ------
    FeedError
        Not a feed, missing files, no service on the date, or malformed values; the
        message names the file, column and an offending row.
    """
    paths = [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]
    if not paths:
        raise FeedError("paths: no GTFS feed given")
    prefix = len(paths) > 1 or names is not None
    names = _names(paths, names)
    day = _parse_date(date)

    with ExitStack() as stack:
        folders = [stack.enter_context(_feed_folder(p)) for p in paths]
        raws = [_raw(f) for f in folders]
        if day == "busiest":
            day = _pick_busiest([_trip_counts(r, n) for r, n in zip(raws, names, strict=True)])
        loaded = []
        bar = progress_bar(
            list(zip(folders, raws, names, strict=True)),
            progress=progress,
            desc="GTFS feeds",
            unit="feed",
        )
        for folder, raw, name in bar:
            loaded.append(_prefixed(_load_one(folder, raw, name, day), name, prefix))
    sources = [
        FeedSource(name, p, _folder_sha256(p) if p.is_dir() else file_sha256(p))
        for p, name in zip(paths, names, strict=True)
    ]
    return _merge(loaded, day, sources)


def _merge(loaded: list[dict], day: datetime.date, sources: list[FeedSource]) -> Feed:
    # frequency_block ids are per file; renumber so they stay unique after the merge.
    offset = 0
    for tables in loaded:
        trips = tables["trips"]
        block = trips["frequency_block"].to_numpy()
        trips["frequency_block"] = np.where(block >= 0, block + offset, -1).astype("int64")
        offset += int(block.max()) + 1 if (block >= 0).any() else 0
    merged = {key: pd.concat([t[key] for t in loaded], ignore_index=True) for key in loaded[0]}
    stop_times = merged["stop_times"]
    if len(loaded) > 1:
        stop_times = stop_times.sort_values(
            ["trip_id", "stop_sequence"], kind="stable", ignore_index=True
        )
    return Feed(
        service_date=day,
        sources=sources,
        agencies=merged["agencies"],
        routes=merged["routes"],
        stops=merged["stops"],
        trips=merged["trips"],
        stop_times=stop_times,
        transfers=merged["transfers"],
    )
