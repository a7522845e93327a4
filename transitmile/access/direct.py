"""Accessibility straight from a network: route a chunk of origins, reduce it, move on.

The embedded engine hands each routed chunk of origins to the measure
(:func:`transitmile.engines.embedded.route_chunks`), so only one chunk's minutes
(``chunk x destinations``) exist at a time: how a metro-sized study fits in memory.
On R5 the chunks are whole ``travel_time_matrix`` calls on slices of the origins.
Either way a chunk's minutes are exactly those the full matrix holds for the same
origins, with r5py's rule that a point is 0 minutes from itself (same id).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..engines.request import check_departure, check_engine, make_request
from ..errors import AccessError
from ..provenance import run_record

__all__ = ["network_runner"]


def _itself(origin_ids, destination_ids) -> np.ndarray:
    """Column of each origin's own id among the destinations, -1 where it is not one."""
    return pd.Index(destination_ids).get_indexer(origin_ids)


def network_runner(
    network, origins, destinations, *, departure, percentile, engine, progress, chunk_size, routing,
    client=None,
):  # fmt: skip
    """Prepare a pass over the network's origins, chunk by chunk.

    Parameters
    ----------
    network : TransportNetwork
        Streets and timetable of one service date.
    origins, destinations : GeoDataFrame
        Checked layers.
    departure : datetime.datetime
        Start of the departure window.
    percentile : int
        The travel time percentile of the measure.
    engine : {"auto", "embedded", "r5py"}
        As :func:`~transitmile.travel_time_matrix`.
    progress : bool or None
        Progress bars.
    chunk_size : int
        Origins per chunk.
    routing : dict
        Other parameters of :func:`~transitmile.travel_time_matrix`.
    client : dask.distributed.Client, optional
        Route the chunks on this Dask cluster (with their origins' street legs, unless
        the network has access services: see :func:`~transitmile.travel_time_matrix`);
        they are reduced here, in origin order.

    Returns
    -------
    run : callable
        ``run(consume)`` routes every chunk and calls ``consume(start, stop, minutes)``
        with ``minutes[stop - start, n_destinations]`` (NaN unreachable); each call of
        ``run`` routes again (2SFCA makes two passes).
    provenance : dict
        The routing run's record (engine, versions, request, network).

    Raises
    ------
    AccessError
        ``departure`` missing, or routing parameters that do not apply here.
    RoutingError
        Bad routing parameters or a departure off the network's service date.
    """
    if departure is None:
        raise AccessError("accessibility straight from a network needs departure=")
    for name in ("percentiles", "breakdown"):
        if name in routing:
            raise AccessError(
                f"parameter {name!r} does not apply to accessibility (it uses percentile=)"
            )
    check_engine(engine)
    request = make_request(departure=departure, percentiles=(percentile,), **routing)
    check_departure(request, network.date)
    from ..distributed import check_client
    from ..routing import engine_for

    client = check_client(client)
    chosen, reason = engine_for(engine, network, request, client=client)
    itself = _itself(origins["id"].to_numpy(), destinations["id"].to_numpy())

    def deliver(consume, start, stop, minutes):
        block = np.ascontiguousarray(minutes, dtype=np.float64)
        own = itself[start:stop]
        rows = np.flatnonzero(own >= 0)
        block[rows, own[rows]] = 0.0
        consume(start, stop, block)

    if chosen == "r5py":
        run = _r5py_runner(network, origins, destinations, request, progress, chunk_size, deliver)
    else:
        from ..engines.embedded import route_chunks

        def run(consume):
            route_chunks(
                network, origins, destinations, request,
                lambda start, stop, minutes, _: deliver(consume, start, stop, minutes[:, :, 0]),
                chunk_size=chunk_size, progress=progress, client=client,
            )  # fmt: skip

    return run, {"routing": run_record(network, request, chosen, reason)}


def _r5py_runner(network, origins, destinations, request, progress, chunk_size, deliver):
    """Chunks of origins as whole r5py matrices, pivoted to dense minutes."""
    from ..engines.r5 import run_r5py

    columns = pd.Index(destinations["id"])

    def run(consume):
        for start in range(0, len(origins), chunk_size):
            stop = min(start + chunk_size, len(origins))
            chunk = origins.iloc[start:stop]
            frame = run_r5py(network, chunk, destinations, request, progress=progress)
            minutes = np.full((stop - start, len(columns)), np.nan)
            rows = pd.Index(chunk["id"]).get_indexer(frame["from_id"])
            minutes[rows, columns.get_indexer(frame["to_id"])] = frame.iloc[:, 2].to_numpy()
            deliver(consume, start, stop, minutes)

    return run
