"""Run records: what made a result (engine, versions, request, input hashes, time).

Every travel time frame carries one in ``.attrs``; written outputs put it in a JSON
sidecar (:mod:`transitmile.io`).
"""

from __future__ import annotations

import datetime as dt
import functools
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from . import settings

__all__ = ["model_settings", "package_version", "run_record"]

#: Packages whose versions a run record lists.
RECORDED_PACKAGES = ("numba", "numpy", "pandas", "partridge", "osmium", "r5py")


@functools.cache
def package_version(package: str) -> str | None:
    """Installed version of a package, read once per process.

    Reading a distribution's metadata parses its files (about 1 ms each, nine per
    travel time matrix: 1.5% of a one-departure call on POA). Once per process is also
    the truer answer: a package upgraded after import still runs its imported code.

    Parameters
    ----------
    package : str
        Distribution name.

    Returns
    -------
    str or None
        None when the package is not installed.
    """
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def model_settings() -> dict[str, Any]:
    """Read the :mod:`transitmile.settings` that shape the embedded engine's results.

    Returns
    -------
    dict
        Egress caps (metres), transfer limits and rule, boarding slack (seconds), snap radius
        (metres), the Monte Carlo seed and the search's pruning switch (which does not
        change results), as they were when the run started.
    """
    names = (
        "egress_walk_limit_m", "egress_bike_limit_m", "max_transfer_time_s", "transfer_limit_m",
        "transfers_closest_stop_per_pattern", "access_stop_limit",
        "min_transfer_time_s", "snap_radius_m", "random_seed", "prune_dominated",
    )  # fmt: skip
    return {name: getattr(settings, name) for name in names}


def run_record(network: Any, request: Any, engine: str, reason: str) -> dict[str, Any]:
    """Record one routing run.

    Parameters
    ----------
    network : TransportNetwork
        Its ``provenance`` (file hashes, date, cache key) is copied.
    request : TravelTimeRequest
        Recorded with ``as_dict()``.
    engine : str
        The engine that ran.
    reason : str
        Why that engine was chosen.

    Returns
    -------
    dict
        ``engine, engine_reason, transitmile_version, versions, request, network,
        settings`` (:func:`model_settings`) ``, computed_at`` (UTC, ISO 8601).
    """
    return {
        "engine": engine,
        "engine_reason": reason,
        "transitmile_version": package_version("transitmile"),
        "versions": {p: package_version(p) for p in RECORDED_PACKAGES},
        "request": request.as_dict(),
        "network": network.provenance,
        "settings": model_settings(),
        "computed_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
