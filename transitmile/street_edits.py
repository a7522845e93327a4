"""Street edits as an OpenStreetMap file: walking links that both engines can route on.

A walking-link intervention (a new footbridge, a cut-through) must reach R5 as
OSM data, since R5 builds its street network from a PBF. This module copies an
extract and appends the links as ``highway=footway`` ways, with new node and
way ids above the largest in the file. Link ends within a few metres of an
existing street node are joined to that node, so the link connects; other
vertices become new nodes.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
from scipy.spatial import cKDTree
from shapely.geometry import LineString

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


def _street_nodes(osm_pbf: Path) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Ids and lon/lat of nodes used by highway ways, and the largest node and way ids."""
    node_ids, lonlat = [], []
    street_refs: list[int] = []
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
                street_refs.extend(n.ref for n in obj.nodes)
    ids = np.asarray(node_ids, dtype=np.int64)
    coords = np.asarray(lonlat, dtype=np.float64).reshape(-1, 2)
    on_street = np.isin(ids, np.unique(np.asarray(street_refs, dtype=np.int64)))
    return ids[on_street], coords[on_street], max_node, max_way


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
) -> Path:
    """Copy an OSM extract and add walking links as new ways.

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
        ``highway`` way is joined to that node; otherwise it becomes a new node
        and a warning names the link (it connects nothing at that end).

    Returns
    -------
    Path
        ``out_path``. New nodes and ways get consecutive ids above the file's
        largest node and way ids, in the order of ``links``.

    Raises
    ------
    NetworkError
        Links without CRS, with non-LineString geometry, or an unreadable extract.
    """
    osm_pbf, out_path = Path(osm_pbf), Path(out_path)
    if not osm_pbf.is_file():
        raise NetworkError(f"OSM extract {str(osm_pbf)!r} does not exist")
    if snap_m < 0:
        raise NetworkError(f"parameter 'snap_m' must be >= 0 metres, got {show_value(snap_m)}")
    links = _check_links(links)
    try:
        street_ids, street_lonlat, max_node, max_way = _street_nodes(osm_pbf)
    except RuntimeError as exc:  # osmium's error for a broken file
        raise NetworkError(f"cannot read OSM extract {str(osm_pbf)!r}: {exc}") from exc

    # Snap in metres: a local UTM projection of the links' area.
    crs = links.estimate_utm_crs()
    to_metres = gpd.GeoSeries(gpd.points_from_xy(*street_lonlat.T), crs="EPSG:4326").to_crs(crs)
    tree = cKDTree(np.column_stack([to_metres.x, to_metres.y])) if len(street_ids) else None
    projected = links.geometry.to_crs(crs)

    new_nodes: list[tuple[int, float, float]] = []
    new_ways: list[tuple[int, list[int], dict[str, str]]] = []
    next_node, next_way = max_node + 1, max_way + 1
    attributes = links.drop(columns=links.geometry.name)
    for position, (line, line_m) in enumerate(zip(links.geometry, projected, strict=True)):
        coords, coords_m = list(line.coords), list(line_m.coords)
        refs = []
        for k, ((lon, lat), xy) in enumerate(zip(coords, coords_m, strict=True)):
            is_end = k in (0, len(coords) - 1)
            if is_end and tree is not None:
                distance, nearest = tree.query(xy[:2], distance_upper_bound=snap_m)
                if np.isfinite(distance):
                    refs.append(int(street_ids[nearest]))
                    continue
            if is_end:
                warnings.warn(
                    f"link {position} (index {show_value(links.index[position])}): its "
                    f"{'start' if k == 0 else 'end'} at ({lon:.6f}, {lat:.6f}) is more than "
                    f"{snap_m:g} m from any street node, so it connects nothing there",
                    stacklevel=2,
                )
            new_nodes.append((next_node, lon, lat))
            refs.append(next_node)
            next_node += 1
        new_ways.append((next_way, refs, _link_tags(attributes.iloc[position])))
        next_way += 1

    _write(osm_pbf, out_path, new_nodes, new_ways)
    return out_path


def _write(source: Path, out_path: Path, nodes: list, ways: list) -> None:
    """Copy ``source`` adding nodes after its nodes and ways after its ways (OSM file order)."""
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
                writer.add(obj)
            flush_nodes(writer)
            flush_ways(writer)
        os.replace(tmp, out_path)
    finally:
        if tmp.exists():
            tmp.unlink()
