"""Street travel-time tables between snapped points, within a time limit.

Times come from limited Dijkstra searches (:func:`~transitmile.streets.search.shortest_metres`,
scipy's ``dijkstra`` metres on every core), one search per from-point (each a source node
linked to its edge's ends), in chunks; each chunk's metres become table rows in one
numba pass over the rows, on every core (:func:`_rows_within`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numba import njit, prange

from .._progress import progress_bar
from ..conventions import R5PY_DEFAULTS, mode_word
from ..errors import NetworkError, RoutingError, show_value
from ..sparse import SparseTimes, indptr_from_rows, keep_min_per_pair
from .graph import StreetGraph
from .search import shortest_metres
from .snapping import Snapped

__all__ = ["DEFAULT_SPEED_KMH", "street_travel_times", "street_travel_times_many"]

#: r5py's default speeds, km/h, per street mode.
DEFAULT_SPEED_KMH = {m: R5PY_DEFAULTS.speed_kmh(m) for m in ("WALK", "BICYCLE")}


def _legs(graph: StreetGraph, points: Snapped, leaving: bool) -> tuple[np.ndarray, np.ndarray]:
    """Graph nodes and metres for the snap legs, shape (2, n); inf where not allowed.

    Leaving a point goes to ``node_b`` along the edge's direction (needs ``forward``) or
    to ``node_a`` against it (needs ``backward``); arriving at a point comes from
    ``node_a`` going forward or from ``node_b`` going backward. So a bike on a one-way
    street rides with the traffic on the snap legs too.
    """
    ok = points.snapped
    forward = np.zeros(len(points), bool)
    backward = np.zeros(len(points), bool)
    forward[ok] = graph.edges["forward"].to_numpy()[points.edge[ok]]
    backward[ok] = graph.edges["backward"].to_numpy()[points.edge[ok]]
    if leaving:
        nodes = np.stack([points.node_b, points.node_a])
        dists = np.stack(
            [np.where(forward, points.dist_b, np.inf), np.where(backward, points.dist_a, np.inf)]
        )
    else:
        nodes = np.stack([points.node_a, points.node_b])
        dists = np.stack(
            [np.where(forward, points.dist_a, np.inf), np.where(backward, points.dist_b, np.inf)]
        )
    # A closed direction borrows the other end's node (its metres stay inf), so that no
    # needless search starts from a placeholder node.
    nodes = np.where(np.isfinite(dists), nodes, nodes[::-1])
    return np.maximum(nodes, 0), dists


def _same_edge_pairs(graph: StreetGraph, from_points: Snapped, to_points: Snapped) -> pd.DataFrame:
    """Direct along-edge distance for from/to pairs snapped onto the same edge."""
    left = pd.DataFrame({"edge": from_points.edge, "i": np.arange(len(from_points))})
    right = pd.DataFrame({"edge": to_points.edge, "j": np.arange(len(to_points))})
    pairs = left[left["edge"] >= 0].merge(right[right["edge"] >= 0], on="edge")
    i, j, e = (pairs[c].to_numpy() for c in ("i", "j", "edge"))
    along = to_points.offset[j] - from_points.offset[i]
    allowed = np.where(
        along >= 0,
        graph.edges["forward"].to_numpy()[e] | (along == 0),
        graph.edges["backward"].to_numpy()[e],
    )
    metres = from_points.snap_distance[i] + np.abs(along) + to_points.snap_distance[j]
    # A point does not walk to the street and back to reach itself (nor a twin at the
    # very same position): 0 s, as in r5py.
    same_place = (from_points.x[i] == to_points.x[j]) & (from_points.y[i] == to_points.y[j])
    metres = np.where(same_place, 0.0, metres)
    allowed |= same_place
    return pd.DataFrame({"i": i[allowed], "j": j[allowed], "metres": metres[allowed]}).sort_values(
        "i", kind="stable"
    )


def _check_snapped(graph: StreetGraph, points: Snapped, name: str) -> None:
    if not isinstance(points, Snapped):
        raise NetworkError(
            f"{name} must be a Snapped (from snap_points), got {type(points).__name__}"
        )
    ok = points.snapped
    if points.mode and points.mode != graph.mode:
        raise NetworkError(
            f"{name} were snapped to a {mode_word(points.mode)} graph, not this "
            f"{mode_word(graph.mode)} graph"
        )
    if (
        len(points.edge) != len(points)
        or len(points.x) != len(points)
        or (
            ok.any()
            and (points.edge[ok].max() >= graph.n_edges or points.node_a.max() >= graph.n_nodes)
        )
    ):
        raise NetworkError(f"{name} were not snapped to this graph; call snap_points(graph, ...)")


def street_travel_times(
    graph: StreetGraph,
    from_points: Snapped,
    to_points: Snapped,
    speed_kmh: float | None,
    max_time_s: float,
    progress: bool | None = None,
) -> SparseTimes:
    """Street travel times between snapped points, within a time limit.

    Parameters
    ----------
    graph : StreetGraph
    from_points, to_points : Snapped
        Points snapped to ``graph`` with :func:`snap_points`.
    speed_kmh : float or None
        Travel speed, km/h; None for the mode's default (walk 3.6, bike 12, as r5py).
        The snap legs between a point and the street are covered at the same speed.
    max_time_s : float
        Time limit, seconds. Pairs whose rounded time exceeds it are left out.
    progress : bool, optional
        Show a progress bar (default: ``settings.progress``).

    Returns
    -------
    SparseTimes
        Seconds (rounded half up to integers) from each from-point to each to-point,
        shape ``(len(from_points), len(to_points))``. Unsnapped points have no entries.

    Notes
    -----
    The street leg of a trip is: snap leg to one end of the from-point's edge, shortest
    path along the directed graph, snap leg from one end of the to-point's edge. A
    from-point and a to-point on the same edge may also go straight along it; a point
    reaches itself (or another at the very same position) in 0 s. On a one-way street a
    bike rides with the traffic on the snap legs too: it leaves a point towards the
    edge's downstream end and reaches a point from its upstream end. One limited
    Dijkstra search runs per distinct end node of the from-points (in chunks, to bound
    memory); combining the candidates is vectorised numpy.

    Raises
    ------
    RoutingError
        Speed not positive or time limit negative.
    NetworkError
        Points not snapped to this graph.
    """
    speed, limit_m = _speed_and_limit(graph, speed_kmh, max_time_s)
    _check_snapped(graph, from_points, "from_points")
    _check_snapped(graph, to_points, "to_points")
    from_nodes, from_dists = _legs(graph, from_points, leaving=True)
    to_nodes, to_dists = _legs(graph, to_points, leaving=False)
    same_edge = _same_edge_pairs(graph, from_points, to_points)

    # One search per distinct end node of the side with fewer of them: egress from
    # thousands of stops to a few hundred cells runs backwards from the cells, on the
    # reversed graph, and is transposed (same sums, a fraction of the searches).
    n_from_nodes = len(np.unique(from_nodes[:, from_points.snapped]))
    n_to_nodes = len(np.unique(to_nodes[:, to_points.snapped]))
    if n_to_nodes < n_from_nodes:
        swapped = same_edge.rename(columns={"i": "j", "j": "i"}).sort_values("i", kind="stable")
        (backwards,) = _times_by_rows(
            graph.adjacency.T.tocsr(), to_points.snapped, (to_nodes, to_dists),
            [((from_nodes, from_dists), swapped)], speed, limit_m, max_time_s,
            desc=f"{mode_word(graph.mode)} times", progress=progress,
        )  # fmt: skip
        return backwards.T
    (forwards,) = _times_by_rows(
        graph.adjacency, from_points.snapped, (from_nodes, from_dists),
        [((to_nodes, to_dists), same_edge)], speed, limit_m, max_time_s,
        desc=f"{mode_word(graph.mode)} times", progress=progress,
    )  # fmt: skip
    return forwards


def street_travel_times_many(
    graph: StreetGraph,
    from_points: Snapped,
    to_points: Sequence[Snapped],
    speed_kmh: float | None,
    max_time_s: float,
    progress: bool | None = None,
) -> list[SparseTimes]:
    """:func:`street_travel_times` from one point set to several, sharing the searches.

    A travel time matrix needs, from the same origins and with the same limit, the
    times to transit stops (access) and to destinations (door to door): one Dijkstra
    search per origin end node serves both.

    Returns
    -------
    list of SparseTimes
        One table per entry of ``to_points``, each exactly as :func:`street_travel_times`.
    """
    speed, limit_m = _speed_and_limit(graph, speed_kmh, max_time_s)
    _check_snapped(graph, from_points, "from_points")
    targets = []
    for k, points in enumerate(to_points):
        _check_snapped(graph, points, f"to_points[{k}]")
        legs = _legs(graph, points, leaving=False)
        targets.append((legs, _same_edge_pairs(graph, from_points, points)))
    return _times_by_rows(
        graph.adjacency, from_points.snapped, _legs(graph, from_points, leaving=True), targets,
        speed, limit_m, max_time_s, desc=f"{mode_word(graph.mode)} times", progress=progress,
    )  # fmt: skip


def _speed_and_limit(graph: StreetGraph, speed_kmh, max_time_s) -> tuple[float, float]:
    """Speed in m/s and the search limit in metres; checks both parameters."""
    speed_kmh = DEFAULT_SPEED_KMH[graph.mode] if speed_kmh is None else speed_kmh
    if not np.isfinite(speed_kmh) or speed_kmh <= 0:
        raise RoutingError(f"speed_kmh must be a positive number, got {show_value(speed_kmh)}")
    if not np.isfinite(max_time_s) or max_time_s < 0:
        raise RoutingError(
            f"max_time_s must be a number of seconds >= 0, got {show_value(max_time_s)}"
        )
    speed = speed_kmh / 3.6  # m/s
    # Any path longer than this rounds to more than max_time_s.
    return speed, (max_time_s + 0.5) * speed


def _times_by_rows(
    adjacency, row_snapped, row_legs, targets, speed, limit_m, max_time_s, desc, progress
) -> list[SparseTimes]:
    """Seconds from each row point to the points of each target set.

    ``targets`` is a list of ``(column legs, same-edge pairs)``; one Dijkstra search per
    row end node serves them all.
    """
    n_from = len(row_snapped)
    rows_to_do = np.flatnonzero(row_snapped)
    # The dtypes _rows_within is compiled for, converted once rather than per chunk.
    targets = [
        ((np.ascontiguousarray(nodes, np.int64), np.ascontiguousarray(dists, np.float64)), same)
        for (nodes, dists), same in targets
    ]
    graph = _with_point_sources(adjacency, row_legs, row_snapped)
    # Bound the Dijkstra output (sources x nodes float64) to about 32 MB per chunk.
    chunk = max(1, min(512, 4_000_000 // graph.shape[0]))
    tables = [_TableBuilder(n_from, legs[0].shape[1], same) for legs, same in targets]
    starts = range(0, len(rows_to_do), chunk)
    # One buffer for every chunk: a fresh 32 MB array per chunk costs page faults, about
    # a quarter of the time of 20-minute walks on Porto Alegre.
    buffer = np.empty((min(chunk, len(rows_to_do)), graph.shape[0]), dtype=np.float64)
    for start in progress_bar(starts, desc=desc, unit="chunk", progress=progress):
        rows = rows_to_do[start : start + chunk]
        sources = adjacency.shape[0] + rows
        network = shortest_metres(graph, sources, limit_m, out=buffer[: len(rows)])
        for builder, ((col_nodes, col_dists), _) in zip(tables, targets, strict=True):
            builder.add(rows, network, col_nodes, col_dists, speed, max_time_s)
    return [builder.table() for builder in tables]


def _with_point_sources(adjacency, legs, snapped) -> sp.csr_matrix:
    """Add one source node per point to the graph, linked to its edge's ends by its legs.

    Node ``n + i`` leaves point ``i`` along its snap legs (out-edges only, so no path
    passes through another point), so one search per point replaces one per edge end.
    """
    n = adjacency.shape[0]
    nodes, dists = legs
    k, i = np.nonzero(np.isfinite(dists) & snapped[None, :])
    coo = adjacency.tocoo()
    rows = np.concatenate([coo.row, n + i])
    cols = np.concatenate([coo.col, nodes[k, i]])
    metres = np.concatenate([coo.data, dists[k, i]])
    # Both legs of a point on a loop edge reach the same node: keep the shorter
    # (a sparse matrix would add duplicates up). Explicit zeros are 0 m edges to csgraph.
    rows, cols, metres = keep_min_per_pair(rows, cols, metres)
    size = n + len(snapped)
    return sp.csr_matrix((metres, (rows, cols)), shape=(size, size))


class _TableBuilder:
    """Collects the rows of one SparseTimes chunk by chunk."""

    def __init__(self, n_from: int, n_to: int, same_edge: pd.DataFrame):
        self.shape = (n_from, n_to)
        self.same_i = same_edge["i"].to_numpy()
        self.same_j = np.ascontiguousarray(same_edge["j"].to_numpy(), np.int64)
        self.same_m = np.ascontiguousarray(same_edge["metres"].to_numpy(), np.float64)
        self.counts = np.zeros(n_from, np.int64)
        self.indices, self.seconds = [], []

    def add(self, rows, network, col_nodes, col_dists, speed: float, max_time_s: float) -> None:
        """Add the rows searched in ``network`` (metres to every node, one row per point)."""
        lo, hi = np.searchsorted(self.same_i, [rows[0], rows[-1] + 1])
        same_ptr = indptr_from_rows(np.searchsorted(rows, self.same_i[lo:hi]), len(rows))
        counts, indices, seconds = _rows_within(
            network, col_nodes, col_dists, same_ptr, self.same_j[lo:hi], self.same_m[lo:hi],
            float(speed), float(max_time_s),
        )  # fmt: skip
        self.counts[rows] = counts
        self.indices.append(indices)
        self.seconds.append(seconds)

    def table(self) -> SparseTimes:
        return SparseTimes(
            indptr=np.concatenate([[0], np.cumsum(self.counts)]).astype(np.int64),
            indices=np.concatenate(self.indices) if self.indices else np.empty(0, np.int32),
            seconds=np.concatenate(self.seconds) if self.seconds else np.empty(0, np.int32),
            shape=self.shape,
        )


@njit(cache=True, parallel=True)
def _rows_within(network, to_nodes, to_dists, same_ptr, same_j, same_m, speed, max_time_s):
    """Table rows of searched points: seconds to every to-point within ``max_time_s``.

    Parameters
    ----------
    network : float64 [rows, n_nodes]
        Metres from each searched point to every node (inf beyond the limit).
    to_nodes, to_dists : int64 [2, n_to], float64 [2, n_to]
        Each to-point's two edge ends and the metres from them to the point.
    same_ptr, same_j, same_m : int64 [rows + 1], int64, float64
        Per row (CSR) the to-points on the same edge and the metres along it.
    speed, max_time_s : float
        Metres per second; longest time kept, seconds.

    Returns
    -------
    counts : int64 [rows]
    indices, seconds : int32
        The kept pairs row by row, to-points in increasing order.

    Notes
    -----
    The metres of a pair are the shorter arrival (via either edge end, or along the
    shared edge), seconds ``floor(metres / speed + 0.5)``: the same float64 operations,
    in the same order, as numpy's dense arrays gave before, so the same seconds.
    """
    n_rows, n_to = network.shape[0], to_nodes.shape[1]
    seconds_dense = np.empty((n_rows, n_to), dtype=np.int32)
    counts = np.zeros(n_rows, dtype=np.int64)
    for r in prange(n_rows):
        metres = np.empty(n_to)
        for j in range(n_to):
            via_a = network[r, to_nodes[0, j]] + to_dists[0, j]
            via_b = network[r, to_nodes[1, j]] + to_dists[1, j]
            metres[j] = via_b if via_b < via_a else via_a
        for q in range(same_ptr[r], same_ptr[r + 1]):
            if same_m[q] < metres[same_j[q]]:
                metres[same_j[q]] = same_m[q]
        kept = 0
        for j in range(n_to):
            secs = np.floor(metres[j] / speed + 0.5)
            if secs <= max_time_s:
                seconds_dense[r, j] = np.int32(secs)
                kept += 1
            else:
                seconds_dense[r, j] = -1
        counts[r] = kept
    ptr = np.zeros(n_rows + 1, dtype=np.int64)
    for r in range(n_rows):
        ptr[r + 1] = ptr[r] + counts[r]
    indices = np.empty(ptr[n_rows], dtype=np.int32)
    seconds = np.empty(ptr[n_rows], dtype=np.int32)
    for r in prange(n_rows):
        k = ptr[r]
        for j in range(n_to):
            if seconds_dense[r, j] >= 0:
                indices[k] = j
                seconds[k] = seconds_dense[r, j]
                k += 1
    return counts, indices, seconds
