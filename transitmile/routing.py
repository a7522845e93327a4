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
import inspect
import logging
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from .conventions import R5PY_DEFAULTS
from .distributed import check_client, chunk_size_for
from .engines.request import (
    ENGINES,
    TravelTimeRequest,
    check_departure,
    check_engine,
    make_request,
)
from .errors import RoutingError
from .provenance import run_record
from .streets import check_points as _check_layer

__all__ = [
    "travel_time_matrix",
    "write_travel_time_matrix",
    "engine_for",
    "check_points",
    "ENGINES",
]

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
    client=None,
    chunk_size: int | None = None,
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
        Show a progress bar (default ``settings.progress``; Dask's own with ``client``).
    client : dask.distributed.Client, optional
        Route the chunks of origins as tasks on this Dask cluster (embedded engine; see
        :mod:`transitmile.distributed`). The frame is identical to the in-process one.
        Each task also computes its origins' street legs (access to stops, door to
        door); this process snaps the points and builds the egress table. A network
        with access services falls back to computing every street table here (the
        services need the network), then ships each chunk's rows with its task.
        Needs ``pip install 'transitmile[dask]'``.
    chunk_size : int, optional
        Origins per chunk (per task with ``client``); default 256 in process, and on a
        cluster about 4 chunks per worker thread. The result does not depend on it.

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
    origins, destinations, client, chosen, reason = _prepare(
        network, origins, destinations, request, engine, client
    )
    if chosen == "r5py":
        from .engines.r5 import run_r5py

        frame = run_r5py(network, origins, destinations, request, progress=progress)
    else:
        from .engines.embedded import run_embedded

        frame = run_embedded(
            network, origins, destinations, request, progress=progress, client=client,
            chunk_size=chunk_size_for(len(origins), client, chunk_size),
        )  # fmt: skip
    frame.attrs.update(run_record(network, request, frame.attrs.get("engine", chosen), reason))
    return frame


#: The keyword parameters write_travel_time_matrix passes on to travel_time_matrix.
_MATRIX_OPTIONS = tuple(
    name
    for name, p in inspect.signature(travel_time_matrix).parameters.items()
    if p.kind is inspect.Parameter.KEYWORD_ONLY
)


def write_travel_time_matrix(
    network,
    origins: gpd.GeoDataFrame,
    destinations: gpd.GeoDataFrame | None = None,
    *,
    path: str | os.PathLike,
    **options,
) -> Path | str:
    """Compute a travel time matrix and write it, as one file or as a folder of parts.

    A folder (``path`` without a ``.csv``/``.parquet`` suffix, e.g. ``"ttm/"`` or
    ``"s3://bucket/ttm"``) receives one Parquet part per chunk of origins, written by
    whoever routed the chunk: a Dask worker with ``client=``, or this process one chunk
    at a time. The matrix is never gathered, so it may be larger than memory. The
    provenance goes to ``_provenance.json`` and the manifest ``_manifest.json`` is
    written last (see :mod:`transitmile.partitioned`).

    Parameters
    ----------
    network : TransportNetwork
        Streets and transit for one service date.
    origins, destinations : GeoDataFrame
        As :func:`travel_time_matrix`.
    path : str or os.PathLike
        ``.csv`` or ``.parquet`` file (with a ``<name>.json`` sidecar), or a folder or
        fsspec URL for a partitioned matrix. On a cluster, a folder every worker can
        write to (a shared file system, or object storage by URL).
    **options
        The keyword parameters of :func:`travel_time_matrix` (``departure`` is
        required; ``client``, ``chunk_size``, ``breakdown`` ...). A partitioned matrix
        always runs the embedded engine; ``chunk_size`` origins make one part.

    Returns
    -------
    pathlib.Path or str
        The file or folder written (the URL as given for object storage).

    Raises
    ------
    RoutingError
        An unknown parameter, or any of :func:`travel_time_matrix`'s, before any work.
    TransitmileError
        If the folder holds files other than a matrix's.
    """
    unknown = sorted(set(options) - set(_MATRIX_OPTIONS))
    if unknown:
        raise RoutingError(
            f"write_travel_time_matrix: unknown parameter {unknown[0]!r}; it takes "
            f"travel_time_matrix's: {', '.join(_MATRIX_OPTIONS)}"
        )
    if "departure" not in options:
        raise RoutingError("write_travel_time_matrix: parameter 'departure' is required")
    if Path(os.fspath(path)).suffix.lower() in (".csv", ".parquet"):
        from .io import write_table

        return write_table(travel_time_matrix(network, origins, destinations, **options), path)
    from .engines.embedded import engine_attrs, run_embedded
    from .partitioned import MatrixFolder, PartWriter

    engine, client = check_engine(options.pop("engine", "auto")), options.pop("client", None)
    chunk_size, progress = options.pop("chunk_size", None), options.pop("progress", None)
    breakdown = options.pop("breakdown", False)
    request = make_request(**options, **({"breakdown": True} if breakdown else {}))
    origins, destinations, client, _, reason = _prepare(
        network, origins, destinations, request, engine, client, partitioned=True
    )
    folder = MatrixFolder(path)
    folder.prepare()
    writer = PartWriter(
        folder.path,
        pd.DataFrame({"id": origins["id"].array}),
        pd.DataFrame({"id": destinations["id"].array}),
        request.percentiles,
        breakdown=bool(breakdown),
    )
    parts = run_embedded(
        network, origins, destinations, request, progress=progress, client=client,
        chunk_size=chunk_size_for(len(origins), client, chunk_size), writer=writer,
    )  # fmt: skip
    folder.finish(parts, {**engine_attrs(), **run_record(network, request, "embedded", reason)})
    return folder.path if folder.url else Path(folder.path)


def _prepare(network, origins, destinations, request, engine, client, partitioned=False):
    """Check points, date and client, and choose the engine, before any work starts."""
    origins = check_points(origins, "origins")
    destinations = origins if destinations is None else check_points(destinations, "destinations")
    check_departure(request, network.date)
    client = check_client(client)
    chosen, reason = engine_for(engine, network, request, client=client, partitioned=partitioned)
    return origins, destinations, client, chosen, reason


def engine_for(
    engine: str, network, request: TravelTimeRequest, *, client=None, partitioned: bool = False
) -> tuple[str, str]:
    """Choose the engine and say why; Dask and partitioned output run the embedded one.

    Parameters
    ----------
    engine : {"auto", "embedded", "r5py"}
        The caller's choice.
    network : TransportNetwork
        The network to route on.
    request : TravelTimeRequest
        The validated request.
    client : dask.distributed.Client, optional
        A Dask client: the embedded engine's chunks run on it.
    partitioned : bool
        Output written chunk by chunk (also the embedded engine).

    Returns
    -------
    name : str
        ``"embedded"`` or ``"r5py"``.
    reason : str
        Why, for the run record.

    Raises
    ------
    RoutingError
        ``engine="r5py"`` with a client or partitioned output.
    """
    from .engines.r5 import choose_engine

    if engine == "embedded" or (client is None and not partitioned):
        return choose_engine(engine, network, request)
    what = "parameter 'client'" if client is not None else "partitioned output"
    if engine == "r5py":
        raise RoutingError(
            f"{what} runs the embedded engine's chunks; engine='r5py' cannot use it: pass "
            "engine='embedded' (or 'auto')"
            + (", or client=None" if client is not None else ", or a .parquet file")
        )
    if client is not None:
        return "embedded", "client= given: the embedded engine's chunks run on the Dask cluster"
    return "embedded", "partitioned output: each chunk of origins is written where it is routed"


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
