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


def shortest_metres(graph: sp.csr_matrix, sources: np.ndarray, limit: float) -> np.ndarray:
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

    Returns
    -------
    numpy.ndarray
        float64 ``(len(sources), n)``: metres, inf where farther than ``limit`` or
        unreachable (what scipy's ``dijkstra(graph, directed=True, indices=sources,
        limit=limit)`` returns).
    """
    indptr = np.ascontiguousarray(graph.indptr, dtype=np.int64)
    indices = np.ascontiguousarray(graph.indices, dtype=np.int64)
    lengths = np.ascontiguousarray(graph.data, dtype=np.float64)
    out = np.empty((len(sources), graph.shape[0]), dtype=np.float64)
    with numba.parallel_chunksize(1):
        _searches(indptr, indices, lengths, np.asarray(sources, dtype=np.int64), float(limit), out)
    return out


@njit(cache=True, parallel=True)
def _searches(indptr, indices, lengths, sources, limit, out):  # pragma: no cover (numba)
    """One search per source into the rows of ``out``, in parallel."""
    capacity = len(indices) + 1  # a node enters the heap once per improving edge at most
    for i in prange(len(sources)):
        keys = np.empty(capacity, dtype=np.float64)
        nodes = np.empty(capacity, dtype=np.int64)
        out[i, :] = np.inf
        _search(indptr, indices, lengths, sources[i], limit, out[i], keys, nodes)


@njit(cache=True)
def _search(indptr, indices, lengths, source, limit, dist, keys, nodes):  # pragma: no cover
    """Dijkstra from ``source`` with a binary heap (stale entries are skipped when popped)."""
    dist[source] = 0.0
    size = _push(keys, nodes, 0, 0.0, source)
    while size > 0:
        d, u = keys[0], nodes[0]
        size = _pop(keys, nodes, size)
        if d > dist[u]:
            continue  # an older, longer label of u
        for k in range(indptr[u], indptr[u + 1]):
            v = indices[k]
            candidate = d + lengths[k]
            if candidate <= limit and candidate < dist[v]:
                dist[v] = candidate
                size = _push(keys, nodes, size, candidate, v)


@njit(cache=True, inline="always")
def _push(keys, nodes, size, key, node):  # pragma: no cover (numba)
    """Add ``(key, node)`` to the heap of ``size`` entries; the new size."""
    i = size
    while i > 0:
        parent = (i - 1) >> 1
        if keys[parent] <= key:
            break
        keys[i] = keys[parent]
        nodes[i] = nodes[parent]
        i = parent
    keys[i] = key
    nodes[i] = node
    return size + 1


@njit(cache=True, inline="always")
def _pop(keys, nodes, size):  # pragma: no cover (numba)
    """Remove the smallest entry of the heap of ``size`` entries; the new size."""
    size -= 1
    key, node = keys[size], nodes[size]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        if child + 1 < size and keys[child + 1] < keys[child]:
            child += 1
        if keys[child] >= key:
            break
        keys[i] = keys[child]
        nodes[i] = nodes[child]
        i = child
    if size > 0:
        keys[i] = key
        nodes[i] = node
    return size
