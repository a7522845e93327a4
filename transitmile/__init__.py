"""transitmile: who is cut off from frequent transit by the first or last mile.

The public names below are a contract (see DESIGN.md); notebooks, the CLI and
users rely on them.
"""

from __future__ import annotations

from . import settings
from .data import Dataset, fetch_dataset, list_datasets
from .errors import (
    DataError,
    EngineUnavailableError,
    FeedError,
    NetworkError,
    RoutingError,
    StudyError,
    TransitmileError,
)

__version__ = "0.1.0"

__all__ = [
    "settings",
    "Dataset",
    "fetch_dataset",
    "list_datasets",
    "TransitmileError",
    "DataError",
    "FeedError",
    "NetworkError",
    "RoutingError",
    "EngineUnavailableError",
    "StudyError",
]
