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
from ._open import _feed_folder, _raw, _read_config
from ._parse import _isin
from ._tables import _agencies_routes, _check_coordinates, _stop_times, _stops, _transfers, _trips
from .calendar import _parse_date, _pick_busiest, _service_days, _trip_counts
from .model import Feed, FeedSource
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
    sources = [FeedSource(name, p, path_sha256(p)) for p, name in zip(paths, names, strict=True)]
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
