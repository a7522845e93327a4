"""Where the embedded engine's chunks of origins run: here, or as tasks on a Dask cluster.

A run is a *template* :class:`~transitmile.engines.embedded.RaptorChunk` (timetable,
walking transfers, egress, parameters and the Monte Carlo phase offsets: the same for
every origin) and a list of :class:`~transitmile.engines.embedded.OriginBlock`
(consecutive origins with their rows of the access and direct tables).

With ``client=None`` the blocks run here, one after the other, under a tqdm bar.
With a :class:`dask.distributed.Client` the template is scattered once to every worker
(``broadcast=True``: a worker that joins later fetches it once from a peer), each
block is one task, and progress shows in Dask's own progress bar and dashboard.
On a cluster the blocks are usually :class:`~transitmile.engines.embedded.BlockSpan`:
the street plan (snapped points and the street graphs,
:class:`~transitmile.engines.street_legs.StreetPlan`) is scattered with the template
and each task computes its own origins' access and direct rows before routing them,
so the client never runs the origins' street searches. A network with access
services is the exception: the services need the network, so the client computes
every street table and each task carries its block's rows, as in process.
A worker that dies loses only the tasks it held; the scheduler runs them again
elsewhere. Every block's result depends only on the template and the block, never on
which worker ran it or how the origins were cut into blocks: the Monte Carlo offsets
are drawn once per run, per departure minute and draw, before any chunk exists.

Dask is an optional dependency: ``pip install 'transitmile[dask]'``.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from . import settings
from ._progress import progress_bar
from .engines.embedded import (
    BlockSpan,
    OriginBlock,
    RaptorChunk,
    block_from_streets,
    chunk_for,
    run_chunk,
)
from .engines.street_legs import StreetPlan
from .errors import EngineUnavailableError, RoutingError, show_value

__all__ = [
    "require_dask",
    "check_client",
    "chunk_size_for",
    "run_block",
    "run_blocks",
    "map_blocks",
]

#: What to type to get Dask, in every error that needs it.
INSTALL_HINT = "pip install 'transitmile[dask]'"

#: Largest chunk of origins (the in-process default, and the cap on a cluster).
MAX_CHUNK_SIZE = 256

#: Smallest chunk chosen automatically on a cluster (below it, task overhead dominates).
MIN_CHUNK_SIZE = 8

#: Chunks per worker thread chosen automatically: enough for balance and cheap retries.
CHUNKS_PER_THREAD = 4

#: Dask retries of a task that raised (a lost worker is handled by the scheduler itself).
TASK_RETRIES = 2

Sink = Callable[[OriginBlock, tuple], Any]


def require_dask():
    """Import :mod:`dask.distributed`, or say how to install it.

    Returns
    -------
    module
        :mod:`dask.distributed`.

    Raises
    ------
    EngineUnavailableError
        If Dask's distributed scheduler is not installed.
    """
    try:
        import dask.distributed
    except ImportError as exc:
        raise EngineUnavailableError(
            f"parameter 'client' needs dask.distributed, which is not installed here "
            f"({exc}); install it with: {INSTALL_HINT}"
        ) from None
    return dask.distributed


def check_client(client) -> Any:
    """Validate a ``client=`` parameter before any work starts.

    Parameters
    ----------
    client : dask.distributed.Client or None
        The cluster to run on; ``None`` runs in this process.

    Returns
    -------
    dask.distributed.Client or None
        ``client`` itself.

    Raises
    ------
    EngineUnavailableError
        If a client is given and Dask is not installed.
    RoutingError
        If ``client`` is not a ``dask.distributed.Client`` or is closed.
    """
    if client is None:
        return None
    distributed = require_dask()
    if not isinstance(client, distributed.Client):
        raise RoutingError(
            "parameter 'client' must be a dask.distributed.Client (or None), got "
            f"{show_value(type(client).__name__)}"
        )
    if client.status != "running":
        raise RoutingError(
            f"parameter 'client' is not connected (status {show_value(client.status)}); "
            "start it again, e.g. Client(LocalCluster()) or Client('tcp://scheduler:8786')"
        )
    return client


def chunk_size_for(n_origins: int, client=None, chunk_size: int | None = None) -> int:
    """Origins per chunk: the given size, or one that keeps every worker thread busy.

    Parameters
    ----------
    n_origins : int
        Origins in the run.
    client : dask.distributed.Client, optional
        With a client, about ``CHUNKS_PER_THREAD`` chunks per worker thread, between
        ``MIN_CHUNK_SIZE`` and ``MAX_CHUNK_SIZE`` origins each.
    chunk_size : int, optional
        The caller's choice, used as is when given.

    Returns
    -------
    int
        Origins per chunk (at least 1).
    """
    if chunk_size is not None:
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
            raise RoutingError(
                f"parameter 'chunk_size' must be a whole number >= 1, got {show_value(chunk_size)}"
            )
        return chunk_size
    if client is None:
        return MAX_CHUNK_SIZE
    threads = max(1, sum(client.nthreads().values()))
    size = math.ceil(n_origins / (CHUNKS_PER_THREAD * threads))
    return max(1, min(MAX_CHUNK_SIZE, max(MIN_CHUNK_SIZE, size)))


def run_block(template: RaptorChunk, block: OriginBlock, sink: Sink | None = None):
    """Route one block (a Dask task, or one step of the in-process loop).

    Parameters
    ----------
    template : RaptorChunk
        What all blocks share.
    block : OriginBlock
        This task's origins.
    sink : callable, optional
        ``sink(block, result)`` consumes the result where it was computed (e.g. writes
        it as a Parquet part) and returns something small instead.

    Returns
    -------
    tuple or object
        :func:`~transitmile.engines.embedded.run_chunk`'s ``(minutes, breakdown,
        iterations)``, or what ``sink`` returned.
    """
    result = run_chunk(chunk_for(template, block))
    return result if sink is None else sink(block, result)


def run_blocks(
    template: RaptorChunk,
    blocks: Sequence[OriginBlock] | Sequence[BlockSpan],
    *,
    sink: Sink | None = None,
    client=None,
    progress: bool | None = None,
    ordered: bool = False,
    streets: StreetPlan | None = None,
) -> Iterator[tuple[OriginBlock | BlockSpan, Any]]:
    """Run every block, here or on a Dask cluster, and yield the results as they come.

    Parameters
    ----------
    template : RaptorChunk
        What all blocks share (from :func:`~transitmile.engines.embedded.plan_chunks`
        or :func:`~transitmile.engines.embedded.plan_template`).
    blocks : sequence of OriginBlock, or of BlockSpan with ``streets``
        The origins, block by block.
    sink : callable, optional
        Applied to each result where it is computed (see :func:`run_block`); it must be
        picklable to run on a cluster.
    client : dask.distributed.Client, optional
        Run each block as a task on this cluster; ``None`` runs here.
    progress : bool, optional
        A progress bar (Dask's own with a client); ``None`` follows ``settings.progress``.
    ordered : bool
        Yield in block order even on a cluster (results that arrive early wait here), for
        consumers whose arithmetic depends on the order (sums of floats).
    streets : StreetPlan, optional
        With :class:`~transitmile.engines.embedded.BlockSpan` blocks: each task computes
        its block's access and direct rows from this plan
        (:func:`~transitmile.engines.embedded.block_from_streets`), shipped once per
        worker like the template.

    Yields
    ------
    block : OriginBlock or BlockSpan
    result : tuple or object
        As :func:`run_block`; in completion order on a cluster unless ``ordered``, in
        block order here.
    """
    return map_blocks(
        _route_task, (template, sink, streets), blocks, client=client, progress=progress,
        ordered=ordered,
    )  # fmt: skip


def _route_task(template, sink, streets, block):
    """One block's task: its street rows first if it has none yet, then its routing."""
    if streets is not None:
        block = block_from_streets(template, streets, block)
    return run_block(template, block, sink)


def map_blocks(
    function: Callable,
    shared: Sequence[Any],
    blocks: Sequence[Any],
    *,
    client=None,
    progress: bool | None = None,
    ordered: bool = False,
    name: str = "chunk",
) -> Iterator[tuple[Any, Any]]:
    """Apply ``function(*shared, block)`` to every block, here or as Dask tasks.

    Parameters
    ----------
    function : callable
        A module-level function (picklable by name).
    shared : sequence
        Arguments every call shares: on a cluster each one that is not None is
        scattered once to every worker (``broadcast=True``: a worker that joins later
        fetches it once from a peer), never shipped per task.
    blocks : sequence
        Objects with a ``number`` (0, 1, ...), one call each.
    client : dask.distributed.Client, optional
        Run each call as a task on this cluster (retried ``TASK_RETRIES`` times if it
        raises; a lost worker's tasks run again elsewhere); ``None`` runs here.
    progress : bool, optional
        A progress bar (Dask's own with a client); ``None`` follows ``settings.progress``.
    ordered : bool
        Yield in block order even on a cluster.
    name : str
        Task keys are ``("transitmile-<name>-<run id>", block.number)`` on the dashboard.

    Yields
    ------
    block, result
        In completion order on a cluster unless ``ordered``, in block order here.
    """
    if client is None:
        for block in progress_bar(blocks, progress=progress, desc="routing", unit="chunk"):
            yield block, function(*shared, block)
        return
    results = _run_on_cluster(check_client(client), function, shared, blocks, progress, name)
    yield from _in_order(results, blocks) if ordered else results


def _in_order(results, blocks):
    """Yield ``(block, result)`` pairs in block order, holding back those that come early."""
    waiting, upcoming = {}, iter(blocks)
    wanted = next(upcoming, None)
    for block, result in results:
        waiting[block.number] = (block, result)
        while wanted is not None and wanted.number in waiting:
            yield waiting.pop(wanted.number)
            wanted = next(upcoming, None)


def _run_on_cluster(client, function, shared, blocks, progress, name):
    distributed = require_dask()
    # Shipped once per worker, not once per task: tasks refer to these futures.
    present = [k for k, value in enumerate(shared) if value is not None]
    scattered = client.scatter([shared[k] for k in present], broadcast=True, hash=False)
    args = list(shared)
    for k, future in zip(present, scattered, strict=True):
        args[k] = future
    key = f"transitmile-{name}-{uuid.uuid4().hex[:12]}"
    futures = [
        client.submit(function, *args, block, key=(key, block.number), retries=TASK_RETRIES)
        for block in blocks
    ]
    by_key = {future.key: block for future, block in zip(futures, blocks, strict=True)}
    try:
        if settings.progress if progress is None else progress:
            distributed.progress(futures)  # blocks until done in a terminal, a widget in Jupyter
        for future, result in distributed.as_completed(futures, with_results=True):
            yield by_key[future.key], result
            future.release()  # the worker may forget it: nothing is gathered twice
    finally:
        client.cancel([f for f in futures if not f.done()] + scattered)
