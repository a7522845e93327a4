"""Package-wide settings, in one place (after osmnx's ``settings`` module).

Change them at run time, e.g. ``transitmile.settings.progress = False``.
Environment variables are read once at import time.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from .conventions import R5PY_DEFAULTS

#: Folders searched for data set files before the cache and the network,
#: from ``TRANSITMILE_DATA_DIR`` (several folders separated by ``os.pathsep``).
data_dirs: list[Path] = [
    Path(p).expanduser() for p in os.environ.get("TRANSITMILE_DATA_DIR", "").split(os.pathsep) if p
]

#: Where downloaded data and built networks are cached.
cache_dir: Path = Path(
    os.environ.get("TRANSITMILE_CACHE_DIR") or platformdirs.user_cache_dir("transitmile")
).expanduser()

#: Show tqdm progress bars for long operations (per-call ``progress=`` overrides it).
progress: bool = os.environ.get("TRANSITMILE_PROGRESS", "1") not in ("0", "false", "no")

#: Seed for the Monte Carlo phase draws of headway-based (frequency) trips.
random_seed: int = 20190513

#: Radius within which points are snapped to the street network, metres (R5's default).
snap_radius_m: float = 1600.0

#: Longest walk from the last stop to a destination, metres: R5 builds its walking egress
#: tables only this far (``TransitLayer.WALK_DISTANCE_LIMIT_METERS``, 2,000 m, read by
#: ``EgressCostTable``), whatever the request's walking time. ``None``: no cap beyond the
#: request's ``max_time_walking``.
egress_walk_limit_m: float | None = 2000.0
#: The same for cycling egress (R5's ``EgressCostTable.BICYCLE_DISTANCE_LINKING_LIMIT_METERS``).
egress_bike_limit_m: float | None = 5000.0
#: Walking transfers between stops are searched up to this time, seconds.
max_transfer_time_s: int = 20 * 60
#: Longest walking transfer between stops, metres: R5's
#: ``TransitLayer.TRANSFER_DISTANCE_LIMIT_METERS`` (1,000 m). ``None``: the time limit alone.
transfer_limit_m: float | None = 1000.0
#: Keep only the transfers to the nearest stop of each pattern (and none to the stop
#: itself), as R5's ``TransferFinder.retainClosestStopsOnPatterns``. ``False`` keeps every
#: stop within the limits.
transfers_closest_stop_per_pattern: bool = True
#: First and last mile reach at most this many stops per point, the quickest first (ties to
#: the lower stop index), like ferrobus's ``max_nearest_stops`` (10). ``None`` (R5, r5py):
#: every stop within the walking or cycling limit. A model lever for speed, measured in
#: ``benchmarks/model_levers.py``: it drops trips that start or end at a farther stop.
access_stop_limit: int | None = None
#: Range RAPTOR propagates only arrivals that beat a stop's best with any number of rides,
#: checks per origin that the ride limit cut no search short, and searches an origin that
#: fails again keeping every round's labels (``transitmile.engines.raptor``). The travel
#: times are the same either way; ``False`` keeps every round's labels throughout, the
#: search R5 runs (for benchmarks, and to rule the pruning out when in doubt).
prune_dominated: bool = True
#: Boarding slack: minimum time between arriving at a stop and boarding, seconds (r5py's 60 s).
min_transfer_time_s: int = int(R5PY_DEFAULTS.min_transfer_time.total_seconds())

#: Local R5 jar (offline use); passed on to r5py as ``--r5-classpath``.
r5_classpath: str | None = os.environ.get("TRANSITMILE_R5_CLASSPATH") or None

#: Java heap for R5 (r5py's ``--max-memory``).
r5_max_memory: str = os.environ.get("TRANSITMILE_R5_MAX_MEMORY", "80%")
