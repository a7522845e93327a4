"""Street graphs, snapping and street travel times.

Unit tests draw tiny OSM files with pyosmium in local UTM metres (zone 22S, Porto Alegre),
so that every length and time is worked out by hand; at 3.6 km/h one metre takes one
second. Integration tests compare with networkx on the real Porto Alegre extract.
"""

from __future__ import annotations

import pickle
import warnings
import zipfile

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyproj
import pytest
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import dijkstra

from transitmile.data import fetch_dataset, fetch_file
from transitmile.errors import NetworkError, RoutingError
from transitmile.sparse import sparse_times_from_dense, stack_rows
from transitmile.streets import (
    Snapped,
    SparseTimes,
    UnsnappedPointsWarning,
    build_street_graph,
    require_snapped,
    snap_points,
    street_travel_times,
    way_access,
)
from transitmile.streets.search import shortest_metres

from .osm_builder import UTM, X0, points, write_osm

# --------------------------------------------------------------------------- access rules

# Main two-way road along y=0, nodes 1..7 every 100 m; each test way is a 300 m detour
# from node i to node i+1 through y=+100 (ids 10..) or y=-100 (ids 20..), so that it
# closes a cycle with the road and survives the bike graph's strong connectivity.
DETOURS = {
    # way id: (from node, side, tags, walk (fwd, bwd), bike (fwd, bwd))
    11: (1, +1, {"highway": "residential", "oneway": "yes"}, (1, 1), (1, 0)),
    12: (2, +1, {"highway": "residential", "oneway": "-1"}, (1, 1), (0, 1)),
    13: (
        3,
        +1,
        {"highway": "residential", "oneway": "yes", "oneway:bicycle": "no"},
        (1, 1),
        (1, 1),
    ),
    14: (4, +1, {"highway": "tertiary", "junction": "roundabout"}, (1, 1), (1, 0)),
    15: (5, +1, {"highway": "footway"}, (1, 1), (0, 0)),
    16: (6, +1, {"highway": "footway", "bicycle": "yes"}, (1, 1), (1, 1)),
    21: (1, -1, {"highway": "residential", "foot": "no"}, (0, 0), (1, 1)),
    22: (2, -1, {"highway": "residential", "bicycle": "no"}, (1, 1), (0, 0)),
    23: (3, -1, {"highway": "service", "access": "private"}, (0, 0), (0, 0)),
    24: (4, -1, {"highway": "service", "access": "no", "foot": "yes"}, (1, 1), (0, 0)),
    25: (5, -1, {"highway": "motorway"}, (0, 0), (0, 0)),
    26: (6, -1, {"highway": "trunk", "foot": "no"}, (0, 0), (1, 1)),
}


@pytest.fixture(scope="module")
def access_pbf(tmp_path_factory):
    nodes = {i: ((i - 1) * 100.0, 0.0) for i in range(1, 8)}
    ways = [(1, list(range(1, 8)), {"highway": "residential"})]
    for way_id, (i, side, tags, _, _) in DETOURS.items():
        a, b = 1000 + 2 * way_id, 1001 + 2 * way_id
        nodes[a] = ((i - 1) * 100.0, side * 100.0)
        nodes[b] = (i * 100.0, side * 100.0)
        ways.append((way_id, [i, a, b, i + 1], tags))
    # Excluded whatever the mode: not built yet, a square mapped as an area.
    nodes.update({50: (0.0, 200.0), 51: (600.0, 200.0)})
    ways.append((30, [1, 50, 51, 7], {"highway": "proposed"}))
    ways.append((31, [1, 50, 51, 1], {"highway": "pedestrian", "area": "yes"}))
    # An island street far away: dropped as a smaller component.
    nodes.update({60: (0.0, 2000.0), 61: (100.0, 2000.0)})
    ways.append((40, [60, 61], {"highway": "residential"}))
    return write_osm(tmp_path_factory.mktemp("osm") / "access.osm.pbf", nodes, ways)


@pytest.mark.parametrize("mode", ["walk", "bike"])
def test_access_rules_on_a_real_osm_file(access_pbf, mode):
    graph = build_street_graph(access_pbf, mode, progress=False)
    got = {
        int(row.osm_way_id): (int(row.forward), int(row.backward))
        for row in graph.edges.itertuples()
        if row.osm_way_id != 1
    }
    want = {
        way_id: dirs[3 if mode == "walk" else 4]
        for way_id, dirs in DETOURS.items()
        if any(dirs[3 if mode == "walk" else 4])
    }
    assert got == want
    # The detours' shape nodes are not graph nodes: the graph has the 7 road nodes only,
    # and every detour is one 300 m edge from node i to node i+1.
    assert sorted(graph.node_osm_id) == list(range(1, 8))
    osm = graph.node_osm_id
    for row in graph.edges.itertuples():
        if row.osm_way_id != 1:
            i = DETOURS[row.osm_way_id][0]
            assert (osm[row.u], osm[row.v]) == (i, i + 1)
            assert row.length == pytest.approx(300.0, abs=0.05)


def test_walk_graph_ignores_one_way_and_is_symmetric(access_pbf):
    graph = build_street_graph(access_pbf, "walk", progress=False)
    adjacency = graph.adjacency.toarray()
    np.testing.assert_array_equal(adjacency, adjacency.T)


def test_bike_adjacency_follows_one_way_streets(tmp_path):
    # Square A(0,0) B(100,0) C(100,100) D(0,100): A-B two-way, B->C one-way,
    # C->D one-way (oneway=-1 drawn D..C), D-A two-way.
    nodes = {1: (0, 0), 2: (100, 0), 3: (100, 100), 4: (0, 100)}
    ways = [
        (1, [1, 2], {"highway": "residential"}),
        (2, [2, 3], {"highway": "residential", "oneway": "yes"}),
        (3, [4, 3], {"highway": "residential", "oneway": "-1"}),
        (4, [4, 1], {"highway": "residential"}),
    ]
    graph = build_street_graph(write_osm(tmp_path / "sq.osm.pbf", nodes, ways), "bike")
    index = {int(osm): i for i, osm in enumerate(graph.node_osm_id)}
    a, b, c, d = (index[k] for k in (1, 2, 3, 4))
    adjacency = graph.adjacency.toarray()
    present = {(i, j) for i, j in zip(*np.nonzero(adjacency), strict=True)}
    assert present == {(a, b), (b, a), (b, c), (c, d), (d, a), (a, d)}
    assert adjacency[b, c] == pytest.approx(100.0, abs=0.05)


def test_bike_graph_keeps_the_largest_strongly_connected_component(tmp_path):
    # A one-way spur B->E cannot be left on a bike: E is dropped; walking keeps it.
    nodes = {1: (0, 0), 2: (100, 0), 3: (100, 100), 5: (200, 0)}
    ways = [
        (1, [1, 2, 3, 1], {"highway": "residential"}),
        (2, [2, 5], {"highway": "residential", "oneway": "yes"}),
    ]
    pbf = write_osm(tmp_path / "spur.osm.pbf", nodes, ways)
    assert 5 not in build_street_graph(pbf, "bike").node_osm_id
    assert 5 in build_street_graph(pbf, "walk").node_osm_id


@pytest.mark.parametrize(
    ("tags", "walk", "bike"),
    [
        ({"highway": "motorway_link"}, (False, False), (False, False)),
        ({"highway": "motorway", "foot": "yes"}, (True, True), (False, False)),
        ({"highway": "trunk_link"}, (True, True), (True, True)),
        ({"highway": "trunk_link", "foot": "no"}, (False, False), (True, True)),
        ({"highway": "primary", "motorroad": "yes"}, (False, False), (False, False)),
        ({"highway": "residential", "access": "private;delivery"}, (False, False), (False, False)),
        ({"highway": "residential", "vehicle": "no"}, (True, True), (False, False)),
        ({"highway": "residential", "vehicle": "no", "bicycle": "yes"}, (True, True), (True, True)),
        ({"highway": "primary", "bicycle": "use_sidepath"}, (True, True), (False, False)),
        ({"highway": "pedestrian"}, (True, True), (False, False)),
        ({"highway": "steps"}, (True, True), (False, False)),
        ({"highway": "cycleway"}, (True, True), (True, True)),
        ({"highway": "cycleway", "foot": "no"}, (False, False), (True, True)),
        ({"highway": "path"}, (True, True), (True, True)),
        ({"highway": "construction"}, (False, False), (False, False)),
        ({"building": "yes"}, (False, False), (False, False)),
        (
            {"highway": "residential", "oneway": "yes", "oneway:bicycle": "-1"},
            (True, True),
            (False, True),
        ),
        (
            {"highway": "residential", "oneway": "yes", "cycleway": "opposite_lane"},
            (True, True),
            (True, True),
        ),
        (
            {"highway": "residential", "oneway": "no", "junction": "roundabout"},
            (True, True),
            (True, True),
        ),
        ({"highway": "residential", "junction": "circular"}, (True, True), (True, False)),
        ({"highway": "residential", "oneway": "reversible"}, (True, True), (False, False)),
        ({"highway": "motorway", "bicycle": "yes"}, (False, False), (True, False)),
    ],
)
def test_way_access_rules(tags, walk, bike):
    assert way_access(tags, "walk") == walk
    assert way_access(tags, "bike") == bike


# --------------------------------------------------------------------------- travel times

# P(0,0) - Q(400,0) - R(800,0) two-way; Q -> S(400,300) one-way; S - (800,300) - R two-way.
ROAD_NODES = {1: (0, 0), 2: (400, 0), 3: (800, 0), 4: (400, 300), 5: (800, 300)}
ROAD_WAYS = [
    (1, [1, 2, 3], {"highway": "residential"}),
    (2, [2, 4], {"highway": "residential", "oneway": "yes"}),
    (3, [4, 5, 3], {"highway": "residential"}),
]
PLACES = {
    "p1": (100, 10),  # on P-Q, 100 m from P, 10 m off the road
    "p2": (700, -20),  # on Q-R, 300 m from Q, 20 m off
    "p3": (150, -5),  # on P-Q too, 50 m further than p1
    "p4": (410, 100),  # on the one-way Q->S, 100 m from Q, 10 m off
    "far": (5000, 5000),  # 6 km out: not snapped
}


@pytest.fixture(scope="module")
def road_pbf(tmp_path_factory):
    return write_osm(tmp_path_factory.mktemp("osm") / "road.osm.pbf", ROAD_NODES, ROAD_WAYS)


@pytest.fixture(scope="module")
def walk_graph(road_pbf):
    return build_street_graph(road_pbf, "walk", progress=False)


@pytest.fixture(scope="module")
def bike_graph(road_pbf):
    return build_street_graph(road_pbf, "bike", progress=False)


def snap_quietly(graph, gdf, **kwargs) -> Snapped:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnsnappedPointsWarning)
        return snap_points(graph, gdf, **kwargs)


def test_graph_is_in_local_utm_metres(walk_graph):
    assert walk_graph.crs == pyproj.CRS(UTM)
    assert sorted(np.round(walk_graph.edges["length"], 1)) == [300.0, 400.0, 400.0, 700.0]
    np.testing.assert_allclose(
        walk_graph.edges["length"], shapely.length(walk_graph.edges.geometry), atol=1e-6
    )
    np.testing.assert_allclose(sorted(walk_graph.node_x - X0), [0, 400, 400, 800], atol=0.02)


def test_snap_points_onto_nearest_edge(walk_graph):
    with pytest.warns(UnsnappedPointsWarning, match=r"1 of 5 points .* 'far'"):
        snapped = snap_points(walk_graph, points(PLACES))
    osm = walk_graph.node_osm_id
    assert list(snapped.snapped) == [True, True, True, True, False]
    assert [
        (osm[a], osm[b]) for a, b in zip(snapped.node_a[:4], snapped.node_b[:4], strict=True)
    ] == [
        (1, 2),
        (2, 3),
        (1, 2),
        (2, 4),
    ]
    np.testing.assert_allclose(snapped.snap_distance[:4], [10, 20, 5, 10], atol=0.02)
    np.testing.assert_allclose(snapped.offset[:4], [100, 300, 150, 100], atol=0.02)
    np.testing.assert_allclose(snapped.dist_a[:4], [110, 320, 155, 110], atol=0.03)
    np.testing.assert_allclose(snapped.dist_b[:4], [310, 120, 255, 210], atol=0.03)
    assert snapped.node_a[4] == -1 and snapped.dist_a[4] == np.inf
    assert snapped.snap_distance[4] == np.inf


def test_snap_radius(walk_graph):
    with pytest.warns(UnsnappedPointsWarning, match="2 of 5 points lie more than 15 m"):
        snapped = snap_points(walk_graph, points(PLACES), radius_m=15)
    assert list(snapped.snapped) == [True, False, True, True, False]


def test_walk_times_by_hand(walk_graph):
    snapped = snap_quietly(walk_graph, points(PLACES))
    times = street_travel_times(walk_graph, snapped, snapped, speed_kmh=3.6, max_time_s=3600)
    inf = np.inf
    # 1 m = 1 s. p1->p2 via Q: 310 + 320; p1->p3 along their edge: 10 + 50 + 5;
    # p1->p4 via Q: 310 + 110 (walking ignores the one-way); p2->p4: 320 + 110.
    expected = np.array(
        [
            [0, 630, 65, 420, inf],
            [630, 0, 575, 430, inf],
            [65, 575, 0, 365, inf],
            [420, 430, 365, 0, inf],
            [inf, inf, inf, inf, inf],
        ]
    )
    np.testing.assert_array_equal(times.to_dense(), expected)


def test_time_limit_drops_pairs(walk_graph):
    snapped = snap_quietly(walk_graph, points(PLACES))
    times = street_travel_times(walk_graph, snapped, snapped, None, max_time_s=420)
    assert times.shape == (5, 5)
    np.testing.assert_array_equal(times.indptr, [0, 3, 4, 7, 10, 10])
    np.testing.assert_array_equal(times.indices, [0, 2, 3, 1, 0, 2, 3, 0, 2, 3])
    np.testing.assert_array_equal(times.seconds, [0, 65, 420, 0, 65, 0, 365, 420, 365, 0])
    frame = times.to_frame(snapped.ids, snapped.ids)
    assert frame.loc[(frame.from_id == "p1") & (frame.to_id == "p4"), "seconds"].item() == 420
    assert not ((frame.from_id == "p1") & (frame.to_id == "p2")).any()


def test_bike_times_respect_one_way(bike_graph):
    snapped = snap_quietly(bike_graph, points(PLACES))
    times = street_travel_times(bike_graph, snapped, snapped, None, max_time_s=3600).to_dense()
    # 12 km/h = 10/3 m/s. p1->p4 enters the one-way at Q: 420 m = 126 s. p4->p1 must ride
    # on to S, round by R and back: 10 + 200 + 700 + 400 + 310 = 1620 m = 486 s.
    assert times[0, 3] == 126
    assert times[3, 0] == 486
    assert times[0, 1] == 189  # 630 m
    assert times[1, 3] == 129  # 320 + 110 m


def test_same_edge_shortcut_respects_one_way(bike_graph):
    # Two points on the one-way Q->S: downstream directly, upstream the long way round.
    gdf = points({"low": (405, 50), "high": (405, 250)})
    snapped = snap_points(bike_graph, gdf)
    times = street_travel_times(bike_graph, snapped, snapped, 3.6, 3600).to_dense()
    assert times[0, 1] == 5 + 200 + 5
    # high -> S (5 + 50), S -> R (700), R -> Q (400), Q -> low (50 + 5).
    assert times[1, 0] == 55 + 700 + 400 + 55


def test_faster_is_never_slower(walk_graph):
    snapped = snap_quietly(walk_graph, points(PLACES))
    slow = street_travel_times(walk_graph, snapped, snapped, 3.6, 3600).to_dense()
    fast = street_travel_times(walk_graph, snapped, snapped, 12.0, 3600).to_dense()
    assert (fast <= slow).all()


def test_sparse_times_to_dense_and_frame():
    times = SparseTimes(
        indptr=np.array([0, 2, 2, 3]),
        indices=np.array([0, 2, 1], np.int32),
        seconds=np.array([0, 90, 30], np.int32),
        shape=(3, 3),
    )
    np.testing.assert_array_equal(
        times.to_dense(fill=-1), [[0, -1, 90], [-1, -1, -1], [-1, 30, -1]]
    )
    frame = times.to_frame(["a", "b", "c"], ["x", "y", "z"])
    assert frame.to_dict("records") == [
        {"from_id": "a", "to_id": "x", "seconds": 0},
        {"from_id": "a", "to_id": "z", "seconds": 90},
        {"from_id": "c", "to_id": "y", "seconds": 30},
    ]


def test_nearest_keeps_each_rows_quickest_pairs():
    # row 0: 90, 30, 30, 10 s to stops 0-3 -> the two quickest are stop 3 (10 s) and, of
    # the two at 30 s, the lower index (stop 1); row 1 has one pair; row 2 none
    dense = np.array([[90, 30, 30, 10], [-1, -1, 40, -1], [-1, -1, -1, -1]], float)
    dense[dense < 0] = np.inf
    kept = sparse_times_from_dense(dense).nearest(2).to_dense(fill=-1)
    np.testing.assert_array_equal(kept, [[-1, 30, -1, 10], [-1, -1, 40, -1], [-1, -1, -1, -1]])
    # pairs within the limit everywhere: the same object back
    three = sparse_times_from_dense(dense[1:])
    assert three.nearest(1) is three
    # a shuffled row gives the same pairs (ties do not depend on the order of the pairs)
    shuffled = SparseTimes(
        np.array([0, 4]), np.array([2, 0, 3, 1], np.int32), np.array([30, 90, 10, 30], np.int32),
        (1, 4),
    )  # fmt: skip
    np.testing.assert_array_equal(shuffled.nearest(2).to_dense(fill=-1), [kept[0]])


def test_stack_rows_undoes_slicing_rows():
    dense = np.array([[0, -1, 90], [-1, -1, -1], [-1, 30, -1], [5, 6, -1]], float)
    dense[dense < 0] = np.inf
    whole = sparse_times_from_dense(dense)
    blocks = [sparse_times_from_dense(dense[a:b]) for a, b in [(0, 1), (1, 3), (3, 3), (3, 4)]]
    stacked = stack_rows(blocks, 3)
    assert stacked.shape == (4, 3)
    for name in ("indptr", "indices", "seconds"):
        np.testing.assert_array_equal(getattr(stacked, name), getattr(whole, name))
    assert stack_rows([whole], 3) is whole and stack_rows([], 3).shape == (0, 3)
    with pytest.raises(RoutingError, match=r"shape \(4, 3\) into 2 columns"):
        stack_rows([whole], 2)


def test_graph_pickles(walk_graph):
    copy = pickle.loads(pickle.dumps(walk_graph))
    assert copy.crs == walk_graph.crs
    assert (copy.adjacency != walk_graph.adjacency).nnz == 0
    assert copy.edges.geom_equals_exact(walk_graph.edges, tolerance=0).all()
    pd.testing.assert_frame_equal(
        copy.edges.drop(columns="geometry"), walk_graph.edges.drop(columns="geometry")
    )


# --------------------------------------------------------------------------- bad input


def test_points_without_crs(walk_graph):
    gdf = points({"a": (0, 0)}).set_crs(None, allow_override=True)
    with pytest.raises(NetworkError, match="no CRS"):
        snap_points(walk_graph, gdf)


def test_points_without_id_column(walk_graph):
    gdf = points({"a": (0, 0)}).rename(columns={"id": "stop_id"})
    with pytest.raises(NetworkError, match=r"no 'id' column.*'stop_id'"):
        snap_points(walk_graph, gdf)


def test_non_point_geometry(walk_graph):
    gdf = points({"a": (0, 0), "b": (10, 0)})
    gdf.loc[1, "geometry"] = shapely.LineString([(-51.1, -30.0), (-51.2, -30.0)])
    with pytest.raises(NetworkError, match=r"point id 'b' has 'LINESTRING"):
        snap_points(walk_graph, gdf)


def test_points_not_a_geodataframe(walk_graph):
    with pytest.raises(NetworkError, match="must be a GeoDataFrame.*DataFrame"):
        snap_points(walk_graph, pd.DataFrame({"id": ["a"], "lon": [-51.1], "lat": [-30.0]}))


def test_unknown_mode_and_missing_file(road_pbf, tmp_path):
    with pytest.raises(NetworkError, match="'car'"):
        build_street_graph(road_pbf, "car")
    with pytest.raises(NetworkError, match="nowhere.pbf"):
        build_street_graph(tmp_path / "nowhere.pbf")
    empty = write_osm(
        tmp_path / "empty.osm.pbf", {1: (0, 0), 2: (10, 0)}, [(1, [1, 2], {"building": "yes"})]
    )
    with pytest.raises(NetworkError, match="no way that a walk network can use"):
        build_street_graph(empty)


def test_bad_speed_and_mismatched_graph(walk_graph, bike_graph):
    snapped = snap_quietly(walk_graph, points(PLACES))
    with pytest.raises(RoutingError, match="speed_kmh.*-3"):
        street_travel_times(walk_graph, snapped, snapped, -3, 600)
    with pytest.raises(RoutingError, match="max_time_s"):
        street_travel_times(walk_graph, snapped, snapped, None, np.nan)
    with pytest.raises(NetworkError, match="snapped to a walk graph"):
        street_travel_times(bike_graph, snapped, snapped, None, 600)


def test_require_snapped(walk_graph):
    with pytest.warns(UnsnappedPointsWarning):
        nowhere = snap_points(walk_graph, points({"far": (5000, 5000)}))
    with pytest.raises(RoutingError, match="no origin could be snapped.*'far'"):
        require_snapped(nowhere, "origin")
    require_snapped(snap_quietly(walk_graph, points(PLACES)))


# --------------------------------------------------------------------------- real data

WALK_30_MIN = 30 * 60


def read_eptc_stops() -> gpd.GeoDataFrame:
    with zipfile.ZipFile(fetch_file("poa_eptc.zip")) as archive, archive.open("stops.txt") as f:
        stops = pd.read_csv(f, dtype={"stop_id": str})
    geometry = gpd.points_from_xy(stops["stop_lon"], stops["stop_lat"], crs="EPSG:4326")
    return gpd.GeoDataFrame({"id": stops["stop_id"]}, geometry=geometry)


@pytest.fixture(scope="module")
def poa():
    pbf = fetch_file("poa_osm.pbf")
    graphs = {mode: build_street_graph(pbf, mode, progress=False) for mode in ("walk", "bike")}
    dataset = fetch_dataset("porto_alegre", progress=False)
    return graphs, dataset.origins[["id", "geometry"]], read_eptc_stops()


def sample_points(poa, n_cells: int, n_stops: int, seed: int) -> gpd.GeoDataFrame:
    _, cells, stops = poa
    rng = np.random.default_rng(seed)
    picked = pd.concat(
        [
            cells.iloc[rng.choice(len(cells), n_cells, replace=False)],
            stops.iloc[rng.choice(len(stops), n_stops, replace=False)],
        ],
        ignore_index=True,
    )
    return gpd.GeoDataFrame(picked, geometry="geometry", crs="EPSG:4326")


def _oracle_graph(graph, origins: Snapped, targets: Snapped) -> nx.DiGraph:
    """The street pieces, snap legs and same-edge links, as a networkx graph."""
    net = nx.DiGraph()

    def link(a, b, metres):
        # Keep the shortest of parallel links (loops have node_a == node_b).
        old = net.get_edge_data(a, b, {"weight": np.inf})["weight"]
        net.add_edge(a, b, weight=min(old, metres))

    for row in graph.edges.itertuples():
        if row.u != row.v:
            if row.forward:
                link(row.u, row.v, row.length)
            if row.backward:
                link(row.v, row.u, row.length)
    _link_snap_legs(graph, origins, targets, link)
    return net


def _link_snap_legs(graph, origins: Snapped, targets: Snapped, link) -> None:
    """Snap legs leaving the origins and reaching the targets, and same-edge links."""
    forward = graph.edges["forward"].to_numpy()
    backward = graph.edges["backward"].to_numpy()
    for i in np.flatnonzero(origins.snapped):
        e = origins.edge[i]
        if forward[e]:
            link(("from", i), origins.node_b[i], origins.dist_b[i])
        if backward[e]:
            link(("from", i), origins.node_a[i], origins.dist_a[i])
    for j in np.flatnonzero(targets.snapped):
        e = targets.edge[j]
        if forward[e]:
            link(targets.node_a[j], ("to", j), targets.dist_a[j])
        if backward[e]:
            link(targets.node_b[j], ("to", j), targets.dist_b[j])
        for i in np.flatnonzero(origins.edge == e):
            along = targets.offset[j] - origins.offset[i]
            if (along >= 0 and forward[e]) or (along <= 0 and backward[e]):
                metres = origins.snap_distance[i] + abs(along) + targets.snap_distance[j]
                link(("from", i), ("to", j), metres)
            if (origins.x[i], origins.y[i]) == (targets.x[j], targets.y[j]):
                link(("from", i), ("to", j), 0.0)


def networkx_times(graph, origins: Snapped, targets: Snapped, speed_kmh, max_time_s):
    """Oracle: the same snap legs and street pieces, searched by networkx."""
    net = _oracle_graph(graph, origins, targets)
    speed = speed_kmh / 3.6
    times = np.full((len(origins), len(targets)), np.inf)
    for i in np.flatnonzero(origins.snapped):
        reached = nx.single_source_dijkstra_path_length(
            net, ("from", i), cutoff=(max_time_s + 1) * speed
        )
        for node, metres in reached.items():
            if isinstance(node, tuple) and node[0] == "to":
                seconds = np.floor(metres / speed + 0.5)
                if seconds <= max_time_s:
                    times[i, node[1]] = seconds
    return times


@pytest.mark.slow
@pytest.mark.parametrize(
    ("mode", "speed_kmh", "max_time_s"), [("walk", 3.6, 1800), ("bike", 12.0, 900)]
)
def test_times_equal_networkx_on_porto_alegre(poa, mode, speed_kmh, max_time_s):
    graph = poa[0][mode]
    origins = snap_quietly(graph, sample_points(poa, 15, 15, seed=1))
    # The origins are among the targets too, so same-place and same-edge pairs occur.
    both = pd.concat([sample_points(poa, 15, 15, seed=1), sample_points(poa, 60, 140, seed=2)])
    targets = snap_quietly(graph, both.reset_index(drop=True))
    ours = street_travel_times(graph, origins, targets, speed_kmh, max_time_s).to_dense()
    oracle = networkx_times(graph, origins, targets, speed_kmh, max_time_s)
    assert np.isfinite(oracle).sum() > 200  # the comparison covers many reachable pairs
    np.testing.assert_array_equal(ours, oracle)
    # Many sources to few targets runs backwards on the reversed graph: same times.
    backwards = street_travel_times(graph, targets, origins, speed_kmh, max_time_s).to_dense()
    oracle_back = networkx_times(graph, targets, origins, speed_kmh, max_time_s)
    np.testing.assert_array_equal(backwards, oracle_back)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["walk", "bike"])
def test_snapping_finds_the_nearest_edge_on_porto_alegre(poa, mode):
    graph = poa[0][mode]
    gdf = sample_points(poa, 100, 100, seed=3)
    snapped = snap_quietly(graph, gdf)
    projected = gdf.geometry.to_crs(graph.crs).to_numpy()
    lines = graph.edges.geometry.to_numpy()
    for k in range(len(gdf)):
        nearest = shapely.distance(lines, projected[k]).min()
        if nearest > 1600:
            assert not snapped.snapped[k]
            continue
        assert snapped.snap_distance[k] == pytest.approx(nearest, abs=1e-6)
        on_edge = shapely.line_interpolate_point(lines[snapped.edge[k]], snapped.offset[k])
        assert shapely.distance(on_edge, projected[k]) == pytest.approx(nearest, abs=1e-6)


@pytest.mark.slow
def test_walking_times_are_symmetric_and_faster_is_never_slower(poa):
    graphs, cells, _ = poa
    snapped = snap_quietly(graphs["walk"], cells)
    walk = street_travel_times(graphs["walk"], snapped, snapped, 3.6, WALK_30_MIN).to_dense()
    np.testing.assert_array_equal(walk, walk.T)
    assert np.isfinite(walk).sum() > 20 * len(cells)
    faster = street_travel_times(graphs["walk"], snapped, snapped, 5.0, WALK_30_MIN).to_dense()
    assert (faster <= walk).all()
    assert np.isfinite(faster).sum() > np.isfinite(walk).sum()


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["walk", "bike"])
def test_a_point_outside_the_extract_is_missing_not_a_crash(poa, mode):
    graphs, cells, _ = poa
    graph = graphs[mode]
    lon, lat = cells.geometry.x.max() + 0.06, cells.geometry.y.mean()  # ~5.8 km east
    outside = gpd.GeoDataFrame(
        {"id": ["outside"]}, geometry=gpd.points_from_xy([lon], [lat]), crs=4326
    )
    gdf = pd.concat([cells.iloc[:50], outside], ignore_index=True)
    with pytest.warns(UnsnappedPointsWarning, match="'outside'"):
        snapped = snap_points(graph, gdf)
    assert not snapped.snapped[-1]
    times = street_travel_times(graph, snapped, snapped, None, WALK_30_MIN)
    dense = times.to_dense()
    assert np.isinf(dense[-1]).all() and np.isinf(dense[:, -1]).all()
    assert np.isfinite(dense[:-1, :-1]).any()


def test_point_on_a_loop_edge_reaches_both_ways_round(tmp_path):
    # A cul-de-sac loop Q(0,0) -> (0,100) -> (100,100) -> (100,0) -> Q, 400 m, hangs on the
    # road P(-300,0) - Q. Its piece starts and ends at Q (node_a == node_b).
    nodes = {1: (-300, 0), 2: (0, 0), 3: (0, 100), 4: (100, 100), 5: (100, 0)}
    ways = [
        (1, [1, 2], {"highway": "residential"}),
        (2, [2, 3, 4, 5, 2], {"highway": "residential"}),
    ]
    graph = build_street_graph(write_osm(tmp_path / "loop.osm.pbf", nodes, ways), "walk")
    gdf = points({"loop": (110, 50), "road": (-200, 5)})  # loop: 250 m along, 10 m off
    snapped = snap_points(graph, gdf)
    assert snapped.node_a[0] == snapped.node_b[0]
    times = street_travel_times(graph, snapped, snapped, 3.6, 3600).to_dense()
    # Shorter way round the loop: 10 + 150 to Q, then 200 + 5 to the road point.
    np.testing.assert_array_equal(times, [[0, 365], [365, 0]])


def test_no_points_gives_an_empty_table(walk_graph):
    empty = snap_points(walk_graph, points(PLACES).iloc[:0])
    some = snap_quietly(walk_graph, points(PLACES))
    times = street_travel_times(walk_graph, empty, some, None, 600)
    assert times.shape == (0, 5) and times.nnz == 0
    assert street_travel_times(walk_graph, some, empty, None, 600).to_dense().shape == (5, 0)


# ------------------------------------------------ the parallel search = scipy's dijkstra
def random_graph(seed: int, n: int = 300, m: int = 1500) -> sp.csr_matrix:
    """A directed graph with whole-metre lengths (many ties), zero-length edges and repeats."""
    rng = np.random.default_rng(seed)
    rows, cols = rng.integers(0, n, m), rng.integers(0, n, m)
    lengths = rng.integers(0, 40, m).astype(np.float64)  # 0 m edges are edges too
    fractional = rng.random(m) < 0.3  # and some sums that float64 rounds
    lengths[fractional] += rng.random(int(fractional.sum()))
    # built from raw arrays, so a repeated (row, col) stays two edges, as scipy reads it
    order = np.argsort(rows, kind="stable")
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n))])
    return sp.csr_matrix((lengths[order], cols[order], indptr), shape=(n, n))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("limit", [0.0, 35.0, 120.5, np.inf])
def test_shortest_metres_equal_scipy_dijkstra(seed, limit):
    graph = random_graph(seed)
    sources = np.array([0, 5, 5, 17, 299])  # a repeated source gets its own row
    want = dijkstra(graph, directed=True, indices=sources, limit=limit)
    got = shortest_metres(graph, sources, limit)
    np.testing.assert_array_equal(got, want)  # bit for bit, inf where not reached
    assert got[:, sources].diagonal().tolist() == [0.0] * len(sources)


def test_shortest_metres_writes_into_a_reused_buffer():
    graph = random_graph(0)
    sources = np.array([3, 17, 299])
    want = dijkstra(graph, directed=True, indices=sources, limit=120.5)
    buffer = np.full((5, graph.shape[0]), -7.0)  # stale values from an earlier chunk
    got = shortest_metres(graph, sources, 120.5, out=buffer[:3])
    assert np.shares_memory(got, buffer)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(buffer[3:], -7.0)  # rows past the chunk left alone
    with pytest.raises(ValueError, match=r"parameter 'out' must be .* shape \(3, 300\)"):
        shortest_metres(graph, sources, 120.5, out=buffer[:2])


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["walk", "bike"])
def test_shortest_metres_equal_scipy_dijkstra_on_porto_alegre(poa, mode):
    adjacency = poa[0][mode].adjacency
    sources = np.random.default_rng(4).choice(adjacency.shape[0], 40, replace=False)
    for graph in (adjacency, adjacency.T.tocsr()):  # forwards, and backwards for egress
        for limit in (2000.5, 7200.5):
            want = dijkstra(graph, directed=True, indices=sources, limit=limit)
            np.testing.assert_array_equal(shortest_metres(graph, sources, limit), want)
