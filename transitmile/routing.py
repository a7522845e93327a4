"""travel_time_matrix(): one call, two engines, the frame r5py returns.

The parameters, their names and defaults are r5py's (``r5py.TravelTimeMatrix``),
so a planner can switch between the embedded RAPTOR engine and R5 by the one
``engine`` argument and get the same columns back.
"""

from __future__ import annotations

import datetime as dt
import logging
from importlib.metadata import PackageNotFoundError, version

import geopandas as gpd
import numpy as np
import pandas as pd

from . import settings
from .engines.request import TravelTimeRequest, make_request
from .errors import RoutingError, show_value
from .streets import (
    Snapped,
    SparseTimes,
    snap_points,
    street_travel_times,
    street_travel_times_many,
)

__all__ = ["travel_time_matrix", "check_points"]

log = logging.getLogger("transitmile")

ENGINES = ("auto", "embedded", "r5py")


def travel_time_matrix(
    network,
    origins: gpd.GeoDataFrame,
    destinations: gpd.GeoDataFrame | None = None,
    *,
    departure: dt.datetime,
    departure_time_window: dt.timedelta = dt.timedelta(minutes=10),  # noqa: B008
    percentiles: tuple[int, ...] = (50,),
    transport_modes: tuple[str, ...] = ("TRANSIT", "WALK"),
    access_modes: tuple[str, ...] = ("WALK",),
    egress_modes: tuple[str, ...] | None = None,
    max_time: dt.timedelta = dt.timedelta(hours=2),  # noqa: B008
    max_time_walking: dt.timedelta | None = None,
    max_time_cycling: dt.timedelta | None = None,
    speed_walking: float = 3.6,
    speed_cycling: float = 12.0,
    max_public_transport_rides: int = 8,
    min_transfer_time: dt.timedelta = dt.timedelta(minutes=1),  # noqa: B008
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
    if engine not in ENGINES:
        raise RoutingError(
            f"parameter 'engine' must be one of {list(ENGINES)}, got {show_value(engine)}"
        )
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
    _check_departure(network, request)

    from .engines.r5 import choose_engine

    chosen, reason = choose_engine(engine, network, request)
    if chosen == "r5py":
        from .engines.r5 import run_r5py

        frame = run_r5py(network, origins, destinations, request, progress=progress)
    else:
        frame = run_embedded(network, origins, destinations, request, progress=progress)
    frame.attrs.update(_provenance(network, request, frame.attrs.get("engine", chosen), reason))
    return frame


# --------------------------------------------------------------------- checks
def check_points(points, name: str) -> gpd.GeoDataFrame:
    """Validate an origins/destinations layer (GeoDataFrame, unique ``id``, CRS, points)."""
    if not isinstance(points, gpd.GeoDataFrame):
        raise RoutingError(
            f"{name} must be a GeoDataFrame with an 'id' column, got {type(points).__name__}"
        )
    if "id" not in points.columns:
        raise RoutingError(f"{name} has no 'id' column; columns are {list(points.columns)[:10]}")
    if len(points) == 0:
        raise RoutingError(f"{name} is empty")
    if points.crs is None:
        raise RoutingError(f"{name} has no CRS; set one, e.g. {name}.set_crs('EPSG:4326')")
    duplicated = points["id"][points["id"].duplicated()]
    if len(duplicated):
        raise RoutingError(
            f"{name} column 'id' has duplicate values, e.g. {show_value(duplicated.iloc[0])} "
            f"({len(duplicated)} duplicates)"
        )
    if points["id"].isna().any():
        raise RoutingError(f"{name} column 'id' has missing values")
    kinds = points.geometry.geom_type
    bad = points.loc[kinds != "Point", "id"]
    if len(bad):
        raise RoutingError(
            f"{name} must have Point geometries; id {show_value(bad.iloc[0])} is "
            f"{show_value(kinds[kinds != 'Point'].iloc[0])}"
        )
    return points


def _check_departure(network, request: TravelTimeRequest) -> None:
    if request.departure.date() != network.date:
        raise RoutingError(
            f"parameter 'departure' {request.departure.isoformat()} is not on the network's "
            f"service date {network.date.isoformat()}; build TransportNetwork(..., date=...) for "
            "that date or depart on this one"
        )


# ------------------------------------------------------------ embedded engine
def run_embedded(
    network, origins, destinations, request: TravelTimeRequest, *, progress=None
) -> pd.DataFrame:
    """Route with the embedded engine: street tables here, transit in RAPTOR."""
    from .engines.embedded import compute_travel_times

    modes = set(request.direct_modes)
    if request.uses_transit:
        modes |= set(request.access_modes) | set(request.egress_modes)
    snapped_o = {m: _snap(network, origins, m) for m in modes}
    same_points = origins is destinations
    snapped_d = snapped_o if same_points else {m: _snap(network, destinations, m) for m in modes}
    if not any(s.snapped.any() for s in snapped_o.values()):
        raise RoutingError(
            f"none of the {len(origins)} origins lies within {settings.snap_radius_m:.0f} m of the "
            f"street network of {network.osm_pbf.name}; e.g. id {show_value(origins['id'].iloc[0])}"
            f"{network.swapped_hint(origins)}"
        )
    access, direct, egress = _street_tables(
        network, request, snapped_o, snapped_d, same_points, progress
    )
    if request.uses_transit:
        transfers = network.transfer_seconds(
            request.speed_walking, min(settings.max_transfer_time_s, request.max_time_walking_s)
        )
        result = compute_travel_times(
            network.timetable,
            transfers,
            access,
            egress,
            direct,
            departure_s=request.departure_seconds,
            n_minutes=request.n_departure_minutes,
            percentiles=request.percentiles,
            max_time_s=request.max_time_s,
            max_rides=request.max_public_transport_rides,
            board_slack_s=request.min_transfer_time_s,
            seed=settings.random_seed,
            breakdown=request.options.get("breakdown", False),
            progress=progress,
        )
        minutes, parts = result.minutes, getattr(result, "breakdown", None)
    else:
        seconds = direct.to_dense(fill=np.inf)
        # strictly below max_time, as R5 (PerTargetPropagater: timeAtTarget < cutoffSeconds)
        minutes = np.where(seconds < request.max_time_s, np.floor(seconds / 60.0), np.nan)
        minutes = np.repeat(minutes[:, :, None], len(request.percentiles), axis=2)
        parts = None
        if request.options.get("breakdown"):  # no transit leg to split: the columns stay empty
            parts = {part: np.full(minutes.shape[:2], np.nan) for part in BREAKDOWN_COLUMNS}
    frame = _frame(origins, destinations, minutes, request.percentiles, parts)
    frame.attrs["engine"] = "embedded"
    frame.attrs["engine_version"] = (
        f"transitmile {_version('transitmile')} embedded range RAPTOR; numba {_version('numba')}"
    )
    return frame


def _street_tables(network, request, snapped_o, snapped_d, same_points: bool, progress):
    """Access (origin x stop), direct (origin x destination) and egress (stop x destination).

    Per mode, one batch of searches from the origins serves access and direct; egress
    runs from the destinations' side. Walking is symmetric, so when destinations are
    the origins, walking egress is the walking access table read the other way.
    """
    tables = {"access": [], "direct": [], "egress": []}
    for mode, origins in sorted(snapped_o.items()):
        graph, stops = network.street_graph(mode), network.snapped_stops(mode)
        speed = _speed(request, mode)
        limit = min(request.max_time_s, _leg_limit(request, mode))
        targets = {}
        if request.uses_transit and mode in request.access_modes:
            targets["access"] = stops
        if mode in request.direct_modes:
            targets["direct"] = snapped_d[mode]
        found = {}
        if targets:
            found = dict(
                zip(
                    targets,
                    street_travel_times_many(
                        graph, origins, list(targets.values()), speed, limit, progress=progress
                    ),
                    strict=True,
                )
            )
        for name, table in found.items():
            tables[name].append(table)
        if request.uses_transit and mode in request.egress_modes:
            if mode == "WALK" and same_points and "access" in found:
                tables["egress"].append(found["access"].T)
            else:
                tables["egress"].append(
                    street_travel_times(
                        graph, stops, snapped_d[mode], speed, limit, progress=progress
                    )
                )
    shape = (len(next(iter(snapped_o.values()))), len(next(iter(snapped_d.values()))))
    return (
        _min_tables(tables["access"], None),
        _min_tables(tables["direct"], shape),
        _min_tables(tables["egress"], None),
    )


def _snap(network, points, mode) -> Snapped:
    return snap_points(network.street_graph(mode), points, radius_m=settings.snap_radius_m)


def _speed(request: TravelTimeRequest, mode: str) -> float:
    return request.speed_walking if mode == "WALK" else request.speed_cycling


def _leg_limit(request: TravelTimeRequest, mode: str) -> int:
    return request.max_time_walking_s if mode == "WALK" else request.max_time_cycling_s


def _min_tables(tables: list[SparseTimes], shape) -> SparseTimes | None:
    """Pairwise minimum of several sparse time tables of the same shape."""
    if not tables:
        if shape is None:
            return None
        return SparseTimes(
            np.zeros(shape[0] + 1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.int32), shape
        )
    if len(tables) == 1:
        return tables[0]
    shape = tables[0].shape
    rows = np.concatenate([np.repeat(np.arange(t.shape[0]), np.diff(t.indptr)) for t in tables])
    cols = np.concatenate([t.indices for t in tables])
    secs = np.concatenate([t.seconds for t in tables])
    order = np.lexsort((secs, cols, rows))
    rows, cols, secs = rows[order], cols[order], secs[order]
    first = np.ones(len(rows), bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    rows, cols, secs = rows[first], cols[first], secs[first]
    indptr = np.zeros(shape[0] + 1, np.int64)
    np.add.at(indptr, rows + 1, 1)
    return SparseTimes(np.cumsum(indptr), cols.astype(np.int32), secs.astype(np.int32), shape)


#: Frame column for each part of the median trip reported by the embedded engine.
BREAKDOWN_COLUMNS = {
    "access": "access_time",
    "waiting": "wait_time",
    "in_vehicle": "in_vehicle_time",
    "transfer": "transfer_time",
    "egress": "egress_time",
}


def _frame(origins, destinations, minutes: np.ndarray, percentiles, parts) -> pd.DataFrame:
    n_o, n_d = len(origins), len(destinations)
    origin_ids, destination_ids = origins["id"].array, destinations["id"].array
    # Take from the id arrays rather than build 2 x n_o x n_d ids anew: converting
    # 1.5 M Python strings to the id dtype took ~0.15 s on POA, 15% of a one-minute run.
    data = {
        "from_id": pd.Series(
            origin_ids.take(np.repeat(np.arange(n_o), n_d)), dtype=origin_ids.dtype
        ),
        "to_id": pd.Series(
            destination_ids.take(np.tile(np.arange(n_d), n_o)), dtype=destination_ids.dtype
        ),
    }
    # Pairs of a point with itself: destination ids are unique (check_points).
    itself = pd.Index(destination_ids).get_indexer(origin_ids)
    same = (np.arange(n_o) * n_d + itself)[itself >= 0]
    for k, p in enumerate(percentiles):
        column = minutes[:, :, k].reshape(-1).astype("float64")
        column[same] = 0.0  # as r5py: an origin is 0 minutes from itself
        name = "travel_time" if tuple(percentiles) == (50,) else f"travel_time_p{p:d}"
        data[name] = column
    if parts is not None:
        for part, column in BREAKDOWN_COLUMNS.items():
            data[column] = np.asarray(parts[part], dtype="float64").reshape(-1)
    return pd.DataFrame(data)


def _version(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def _provenance(network, request: TravelTimeRequest, engine: str, reason: str) -> dict:
    return {
        "engine": engine,
        "engine_reason": reason,
        "transitmile_version": _version("transitmile"),
        "versions": {
            p: _version(p) for p in ("numba", "numpy", "pandas", "partridge", "osmium", "r5py")
        },
        "request": request.as_dict(),
        "network": network.provenance,
        "computed_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
