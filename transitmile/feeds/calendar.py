"""Service calendar: which services run on which date, busiest date over feeds."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import partridge as ptg

from ..errors import FeedError, show_value
from ._open import _feed_folder, _raw
from ._parse import _require_columns, _sample, _to_number

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
    _require_columns(raw.trips, ["trip_id", "service_id"], f"{name}/trips.txt")
    days = _service_days(raw, name)
    _require_columns(raw.trips, ["trip_id", "route_id", "service_id"], f"{name}/trips.txt")
    per_service = raw.trips.groupby("service_id").size().rename("trips")
    counts = days.join(per_service, on="service_id").fillna({"trips": 0})
    return counts.groupby("date")["trips"].sum().astype("int64")


def service_dates(path: str | Path) -> pd.Series:
    """Count the trips on each date with service in one feed (zip or folder).

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
    """Find the date with the most trips over all the given feeds together.

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
