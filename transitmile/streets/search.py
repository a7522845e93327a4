"""Limited shortest-path searches on a street graph, one per source, on every core.

:func:`shortest_metres` gives what :func:`scipy.sparse.csgraph.dijkstra` gives with
``directed=True, indices=sources, limit=limit`` (the same float64 metres, bit for bit),
but runs the searches in parallel: a numba kernel releases the GIL and hands the
sources to its threads one at a time (searches differ widely in work). scipy's
dijkstra holds the GIL for the whole call, so Python threads cannot share it out.

Why the metres are identical: with non-negative lengths, any Dijkstra computes for each
node the smallest float64 sum of the lengths along a path, added from the source on
(IEEE addition is monotone, so the usual proof holds in floating point); the order in
which equal labels leave the heap changes which path is recorded, not the value. Like
scipy, a node is labelled only if its distance is at most ``limit`` (the others stay
inf), and every stored entry of the matrix is an edge, explicit zeros included.
"""

from __future__ import annotations

import numba
import numpy as np
import scipy.sparse as sp
from numba import njit, prange

__all__ = ["shortest_metres"]


def shortest_metres(
    graph: sp.csr_matrix, sources: np.ndarray, limit: float, out: np.ndarray | None = None
) -> np.ndarray:
    """Shortest metres from each source to every node, inf beyond ``limit``.

    Parameters
    ----------
    graph : scipy.sparse.csr_matrix
        Directed graph, shape ``(n, n)``: entry ``[u, v]`` is the length of the edge
        ``u -> v`` in metres (non-negative; explicit zeros are 0 m edges).
    sources : ndarray of int
        Node index of each search.
    limit : float
        Longest distance searched, metres.
    out : numpy.ndarray, optional
        float64 C-contiguous ``(len(sources), n)`` to write into, so that a caller
        searching chunk after chunk reuses one buffer (a fresh one each time costs
        page faults, about a quarter of the time of short searches).

    Returns
    -------
    numpy.ndarray
        float64 ``(len(sources), n)``: metres, inf where farther than ``limit`` or
        unreachable (what scipy's ``dijkstra(graph, directed=True, indices=sources,
        limit=limit)`` returns).
    """
    indptr = np.ascontiguousarray(graph.indptr, dtype=np.int64)
    indices = np.ascontiguousarray(graph.indices, dtype=np.int32)
    lengths = np.ascontiguousarray(graph.data, dtype=np.float64)
    shape = (len(sources), graph.shape[0])
    if out is None:
        out = np.empty(shape, dtype=np.float64)
    elif out.shape != shape or out.dtype != np.float64 or not out.flags.c_contiguous:
        raise ValueError(
            f"parameter 'out' must be a C-contiguous float64 array of shape {shape}, "
            f"got {out.dtype} {out.shape}"
        )
    with numba.parallel_chunksize(1):
        _searches(indptr, indices, lengths, np.asarray(sources, dtype=np.int64), float(limit), out)
    return out


#: ``_search``'s marks for a node's heap slot: not queued yet, and settled.
_UNQUEUED, _SETTLED = -1, -2


@njit(cache=True, parallel=True)
def _searches(indptr, indices, lengths, sources, limit, out):  # pragma: no cover (numba)
    """One search per source into the rows of ``out``, in parallel."""
    n = len(indptr) - 1
    for i in prange(len(sources)):
        keys = np.empty(n, dtype=np.float64)
        nodes = np.empty(n, dtype=np.int32)
        slot = np.full(n, _UNQUEUED, dtype=np.int32)
        out[i, :] = np.inf
        _search(indptr, indices, lengths, sources[i], limit, out[i], keys, nodes, slot)


@njit(cache=True)
def _search(indptr, indices, lengths, source, limit, dist, keys, nodes, slot):  # pragma: no cover
    """Dijkstra from ``source`` with an indexed 4-ary heap.

    Each node is queued at most once and its key lowered in place (``slot[v]`` is its
    position in the heap, :data:`_UNQUEUED` or :data:`_SETTLED`), so the heap never
    holds more than the frontier: on the Porto Alegre walking graph at 7.2 km this
    takes 0.65 of the time of a binary heap holding stale entries. Four children per
    node make the heap shallower; the smallest child is found by a short scan.
    """
    dist[source] = 0.0
    keys[0] = 0.0
    nodes[0] = source
    slot[source] = 0
    size = 1
    while size > 0:
        d, u = keys[0], nodes[0]
        slot[u] = _SETTLED
        size -= 1
        if size > 0:
            _sift_down(keys, nodes, slot, size, keys[size], nodes[size])
        for k in range(indptr[u], indptr[u + 1]):
            v = indices[k]
            if slot[v] == _SETTLED:
                continue
            candidate = d + lengths[k]
            if candidate <= limit and candidate < dist[v]:
                dist[v] = candidate
                if slot[v] == _UNQUEUED:
                    _sift_up(keys, nodes, slot, size, candidate, v)
                    size += 1
                else:
                    _sift_up(keys, nodes, slot, slot[v], candidate, v)


@njit(cache=True, inline="always")
def _sift_up(keys, nodes, slot, i, key, node):  # pragma: no cover (numba)
    """Place ``(key, node)`` at heap position ``i`` or above, moving larger parents down."""
    while i > 0:
        parent = (i - 1) >> 2
        if keys[parent] <= key:
            break
        keys[i] = keys[parent]
        nodes[i] = nodes[parent]
        slot[nodes[i]] = i
        i = parent
    keys[i] = key
    nodes[i] = node
    slot[node] = i


@njit(cache=True, inline="always")
def _sift_down(keys, nodes, slot, size, key, node):  # pragma: no cover (numba)
    """Place ``(key, node)`` from the root down a heap of ``size`` entries."""
    i = 0
    while True:
        first = 4 * i + 1
        if first >= size:
            break
        child = first
        smallest = keys[first]
        for c in range(first + 1, min(first + 4, size)):
            if keys[c] < smallest:
                smallest = keys[c]
                child = c
        if smallest >= key:
            break
        keys[i] = smallest
        nodes[i] = nodes[child]
        slot[nodes[i]] = i
        i = child
    keys[i] = key
    nodes[i] = node
    slot[node] = i
