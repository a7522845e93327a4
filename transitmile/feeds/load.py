"""load_feeds: several GTFS feeds for one date, merged into one Feed."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import pandas as pd
import partridge as ptg

from .._progress import progress_bar
from ..data import path_sha256
from ..errors import FeedError, show_value
from ._open import _feed_folder, _raw
from ._parse import _column, _isin, _require_columns, _sample
from ._repair import drop_rows, drop_rows_at_unusable_stops, drop_unusable_trips
from ._tables import _agencies_routes, _routes, _stop_times, _stops, _transfers, _trips
from .calendar import _parse_date, _pick_busiest, _service_days, _trip_counts
from .model import Feed, FeedSource
from .notices import Notices, notice_counts, warn_summary
from .times import _complete_times, _expand_frequencies

_ID_COLUMNS = {
    "agencies": ("agency_id",),
    "routes": ("route_id", "agency_id"),
    "stops": ("stop_id", "parent_station"),
    "trips": ("trip_id", "route_id", "service_id", "shape_id"),
    "stop_times": ("trip_id", "stop_id"),
    "transfers": ("from_stop_id", "to_stop_id"),
}


def _date_range_text(counts: pd.Series) -> str:
    if counts.empty:
        return "the feed has no service on any date"
    return (
        f"the feed has service on {len(counts)} dates from {counts.index.min()} to "
        f"{counts.index.max()} (calendar.txt / calendar_dates.txt)"
    )


def _date_trips(
    raw: ptg.gtfs.Feed, name: str, date: datetime.date
) -> tuple[pd.DataFrame, pd.DataFrame, list]:
    """Service days of the feed, its raw trips running on ``date`` and their services.

    Raises
    ------
    FeedError
        No service on the date, naming the dates the feed does have.
    """
    _require_columns(raw.trips, ["route_id", "service_id", "trip_id"], f"{name}/trips.txt")
    days = _service_days(raw, name)
    service_ids = sorted(set(days.loc[days["date"] == date, "service_id"]))
    counts = _trip_counts(raw, name)
    if not service_ids or counts.get(date, 0) == 0:
        raise FeedError(f"{name}: no service on {date}; {_date_range_text(counts[counts > 0])}")
    date_trips = raw.trips[_isin(raw.trips["service_id"], service_ids)]
    return days, date_trips, service_ids


def _date_stop_times(
    raw: ptg.gtfs.Feed, trips: pd.DataFrame, name: str, notices: Notices
) -> pd.DataFrame:
    """Raw stop_times rows of ``trips``; rows naming a trip missing from trips.txt reported."""
    table = raw.stop_times
    _require_columns(table, ["trip_id"], f"{name}/stop_times.txt")
    known = pd.Index(pd.unique(raw.trips["trip_id"].to_numpy()))
    position = known.get_indexer(table["trip_id"])
    unknown = position < 0
    if unknown.any():
        notices.add_rows(
            "foreign_key_violation",
            "stop_times.txt",
            table,
            unknown,
            "dropped",
            f"{name}/stop_times.txt: trip_id {show_value(table.loc[unknown, 'trip_id'].iloc[0])} "
            f"is not in trips.txt ({int(unknown.sum())} such stop_times rows)",
            ["trip_id", "stop_sequence", "stop_id"],
        )
    wanted = np.zeros(len(known) + 1, dtype=bool)
    wanted[known.get_indexer(trips["trip_id"])] = True
    return table[wanted[position]]


def _load_one(raw: ptg.gtfs.Feed, name: str, date: datetime.date, notices: Notices) -> dict:
    days, date_trips, service_ids = _date_trips(raw, name, date)
    routes = _routes(raw, name, date_trips, notices)
    defined = pd.unique(
        np.concatenate(
            [
                _column(t, "service_id").dropna().to_numpy()
                for t in (raw.calendar, raw.calendar_dates)
            ]
        )
    )
    trips = _trips(
        raw.trips,
        name,
        raw.routes["route_id"].to_numpy(),
        defined,
        days["service_id"].unique(),
        service_ids,
        notices,
    )
    trips = trips[
        _isin(trips["service_id"], service_ids) & _isin(trips["route_id"], routes["route_id"])
    ]
    date_times = _date_stop_times(raw, trips, name, notices)
    unused = ~_isin(trips["trip_id"], date_times["trip_id"])
    if unused.any():
        notices.add_rows(
            "unused_trip",
            "trips.txt",
            trips,
            unused,
            "dropped",
            f"{name}/trips.txt: {int(unused.sum())} trips of {date} have no stop_times rows, "
            f"e.g. {_sample(trips, unused, ['trip_id', 'route_id'])}",
            ["trip_id", "route_id", "service_id"],
            trips_dropped=int(unused.sum()),
        )
        trips = trips[~unused]
    raw_times = _stop_times(date_times, name, notices)
    stops, causes = _stops(raw, name, raw_times["stop_id"], notices)
    before = pd.unique(raw_times["trip_id"].to_numpy())
    raw_times = drop_rows_at_unusable_stops(raw_times, stops, causes, notices, name)
    raw_times = drop_unusable_trips(raw_times, before, notices, name)
    stop_times = _complete_times(raw_times.reset_index(drop=True), stops, name, notices)
    # Trips whose rows were dropped above are reported there.
    trips = trips[_isin(trips["trip_id"], stop_times["trip_id"])]
    if trips.empty:
        raise FeedError(
            f"{name}: nothing routable remains on {date}: every one of its "
            f"{date_trips['trip_id'].nunique()} trips was dropped; notices: "
            f"{show_value(sorted({n['code'] for n in notices.rows}), 200)}"
        )
    frequencies = _frequencies(raw, trips, name, notices)
    trips, stop_times = _expand_frequencies(frequencies, trips, stop_times, name)
    agencies, routes = _agencies_routes(raw, routes, trips, name)
    # From the raw feed: partridge would prune them through every stop_times row.
    transfers = _transfers(raw.transfers, name)
    transfers = transfers[
        _isin(transfers["from_stop_id"], stops["stop_id"])
        & _isin(transfers["to_stop_id"], stops["stop_id"])
    ]
    had_trips = set(date_trips["route_id"]) & set(raw.routes["route_id"])
    lost = sorted(had_trips - set(trips["route_id"]))
    return {
        "agencies": agencies,
        "routes": routes,
        "stops": stops,
        "trips": trips.reset_index(drop=True),
        "stop_times": stop_times,
        "transfers": transfers.reset_index(drop=True),
    }, {"date_trips": int(date_trips["trip_id"].nunique()), "lost_routes": lost}


def _frequencies(
    raw: ptg.gtfs.Feed, trips: pd.DataFrame, name: str, notices: Notices
) -> pd.DataFrame:
    """frequencies.txt rows of ``trips``; rows naming a trip missing from trips.txt reported."""
    table = raw.frequencies
    if table.empty or "trip_id" not in table.columns:
        return table
    unknown = ~_isin(table["trip_id"], raw.trips["trip_id"])
    table = drop_rows(
        table,
        unknown,
        notices,
        "foreign_key_violation",
        f"{name}/frequencies.txt: trip_id "
        f"{show_value(table.loc[unknown, 'trip_id'].iloc[0])} is not in trips.txt"
        if unknown.any()
        else "",
        ["trip_id", "start_time", "end_time", "headway_secs"],
        "frequencies.txt",
    )
    return table[_isin(table["trip_id"], trips["trip_id"])]


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
    strict: bool = False,
) -> Feed:
    """Load GTFS feeds for one service date, merged, with complete stop times.

    Real feeds carry errors. What is unambiguous is repaired, what is broken is
    dropped in the smallest unit (a row, a stop, a trip, a route), and both are
    recorded in ``Feed.notices`` under the GTFS validator's notice codes
    (:mod:`transitmile.feeds.notices`), summed up in one :class:`FeedNoticeWarning`.

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
    strict : bool
        Refuse (FeedError) at the first error-level notice instead of repairing or
        dropping, with a message naming the file, column and row.

    Returns
    -------
    Feed
        Times in int64 seconds after midnight of the date; blank non-timepoint times
        interpolated (``stop_times.interpolated``); frequencies.txt trips expanded;
        ``notices`` lists what was repaired or dropped and
        ``sources[i].notice_counts`` counts it.

    Raises
    ------
    FeedError
        Not a feed, a required file or column missing, no service on the date,
        nothing routable left, or (``strict=True``) any error-level notice; the
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
        loaded, found, trips, lost = [], [], 0, []
        bar = progress_bar(
            list(zip(raws, names, strict=True)), progress=progress, desc="GTFS feeds", unit="feed"
        )
        for raw, name in bar:
            notices = Notices(name, strict=strict)
            tables, dropped = _load_one(raw, name, day, notices)
            loaded.append(_prefixed(tables, name, prefix))
            found.append(notices.frame())
            trips += dropped["date_trips"]
            lost += [f"{name}:{r}" if prefix else r for r in dropped["lost_routes"]]
    sources = [
        FeedSource(name, p, path_sha256(p), notice_counts(table))
        for p, name, table in zip(paths, names, found, strict=True)
    ]
    notices = pd.concat(found, ignore_index=True)
    warn_summary(notices, trips, lost)
    return _merge(loaded, day, sources, notices)


def _merge(
    loaded: list[dict], day: datetime.date, sources: list[FeedSource], notices: pd.DataFrame
) -> Feed:
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
        notices=notices,
    )
