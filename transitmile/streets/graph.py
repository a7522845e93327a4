"""Street graph building: OSM PBF -> a walk or bike graph ready for shortest paths.

The graph is read with pyosmium and the access rules of :mod:`transitmile.streets.access`,
split at intersections the way osmnx simplifies a graph, measured in metres in a local
UTM CRS, and reduced to its largest connected component.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import pyproj
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components

from .._progress import progress_bar
from ..conventions import BICYCLE, WALK, mode_word, street_mode
from ..data import file_sha256
from ..errors import NetworkError
from ..sparse import keep_min_per_pair
from .access import way_access

__all__ = ["StreetGraph", "build_street_graph"]


@dataclass
class StreetGraph:
    """A walk or bike street network, ready for shortest paths.

    Attributes
    ----------
    mode : str
        ``"WALK"`` or ``"BICYCLE"`` (r5py's names).
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
    Plain dataclass of numpy arrays, a CSR matrix and a GeoDataFrame, which is what lets
    :mod:`transitmile.cache` store it as data (arrays, Parquet, coordinates) for a
    TransportNetwork, never as pickle.
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
        """Mode, size, CRS and source file."""
        return (
            f"StreetGraph(mode={self.mode!r}, nodes={self.n_nodes}, edges={self.n_edges}, "
            f"crs={self.crs.to_string()!r}, source={self.source.name!r})"
        )


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
    rows, cols, data = keep_min_per_pair(rows[keep], cols[keep], data[keep])
    return sp.csr_matrix((data, (rows, cols)), shape=(n_nodes, n_nodes))


# Zero-length edges (distinct OSM nodes at one position) would vanish from a sparse
# matrix; a millimetre keeps them as edges and changes no rounded travel time.
_MIN_EDGE_M = 0.001


def build_street_graph(
    osm_pbf: str | Path, mode: str = WALK, progress: bool | None = None
) -> StreetGraph:
    """Read an OSM extract into a walk or bike street graph.

    Parameters
    ----------
    osm_pbf : str or Path
        OpenStreetMap extract (``.osm.pbf``; any format pyosmium reads).
    mode : {"WALK", "BICYCLE"}
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
    mode = street_mode(mode, NetworkError)
    path = Path(osm_pbf)
    if not path.is_file():
        raise NetworkError(f"OSM file {str(path)!r} does not exist")
    steps = progress_bar(total=4, desc=f"{mode_word(mode)} graph", unit="step", progress=progress)
    try:
        ways = _read_ways(path, mode)
    except RuntimeError as exc:  # pyosmium: not an OSM file, truncated file ...
        raise NetworkError(f"cannot read OSM file {str(path)!r}: {exc}") from exc
    steps.update()
    if not ways.refs:
        raise NetworkError(
            f"OSM file {str(path)!r} has no way that a {mode_word(mode)} network can use"
        )
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
    connection = "strong" if mode == BICYCLE else "weak"
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
