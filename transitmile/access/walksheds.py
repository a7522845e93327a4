"""Walksheds: the area within a few minutes' walk of a stop, over the street network.

For each stop and each band (5, 10, 15 minutes by default) the street network is
searched from the stop's snapped position (:func:`scipy.sparse.csgraph.dijkstra`
on the network's walk graph, from both ends of the stop's street). The polygon is
the convex hull of the outline of what is reached: the stop, the dead ends within
the band and the points where the band ends part-way along a street. It is drawn
for maps only: it overstates the area where streets bend around a river or a
rail line. (A concave hull of these few points is unstable: it drops whole
triangles of a T-junction's walkshed.)

Residents and jobs are counted by network time, never by the polygon: a point
counts when its own street travel time from the stop
(:func:`~transitmile.streets.street_travel_times`) is within the band.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse.csgraph import dijkstra

from ..errors import AccessError, show_value
from ..streets import SparseTimes, street_travel_times
from .points import analysis_attrs, check_layer, check_minutes, snap_layer, subset_snapped
from .stops import window_stops

__all__ = ["walksheds"]

#: Stops searched together (bounds the dense search output to ~100 MB on a city graph).
CHUNK_STOPS = 256


def _stop_rows(network, stops, start, end, max_headway_min) -> np.ndarray:
    """Rows of ``network.stops`` for ``stops`` (ids, or a table with stop_id); default frequent."""
    if stops is None:
        table = window_stops(network, start, end, max_headway_min)
        return np.flatnonzero(table["frequent"].to_numpy())
    if isinstance(stops, pd.DataFrame):
        column = "stop_id" if "stop_id" in stops.columns else "id"
        if column not in stops.columns:
            raise AccessError(
                f"stops has neither a 'stop_id' nor an 'id' column; columns are "
                f"{show_value(list(stops.columns))}"
            )
        stops = stops[column]
    ids = pd.Index(pd.Series(list(stops) if isinstance(stops, Iterable) else [stops]).astype(str))
    rows = pd.Index(network.stops["id"].astype(str)).get_indexer(ids)
    if (rows < 0).any():
        unknown = list(ids[rows < 0][:5])
        raise AccessError(
            f"stops: {int((rows < 0).sum())} id(s) are not stops of the network, e.g. "
            f"{show_value(unknown)}"
        )
    return np.unique(rows)


def _node_metres(graph, snapped, limit_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Find the walking metres from each snapped stop to the nodes within ``limit_m``.

    One limited search per distinct end node of the stops' streets; a stop reaches a
    node through either end of its street, whichever is shorter.

    Returns
    -------
    stop, node : ndarray of int64
        Pairs, sorted by stop then node.
    metres : ndarray of float64
    """
    n = len(snapped)
    ends = np.concatenate([snapped.node_a, snapped.node_b])
    sources, source_of = np.unique(ends, return_inverse=True)
    found = dijkstra(graph.adjacency, directed=True, indices=sources, limit=limit_m)
    row, node = np.nonzero(found <= limit_m)
    metres = found[row, node]
    del found
    indptr = np.concatenate([[0], np.cumsum(np.bincount(row, minlength=len(sources)))])
    counts = indptr[source_of + 1] - indptr[source_of]
    slot = np.repeat(indptr[source_of], counts) + _ranges(counts)
    stop = np.repeat(np.tile(np.arange(n), 2), counts)
    total = metres[slot] + np.repeat(np.concatenate([snapped.dist_a, snapped.dist_b]), counts)
    keep = total <= limit_m
    stop, node, total = stop[keep], node[slot][keep], total[keep]
    order = np.lexsort((total, node, stop))
    stop, node, total = stop[order], node[order], total[order]
    first = np.ones(len(stop), bool)
    first[1:] = (stop[1:] != stop[:-1]) | (node[1:] != node[:-1])
    return stop[first], node[first], total[first]


def _ranges(counts: np.ndarray) -> np.ndarray:
    """``0..c-1`` for each count ``c``, concatenated."""
    return np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)


class _Streets:
    """Each node's incident street ends, to walk from reached nodes into their streets."""

    def __init__(self, graph):
        edges = graph.edges
        self.length = edges["length"].to_numpy()
        self.lines = edges.geometry.to_numpy()
        n_edges = len(edges)
        ends = np.concatenate([edges["u"].to_numpy(), edges["v"].to_numpy()])
        order = np.argsort(ends, kind="stable")
        self.edge = np.concatenate([np.arange(n_edges), np.arange(n_edges)])[order]
        self.from_u = np.concatenate([np.ones(n_edges, bool), np.zeros(n_edges, bool)])[order]
        counts = np.bincount(ends, minlength=graph.n_nodes)
        self.indptr = np.concatenate([[0], np.cumsum(counts)])
        self.dead_end = counts == 1
        self.x, self.y = graph.node_x, graph.node_y

    def incident(self, stop, node, metres):
        """Expand (stop, node, metres) pairs to (stop, edge, from_u, metres at that end)."""
        counts = self.indptr[node + 1] - self.indptr[node]
        slot = np.repeat(self.indptr[node], counts) + _ranges(counts)
        return (
            np.repeat(stop, counts),
            self.edge[slot],
            self.from_u[slot],
            np.repeat(metres, counts),
        )

    def along(self, edge, position) -> tuple[np.ndarray, np.ndarray]:
        """Coordinates at ``position`` metres from each edge's ``u`` end, along its geometry."""
        if not hasattr(self, "_vertex_x"):
            self._index_vertices()
        at = self._start[edge] + position * self._scale[edge]
        lo = self._first[edge]
        i = np.clip(np.searchsorted(self._run, at, side="right") - 1, lo, self._last[edge] - 1)
        step = self._run[i + 1] - self._run[i]
        t = np.divide(at - self._run[i], step, out=np.zeros_like(at), where=step > 0)
        t = np.clip(t, 0.0, 1.0)
        x, y = self._vertex_x, self._vertex_y
        return x[i] + t * (x[i + 1] - x[i]), y[i] + t * (y[i + 1] - y[i])

    def _index_vertices(self) -> None:
        """Every edge's vertices in one array, with the distance run along all edges."""
        coords, owner = shapely.get_coordinates(self.lines, return_index=True)
        self._vertex_x, self._vertex_y = coords[:, 0], coords[:, 1]
        step = np.hypot(np.diff(coords[:, 0]), np.diff(coords[:, 1]))
        step[owner[1:] != owner[:-1]] = 0.0  # no step from one edge to the next
        self._run = np.concatenate([[0.0], np.cumsum(step)])
        self._first = np.searchsorted(owner, np.arange(len(self.lines)))
        self._last = np.searchsorted(owner, np.arange(len(self.lines)), side="right") - 1
        self._start = self._run[self._first]
        geometry_length = self._run[self._last] - self._start
        self._scale = geometry_length / np.where(self.length > 0, self.length, 1.0)


def _outline_points(streets: _Streets, snapped, reached, ends, limit_m: float):
    """Points that outline what a stop reaches within ``limit_m``: ``(stop, x, y)``.

    Dead ends reached, and where the band ends part-way along a street (from a
    reached end, or from the stop along its own street).
    """
    stop, node, metres = reached
    near = (metres <= limit_m) & streets.dead_end[node]
    i_parts = [stop[near]]
    x_parts = [streets.x[node[near]]]
    y_parts = [streets.y[node[near]]]
    e_stop, edge, from_u, at_end = ends
    length = streets.length[edge]
    cut = (at_end <= limit_m) & (at_end + length > limit_m)
    left = limit_m - at_end[cut]
    position = np.where(from_u[cut], left, length[cut] - left)
    i_parts.append(e_stop[cut])
    edges = [edge[cut]]
    positions = [position]
    # along the stop's own street, both ways from where it stands
    own = np.flatnonzero(limit_m >= snapped.snap_distance)
    rest = limit_m - snapped.snap_distance[own]
    for sign in (-1.0, 1.0):
        e = snapped.edge[own]
        i_parts.append(own)
        edges.append(e)
        positions.append(np.clip(snapped.offset[own] + sign * rest, 0.0, streets.length[e]))
    x, y = streets.along(np.concatenate(edges), np.concatenate(positions))
    return np.concatenate(i_parts), np.concatenate([*x_parts, x]), np.concatenate([*y_parts, y])


def _hulls(snapped, stop_i, xs, ys) -> np.ndarray:
    """One polygon per stop: the convex hull of the stop and its outline points."""
    n = len(snapped)
    # the stop twice, so that every stop has a line of at least two points to hull
    stop_i = np.concatenate([np.arange(n), np.arange(n), stop_i])
    coords = np.column_stack(
        [np.concatenate([snapped.x, snapped.x, xs]), np.concatenate([snapped.y, snapped.y, ys])]
    )
    order = np.argsort(stop_i, kind="stable")
    lines = shapely.linestrings(coords[order], indices=stop_i[order])
    hulls = shapely.convex_hull(lines)
    thin = shapely.get_type_id(hulls) != shapely.GeometryType.POLYGON
    hulls[thin] = shapely.buffer(hulls[thin], 5.0)  # a stop at a dead end: a dot on the map
    return hulls


def _polygons(graph, snapped, bands_m: np.ndarray) -> np.ndarray:
    """Polygons ``(n_stops, n_bands)`` in the graph's CRS, searched chunk by chunk."""
    out = np.empty((len(snapped), len(bands_m)), dtype=object)
    streets = _Streets(graph)
    for lo in range(0, len(snapped), CHUNK_STOPS):
        chunk = subset_snapped(snapped, np.arange(lo, min(lo + CHUNK_STOPS, len(snapped))))
        reached = _node_metres(graph, chunk, bands_m[-1])
        ends = streets.incident(*reached)
        for b, limit in enumerate(bands_m):
            outline = _outline_points(streets, chunk, reached, ends, limit)
            out[lo : lo + len(chunk), b] = _hulls(chunk, *outline)
    return out


def _counts(times: SparseTimes, weights: np.ndarray, limit_s: float) -> np.ndarray:
    rows = np.repeat(np.arange(times.shape[0]), np.diff(times.indptr))
    near = times.seconds <= limit_s
    return np.bincount(rows[near], weights=weights[times.indices[near]], minlength=times.shape[0])


def _covered(times: SparseTimes, weights: np.ndarray, limit_s: float) -> float:
    best = np.full(times.shape[1], np.inf)
    np.minimum.at(best, times.indices, times.seconds)
    return float(weights[best <= limit_s].sum())


def walksheds(
    network,
    stops=None,
    minutes: Sequence[float] = (5, 10, 15),
    points: gpd.GeoDataFrame | None = None,
    *,
    start="07:00",
    end="09:00",
    max_headway_min: float = 15,
    speed_walking: float = 3.6,
    population: str | None = "population",
    jobs: str | None = "jobs",
    dissolve: bool = False,
) -> gpd.GeoDataFrame:
    """Walksheds of stops per time band, with the residents and jobs within them.

    Parameters
    ----------
    network : TransportNetwork
        Streets and timetable of one service date.
    stops : sequence of stop ids, or DataFrame with ``stop_id`` (or ``id``), optional
        Default: the frequent stops of the window (as :func:`~transitmile.frequent_stops`).
    minutes : sequence of float
        Walking time bands, minutes.
    points : GeoDataFrame, optional
        Origins to count (unique ``id``, a CRS, population and jobs columns).
    start, end : str or number
        Window that decides which stops are frequent, ``"HH:MM"``.
    max_headway_min : float
        Frequent means a mean headway of at most this many minutes.
    speed_walking : float
        km/h.
    population, jobs : str or None
        Columns of ``points`` summed as ``residents`` and ``jobs`` (None: left out).
    dissolve : bool
        One coverage area per band (the union of the stops' walksheds) instead of
        one polygon per stop and band.

    Returns
    -------
    GeoDataFrame
        EPSG:4326. Per stop and band: ``stop_id``, ``walk_min``, ``geometry`` (empty
        for a stop off the street network), and with ``points`` ``residents`` and
        ``jobs`` of the points within ``walk_min`` on foot. Dissolved: ``walk_min``,
        ``stops``, ``geometry``, ``residents`` and ``jobs`` of the points within
        ``walk_min`` of any of the stops (each point counted once).

    Raises
    ------
    AccessError
        Unknown stop ids, bad bands, missing or negative columns.
    RoutingError
        Bad points, or none on the street network.
    """
    bands = np.unique(check_minutes(minutes, "minutes"))
    rows = _stop_rows(network, stops, start, end, max_headway_min)
    columns = {"residents": population, "jobs": jobs}
    if points is not None:
        points = check_layer(points, "points", columns.values(), what="column")
    graph = network.walk
    snapped = subset_snapped(network.snapped_stops("WALK"), rows)
    on_street = np.flatnonzero(snapped.snapped)
    shapes = np.full((len(rows), len(bands)), shapely.Polygon(), dtype=object)
    if len(on_street):
        bands_m = bands * 60.0 * speed_walking / 3.6
        shapes[on_street] = _polygons(graph, subset_snapped(snapped, on_street), bands_m)
    times = None
    if points is not None:
        located = snap_layer(graph, points, "points")
        times = street_travel_times(graph, snapped, located, speed_walking, bands[-1] * 60.0)
    stop_ids = network.stops["id"].to_numpy(dtype=object)[rows]
    if dissolve:
        table = pd.DataFrame({"walk_min": bands, "stops": len(rows)})
        geometry = [shapely.union_all(shapes[:, b]) for b in range(len(bands))]
        for name, column in columns.items():
            if times is not None and column is not None:
                weights = points[column].to_numpy(dtype="float64")
                table[name] = [_covered(times, weights, b * 60.0) for b in bands]
    else:
        table = pd.DataFrame(
            {"stop_id": np.repeat(stop_ids, len(bands)), "walk_min": np.tile(bands, len(rows))}
        )
        geometry = shapes.reshape(-1)
        for name, column in columns.items():
            if times is not None and column is not None:
                weights = points[column].to_numpy(dtype="float64")
                counts = [_counts(times, weights, b * 60.0) for b in bands]
                table[name] = np.column_stack(counts).reshape(-1)
    frame = gpd.GeoDataFrame(table, geometry=list(geometry), crs=graph.crs).to_crs("EPSG:4326")
    frame.attrs = analysis_attrs(
        "walksheds",
        network,
        window=f"{start}-{end}",
        max_headway_min=max_headway_min,
        speed_walking=speed_walking,
        dissolve=dissolve,
    )
    return frame
