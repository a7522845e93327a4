"""The embedded engine: range RAPTOR over a compiled timetable, in chunks of origins.

:func:`run_embedded` is the engine behind ``travel_time_matrix(engine="embedded")``:
it asks :mod:`~transitmile.engines.street_legs` for the street tables (access: origin x
stop, egress: stop x destination, direct: origin x destination; access services
included), takes the transfers (stop x stop) and the
:class:`~transitmile.engines.timetable.Timetable` from the network, runs
:func:`compute_travel_times` and shapes the r5py frame (:mod:`~transitmile.engines.frame`).
:func:`compute_travel_times` checks the tables, draws the Monte Carlo phases of
headway-based trips, and runs :func:`~transitmile.engines.raptor.range_raptor_chunk`
chunk by chunk.

A :class:`RaptorChunk` (timetable + its slice of access/direct + egress + transfers
+ parameters) holds only numpy arrays and plain numbers: it is the unit a multi-core
or distributed run ships to a worker. Inside a chunk numba's ``prange`` runs
origins in parallel, each with its own scratch labels.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numba
import numpy as np
import pandas as pd

from .. import settings
from ..conventions import R5PY_DEFAULTS
from ..errors import RoutingError, show_value
from ..provenance import package_version
from ..sparse import indptr_from_rows
from . import raptor
from .frame import BREAKDOWN_COLUMNS, result_frame
from .request import TravelTimeRequest
from .street_legs import StreetPlan, egress_legs, origin_legs, plan_street_legs, street_legs
from .tables import SparseTimes, check_sparse_times, empty_sparse_times
from .timetable import Timetable

__all__ = [
    "run_embedded",
    "route_chunks",
    "engine_attrs",
    "TravelTimes",
    "RaptorChunk",
    "OriginBlock",
    "plan_chunks",
    "plan_template",
    "BlockSpan",
    "block_spans",
    "block_from_streets",
    "chunk_for",
    "breakdown_minutes",
    "compute_travel_times",
    "draw_phase_offsets",
    "run_chunk",
    "stop_arrival_times",
    "egress_tables",
]

BREAKDOWN_PARTS = ("access", "waiting", "in_vehicle", "transfer", "egress")

#: ``on_chunk(start, stop, minutes, breakdown)``: one routed chunk of origins.
ChunkConsumer = Callable[[int, int, np.ndarray, "dict[str, np.ndarray] | None"], None]

_MAX_TIME_S = int(R5PY_DEFAULTS.max_time.total_seconds())


@dataclass
class TravelTimes:
    """Result of :func:`compute_travel_times`.

    Attributes
    ----------
    minutes : numpy.ndarray
        float64 ``[n_origins, n_destinations, n_percentiles]``: whole minutes (seconds
        of the percentile iteration floor-divided by 60, as R5), NaN if unreachable;
        None when ``on_chunk`` received the chunks instead.
    percentiles : tuple of int
    n_iterations : int
        Iterations per origin-destination pair (minutes x Monte Carlo draws per minute).
    breakdown : dict of str to numpy.ndarray, or None
        float64 ``[n_origins, n_destinations]`` minutes per part of the trip at the
        median iteration: ``access``, ``waiting`` (initial wait and waits at transfers,
        board slack included), ``in_vehicle``, ``transfer`` (walking between stops),
        ``egress``. NaN where the median trip does not use transit (walking door to
        door is as fast) or is unreachable. Parts are in seconds / 60 (not floored) and
        add up to the median iteration's travel time in seconds / 60.
    iterations : numpy.ndarray or None
        int32 ``[n_origins, n_iterations, n_destinations]`` seconds of every iteration
        (-1 unreachable), iteration = ``minute * draws_per_minute + draw``; only with
        ``keep_iterations=True`` (diagnostics and tests: it is large).
    """

    minutes: np.ndarray | None
    percentiles: tuple[int, ...]
    n_iterations: int
    breakdown: dict[str, np.ndarray] | None = None
    iterations: np.ndarray | None = None


@dataclass
class RaptorChunk:
    """Everything one worker needs to route a block of origins (picklable, no globals)."""

    timetable: Timetable
    transfers: SparseTimes
    access: SparseTimes  # rows = this chunk's origins only
    egress: SparseTimes  # stop x destination, rows sorted by time (see egress_tables)
    egress_by_destination: SparseTimes  # the transpose, rows sorted by time
    direct: SparseTimes  # rows = this chunk's origins only
    departure_s: int
    n_minutes: int
    percentiles: np.ndarray
    max_time_s: int
    max_rides: int
    board_slack_s: int
    block_offsets: np.ndarray  # int32 [n_minutes, draws per minute, n_blocks]
    breakdown: bool = False
    keep_iterations: bool = False
    prune_dominated: bool = True


@dataclass
class OriginBlock:
    """One chunk's own share of the work: a block of consecutive origins.

    The rest of a chunk (timetable, transfers, egress, parameters) is the same for
    every block and travels once per worker; a block travels with its task.

    Attributes
    ----------
    number : int
        Position of the block (0, 1, ...): the partition number of written output.
    start, stop : int
        The block's origins are rows ``start:stop`` of the run's origins.
    access, direct : SparseTimes
        Rows ``start:stop`` of the access (origin x stop) and direct (origin x
        destination) tables, seconds.
    """

    number: int
    start: int
    stop: int
    access: SparseTimes
    direct: SparseTimes


def chunk_for(template: RaptorChunk, block: OriginBlock) -> RaptorChunk:
    """Make the chunk that routes ``block``'s origins, sharing the rest with ``template``.

    Parameters
    ----------
    template : RaptorChunk
        From :func:`plan_chunks` (no origins of its own).
    block : OriginBlock
        Which origins.

    Returns
    -------
    RaptorChunk
    """
    return replace(template, access=block.access, direct=block.direct)


def breakdown_minutes(parts_s: np.ndarray) -> dict[str, np.ndarray]:
    """Name the rows of :func:`run_chunk`'s breakdown and turn seconds into minutes.

    Parameters
    ----------
    parts_s : numpy.ndarray
        float64 ``[5, n, n_dest]`` seconds in ``BREAKDOWN_PARTS`` order.

    Returns
    -------
    dict of str to numpy.ndarray
        ``[n, n_dest]`` minutes (seconds / 60, not floored) per part.
    """
    return {name: parts_s[q] / 60.0 for q, name in enumerate(BREAKDOWN_PARTS)}


def draw_phase_offsets(
    timetable: Timetable, n_minutes: int, monte_carlo_draws: int, seed: int | None
) -> np.ndarray:
    """Monte Carlo phase offsets of headway blocks, ``int32 [n_minutes, draws, n_blocks]``.

    As R5 (Conway, Byrd, van der Linden 2017), ``monte_carlo_draws`` in total are
    spread over the window, ``max(1, ceil(draws / n_minutes))`` per departure minute,
    and each draw shifts every headway block by its own uniform offset in
    ``[0, headway)`` seconds, drawn anew for every minute and draw. Reproducible:
    numpy's ``default_rng(seed)``. A timetable without headway trips gets
    ``[n_minutes, 1, 0]``: exactly one iteration per minute.
    """
    n_blocks = len(timetable.block_ids)
    if n_blocks == 0:
        return np.zeros((n_minutes, 1, 0), dtype=np.int32)
    per_minute = max(1, math.ceil(monte_carlo_draws / n_minutes))
    rng = np.random.default_rng(settings.random_seed if seed is None else seed)
    unit = rng.random((n_minutes, per_minute, n_blocks))
    return np.floor(unit * timetable.block_headway_s).astype(np.int32)


def _slice_rows(table: SparseTimes, start: int, stop: int) -> SparseTimes:
    lo, hi = table.indptr[start], table.indptr[stop]
    return SparseTimes(
        indptr=table.indptr[start : stop + 1] - lo,
        indices=table.indices[lo:hi],
        seconds=table.seconds[lo:hi],
        shape=(stop - start, table.shape[1]),
    )


def run_chunk(
    chunk: RaptorChunk, *, searched_again: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Route one chunk of origins.

    Parameters
    ----------
    chunk : RaptorChunk
    searched_again : int8 numpy.ndarray, optional
        ``[n_origins]``, filled with 1 where the ride limit cut a pruned search short
        and the origin was searched again keeping every round's labels, 2 where the
        chunk's first origins showed the limit binding and the search kept every
        round's labels from the start, 0 elsewhere (see ``RaptorChunk.prune_dominated``
        and :func:`~transitmile.engines.raptor.range_raptor_chunk`); a diagnostic, for
        tests and benchmarks.

    Returns
    -------
    minutes : float64 ``[n, n_dest, n_pct]``
    breakdown : float64 ``[5, n, n_dest]`` seconds (``BREAKDOWN_PARTS`` order) or None
    iterations : int32 ``[n, n_iter, n_dest]`` seconds (-1 unreachable) or None
    """
    tt = chunk.timetable
    egress, egress_t = chunk.egress, chunk.egress_by_destination
    n = chunk.access.shape[0]
    n_dest = egress.shape[1]
    n_draws = chunk.block_offsets.shape[1]
    median_iteration = np.full((n, n_dest), -1, dtype=np.int32)
    shape = (n, chunk.n_minutes * n_draws, n_dest) if chunk.keep_iterations else (1, 1, 1)
    iterations = np.empty(shape, dtype=np.int32)
    origins = np.arange(n, dtype=np.int64)
    if searched_again is None:
        searched_again = np.zeros(n, dtype=np.int8)
    elif searched_again.shape != (n,) or searched_again.dtype != np.int8:
        raise RoutingError(
            f"parameter 'searched_again' must be an int8 array of shape ({n},), "
            f"got {searched_again.dtype} {searched_again.shape}"
        )
    transit = kernel_transit(tt, chunk.transfers)
    access, direct = kernel_table(chunk.access), kernel_table(chunk.direct)
    egress_t = kernel_table(egress_t)
    # Origins differ widely in work (a central one reaches far more stops per minute):
    # hand them to the threads one at a time, not as one static block per thread.
    with numba.parallel_chunksize(1):
        minutes = raptor.range_raptor_chunk(
            origins, chunk.departure_s, chunk.n_minutes, chunk.max_rides, chunk.board_slack_s,
            chunk.max_time_s, chunk.percentiles, chunk.block_offsets, n_dest, transit, access,
            kernel_table(egress), egress_t, direct, median_iteration, chunk.keep_iterations,
            iterations, chunk.prune_dominated, searched_again,
        )  # fmt: skip
    parts = None
    if chunk.breakdown:
        with numba.parallel_chunksize(1):
            parts = raptor.breakdown_chunk_kernel(
                origins, chunk.departure_s, chunk.n_minutes, chunk.max_rides,
                chunk.board_slack_s, chunk.max_time_s, chunk.block_offsets, n_dest, transit,
                access, egress_t, direct, median_iteration,
            )  # fmt: skip
    if chunk.keep_iterations:
        iterations[iterations == raptor.UNREACHED] = -1
        return minutes, parts, iterations
    return minutes, parts, None


def kernel_table(table: SparseTimes) -> raptor.Table:
    """Give a table as the kernels read it (row pointers, columns, seconds).

    Parameters
    ----------
    table : SparseTimes
        Checked by :func:`~transitmile.engines.tables.check_sparse_times`.

    Returns
    -------
    raptor.Table
        The same arrays, no copy.
    """
    return raptor.Table(table.indptr, table.indices, table.seconds)


def kernel_transit(timetable: Timetable, transfers: SparseTimes) -> raptor.Transit:
    """Give the timetable and the walking transfers as the kernels read them.

    Parameters
    ----------
    timetable : Timetable
        The compiled timetable.
    transfers : SparseTimes
        Stop x stop walking seconds, a row per timetable stop.

    Returns
    -------
    raptor.Transit
        The same arrays, no copy.
    """
    tt = timetable
    return raptor.Transit(
        tt.pattern_stop_ptr, tt.pattern_stops, tt.pattern_time_ptr, tt.arrivals,
        tt.departures, tt.pattern_block, tt.stop_pattern_ptr, tt.stop_pattern,
        tt.stop_position, transfers.indptr, transfers.indices, transfers.seconds,
    )  # fmt: skip


def egress_tables(egress: SparseTimes) -> tuple[SparseTimes, SparseTimes]:
    """Egress as the kernels want it: by stop and by destination, rows sorted by time.

    Sorted rows let the kernels stop scanning at the first walk that is too long.
    Built once per run and shared by all chunks.
    """
    stops = np.repeat(np.arange(egress.shape[0], dtype=np.int32), np.diff(egress.indptr))
    by_stop = _csr_sorted(stops, egress.indices, egress.seconds, egress.shape)
    by_destination = _csr_sorted(
        egress.indices, stops, egress.seconds, (egress.shape[1], egress.shape[0])
    )
    return by_stop, by_destination


def _csr_sorted(rows, cols, seconds, shape) -> SparseTimes:
    """CSR table from pairs, each row's pairs in increasing time."""
    key = rows.astype(np.int64) << 32 | seconds.astype(np.int64)
    order = np.argsort(key)
    indptr = indptr_from_rows(rows, shape[0])
    return SparseTimes(indptr, cols[order].astype(np.int32), seconds[order], shape)


def _check_int(name: str, value, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise RoutingError(
            f"parameter {name!r} must be a whole number >= {low}, got {show_value(value)}"
        )
    return int(value)


def plan_chunks(
    timetable: Timetable,
    transfers: SparseTimes | None,
    access: SparseTimes,
    egress: SparseTimes,
    direct: SparseTimes | None,
    *,
    departure_s: int,
    n_minutes: int,
    percentiles: Sequence[int] = (50,),
    max_time_s: int = _MAX_TIME_S,
    max_rides: int = R5PY_DEFAULTS.max_public_transport_rides,
    board_slack_s: int | None = None,
    monte_carlo_draws: int = R5PY_DEFAULTS.monte_carlo_draws,
    seed: int | None = None,
    breakdown: bool = False,
    keep_iterations: bool = False,
    prune_dominated: bool = True,
    chunk_size: int = 256,
) -> tuple[RaptorChunk, list[OriginBlock]]:
    """Check the inputs and cut the work into chunks of consecutive origins.

    Parameters
    ----------
    timetable : Timetable
        From :func:`~transitmile.engines.timetable.compile_timetable`.
    transfers : SparseTimes or None
        Walking times between stops, seconds, ``[n_stops, n_stops]`` (timetable order).
    access : SparseTimes
        Origin to stop times, seconds, ``[n_origins, n_stops]``.
    egress : SparseTimes
        Stop to destination times, seconds, ``[n_stops, n_destinations]``.
    direct : SparseTimes or None
        Door-to-door street times, seconds, ``[n_origins, n_destinations]``.
    departure_s : int
        First departure, seconds after midnight of the service date.
    n_minutes : int
        Departure minutes in the window (r5py's ``departure_time_window`` / 1 min).
    percentiles : sequence of int
        Percentiles of the travel times over all iterations (R5's method).
    max_time_s : int
        Trips of this duration or longer are unreachable (NaN), as in R5, which keeps
        a travel time only if it is below the cutoff (``PerTargetPropagater``).
    max_rides : int
        Maximum public transport rides (RAPTOR rounds).
    board_slack_s : int, optional
        Seconds needed before each boarding; defaults to
        ``settings.min_transfer_time_s`` (R5 applies its board slack to every boarding).
    monte_carlo_draws : int
        Total draws for headway-based trips over the window (r5py's default 60),
        ``max(1, ceil(draws / n_minutes))`` per minute; ignored (one iteration per
        minute) when the timetable has no headway-based trips.
    seed : int, optional
        Seed of the draws; defaults to ``settings.random_seed`` (reproducible).
    breakdown : bool
        Also split each median trip into access, waiting, in-vehicle, transfer and
        egress (a second search pass with parent pointers: about 1.3x the time).
    keep_iterations : bool
        Also return every iteration's travel time (large; for diagnostics and tests).
    prune_dominated : bool
        Search each origin first propagating only arrivals that beat a stop's best
        with any number of rides (RAPTOR's local pruning), then check that the ride
        limit cut no minute's search short: the travel times are then exactly those of
        the search that keeps every round's labels, which an origin that fails the check
        is searched with again (see
        :func:`~transitmile.engines.raptor.range_raptor_chunk`). About 1.4x faster on
        Porto Alegre at r5py's defaults. False keeps every round's labels throughout
        (the same results; for tests and benchmarks). Scheduled service only: with
        headway-based trips every search keeps every round's labels.
    chunk_size : int
        Origins per chunk (the unit of work shipped to workers).

    Returns
    -------
    template : RaptorChunk
        What every chunk shares (timetable, transfers, egress, parameters, Monte Carlo
        offsets), with no origins: shipped once to each worker.
    blocks : list of OriginBlock
        Each chunk's origins: ``chunk_for(template, block)`` is the chunk to run.
    """
    n_stops = timetable.n_stops
    departure_s = _check_int("departure_s", departure_s, 0)
    n_minutes = _check_int("n_minutes", n_minutes, 1)
    max_time_s = _check_int("max_time_s", max_time_s, 1)
    max_rides = _check_int("max_rides", max_rides, 1)
    board_slack_s = _check_int(
        "board_slack_s", settings.min_transfer_time_s if board_slack_s is None else board_slack_s, 0
    )
    monte_carlo_draws = _check_int("monte_carlo_draws", monte_carlo_draws, 1)
    if not isinstance(prune_dominated, bool | np.bool_):
        raise RoutingError(
            f"parameter 'prune_dominated' (settings.prune_dominated) must be True or False, "
            f"got {show_value(prune_dominated)}"
        )
    pcts = np.asarray(list(percentiles), dtype=np.float64)
    if pcts.size == 0 or np.any((pcts < 1) | (pcts > 99)) or np.any(pcts != np.round(pcts)):
        raise RoutingError(
            f"parameter 'percentiles' must be whole numbers in 1..99, got {show_value(list(percentiles))}"
        )
    access = _access_table(access, n_stops)
    n_orig = access.shape[0]
    egress = check_sparse_times("egress", egress, (None, None))
    n_dest = egress.shape[1]
    if egress.shape[0] > n_stops:
        raise RoutingError(
            f"parameter 'egress' has {egress.shape[0]} stop rows, the timetable {n_stops}"
        )
    egress, egress_by_destination = egress_tables(_pad_rows(egress, n_stops))
    transfers = _pad_rows(
        check_sparse_times(
            "transfers",
            empty_sparse_times(n_stops, n_stops) if transfers is None else transfers,
            (None, None),
        ),
        n_stops,
    )
    direct = check_sparse_times(
        "direct", empty_sparse_times(n_orig, n_dest) if direct is None else direct, (n_orig, n_dest)
    )
    template = RaptorChunk(
        timetable=timetable,
        transfers=transfers,
        access=_slice_rows(access, 0, 0),
        egress=egress,
        egress_by_destination=egress_by_destination,
        direct=_slice_rows(direct, 0, 0),
        departure_s=departure_s,
        n_minutes=n_minutes,
        percentiles=pcts,
        max_time_s=max_time_s,
        max_rides=max_rides,
        board_slack_s=board_slack_s,
        block_offsets=draw_phase_offsets(timetable, n_minutes, monte_carlo_draws, seed),
        breakdown=breakdown,
        keep_iterations=keep_iterations,
        prune_dominated=bool(prune_dominated),
    )
    blocks = [
        OriginBlock(
            span.number, span.start, span.stop, _slice_rows(access, span.start, span.stop),
            _slice_rows(direct, span.start, span.stop),
        )
        for span in block_spans(n_orig, chunk_size)
    ]  # fmt: skip
    return template, blocks


def plan_template(
    timetable: Timetable, transfers: SparseTimes | None, egress: SparseTimes, **options
) -> RaptorChunk:
    """Check the shared inputs and make the template chunk, before any origin's rows exist.

    Parameters
    ----------
    timetable, transfers, egress
        As :func:`plan_chunks`.
    **options
        The keyword parameters of :func:`plan_chunks` but ``chunk_size``
        (``departure_s``, ``n_minutes``, ...).

    Returns
    -------
    RaptorChunk
        What every chunk shares, with no origins (empty access and direct tables):
        complete it with :func:`chunk_for` and an :class:`OriginBlock`.
    """
    no_origins = empty_sparse_times(0, timetable.n_stops)
    template, _ = plan_chunks(timetable, transfers, no_origins, egress, None, **options)
    return template


@dataclass(frozen=True)
class BlockSpan:
    """Which origins a block holds, before its rows exist (a task computes them).

    Attributes
    ----------
    number : int
        Position of the block (0, 1, ...).
    start, stop : int
        Rows ``start:stop`` of the run's origins.
    """

    number: int
    start: int
    stop: int


def block_spans(n_origins: int, chunk_size: int) -> list[BlockSpan]:
    """Cut ``n_origins`` origins into blocks of ``chunk_size`` consecutive ones.

    Parameters
    ----------
    n_origins : int
    chunk_size : int
        Origins per block (the last one may hold fewer).

    Returns
    -------
    list of BlockSpan
    """
    chunk_size = _check_int("chunk_size", chunk_size, 1)
    return [
        BlockSpan(k, start, min(start + chunk_size, n_origins))
        for k, start in enumerate(range(0, n_origins, chunk_size))
    ]


def block_from_streets(template: RaptorChunk, streets: StreetPlan, span: BlockSpan) -> OriginBlock:
    """Compute a block's access and direct rows from the street plan (where its task runs).

    Parameters
    ----------
    template : RaptorChunk
        From :func:`plan_template`: its table shapes are checked against.
    streets : StreetPlan
        From :func:`~transitmile.engines.street_legs.plan_street_legs` (no access services).
    span : BlockSpan
        Which origins.

    Returns
    -------
    OriginBlock
        The rows :func:`plan_chunks` would have cut from the whole tables.
    """
    access, direct, _ = origin_legs(streets, span.start, span.stop)
    access = _access_table(access, template.access.shape[1])
    direct = check_sparse_times(
        "direct", direct, (span.stop - span.start, template.egress.shape[1])
    )
    return OriginBlock(span.number, span.start, span.stop, access, direct)


def _access_table(access: SparseTimes, n_stops: int) -> SparseTimes:
    """Check an origin x stop table and give it a column per timetable stop."""
    access = check_sparse_times("access", access, (None, None))
    if access.shape[1] > n_stops:
        raise RoutingError(
            f"parameter 'access' has {access.shape[1]} stop columns, the timetable {n_stops}"
        )
    return SparseTimes(access.indptr, access.indices, access.seconds, (access.shape[0], n_stops))


def compute_travel_times(
    timetable: Timetable,
    transfers: SparseTimes | None,
    access: SparseTimes,
    egress: SparseTimes,
    direct: SparseTimes | None,
    *,
    client=None,
    progress: bool | None = None,
    on_chunk: ChunkConsumer | None = None,
    **options,
) -> TravelTimes:
    """Travel time percentiles by transit and walking between all origins and destinations.

    Parameters
    ----------
    timetable, transfers, access, egress, direct
        As :func:`plan_chunks`.
    client : dask.distributed.Client, optional
        Run the chunks as tasks on this Dask cluster (see :mod:`transitmile.distributed`);
        ``None`` runs them here, one after the other. The result is the same.
    progress : bool, optional
        Progress bar over chunks; ``None`` follows ``settings.progress``.
    on_chunk : callable, optional
        ``on_chunk(start, stop, minutes, breakdown)`` receives each chunk of origins, in
        origin order (``minutes[stop - start, n_dest, n_pct]``, ``breakdown`` a dict of
        minutes by part or None), and the result holds no matrix (``minutes`` is None):
        how an accessibility measure reduces a metro-sized run chunk by chunk.
    **options
        ``departure_s``, ``n_minutes`` and the other keyword parameters of
        :func:`plan_chunks`.

    Returns
    -------
    TravelTimes
    """
    template, blocks = plan_chunks(timetable, transfers, access, egress, direct, **options)
    return _collect(template, blocks, client=client, progress=progress, on_chunk=on_chunk)


def _collect(template, blocks, *, client, progress, on_chunk, streets=None) -> TravelTimes:
    """Run the blocks (here or on ``client``) and gather their minutes, or hand them on."""
    from ..distributed import run_blocks

    n_orig, n_dest = sum(b.stop - b.start for b in blocks), template.egress.shape[1]
    pcts = template.percentiles
    keep = on_chunk is None
    minutes = np.full((n_orig, n_dest, len(pcts)), np.nan) if keep else None
    parts = (
        {k: np.full((n_orig, n_dest), np.nan) for k in BREAKDOWN_PARTS}
        if template.breakdown and keep
        else None
    )
    n_iter = template.n_minutes * template.block_offsets.shape[1]
    iterations = np.empty((n_orig, n_iter, n_dest), np.int32) if template.keep_iterations else None
    for block, (out, chunk_parts, chunk_iterations) in run_blocks(
        template, blocks, client=client, progress=progress, ordered=not keep, streets=streets
    ):
        start, stop = block.start, block.stop
        chunk_parts = None if chunk_parts is None else breakdown_minutes(chunk_parts)
        if not keep:
            on_chunk(start, stop, out, chunk_parts)
            continue
        minutes[start:stop] = out
        if parts is not None:
            for name, values in chunk_parts.items():
                parts[name][start:stop] = values
        if iterations is not None:
            iterations[start:stop] = chunk_iterations
    return TravelTimes(
        minutes=minutes,
        percentiles=tuple(int(p) for p in pcts),
        n_iterations=n_iter,
        breakdown=parts,
        iterations=iterations,
    )


def _pad_rows(table: SparseTimes, n_rows: int) -> SparseTimes:
    """Give a stop-indexed table a row per timetable stop (appended stops have none)."""
    extra = n_rows - table.shape[0]
    if extra <= 0:
        return table
    indptr = np.concatenate([table.indptr, np.full(extra, table.indptr[-1], dtype=np.int64)])
    return SparseTimes(indptr, table.indices, table.seconds, (n_rows, table.shape[1]))


def stop_arrival_times(
    timetable: Timetable,
    transfers: SparseTimes | None,
    origin_stop: int,
    departure_s: int,
    *,
    max_rides: int = R5PY_DEFAULTS.max_public_transport_rides,
    board_slack_s: int | None = None,
    max_time_s: int = _MAX_TIME_S,
    block_offsets: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Earliest arrival at every stop from one stop at one departure time (plain RAPTOR).

    Parameters
    ----------
    timetable : Timetable
    transfers : SparseTimes or None
        Walking times between stops, seconds.
    origin_stop : int
        Stop index to start from (standing there at ``departure_s``).
    departure_s : int
        Seconds after midnight.
    block_offsets : int32 [n_blocks], optional
        Phase offsets of headway blocks (zeros by default).

    Returns
    -------
    any_arrival, vehicle_arrival : int64 [n_stops]
        Seconds after midnight, -1 if not reached within ``max_time_s``: by any means
        (including a final walking transfer) and by vehicle only.
    """
    n_stops = timetable.n_stops
    if not 0 <= origin_stop < n_stops:
        raise RoutingError(
            f"parameter 'origin_stop' must be a stop index in 0..{n_stops - 1}, "
            f"got {show_value(origin_stop)}"
        )
    slack = settings.min_transfer_time_s if board_slack_s is None else board_slack_s
    transfers = _pad_rows(
        check_sparse_times(
            "transfers", empty_sparse_times(n_stops, n_stops) if transfers is None else transfers,
            (None, None),
        ),
        n_stops,
    )  # fmt: skip
    if block_offsets is None:
        block_offsets = np.zeros(len(timetable.block_ids), dtype=np.int32)
    shift = raptor.pattern_shifts(timetable.pattern_block, np.asarray(block_offsets, np.int32))
    labels = raptor.new_labels(max_rides, n_stops, False)
    scratch = raptor.new_scratch(n_stops, timetable.n_patterns)
    access = raptor.Table(
        np.array([0, 1], np.int64), np.array([origin_stop], np.int32), np.zeros(1, np.int32)
    )
    latest = departure_s + max_time_s
    transit = kernel_transit(timetable, transfers)
    n_marked = raptor.seed_access(transit, labels.tau, access, 0, departure_s, latest, scratch)
    raptor.raptor_rounds(
        transit, max_rides, slack, latest, shift,
        raptor.ALL_PATTERNS, np.zeros(0, np.int32), labels, scratch, n_marked, 0, False, False,
    )  # fmt: skip
    tau, tau_ride = labels.tau, labels.tau_ride
    out = []
    for labels in (tau[max_rides], tau_ride[max_rides]):
        arr = labels.astype(np.int64)
        arr[labels == raptor.UNREACHED] = -1
        out.append(arr)
    return out[0], out[1]


def run_embedded(
    network,
    origins,
    destinations,
    request: TravelTimeRequest,
    *,
    progress: bool | None = None,
    client=None,
    chunk_size: int = 256,
    writer=None,
) -> pd.DataFrame | list[dict]:
    """Route a request with the embedded engine: street tables, then transit in RAPTOR.

    Parameters
    ----------
    network : TransportNetwork
        Street graphs, timetable, transfers and access services.
    origins, destinations : GeoDataFrame
        Validated points (see :func:`transitmile.streets.check_points`).
    request : TravelTimeRequest
        The validated request.
    progress : bool, optional
        Progress bars (default ``settings.progress``).
    client : dask.distributed.Client, optional
        Run the chunks of origins on this Dask cluster (:mod:`transitmile.distributed`),
        each task computing its origins' access and direct rows; without access
        services only snapping and egress run here (with them, every street table).
    chunk_size : int
        Origins per chunk.
    writer : transitmile.partitioned.PartWriter, optional
        Write each chunk's rows where the chunk is routed instead of returning a frame.

    Returns
    -------
    pandas.DataFrame or list of dict
        r5py's columns (see :func:`~transitmile.engines.frame.result_frame`), with
        ``attrs["engine"] == "embedded"`` and ``attrs["engine_version"]``; with a
        ``writer``, the parts written (:class:`~transitmile.partitioned.PartWriter`).
    """
    route = _route(
        network, origins, destinations, request, progress, client=client,
        chunk_size=chunk_size, writer=writer,
    )  # fmt: skip
    if writer is not None:
        return route
    minutes, parts = route
    frame = result_frame(origins, destinations, minutes, request.percentiles, parts)
    frame.attrs.update(engine_attrs())
    return frame


def route_chunks(
    network,
    origins,
    destinations,
    request: TravelTimeRequest,
    on_chunk: ChunkConsumer,
    *,
    chunk_size: int = 256,
    progress: bool | None = None,
    client=None,
) -> None:
    """Route a request chunk of origins by chunk, never holding the whole matrix.

    As :func:`run_embedded`, but each chunk's minutes go to ``on_chunk`` (see
    :func:`compute_travel_times`) as soon as they are routed, with the engine's raw
    minutes (an origin's time to itself is what the street search found; the frame's
    0 for the same id is the caller's to apply).

    Parameters
    ----------
    network : TransportNetwork
        Street graphs, timetable, transfers and access services.
    origins, destinations : GeoDataFrame
        Validated points.
    request : TravelTimeRequest
        The validated request.
    on_chunk : callable
        ``on_chunk(start, stop, minutes, breakdown)`` per chunk of origins, in order.
    chunk_size : int
        Origins per chunk.
    progress : bool, optional
        Progress bars.
    client : dask.distributed.Client, optional
        Route the chunks on this Dask cluster; they still reach ``on_chunk`` here, one
        at a time and in origin order, so a reduction gives the in-process result.
    """
    minutes, parts = _route(
        network, origins, destinations, request, progress, client=client,
        chunk_size=chunk_size, on_chunk=on_chunk,
    )  # fmt: skip
    if minutes is None:
        return
    for start in range(0, len(origins), chunk_size):  # street-only requests: dense anyway
        stop = min(start + chunk_size, len(origins))
        chunk_parts = None if parts is None else {k: v[start:stop] for k, v in parts.items()}
        on_chunk(start, stop, minutes[start:stop], chunk_parts)


def _route(network, origins, destinations, request, progress, *, client=None, chunk_size=256,
           on_chunk=None, writer=None):  # fmt: skip
    """Minutes and breakdown of a request (None, None when ``on_chunk`` took the chunks).

    With a ``writer``, the parts it wrote instead.
    """
    from ..distributed import run_blocks

    if not request.uses_transit:
        _, direct, _ = street_legs(network, origins, destinations, request, progress)
        minutes, parts = _street_only_minutes(direct, request)
        return (minutes, parts) if writer is None else writer.write_all(minutes, parts, chunk_size)
    template, blocks, streets = _plan(
        network, origins, destinations, request, progress, client, chunk_size
    )
    if writer is not None:
        run = run_blocks(
            template, blocks, sink=writer, client=client, progress=progress, streets=streets
        )
        return [part for _, part in run]
    result = _collect(
        template, blocks, client=client, progress=progress, on_chunk=on_chunk, streets=streets
    )
    return result.minutes, result.breakdown


def _plan(network, origins, destinations, request, progress, client, chunk_size):
    """Template, blocks and street plan of a transit request.

    In process (or with access services, which need the network: the client computes
    their tables), the client computes every street table and cuts them into
    :class:`OriginBlock`. On a cluster, the client only snaps the points and builds the
    egress table; the blocks are :class:`BlockSpan` whose access and direct rows each
    task computes from the street plan (None in process).
    """
    on_workers = client is not None and not getattr(network, "access_services", ())
    if on_workers:
        streets = plan_street_legs(network, origins, destinations, request)
        egress = _egress_on_workers(streets, client, chunk_size, progress)
    else:
        streets = None
        access, direct, egress = street_legs(network, origins, destinations, request, progress)
    transfers = network.transfer_seconds(
        request.speed_walking,
        min(settings.max_transfer_time_s, request.max_time_walking_s),
        max_distance_m=settings.transfer_limit_m,
        closest_stop_per_pattern=settings.transfers_closest_stop_per_pattern,
    )
    options = {
        "departure_s": request.departure_seconds,
        "n_minutes": request.n_departure_minutes,
        "percentiles": request.percentiles,
        "max_time_s": request.max_time_s,
        "max_rides": request.max_public_transport_rides,
        "board_slack_s": request.min_transfer_time_s,
        "seed": settings.random_seed,
        "breakdown": request.options.get("breakdown", False),
        "prune_dominated": settings.prune_dominated,
    }
    if on_workers:
        template = plan_template(network.timetable, transfers, egress, **options)
        return template, block_spans(len(origins), chunk_size), streets
    template, blocks = plan_chunks(
        network.timetable, transfers, access, egress, direct, chunk_size=chunk_size, **options
    )
    return template, blocks, None


def _egress_on_workers(streets: StreetPlan, client, chunk_size: int, progress) -> SparseTimes:
    """Build the egress table of a cluster run here.

    Egress from stops is searched here (on every core). When it is the walking access
    table read the other way (destinations are the origins), the workers compute the
    access rows block by block and send back only the pairs within the egress limit.
    """
    from ..distributed import map_blocks

    rows = None
    if streets.egress_from_access:
        spans = block_spans(streets.n_origins, chunk_size)
        run = map_blocks(
            _egress_rows, (streets,), spans, client=client, progress=progress, ordered=True,
            name="streets",
        )  # fmt: skip
        rows = [block_rows for _, block_rows in run]
    return egress_legs(streets, rows, progress)


def _egress_rows(streets: StreetPlan, span: BlockSpan) -> SparseTimes:
    """Give one block's walking access rows within the egress limit (a task)."""
    return origin_legs(streets, span.start, span.stop, direct=False)[2]


def engine_attrs() -> dict[str, str]:
    """Name the embedded engine and its version, as a result's ``attrs`` record them.

    Returns
    -------
    dict
        ``engine`` and ``engine_version``.
    """
    return {
        "engine": "embedded",
        "engine_version": (
            f"transitmile {package_version('transitmile')} embedded range RAPTOR; "
            f"numba {package_version('numba')}"
        ),
    }


def _street_only_minutes(direct: SparseTimes, request: TravelTimeRequest):
    """Minutes of a request without transit: the door-to-door street times, every percentile."""
    seconds = direct.to_dense(fill=np.inf)
    # strictly below max_time, as R5 (PerTargetPropagater: timeAtTarget < cutoffSeconds)
    minutes = np.where(seconds < request.max_time_s, np.floor(seconds / 60.0), np.nan)
    minutes = np.repeat(minutes[:, :, None], len(request.percentiles), axis=2)
    parts = None
    if request.options.get("breakdown"):  # no transit leg to split: the columns stay empty
        parts = {part: np.full(minutes.shape[:2], np.nan) for part in BREAKDOWN_COLUMNS}
    return minutes, parts
