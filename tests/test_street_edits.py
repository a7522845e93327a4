"""Walking links written into an OSM extract (for R5, which reads streets from a PBF)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pytest
from shapely.geometry import LineString, Point

from transitmile.data import fetch_file, file_sha256
from transitmile.errors import NetworkError
from transitmile.street_edits import write_osm_with_links


def read_osm(path: Path) -> dict:
    """Everything in an OSM file, as plain Python: nodes, ways (refs, tags), relations."""
    out = {"nodes": {}, "ways": {}, "relations": 0, "order": []}
    for obj in osmium.FileProcessor(str(path)):
        out["order"].append(obj.type_str())
        if obj.is_node():
            out["nodes"][obj.id] = (round(obj.location.lon, 7), round(obj.location.lat, 7))
        elif obj.is_way():
            out["ways"][obj.id] = ([n.ref for n in obj.nodes], dict(obj.tags))
        else:
            out["relations"] += 1
    return out


@pytest.fixture
def tiny_osm(tmp_path) -> Path:
    """Three nodes on a residential street (way 10) and a bench (node 4) on no way.

    Node 1 at (0, 0), node 2 at (0.001, 0), node 3 at (0.002, 0); the bench at (0.0005, 0.0005).
    """
    path = tmp_path / "tiny.osm.pbf"
    with osmium.SimpleWriter(str(path)) as writer:
        for node_id, lon in ((1, 0.0), (2, 0.001), (3, 0.002)):
            writer.add_node(osmium.osm.mutable.Node(id=node_id, location=(lon, 0.0), version=1))
        writer.add_node(
            osmium.osm.mutable.Node(
                id=4, location=(0.0005, 0.0005), tags={"amenity": "bench"}, version=1
            )
        )
        writer.add_way(
            osmium.osm.mutable.Way(
                id=10, nodes=[1, 2, 3], tags={"highway": "residential"}, version=1
            )
        )
    return path


def test_link_joins_street_node_and_adds_new_nodes(tiny_osm, tmp_path):
    # starts ~1.1 m east of node 1 (snapped), bends north, ends on the bench: the bench is
    # on no street, so the end becomes a new node (and a warning says it connects nothing)
    links = gpd.GeoDataFrame(
        {"name": ["Passarela"]},
        geometry=[LineString([(0.00001, 0.0), (0.0, 0.0003), (0.0005, 0.0005)])],
        crs="EPSG:4326",
    )
    out = tmp_path / "edited.osm.pbf"
    with pytest.warns(UserWarning, match=r"link 0 \(index 0\): its end at \(0.000500, 0.000500\)"):
        assert write_osm_with_links(tiny_osm, links, out) == out
    before, after = read_osm(tiny_osm), read_osm(out)
    assert after["nodes"] == before["nodes"] | {5: (0.0, 0.0003), 6: (0.0005, 0.0005)}
    assert after["ways"] == before["ways"] | {
        11: ([1, 5, 6], {"highway": "footway", "name": "Passarela"})
    }
    assert after["order"] == ["n"] * 6 + ["w"] * 2  # nodes before ways, as readers expect
    assert not list(tmp_path.glob(".*.tmp"))


def test_link_ending_mid_street_splits_the_street(tiny_osm, tmp_path):
    # two links start ~1.1 m north of the segment node 2 -> node 3, at 3/4 and 1/4 of it;
    # both end far from any street (warned). The street gets the two new nodes in order.
    links = gpd.GeoDataFrame(
        geometry=[
            LineString([(0.00175, 0.00001), (0.00175, 0.0004)]),
            LineString([(0.00125, 0.00001), (0.00125, 0.0004)]),
        ],
        crs="EPSG:4326",
    )
    with pytest.warns(UserWarning, match="connects nothing there") as warned:
        out = write_osm_with_links(tiny_osm, links, tmp_path / "edited.osm.pbf")
    assert len(warned) == 2  # the far ends only
    after = read_osm(out)
    assert after["ways"][10] == ([1, 2, 7, 5, 3], {"highway": "residential"})
    assert after["ways"][11] == ([5, 6], {"highway": "footway"})
    assert after["ways"][12] == ([7, 8], {"highway": "footway"})
    assert after["nodes"][5] == (0.00175, 0.0) and after["nodes"][7] == (0.00125, 0.0)
    assert after["nodes"][6] == (0.00175, 0.0004) and after["nodes"][8] == (0.00125, 0.0004)


def test_links_in_metres_and_own_highway_tag(tiny_osm, tmp_path):
    # the same street in UTM 31N; a link from node 3 to node 1 tagged as a path
    utm = gpd.GeoSeries([Point(0.002, 0.0), Point(0.0, 0.0)], crs="EPSG:4326").to_crs(32631)
    links = gpd.GeoDataFrame(
        {"highway": ["path"], "surface": [None]},
        geometry=[LineString([(p.x, p.y + 2.0) for p in utm])],  # 2 m off the nodes
        crs=32631,
    )
    out = write_osm_with_links(tiny_osm, links, tmp_path / "edited.osm.pbf", snap_m=3)
    assert read_osm(out)["ways"][11] == ([3, 1], {"highway": "path"})
    assert len(read_osm(out)["nodes"]) == 4


@pytest.mark.parametrize(
    ("links", "message"),
    [
        (gpd.GeoDataFrame(geometry=[LineString([(0, 0), (1, 1)])]), "has no CRS"),
        (gpd.GeoDataFrame(geometry=[Point(0, 0)], crs=4326), r"links row 0 .*POINT \(0 0\)"),
        (gpd.GeoDataFrame(geometry=[], crs=4326), "is empty"),
    ],
)
def test_bad_links_are_named(tiny_osm, tmp_path, links, message):
    with pytest.raises(NetworkError, match=message):
        write_osm_with_links(tiny_osm, links, tmp_path / "out.osm.pbf")


def test_missing_extract(tmp_path):
    links = gpd.GeoDataFrame(geometry=[LineString([(0, 0), (1, 1)])], crs=4326)
    with pytest.raises(NetworkError, match="nowhere.pbf' does not exist"):
        write_osm_with_links(tmp_path / "nowhere.pbf", links, tmp_path / "out.osm.pbf")


def _long_segment(data: dict) -> tuple[int, int, int]:
    """(way id, node a, node b) of a residential segment longer than ~40 m."""
    for way_id, (refs, tags) in data["ways"].items():
        if tags.get("highway") != "residential":
            continue
        for a, b in zip(refs[:-1], refs[1:], strict=True):
            (x1, y1), (x2, y2) = data["nodes"][a], data["nodes"][b]
            if abs(x2 - x1) + abs(y2 - y1) > 0.0005:
                return way_id, a, b
    raise AssertionError("no long residential segment in the extract")


def test_porto_alegre_links_are_walkable_and_joined(tmp_path):
    import pyrosm

    source = fetch_file("poa_osm.pbf")
    digest = file_sha256(source)
    before = read_osm(source)
    streets = [
        refs for refs, tags in before["ways"].values() if tags.get("highway") == "residential"
    ]
    a, b = streets[0][0], streets[len(streets) // 2][-1]
    way_id, c, d = _long_segment(before)
    middle = tuple((np.array(before["nodes"][c]) + np.array(before["nodes"][d])) / 2)
    links = gpd.GeoDataFrame(
        {"name": ["node to node", "mid-street to node"]},
        geometry=[
            LineString([before["nodes"][a], before["nodes"][b]]),
            LineString([middle, before["nodes"][a]]),
        ],
        crs="EPSG:4326",
    )
    out = write_osm_with_links(source, links, tmp_path / "poa_links.osm.pbf")
    after = read_osm(out)
    assert file_sha256(source) == digest  # original untouched
    first, split = max(before["ways"]) + 1, max(before["nodes"]) + 1
    assert after["ways"][first] == ([a, b], {"highway": "footway", "name": "node to node"})
    assert after["ways"][first + 1] == (
        [split, a],
        {"highway": "footway", "name": "mid-street to node"},
    )
    refs, tags = before["ways"][way_id]
    k = refs.index(c)
    assert after["ways"][way_id] == (refs[: k + 1] + [split] + refs[k + 1 :], tags)
    # counts: one new node (the split), two new ways; all else as it was
    assert after["nodes"] == before["nodes"] | {split: after["nodes"][split]}
    assert len(after["ways"]) == len(before["ways"]) + 2
    assert after["relations"] == before["relations"]
    unchanged = {w: v for w, v in before["ways"].items() if w != way_id}
    assert {w: after["ways"][w] for w in unchanged} == unchanged
    assert Counter(after["order"]) == Counter(before["order"]) + Counter({"n": 1, "w": 2})
    # pyrosm (the embedded engine's reader) routes over them: the split node joins both ways
    _, edges = pyrosm.OSM(str(out)).get_network("walking", nodes=True)
    assert set(edges.loc[edges["id"] == first, "highway"]) == {"footway"}
    at_split = edges[(edges["u"] == split) | (edges["v"] == split)]
    assert set(at_split["id"]) == {way_id, first + 1}
