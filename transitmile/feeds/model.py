"""The Feed and FeedSource data classes (the contract of transitmile.feeds)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

import pandas as pd


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
