"""Draw tiny OSM extracts for tests, in local UTM metres (zone 22S, Porto Alegre).

At 3.6 km/h one metre takes one second, so lengths and times can be worked out by hand.
"""

from __future__ import annotations

import geopandas as gpd
import osmium
import pyproj
from osmium.osm.mutable import Node, Way

UTM = "EPSG:32722"
X0, Y0 = 485_000.0, 6_674_000.0  # central Porto Alegre, metres in UTM 22S
_TO_LONLAT = pyproj.Transformer.from_crs(UTM, "EPSG:4326", always_xy=True)


def lonlat(x: float, y: float) -> tuple[float, float]:
    """Lon/lat of a point given in metres east/north of (X0, Y0)."""
    return _TO_LONLAT.transform(X0 + x, Y0 + y)


def write_osm(path, nodes: dict[int, tuple[float, float]], ways: list[tuple[int, list, dict]]):
    """Write an OSM PBF: nodes {id: (x, y) metres}, ways [(id, node ids, tags)]."""
    writer = osmium.SimpleWriter(str(path))
    for node_id, (x, y) in sorted(nodes.items()):
        writer.add_node(Node(id=node_id, location=lonlat(x, y), tags={}))
    for way_id, refs, tags in ways:
        writer.add_way(Way(id=way_id, nodes=refs, tags=tags))
    writer.close()
    return path


def points(xy: dict[str, tuple[float, float]]) -> gpd.GeoDataFrame:
    """Points {id: (x, y) metres} as a lon/lat GeoDataFrame."""
    lon, lat = zip(*(lonlat(x, y) for x, y in xy.values()), strict=True)
    return gpd.GeoDataFrame(
        {"id": list(xy)}, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326"
    )
