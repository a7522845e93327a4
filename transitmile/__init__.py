"""transitmile: who is cut off from frequent transit by the first or last mile.

The public names below are a contract; notebooks, the CLI and users rely on them.
The layers, what may depend on what and how to extend the package are described in
``docs/design.md`` in the repository.
"""

from __future__ import annotations

from . import errors, settings
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
from .errors import *  # noqa: F403 (every error class is public: errors.__all__)
from .feeds import Feed, feed_summary, frequent_stops, load_feeds, route_service, stop_service
from .network import TransportNetwork
from .partitioned import read_travel_time_matrix
from .routing import travel_time_matrix, write_travel_time_matrix
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
    "write_travel_time_matrix",
    "read_travel_time_matrix",
    *errors.__all__,
    "AccessWarning",
    "first_mile",
    "last_mile",
    "walksheds",
    "gap_summary",
    "accessibility",
    "first_last_mile_share",
    "inequality",
]
