"""Street edits as an OpenStreetMap file: walking links that both engines can route on.

A walking-link intervention (a new footbridge, a cut-through) must reach R5 as
OSM data, since R5 builds its street network from a PBF. This module copies an
extract and appends the links as ``highway=footway`` ways, with new node and
way ids above the largest in the file. Link ends within a few metres of an
existing street node are joined to that node, and ends near a street but not
near a node split that street with a shared new node, so the link connects; other
vertices become new nodes.

Only ways that a link splits are changed (one node inserted); everything else
is copied as it is.
"""

from __future__ import annotations

import os
import warnings
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
from scipy.spatial import cKDTree
from shapely import STRtree
from shapely.geometry import LineString, Point

from .errors import NetworkError, show_value

__all__ = ["write_osm_with_links", "DEFAULT_LINK_TAGS"]

#: Tags of every added way unless the links table sets them.
DEFAULT_LINK_TAGS = {"highway": "footway"}


def _check_links(links: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if not isinstance(links, gpd.GeoDataFrame):
        raise NetworkError(
            f"links must be a GeoDataFrame of LineStrings, got {type(links).__name__}"
        )
    if links.crs is None:
        raise NetworkError(
            "links GeoDataFrame has no CRS; set one, e.g. links.set_crs('EPSG:4326')"
        )
    if links.empty:
        raise NetworkError("links GeoDataFrame is empty; give at least one LineString")
    for position, geometry in enumerate(links.geometry):
        if not isinstance(geometry, LineString) or geometry.is_empty or len(geometry.coords) < 2:
            raise NetworkError(
                f"links row {position} (index {show_value(links.index[position])}): geometry must be "
                f"a LineString with at least two points, got {show_value(getattr(geometry, 'wkt', geometry))}"
            )
    return links.to_crs("EPSG:4326")


@dataclass
class _Streets:
    """What the links snap to: street nodes and segments of ``highway`` ways."""

    node_ids: np.ndarray  # int64, nodes used by highway ways
    node_lonlat: np.ndarray  # float64 [n, 2]
    ways: dict[int, list[int]]  # highway way id -> node refs
    max_node: int
    max_way: int


def _read_streets(osm_pbf: Path) -> _Streets:
    node_ids, lonlat = [], []
    ways: dict[int, list[int]] = {}
    max_node = max_way = 0
    for obj in osmium.FileProcessor(str(osm_pbf)):
        if obj.is_node():
            max_node = max(max_node, obj.id)
            if obj.location.valid():
                node_ids.append(obj.id)
                lonlat.append((obj.location.lon, obj.location.lat))
        elif obj.is_way():
            max_way = max(max_way, obj.id)
            if "highway" in obj.tags:
                ways[obj.id] = [n.ref for n in obj.nodes]
    ids = np.asarray(node_ids, dtype=np.int64)
    coords = np.asarray(lonlat, dtype=np.float64).reshape(-1, 2)
    used = np.unique(np.fromiter((r for refs in ways.values() for r in refs), dtype=np.int64))
    on_street = np.isin(ids, used)
    return _Streets(ids[on_street], coords[on_street], ways, max_node, max_way)


class _Snapper:
    """Nearest street node, else nearest point on a street segment, within ``snap_m`` metres."""

    def __init__(self, streets: _Streets, crs, snap_m: float):
        self.snap_m = snap_m
        self.ids = streets.node_ids
        self.lonlat = streets.node_lonlat
        points = gpd.GeoSeries(gpd.points_from_xy(*self.lonlat.T), crs="EPSG:4326").to_crs(crs)
        self.xy = np.column_stack([points.x, points.y]).reshape(-1, 2)
        self.nodes = cKDTree(self.xy) if len(self.ids) else None
        order = np.argsort(self.ids)
        self._sorted_ids, self._order = self.ids[order], order
        segments, self.segment_of = [], []
        for way_id, refs in streets.ways.items():
            rows = self._rows(refs)
            for k in range(len(refs) - 1):
                if rows[k] >= 0 and rows[k + 1] >= 0 and rows[k] != rows[k + 1]:
                    segments.append(LineString([self.xy[rows[k]], self.xy[rows[k + 1]]]))
                    self.segment_of.append((way_id, k, rows[k], rows[k + 1]))
        self.segments = segments
        self.tree = STRtree(segments) if segments else None

    def _rows(self, refs: list[int]) -> np.ndarray:
        refs = np.asarray(refs, dtype=np.int64)
        pos = np.searchsorted(self._sorted_ids, refs).clip(0, max(len(self._sorted_ids) - 1, 0))
        if not len(self._sorted_ids):
            return np.full(len(refs), -1)
        found = self._sorted_ids[pos] == refs
        return np.where(found, self._order[pos], -1)

    def node(self, xy) -> int | None:
        if self.nodes is None:
            return None
        distance, row = self.nodes.query(xy, distance_upper_bound=self.snap_m)
        return int(self.ids[row]) if np.isfinite(distance) else None

    def segment(self, xy) -> tuple[int, int, float, tuple[float, float]] | None:
        """(way id, segment index, fraction along it, lon/lat of the foot point) or None."""
        if self.tree is None:
            return None
        hits = self.tree.query_nearest(Point(xy), max_distance=self.snap_m)
        if not len(hits):
            return None
        way_id, k, a, b = self.segment_of[int(hits[0])]
        line = self.segments[int(hits[0])]
        fraction = line.project(Point(xy), normalized=True)
        lonlat = self.lonlat[a] + fraction * (self.lonlat[b] - self.lonlat[a])
        return way_id, k, float(fraction), (float(lonlat[0]), float(lonlat[1]))


def _link_tags(row: pd.Series) -> dict[str, str]:
    tags = dict(DEFAULT_LINK_TAGS)
    for key, value in row.items():
        if isinstance(value, (list, dict, tuple)) or not pd.isna(value):
            tags[str(key)] = str(value)
    return tags


def write_osm_with_links(
    osm_pbf: str | os.PathLike,
    links: gpd.GeoDataFrame,
    out_path: str | os.PathLike,
    *,
    snap_m: float = 5.0,
    closed_ways=(),
) -> Path:
    """Copy an OSM extract and add walking links as new ways (and close others).

    Parameters
    ----------
    osm_pbf : path-like
        The original extract (left untouched).
    links : GeoDataFrame
        LineStrings, any CRS. Other columns become tags of the new ways (null
        values skipped); ``highway=footway`` unless a ``highway`` column says otherwise.
    out_path : path-like
        Where to write the edited extract (PBF). Written to a temporary file
        beside it and moved into place, so a failed run never leaves half a file.
    snap_m : float
        A link end within this distance (metres) of a node of an existing
        ``highway`` way is joined to that node; else, within this distance of
        such a way, the way is split there by a new node that the link shares;
        else the end is a new node and a warning names the link (it connects
        nothing at that end).
    closed_ways : iterable of int
        OSM ids of ``highway`` ways closed to pedestrians: written with ``foot=no``,
        which both engines' access rules read as closed on foot. ``links`` may then
        be None.

    Returns
    -------
    Path
        ``out_path``. New nodes and ways get consecutive ids above the file's
        largest node and way ids, in the order of ``links``.

    Raises
    ------
    NetworkError
        Links without CRS, with non-LineString geometry, closed ways that are not
        streets of the extract, or an unreadable extract.
    """
    osm_pbf, out_path = Path(osm_pbf), Path(out_path)
    if not osm_pbf.is_file():
        raise NetworkError(f"OSM extract {str(osm_pbf)!r} does not exist")
    if snap_m < 0:
        raise NetworkError(f"parameter 'snap_m' must be >= 0 metres, got {show_value(snap_m)}")
    closed = {int(way) for way in closed_ways}
    links = None if links is None and closed else _check_links(links)
    try:
        streets = _read_streets(osm_pbf)
    except RuntimeError as exc:  # osmium's error for a broken file
        raise NetworkError(f"cannot read OSM extract {str(osm_pbf)!r}: {exc}") from exc
    unknown = sorted(closed - set(streets.ways))
    if unknown:
        raise NetworkError(
            f"closed_ways: {show_value(unknown)} are not highway ways of {osm_pbf.name}"
        )
    if links is None:
        _write(osm_pbf, out_path, [], [], {}, closed)
        return out_path

    # Snap in metres: a local UTM projection of the links' area.
    crs = links.estimate_utm_crs()
    snapper = _Snapper(streets, crs, snap_m)
    projected = links.geometry.to_crs(crs)

    new_nodes: list[tuple[int, float, float]] = []
    new_ways: list[tuple[int, list[int], dict[str, str]]] = []
    # existing way id -> [(segment index, fraction along it, new node id)] to insert
    inserts: dict[int, list[tuple[int, float, int]]] = defaultdict(list)
    next_node, next_way = streets.max_node + 1, streets.max_way + 1
    attributes = links.drop(columns=links.geometry.name)
    for position, (line, line_m) in enumerate(zip(links.geometry, projected, strict=True)):
        coords, coords_m = list(line.coords), list(line_m.coords)
        refs = []
        for k, ((lon, lat), xy) in enumerate(zip(coords, coords_m, strict=True)):
            is_end = k in (0, len(coords) - 1)
            if is_end:
                existing = snapper.node(xy[:2])
                if existing is not None:
                    refs.append(existing)
                    continue
                on_segment = snapper.segment(xy[:2])
                if on_segment is not None:
                    # split the street there, so that the link is joined to it
                    way_id, segment, fraction, (lon, lat) = on_segment
                    inserts[way_id].append((segment, fraction, next_node))
                else:
                    warnings.warn(
                        f"link {position} (index {show_value(links.index[position])}): its "
                        f"{'start' if k == 0 else 'end'} at ({lon:.6f}, {lat:.6f}) is more than "
                        f"{snap_m:g} m from any street, so it connects nothing there",
                        stacklevel=2,
                    )
            new_nodes.append((next_node, lon, lat))
            refs.append(next_node)
            next_node += 1
        new_ways.append((next_way, refs, _link_tags(attributes.iloc[position])))
        next_way += 1

    _write(osm_pbf, out_path, new_nodes, new_ways, inserts, closed)
    return out_path


def _with_inserts(refs: list[int], inserts: list[tuple[int, float, int]]) -> list[int]:
    """Place new nodes inside a way's segments: its node refs, in order along each."""
    out = []
    by_segment = defaultdict(list)
    for segment, fraction, node_id in inserts:
        by_segment[segment].append((fraction, node_id))
    for k, ref in enumerate(refs):
        out.append(ref)
        out.extend(node_id for _, node_id in sorted(by_segment.get(k, [])))
    return out


def _write(
    source: Path, out_path: Path, nodes: list, ways: list, inserts: dict, closed=frozenset()
) -> None:
    """Copy ``source`` adding nodes after its nodes and ways after its ways (OSM file order).

    Ways named in ``inserts`` are written with the new nodes that split them; ways in
    ``closed`` with ``foot=no``.
    """
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(f".{out_path.name}.{os.getpid()}.tmp")
    pending_nodes, pending_ways = list(nodes), list(ways)

    def flush_nodes(writer):
        for node_id, lon, lat in pending_nodes:
            writer.add_node(osmium.osm.mutable.Node(id=node_id, location=(lon, lat), version=1))
        pending_nodes.clear()

    def flush_ways(writer):
        for way_id, refs, tags in pending_ways:
            writer.add_way(osmium.osm.mutable.Way(id=way_id, nodes=refs, tags=tags, version=1))
        pending_ways.clear()

    try:
        with osmium.SimpleWriter(osmium.io.File(str(tmp), "pbf"), overwrite=True) as writer:
            for obj in osmium.FileProcessor(str(source)):
                if not obj.is_node():
                    flush_nodes(writer)
                if obj.is_relation():
                    flush_ways(writer)
                if obj.is_way() and (obj.id in inserts or obj.id in closed):
                    refs = _with_inserts([n.ref for n in obj.nodes], inserts.get(obj.id, []))
                    tags = dict(obj.tags) | ({"foot": "no"} if obj.id in closed else {})
                    writer.add_way(osmium.osm.mutable.Way(base=obj, nodes=refs, tags=tags))
                else:
                    writer.add(obj)
            flush_nodes(writer)
            flush_ways(writer)
        os.replace(tmp, out_path)
    finally:
        if tmp.exists():
            tmp.unlink()
