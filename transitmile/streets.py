"""Street networks: OSM PBF -> walk / bike graphs, snapping, street travel times.

The graph is read with pyosmium and our own access rules (see :func:`way_access`), split
at intersections the way osmnx simplifies a graph, measured in metres in a local UTM CRS,
and reduced to its largest connected component. Points (origins, destinations, stops) are
snapped onto the nearest *edge* within a radius, as R5 (Conveyal) does, and street travel
times come from :func:`scipy.sparse.csgraph.dijkstra` with a distance limit, one search per
distinct graph node next to a from-point.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import pyproj
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components, dijkstra

from . import settings
from ._progress import progress_bar
from .data import file_sha256
from .errors import NetworkError, RoutingError, show_value

__all__ = [
    "MODES",
    "DEFAULT_SPEED_KMH",
    "StreetGraph",
    "Snapped",
    "SparseTimes",
    "UnsnappedPointsWarning",
    "build_street_graph",
    "way_access",
    "snap_points",
    "require_snapped",
    "street_travel_times",
    "street_travel_times_many",
]

#: Street graph modes.
MODES = ("walk", "bike")

#: r5py's default speeds, km/h.
DEFAULT_SPEED_KMH = {"walk": 3.6, "bike": 12.0}

# highway=* values that can carry people at all. Anything else (proposed, construction,
# bus_guideway, raceway, rest_area ...) is not part of a walk or bike network.
_ROUTABLE_HIGHWAY = frozenset(
    {
        "motorway",
        "motorway_link",
        "trunk",
        "trunk_link",
        "primary",
        "primary_link",
        "secondary",
        "secondary_link",
        "tertiary",
        "tertiary_link",
        "unclassified",
        "residential",
        "living_street",
        "road",
        "service",
        "track",
        "pedestrian",
        "footway",
        "steps",
        "path",
        "cycleway",
        "bridleway",
        "corridor",
        "platform",
    }
)

# Default access when no mode tag says otherwise, after OSM's worldwide access table
# (wiki "OSM tags for routing/Access restrictions") and R5's TraversalPermissionLabeler:
# pedestrians everywhere except motorways, bicycles on roads, paths and cycleways but not
# on footways, pedestrian streets, steps, bridleways, corridors or platforms.
_DEFAULT_ALLOWED = {
    "walk": _ROUTABLE_HIGHWAY - {"motorway", "motorway_link"},
    "bike": _ROUTABLE_HIGHWAY
    - {
        "motorway",
        "motorway_link",
        "pedestrian",
        "footway",
        "steps",
        "bridleway",
        "corridor",
        "platform",
    },
}

# Mode-specific access keys, most specific first; the first one present decides.
_MODE_KEYS = {"walk": ("foot",), "bike": ("bicycle", "vehicle")}

# Values that close a way to a mode (also as one of several values: "private;delivery").
# bicycle=use_sidepath means cyclists must use the parallel cycleway instead.
_CLOSED = frozenset({"no", "private", "use_sidepath"})

_YES = frozenset({"yes", "true", "1"})
_NO = frozenset({"no", "false", "0"})
_REVERSE = frozenset({"-1", "reverse"})
# Old-style tags for contraflow cycling on one-way streets.
_CONTRAFLOW = frozenset({"opposite", "opposite_lane", "opposite_track"})


class UnsnappedPointsWarning(RuntimeWarning):
    """Some points lie farther than the snap radius from the street network."""


@dataclass
class StreetGraph:
    """A walk or bike street network, ready for shortest paths.

    Attributes
    ----------
    mode : str
        ``"walk"`` or ``"bike"``.
    crs : pyproj.CRS
        Local projected CRS (UTM from ``estimate_utm_crs``), metres.
    node_osm_id : ndarray of int64, shape (n_nodes,)
        OSM node id of each graph node.
    node_x, node_y : ndarray of float64, shape (n_nodes,)
        Node coordinates in ``crs``, metres.
    node_lon, node_lat : ndarray of float64, shape (n_nodes,)
        Node coordinates in degrees (EPSG:4326).
    adjacency : scipy.sparse.csr_matrix, shape (n_nodes, n_nodes)
        Directed edge lengths in metres (> 0); the shortest edge where several join the
        same two nodes. Walk: symmetric. Bike: one-way streets in one direction only.
    edges : GeoDataFrame
        One row per street piece between two intersections: ``u, v`` (node indices),
        ``length`` (m), ``osm_way_id``, ``highway``, ``forward`` (u -> v allowed),
        ``backward`` (v -> u allowed), ``geometry`` (LineString from u to v, in ``crs``).
    source : Path
        The OSM PBF file.
    source_sha256 : str
        sha256 of that file, for caches.

    Notes
    -----
    Plain dataclass of numpy arrays, a CSR matrix and a GeoDataFrame: it pickles as is
    (shapely geometries pickle as WKB), which is how a TransportNetwork caches it.
    """

    mode: str
    crs: pyproj.CRS
    node_osm_id: np.ndarray
    node_x: np.ndarray
    node_y: np.ndarray
    node_lon: np.ndarray
    node_lat: np.ndarray
    adjacency: sp.csr_matrix
    edges: gpd.GeoDataFrame
    source: Path
    source_sha256: str

    @property
    def n_nodes(self) -> int:
        """Number of graph nodes."""
        return len(self.node_osm_id)

    @property
    def n_edges(self) -> int:
        """Number of street pieces (rows of ``edges``)."""
        return len(self.edges)

    def __repr__(self) -> str:
        return (
            f"StreetGraph(mode={self.mode!r}, nodes={self.n_nodes}, edges={self.n_edges}, "
            f"crs={self.crs.to_string()!r}, source={self.source.name!r})"
        )


@dataclass
class Snapped:
    """Points attached to a street graph, each onto its nearest edge.

    Attributes
    ----------
    ids : ndarray of object
        The points' ids, in input order.
    node_a, node_b : ndarray of int64
        Node indices of the two ends of the nearest edge (its ``u`` and ``v``); -1 if the
        point is not snapped.
    dist_a, dist_b : ndarray of float64
        Metres from the point to ``node_a`` / ``node_b``: snap leg plus the distance along
        the edge (inf if not snapped).
    snap_distance : ndarray of float64
        Metres from the point to the edge (inf if not snapped).
    edge : ndarray of int64
        Row of ``graph.edges`` the point is snapped to, -1 if not snapped.
    offset : ndarray of float64
        Metres along the edge from ``node_a`` to the snapped position (NaN if not snapped).
    mode : str
        Mode of the graph the points were snapped to.
    x, y : ndarray of float64
        The points' coordinates in the graph's CRS, metres.
    """

    ids: np.ndarray
    node_a: np.ndarray
    node_b: np.ndarray
    dist_a: np.ndarray
    dist_b: np.ndarray
    snap_distance: np.ndarray
    edge: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    offset: np.ndarray = field(default_factory=lambda: np.empty(0, np.float64))
    mode: str = ""
    x: np.ndarray = field(default_factory=lambda: np.empty(0, np.float64))
    y: np.ndarray = field(default_factory=lambda: np.empty(0, np.float64))

    @property
    def snapped(self) -> np.ndarray:
        """Boolean mask of the points that were snapped."""
        return self.node_a >= 0

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class SparseTimes:
    """Travel times in CSR layout: only the pairs within the time limit.

    Row ``i`` (a from-point) holds the to-point indices ``indices[indptr[i]:indptr[i+1]]``
    (ascending) and their travel times ``seconds[indptr[i]:indptr[i+1]]``. A pair that is
    absent is unreachable within the limit (which differs from 0 s, a point to itself).

    Attributes
    ----------
    indptr : ndarray of int64, shape (n_from + 1,)
    indices : ndarray of int32
        To-point index of each entry.
    seconds : ndarray of int32
        Travel time of each entry, seconds (rounded to the nearest second).
    shape : tuple of int
        ``(n_from, n_to)``.
    """

    indptr: np.ndarray
    indices: np.ndarray
    seconds: np.ndarray
    shape: tuple[int, int]

    @property
    def nnz(self) -> int:
        """Number of stored (reachable) pairs."""
        return len(self.indices)

    def to_dense(self, fill: float = np.inf) -> np.ndarray:
        """Dense ``(n_from, n_to)`` float64 array of seconds, ``fill`` where unreachable."""
        dense = np.full(self.shape, fill, dtype=np.float64)
        rows = np.repeat(np.arange(self.shape[0]), np.diff(self.indptr))
        dense[rows, self.indices] = self.seconds
        return dense

    @property
    def T(self) -> SparseTimes:  # noqa: N802 (numpy's name for a transpose)
        """The same pairs from the other side: shape ``(n_to, n_from)``."""
        return _transpose(self)

    def to_frame(self, from_ids=None, to_ids=None) -> pd.DataFrame:
        """Long table ``from_id, to_id, seconds`` of the reachable pairs.

        Parameters
        ----------
        from_ids, to_ids : array-like, optional
            Ids of the rows / columns (e.g. ``Snapped.ids``); positions if not given.
        """
        rows = np.repeat(np.arange(self.shape[0]), np.diff(self.indptr))
        from_ids = np.arange(self.shape[0]) if from_ids is None else np.asarray(from_ids)
        to_ids = np.arange(self.shape[1]) if to_ids is None else np.asarray(to_ids)
        return pd.DataFrame(
            {"from_id": from_ids[rows], "to_id": to_ids[self.indices], "seconds": self.seconds}
        )


# --------------------------------------------------------------------------- access rules


def _values(value: str | None) -> list[str]:
    return [] if value is None else [part.strip() for part in value.split(";")]


def way_access(tags, mode: str) -> tuple[bool, bool]:
    """Whether a way may be used by ``mode``, forwards and backwards.

    Parameters
    ----------
    tags : mapping
        The way's OSM tags (a dict or pyosmium ``TagList``).
    mode : {"walk", "bike"}

    Returns
    -------
    (forward, backward) : tuple of bool
        Travel allowed along the way's node order / against it. ``(False, False)``: the
        way is not part of the network.

    Notes
    -----
    - ``highway`` must be a street, path or footway value; ``area=yes`` (squares mapped
      as polygons) and ``motorroad=yes`` are excluded.
    - The most specific access tag present decides: ``foot`` for walking, ``bicycle``
      then ``vehicle`` for cycling; ``no``, ``private`` or ``use_sidepath`` close the
      way, any other value (``yes``, ``designated``, ``permissive`` ...) opens it even
      where the default forbids it (``highway=footway`` + ``bicycle=yes``). Without a
      mode tag, ``access=no|private`` closes the way, otherwise the highway default
      applies (pedestrians everywhere but motorways; bicycles not on footways,
      pedestrian streets, steps, bridleways, corridors or platforms).
    - Walking ignores one-way streets. Cycling: ``oneway:bicycle`` wins (``no`` makes a
      one-way street two-way for bikes), then contraflow ``cycleway=opposite*``, then
      ``oneway=yes|-1|no``, then ``junction=roundabout|circular`` and motorways imply
      one-way. ``oneway=reversible|alternating`` ways are left out for bikes, as their
      direction changes through the day.
    """
    if mode not in MODES:
        raise NetworkError(f"mode must be one of {MODES}, got {show_value(mode)}")
    highway = tags.get("highway")
    if highway not in _ROUTABLE_HIGHWAY or tags.get("area") == "yes":
        return False, False
    if tags.get("motorroad") == "yes":
        return False, False
    if not _is_open(tags, mode, highway):
        return False, False
    if mode == "walk":
        return True, True
    return _bike_directions(tags, highway)


def _is_open(tags, mode: str, highway: str) -> bool:
    for key in _MODE_KEYS[mode]:
        values = _values(tags.get(key))
        if values:
            return not any(v in _CLOSED for v in values)
    if any(v in _CLOSED for v in _values(tags.get("access"))):
        return False
    return highway in _DEFAULT_ALLOWED[mode]


def _bike_directions(tags, highway: str) -> tuple[bool, bool]:
    oneway_bicycle = tags.get("oneway:bicycle")
    if oneway_bicycle in _NO:
        return True, True
    if oneway_bicycle in _YES:
        return True, False
    if oneway_bicycle in _REVERSE:
        return False, True
    if tags.get("cycleway") in _CONTRAFLOW:
        return True, True
    oneway = tags.get("oneway")
    if oneway in _YES:
        return True, False
    if oneway in _REVERSE:
        return False, True
    if oneway in ("reversible", "alternating"):
        return False, False
    if oneway in _NO:
        return True, True
    if tags.get("junction") in ("roundabout", "circular") or highway in (
        "motorway",
        "motorway_link",
    ):
        return True, False
    return True, True


# --------------------------------------------------------------------------- graph building


@dataclass
class _Ways:
    """Routable way runs read from a PBF: one run per stretch of nodes with locations."""

    way_id: list[int] = field(default_factory=list)
    highway: list[str] = field(default_factory=list)
    forward: list[bool] = field(default_factory=list)
    backward: list[bool] = field(default_factory=list)
    refs: list[np.ndarray] = field(default_factory=list)
    lon: list[np.ndarray] = field(default_factory=list)
    lat: list[np.ndarray] = field(default_factory=list)


def _read_ways(path: Path, mode: str) -> _Ways:
    ways = _Ways()
    processor = (
        osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.KeyFilter("highway"))
    )
    for obj in processor:
        if not obj.is_way():
            continue
        forward, backward = way_access(obj.tags, mode)
        if not (forward or backward):
            continue
        nodes = [(n.ref, n.lon, n.lat) if n.location.valid() else None for n in obj.nodes]
        # A node missing from the extract cuts the way: never bridge the gap.
        for run in _valid_runs(nodes):
            refs, lon, lat = (np.array(col) for col in zip(*run, strict=True))
            ways.way_id.append(obj.id)
            ways.highway.append(obj.tags.get("highway"))
            ways.forward.append(forward)
            ways.backward.append(backward)
            ways.refs.append(refs.astype(np.int64))
            ways.lon.append(lon.astype(np.float64))
            ways.lat.append(lat.astype(np.float64))
    return ways


def _valid_runs(nodes: list) -> list[list]:
    runs, current = [], []
    for node in [*nodes, None]:
        if node is None:
            if len(current) >= 2:
                runs.append(current)
            current = []
        elif not current or current[-1][0] != node[0]:  # drop repeated refs
            current.append(node)
    return runs


def _utm_crs(lon: np.ndarray, lat: np.ndarray) -> pyproj.CRS:
    bounds = gpd.GeoSeries(
        gpd.points_from_xy([lon.min(), lon.max()], [lat.min(), lat.max()]), crs="EPSG:4326"
    )
    return bounds.estimate_utm_crs()


def _split_into_pieces(ways: _Ways, crs: pyproj.CRS) -> tuple[pd.DataFrame, dict]:
    """Cut way runs at intersections into edges (osmnx-style simplification).

    A node is a graph node where two ways meet, where a way meets itself, or at the end
    of a way run; edges are the stretches between consecutive graph nodes.
    """
    sizes = np.array([len(r) for r in ways.refs])
    run = np.repeat(np.arange(len(sizes)), sizes)
    refs = np.concatenate(ways.refs)
    lon = np.concatenate(ways.lon)
    lat = np.concatenate(ways.lat)
    to_crs = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x, y = to_crs.transform(lon, lat)

    start = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    first = np.zeros(len(refs), bool)
    first[start] = True
    last = np.zeros(len(refs), bool)
    last[start + sizes - 1] = True
    _, inverse, counts = np.unique(refs, return_inverse=True, return_counts=True)
    is_node = (counts[inverse] >= 2) | first | last

    # Segment s joins vertex s and s+1 of the same run; a piece starts at every graph
    # node that is not a run's last vertex.
    seg = np.flatnonzero(~last)
    piece_start = is_node & ~last
    piece_of_vertex = np.cumsum(piece_start) - 1
    seg_piece = piece_of_vertex[seg]
    seg_len = np.hypot(x[seg + 1] - x[seg], y[seg + 1] - y[seg])
    n_pieces = int(piece_start.sum())

    # Vertices of each piece: its segments' starts plus the end of its last segment.
    last_seg = np.flatnonzero(np.r_[seg_piece[1:] != seg_piece[:-1], True])
    vertex = np.concatenate([seg, seg[last_seg] + 1])
    owner = np.concatenate([seg_piece, seg_piece[last_seg]])
    order = np.lexsort((vertex, owner))
    geometry = shapely.linestrings(x[vertex[order]], y[vertex[order]], indices=owner[order])

    u_vertex = seg[np.r_[0, last_seg[:-1] + 1]]
    v_vertex = seg[last_seg] + 1
    piece_run = run[u_vertex]
    pieces = pd.DataFrame(
        {
            "u_osm": refs[u_vertex],
            "v_osm": refs[v_vertex],
            "length": np.bincount(seg_piece, weights=seg_len, minlength=n_pieces),
            "osm_way_id": np.asarray(ways.way_id, np.int64)[piece_run],
            "highway": np.asarray(ways.highway, object)[piece_run],
            "forward": np.asarray(ways.forward, bool)[piece_run],
            "backward": np.asarray(ways.backward, bool)[piece_run],
            "geometry": geometry,
        }
    )
    node_vertex = np.flatnonzero(is_node)
    osm_ids, keep = np.unique(refs[node_vertex], return_index=True)
    nodes = {
        "osm_id": osm_ids,
        "x": x[node_vertex[keep]],
        "y": y[node_vertex[keep]],
        "lon": lon[node_vertex[keep]],
        "lat": lat[node_vertex[keep]],
    }
    return pieces, nodes


def _adjacency(u, v, length, forward, backward, n_nodes: int) -> sp.csr_matrix:
    """Directed CSR of edge lengths, keeping the shortest of parallel edges."""
    rows = np.concatenate([u[forward], v[backward]])
    cols = np.concatenate([v[forward], u[backward]])
    data = np.concatenate([length[forward], length[backward]])
    keep = rows != cols  # a loop never shortens a path
    rows, cols, data = rows[keep], cols[keep], data[keep]
    order = np.lexsort((data, cols, rows))
    rows, cols, data = rows[order], cols[order], data[order]
    first = np.r_[True, (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])]
    return sp.csr_matrix((data[first], (rows[first], cols[first])), shape=(n_nodes, n_nodes))


# Zero-length edges (distinct OSM nodes at one position) would vanish from a sparse
# matrix; a millimetre keeps them as edges and changes no rounded travel time.
_MIN_EDGE_M = 0.001


def build_street_graph(
    osm_pbf: str | Path, mode: str = "walk", progress: bool | None = None
) -> StreetGraph:
    """Read an OSM extract into a walk or bike street graph.

    Parameters
    ----------
    osm_pbf : str or Path
        OpenStreetMap extract (``.osm.pbf``; any format pyosmium reads).
    mode : {"walk", "bike"}
        Which access rules to apply (see :func:`way_access`).
    progress : bool, optional
        Show a progress bar (default: ``settings.progress``).

    Returns
    -------
    StreetGraph
        The largest connected component: for walking (symmetric) the connected one; for
        cycling the largest *strongly* connected component, so that every node can reach
        every other along one-way streets and no snapped point is caught in a one-way
        trap that it can enter but never leave.

    Raises
    ------
    NetworkError
        Unknown mode, missing or unreadable file, or no routable way in it.
    """
    if mode not in MODES:
        raise NetworkError(f"mode must be one of {MODES}, got {show_value(mode)}")
    path = Path(osm_pbf)
    if not path.is_file():
        raise NetworkError(f"OSM file {str(path)!r} does not exist")
    steps = progress_bar(total=4, desc=f"{mode} graph", unit="step", progress=progress)
    try:
        ways = _read_ways(path, mode)
    except RuntimeError as exc:  # pyosmium: not an OSM file, truncated file ...
        raise NetworkError(f"cannot read OSM file {str(path)!r}: {exc}") from exc
    steps.update()
    if not ways.refs:
        raise NetworkError(f"OSM file {str(path)!r} has no way that a {mode} network can use")
    crs = _utm_crs(np.concatenate(ways.lon), np.concatenate(ways.lat))
    pieces, nodes = _split_into_pieces(ways, crs)
    pieces["length"] = np.maximum(pieces["length"].to_numpy(), _MIN_EDGE_M)
    steps.update()

    u = np.searchsorted(nodes["osm_id"], pieces["u_osm"].to_numpy())
    v = np.searchsorted(nodes["osm_id"], pieces["v_osm"].to_numpy())
    fwd, bwd = pieces["forward"].to_numpy(), pieces["backward"].to_numpy()
    length = pieces["length"].to_numpy()
    n_all = len(nodes["osm_id"])
    full = _adjacency(u, v, length, fwd, bwd, n_all)
    connection = "strong" if mode == "bike" else "weak"
    _, label = connected_components(full, directed=True, connection=connection)
    largest = np.argmax(np.bincount(label))
    in_component = label == largest
    steps.update()

    new_index = np.cumsum(in_component) - 1
    keep = in_component[u] & in_component[v]
    u, v = new_index[u[keep]], new_index[v[keep]]
    pieces = pieces.loc[keep].reset_index(drop=True)
    edges = gpd.GeoDataFrame(
        {
            "u": u.astype(np.int64),
            "v": v.astype(np.int64),
            "length": pieces["length"].to_numpy(),
            "osm_way_id": pieces["osm_way_id"].to_numpy(),
            "highway": pieces["highway"].to_numpy(),
            "forward": pieces["forward"].to_numpy(),
            "backward": pieces["backward"].to_numpy(),
        },
        geometry=pieces["geometry"].to_numpy(),
        crs=crs,
    )
    n_nodes = int(in_component.sum())
    adjacency = _adjacency(
        edges["u"].to_numpy(),
        edges["v"].to_numpy(),
        edges["length"].to_numpy(),
        edges["forward"].to_numpy(),
        edges["backward"].to_numpy(),
        n_nodes,
    )
    steps.update()
    steps.close()
    return StreetGraph(
        mode=mode,
        crs=crs,
        node_osm_id=nodes["osm_id"][in_component].astype(np.int64),
        node_x=nodes["x"][in_component],
        node_y=nodes["y"][in_component],
        node_lon=nodes["lon"][in_component],
        node_lat=nodes["lat"][in_component],
        adjacency=adjacency,
        edges=edges,
        source=path,
        source_sha256=file_sha256(path),
    )


# --------------------------------------------------------------------------- snapping


def _check_points(points) -> None:
    if not isinstance(points, gpd.GeoDataFrame):
        raise NetworkError(
            f"points must be a GeoDataFrame with an 'id' column and point geometry, "
            f"got {type(points).__name__}"
        )
    if "id" not in points.columns:
        raise NetworkError(
            f"points have no 'id' column; columns are {show_value(list(points.columns))}"
        )
    if points.crs is None:
        raise NetworkError(
            "points have no CRS; set one, e.g. points.set_crs('EPSG:4326') for lon/lat"
        )
    missing_id = points["id"].isna().to_numpy()
    if missing_id.any():
        row = points.index[np.flatnonzero(missing_id)[0]]
        raise NetworkError(f"points 'id' column has missing values, e.g. at row {row!r}")
    geoms = points.geometry.to_numpy()
    is_point = shapely.get_type_id(geoms) == shapely.GeometryType.POINT
    bad = ~is_point | shapely.is_empty(geoms) | shapely.is_missing(geoms)
    if bad.any():
        i = np.flatnonzero(bad)[0]
        raise NetworkError(
            f"points geometry must be non-empty Points; point id {show_value(points['id'].iat[i])} "
            f"has {show_value(geoms[i] if geoms[i] is None else geoms[i].wkt)} "
            f"({int(bad.sum())} such rows)"
        )


def snap_points(
    graph: StreetGraph, points: gpd.GeoDataFrame, radius_m: float | None = None
) -> Snapped:
    """Attach points to the nearest edge of a street graph, within a radius.

    Parameters
    ----------
    graph : StreetGraph
    points : GeoDataFrame
        An ``id`` column and Point geometry, in any CRS.
    radius_m : float, optional
        Largest snap distance, metres (default ``settings.snap_radius_m``, 1600 m like R5).

    Returns
    -------
    Snapped
        Points farther than ``radius_m`` from every edge are not snapped (node -1,
        distances inf) and will have no travel times.

    Warns
    -----
    UnsnappedPointsWarning
        Naming the first few unsnapped ids and their count.

    Raises
    ------
    NetworkError
        ``points`` is not a GeoDataFrame, lacks a CRS or an ``id`` column, has missing
        ids, or geometry that is not a non-empty Point; ``radius_m`` is not positive.
    """
    radius_m = settings.snap_radius_m if radius_m is None else radius_m
    if not np.isfinite(radius_m) or radius_m <= 0:
        raise NetworkError(f"radius_m must be a positive number of metres, got {radius_m!r}")
    _check_points(points)
    ids = points["id"].to_numpy(dtype=object)
    geoms = points.geometry.to_crs(graph.crs).to_numpy()
    n = len(ids)
    edge = np.full(n, -1, np.int64)
    snap = np.full(n, np.inf)
    if n:
        tree = shapely.STRtree(graph.edges.geometry.to_numpy())
        (point_idx, edge_idx), distance = tree.query_nearest(
            geoms, max_distance=radius_m, return_distance=True, all_matches=False
        )
        edge[point_idx] = edge_idx
        snap[point_idx] = distance
    ok = edge >= 0
    lines = graph.edges.geometry.to_numpy()
    offset = np.full(n, np.nan)
    offset[ok] = shapely.line_locate_point(lines[edge[ok]], geoms[ok])
    length = graph.edges["length"].to_numpy()
    # Offsets along the geometry are rescaled to the edge length (they differ only for
    # zero-length pieces stretched to a millimetre).
    geom_len = shapely.length(lines[edge[ok]])
    scale = np.divide(length[edge[ok]], geom_len, out=np.ones_like(geom_len), where=geom_len > 0)
    offset[ok] = np.minimum(offset[ok] * scale, length[edge[ok]])
    node_a = np.full(n, -1, np.int64)
    node_b = np.full(n, -1, np.int64)
    node_a[ok] = graph.edges["u"].to_numpy()[edge[ok]]
    node_b[ok] = graph.edges["v"].to_numpy()[edge[ok]]
    dist_a = np.full(n, np.inf)
    dist_b = np.full(n, np.inf)
    dist_a[ok] = snap[ok] + offset[ok]
    dist_b[ok] = snap[ok] + (length[edge[ok]] - offset[ok])
    if not ok.all():
        _warn_unsnapped(ids[~ok], n, graph.mode, radius_m)
    return Snapped(
        ids,
        node_a,
        node_b,
        dist_a,
        dist_b,
        snap,
        edge,
        offset,
        graph.mode,
        x=shapely.get_x(geoms),
        y=shapely.get_y(geoms),
    )


def _warn_unsnapped(ids: np.ndarray, n: int, mode: str, radius_m: float) -> None:
    shown = ", ".join(repr(i) for i in ids[:5]) + (", ..." if len(ids) > 5 else "")
    warnings.warn(
        f"{len(ids)} of {n} points lie more than {radius_m:g} m from the {mode} network "
        f"and get no travel times: ids {shown}",
        UnsnappedPointsWarning,
        stacklevel=3,
    )


def require_snapped(points: Snapped, what: str = "origin") -> None:
    """Raise RoutingError when none of ``points`` could be snapped.

    Parameters
    ----------
    points : Snapped
    what : str
        Planner word for the points in the message ("origin", "destination", "stop").
    """
    if not points.snapped.any():
        raise RoutingError(
            f"no {what} could be snapped to the {points.mode or 'street'} network "
            f"({len(points)} {what}s, e.g. id {show_value(points.ids[0]) if len(points) else '-'}); "
            "are they inside the OSM extract and in the right CRS?"
        )


# --------------------------------------------------------------------------- travel times


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
            f"{name} were snapped to a {points.mode} graph, not this {graph.mode} graph"
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
            desc=f"{graph.mode} times", progress=progress,
        )  # fmt: skip
        return backwards.T
    (forwards,) = _times_by_rows(
        graph.adjacency, from_points.snapped, (from_nodes, from_dists),
        [((to_nodes, to_dists), same_edge)], speed, limit_m, max_time_s,
        desc=f"{graph.mode} times", progress=progress,
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
        speed, limit_m, max_time_s, desc=f"{graph.mode} times", progress=progress,
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
    graph = _with_point_sources(adjacency, row_legs, row_snapped)
    # Bound the Dijkstra output (sources x nodes float64) to about 32 MB per chunk.
    chunk = max(1, min(512, 4_000_000 // graph.shape[0]))
    tables = [_TableBuilder(n_from, legs[0].shape[1], same) for legs, same in targets]
    starts = range(0, len(rows_to_do), chunk)
    for start in progress_bar(starts, desc=desc, unit="chunk", progress=progress):
        rows = rows_to_do[start : start + chunk]
        sources = adjacency.shape[0] + rows
        network = dijkstra(graph, directed=True, indices=sources, limit=limit_m)
        for builder, ((col_nodes, col_dists), _) in zip(tables, targets, strict=True):
            metres = _combine(network, col_nodes, col_dists)
            builder.add(rows, metres, speed, max_time_s)
    return [builder.table() for builder in tables]


def _with_point_sources(adjacency, legs, snapped) -> sp.csr_matrix:
    """The graph plus one source node per point, linked to its edge's ends by its legs.

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
    order = np.lexsort((metres, cols, rows))
    rows, cols, metres = rows[order], cols[order], metres[order]
    first = np.ones(len(rows), bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    size = n + len(snapped)
    return sp.csr_matrix((metres[first], (rows[first], cols[first])), shape=(size, size))


class _TableBuilder:
    """Collects the rows of one SparseTimes chunk by chunk."""

    def __init__(self, n_from: int, n_to: int, same_edge: pd.DataFrame):
        self.shape = (n_from, n_to)
        self.same_i = same_edge["i"].to_numpy()
        self.same_j = same_edge["j"].to_numpy()
        self.same_m = same_edge["metres"].to_numpy()
        self.counts = np.zeros(n_from, np.int64)
        self.indices, self.seconds = [], []

    def add(self, rows: np.ndarray, metres: np.ndarray, speed: float, max_time_s: float) -> None:
        lo, hi = np.searchsorted(self.same_i, [rows[0], rows[-1] + 1])
        if hi > lo:
            pos = np.searchsorted(rows, self.same_i[lo:hi])
            np.minimum.at(metres, (pos, self.same_j[lo:hi]), self.same_m[lo:hi])
        secs = np.floor(metres / speed + 0.5)
        r, c = np.nonzero(secs <= max_time_s)
        self.counts[rows] = np.bincount(r, minlength=len(rows))
        self.indices.append(c.astype(np.int32))
        self.seconds.append(secs[r, c].astype(np.int32))

    def table(self) -> SparseTimes:
        return SparseTimes(
            indptr=np.concatenate([[0], np.cumsum(self.counts)]).astype(np.int64),
            indices=np.concatenate(self.indices) if self.indices else np.empty(0, np.int32),
            seconds=np.concatenate(self.seconds) if self.seconds else np.empty(0, np.int32),
            shape=self.shape,
        )


def _transpose(table: SparseTimes) -> SparseTimes:
    """The same pairs with rows and columns swapped (stored zeros kept)."""
    n_rows, n_cols = table.shape
    rows = np.repeat(np.arange(n_rows, dtype=np.int32), np.diff(table.indptr))
    order = np.lexsort((rows, table.indices))
    indptr = np.zeros(n_cols + 1, np.int64)
    np.cumsum(np.bincount(table.indices, minlength=n_cols), out=indptr[1:])
    return SparseTimes(indptr, rows[order], table.seconds[order], (n_cols, n_rows))


def _combine(network, to_nodes, to_dists) -> np.ndarray:
    """Shortest metres from each searched point to every to-point, shape (rows, n_to)."""
    best = network[:, to_nodes[0]] + to_dists[0][None, :]  # arrive via node_a
    np.minimum(best, network[:, to_nodes[1]] + to_dists[1][None, :], out=best)  # via node_b
    return best
