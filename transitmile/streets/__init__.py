"""Street networks: OSM PBF -> walk / bike graphs, snapping, street travel times.

One module per concern, all re-exported here (``transitmile.streets.X`` is the public path):

- :mod:`~transitmile.streets.access`: OSM access rules (:func:`way_access`);
- :mod:`~transitmile.streets.graph`: graph building (:class:`StreetGraph`,
  :func:`build_street_graph`);
- :mod:`~transitmile.streets.snapping`: points onto the nearest edge (:class:`Snapped`,
  :func:`snap_points`, :func:`check_points`, :func:`require_snapped`);
- :mod:`~transitmile.streets.travel_times`: street travel-time tables
  (:func:`street_travel_times`, :func:`street_travel_times_many`).

The tables are :class:`transitmile.sparse.SparseTimes`. Modes are r5py's ``"WALK"`` and
``"BICYCLE"``; the short words ``"walk"`` and ``"bike"`` are accepted too.
"""

from __future__ import annotations

from ..sparse import SparseTimes
from .access import MODES, way_access
from .graph import StreetGraph, build_street_graph
from .snapping import Snapped, UnsnappedPointsWarning, check_points, require_snapped, snap_points
from .travel_times import DEFAULT_SPEED_KMH, street_travel_times, street_travel_times_many

__all__ = [
    "MODES",
    "DEFAULT_SPEED_KMH",
    "StreetGraph",
    "Snapped",
    "SparseTimes",
    "UnsnappedPointsWarning",
    "build_street_graph",
    "way_access",
    "check_points",
    "snap_points",
    "require_snapped",
    "street_travel_times",
    "street_travel_times_many",
]
