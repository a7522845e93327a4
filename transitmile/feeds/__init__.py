"""GTFS feeds for one service date: load, merge, complete times, expand frequencies.

Reading is done by partridge (raw tables, strings); every value a router depends
on is parsed and checked here. What is unambiguous is repaired, what is broken is
dropped in the smallest unit, and both are listed in ``Feed.notices`` under the
GTFS validator's codes; only a feed that cannot be used at all (or any error with
``strict=True``) gives a :class:`~transitmile.errors.FeedError` naming the file,
column and an offending row.

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
from .notices import CODES, FeedNoticeWarning
from .service import frequent_stops, route_service, stop_service
from .summary import ROUTE_TYPE_NAMES, feed_summary, route_mode
from .write import write_gtfs

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
    "write_gtfs",
    "CODES",
    "FeedNoticeWarning",
]
