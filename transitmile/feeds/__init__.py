"""GTFS feeds for one service date: load, merge, complete times, expand frequencies.

Reading is done by partridge (``ptg.load_feed`` with a view on the trips of the
date); every value a router depends on is parsed and checked here, so that a
broken feed gives a :class:`~transitmile.errors.FeedError` naming the file,
column and an offending row rather than a traceback from deep inside pandas.

The result is a :class:`Feed`: plain data frames in one id namespace, with times
in integer seconds after midnight of the service date and no missing values.
Service levels per stop and route (:func:`stop_service`, :func:`frequent_stops`,
:func:`route_service`) and :func:`feed_summary` read a loaded Feed.
"""

from __future__ import annotations

from ._parse import parse_clock
from .calendar import busiest_date, service_dates
from .load import load_feeds
from .model import Feed, FeedSource
from .service import frequent_stops, route_service, stop_service
from .summary import ROUTE_TYPE_NAMES, feed_summary, route_mode

__all__ = [
    "Feed",
    "FeedSource",
    "load_feeds",
    "busiest_date",
    "service_dates",
    "parse_clock",
    "stop_service",
    "frequent_stops",
    "route_service",
    "feed_summary",
    "route_mode",
    "ROUTE_TYPE_NAMES",
]
