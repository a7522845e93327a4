"""The Feed and FeedSource data classes (the contract of transitmile.feeds)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .notices import empty_notices


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
    notice_counts : dict
        Its validator notices by severity (``errors, warnings, infos``) and action
        (``repaired, dropped, kept``), and ``trips_dropped`` on the service date.
    """

    name: str
    path: Path
    sha256: str
    notice_counts: dict = field(default_factory=dict)


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
        ``interpolated`` is True where the feed gave neither time (a non-timepoint); a row
        with only one of the two times copies it to the other and is not interpolated.
    transfers : DataFrame
        ``from_stop_id, to_stop_id, transfer_type, min_transfer_time`` (may be empty).
    notices : DataFrame
        What loading found wrong and did about it, one row per problem and file:
        ``feed, code`` (GTFS validator notice code), ``severity`` (error / warning /
        info), ``file, count`` (rows of that file), ``action`` (repaired / dropped /
        kept), ``trips_dropped`` (trips of the date removed), ``example`` (an offending
        row) and ``message``. Empty for a clean feed.
    """

    service_date: datetime.date
    sources: list[FeedSource]
    agencies: pd.DataFrame
    routes: pd.DataFrame
    stops: pd.DataFrame
    trips: pd.DataFrame
    stop_times: pd.DataFrame
    transfers: pd.DataFrame
    notices: pd.DataFrame = field(default_factory=empty_notices)
