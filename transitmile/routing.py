"""travel_time_matrix(): one call, two engines, the frame r5py returns.

The parameters, their names and defaults are r5py's (``r5py.TravelTimeMatrix``,
defaults in :data:`transitmile.conventions.R5PY_DEFAULTS`), so a planner can switch
between the embedded RAPTOR engine and R5 by the one ``engine`` argument and get the
same columns back. This module only dispatches: it validates the request and the
points, chooses the engine (:func:`transitmile.engines.r5.choose_engine`), runs it
(:func:`transitmile.engines.embedded.run_embedded` or
:func:`transitmile.engines.r5.run_r5py`) and adds the run record.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import geopandas as gpd
import pandas as pd

from .conventions import R5PY_DEFAULTS
from .engines.request import ENGINES, check_departure, check_engine, make_request
from .provenance import run_record
from .streets import check_points as _check_layer

__all__ = ["travel_time_matrix", "check_points", "ENGINES"]

log = logging.getLogger("transitmile")

_D = R5PY_DEFAULTS


def travel_time_matrix(
    network,
    origins: gpd.GeoDataFrame,
    destinations: gpd.GeoDataFrame | None = None,
    *,
    departure: dt.datetime,
    departure_time_window: dt.timedelta = _D.departure_time_window,
    percentiles: tuple[int, ...] = _D.percentiles,
    transport_modes: tuple[str, ...] = _D.transport_modes,
    access_modes: tuple[str, ...] = _D.access_modes,
    egress_modes: tuple[str, ...] | None = None,
    max_time: dt.timedelta = _D.max_time,
    max_time_walking: dt.timedelta | None = None,
    max_time_cycling: dt.timedelta | None = None,
    speed_walking: float = _D.speed_walking,
    speed_cycling: float = _D.speed_cycling,
    max_public_transport_rides: int = _D.max_public_transport_rides,
    min_transfer_time: dt.timedelta = _D.min_transfer_time,
    breakdown: bool = False,
    engine: str = "auto",
    progress: bool | None = None,
) -> pd.DataFrame:
    """Door-to-door travel times from every origin to every destination.

    Parameters
    ----------
    network : TransportNetwork
        Streets and transit for one service date.
    origins, destinations : GeoDataFrame
        Points with a unique ``id`` column and a CRS. ``destinations`` defaults
        to ``origins``.
    departure : datetime.datetime
        Start of the departure window, on the network's service date.
    departure_time_window : datetime.timedelta
        Departures are tried every minute of this window (default 10 min).
    percentiles : tuple of int
        Percentiles (1..99) of travel time over the window (default median).
    transport_modes : tuple of str
        ``"TRANSIT"`` and/or street modes ``"WALK"``, ``"BICYCLE"`` usable door to door.
    access_modes, egress_modes : tuple of str
        Street modes to and from transit stops; egress defaults to access (as r5py).
    max_time : datetime.timedelta
        Longest trip reported (default 2 h); longer trips are NaN.
    max_time_walking, max_time_cycling : datetime.timedelta, optional
        Limit of each walking / cycling leg (default ``max_time``).
    speed_walking, speed_cycling : float
        km/h (defaults 3.6 and 12, as r5py).
    max_public_transport_rides : int
        Most vehicles boarded in one trip (default 8).
    min_transfer_time : datetime.timedelta
        Boarding slack before every boarding (default 1 min; embedded engine).
    breakdown : bool
        Add the split of the median trip into access, waiting, in-vehicle,
        transfer and egress minutes (embedded engine).
    engine : {"auto", "embedded", "r5py"}
        ``"auto"`` uses R5 where Java 21+ and an R5 jar are usable, else the
        embedded engine, and logs why.
    progress : bool, optional
        Show a progress bar (default ``settings.progress``).

    Returns
    -------
    pandas.DataFrame
        ``from_id, to_id, travel_time`` in minutes (NaN when unreachable within
        ``max_time``), or ``travel_time_pNN`` per percentile unless only the
        median is asked, exactly as ``r5py.TravelTimeMatrix``. ``.attrs`` records
        the engine, versions, parameters and input hashes.
    """
    check_engine(engine)
    request = make_request(
        departure=departure,
        departure_time_window=departure_time_window,
        percentiles=percentiles,
        transport_modes=transport_modes,
        access_modes=access_modes,
        egress_modes=egress_modes,
        max_time=max_time,
        max_time_walking=max_time_walking,
        max_time_cycling=max_time_cycling,
        speed_walking=speed_walking,
        speed_cycling=speed_cycling,
        max_public_transport_rides=max_public_transport_rides,
        min_transfer_time=min_transfer_time,
        # an embedded-only output: named only when asked, so R5 stays eligible otherwise
        **({"breakdown": True} if breakdown else {}),
    )
    origins = check_points(origins, "origins")
    destinations = origins if destinations is None else check_points(destinations, "destinations")
    check_departure(request, network.date)

    from .engines.r5 import choose_engine

    chosen, reason = choose_engine(engine, network, request)
    if chosen == "r5py":
        from .engines.r5 import run_r5py

        frame = run_r5py(network, origins, destinations, request, progress=progress)
    else:
        from .engines.embedded import run_embedded

        frame = run_embedded(network, origins, destinations, request, progress=progress)
    frame.attrs.update(run_record(network, request, frame.attrs.get("engine", chosen), reason))
    return frame


def check_points(points: Any, name: str) -> gpd.GeoDataFrame:
    """Validate an origins/destinations layer: GeoDataFrame, unique ``id``, CRS, Points, not empty.

    :func:`transitmile.streets.check_points` with ``unique_ids`` and without empty
    layers; ``name`` (``"origins"``, ``"destinations"``) is used in messages. Returns
    ``points`` unchanged, or raises :class:`~transitmile.errors.PointsError` (a
    :class:`~transitmile.errors.RoutingError`).
    """
    return _check_layer(points, name, unique_ids=True, allow_empty=False)


def __getattr__(name: str) -> Any:
    """Old homes of the embedded engine's names, kept working (imported on first use)."""
    if name == "run_embedded":
        from .engines.embedded import run_embedded

        return run_embedded
    if name == "BREAKDOWN_COLUMNS":
        from .engines.frame import BREAKDOWN_COLUMNS

        return BREAKDOWN_COLUMNS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
