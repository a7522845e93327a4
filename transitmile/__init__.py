"""transitmile: who is cut off from frequent transit by the first or last mile.

The public names below are a contract (see DESIGN.md); notebooks, the CLI and
users rely on them.
"""

from __future__ import annotations

from . import settings
from .access import (
    AccessWarning,
    accessibility,
    first_last_mile_share,
    first_mile,
    gap_summary,
    inequality,
    last_mile,
    walksheds,
)
from .data import Dataset, fetch_dataset, list_datasets
from .errors import (
    AccessError,
    DataError,
    EngineUnavailableError,
    FeedError,
    NetworkError,
    RoutingError,
    StudyError,
    TransitmileError,
)
from .feeds import Feed, feed_summary, frequent_stops, load_feeds, route_service, stop_service
from .network import TransportNetwork
from .routing import travel_time_matrix
from .streets import build_street_graph, snap_points, street_travel_times

__version__ = "0.1.0"

__all__ = [
    "settings",
    "Dataset",
    "fetch_dataset",
    "list_datasets",
    "Feed",
    "load_feeds",
    "stop_service",
    "route_service",
    "frequent_stops",
    "feed_summary",
    "build_street_graph",
    "snap_points",
    "street_travel_times",
    "TransportNetwork",
    "travel_time_matrix",
    "TransitmileError",
    "DataError",
    "FeedError",
    "NetworkError",
    "RoutingError",
    "EngineUnavailableError",
    "StudyError",
    "AccessError",
    "AccessWarning",
    "first_mile",
    "last_mile",
    "walksheds",
    "gap_summary",
    "accessibility",
    "first_last_mile_share",
    "inequality",
]
