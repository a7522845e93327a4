"""First mile, last mile, walksheds and the gap summary on a hand-made town.

The town (UTM metres, walking at 3.6 km/h is one metre per second):

- a main road along y = 0 from x = 0 to x = 2,000 m, and a side street north from
  (400, 0) to (400, 500);
- stop F at x = 400 and stop G at x = 1,900: route R1 runs F -> G and G -> F every
  10 minutes from 07:00 to 08:50 (12 departures each in 07:00-09:00: 10-minute
  headway, frequent);
- stop S at x = 1,200: route R2 runs S -> G every 20 minutes (6 departures: a
  20-minute headway, not frequent).

Homes: O1 at x = 0 (100 people), O2 at x = 1,200, where S stands (50 people), O3
5 km north, off the street network (10 people).
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import transitmile as tm
from transitmile import settings
from transitmile.access import AccessWarning
from transitmile.errors import AccessError, RoutingError
from transitmile.streets import UnsnappedPointsWarning

from .gtfs_builder import write_feed
from .osm_builder import UTM, lonlat, points, write_osm

WINDOW = {"start": "07:00", "end": "09:00"}


def _trips(route: str, first: str, last: str, minutes: range, tag: str) -> tuple[list, list]:
    trips, times = [], []
    for k, m in enumerate(minutes):
        trip = f"{tag}{k}"
        dep, arr = (
            f"{7 + m // 60:02d}:{m % 60:02d}:00",
            f"{7 + (m + 5) // 60:02d}:{(m + 5) % 60:02d}:00",
        )
        trips.append(f"{route},WK,{trip},{0 if tag.endswith('a') else 1}")
        times.append(f"{trip},{dep},{dep},{first},1\n{trip},{arr},{arr},{last},2")
    return trips, times


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    folder = tmp_path_factory.mktemp("access_town")
    main = {i + 1: (100.0 * i, 0.0) for i in range(21)}
    side = {101 + i: (400.0, 100.0 * (i + 1)) for i in range(5)}
    ways = [
        (1, list(main), {"highway": "residential"}),
        (2, [5, *side], {"highway": "residential"}),
    ]
    osm = write_osm(folder / "town.osm.pbf", {**main, **side}, ways)
    stops = {"F": lonlat(400, 0), "G": lonlat(1900, 0), "S": lonlat(1200, 0)}
    stop_rows = "\n".join(f"{s},{s},{lat},{lon}" for s, (lon, lat) in stops.items())
    trips, times = [], []
    for route, first, last, minutes, tag in (
        ("R1", "F", "G", range(0, 120, 10), "Ta"),
        ("R1", "G", "F", range(0, 120, 10), "Tb"),
        ("R2", "S", "G", range(0, 120, 20), "Ua"),
    ):
        more_trips, more_times = _trips(route, first, last, minutes, tag)
        trips += more_trips
        times += more_times
    files = {
        "routes.txt": "route_id,agency_id,route_short_name,route_long_name,route_type\n"
        "R1,A,1,One,3\nR2,A,2,Two,3\n",
        "stops.txt": f"stop_id,stop_name,stop_lat,stop_lon\n{stop_rows}\n",
        "trips.txt": "route_id,service_id,trip_id,direction_id\n" + "\n".join(trips) + "\n",
        "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
        + "\n".join(times)
        + "\n",
    }
    gtfs = write_feed(folder / "bus", files)
    saved = settings.cache_dir
    settings.cache_dir = folder / "cache"
    try:
        network = tm.TransportNetwork(osm, [gtfs], "2024-01-15", progress=False)
    finally:
        settings.cache_dir = saved
    homes = points({"O1": (0, 0), "O2": (1200, 0), "O3": (1000, 5000)})
    homes["population"] = [100, 50, 10]
    homes["district"] = ["west", "east", "east"]
    return network, homes


def first(town, homes=None, **kwargs):
    network, default = town
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnsnappedPointsWarning)
        return tm.first_mile(network, default if homes is None else homes, **WINDOW, **kwargs)


def test_first_mile_by_hand(town):
    result = first(town).set_index("id")
    o1, o2, o3 = result.loc["O1"], result.loc["O2"], result.loc["O3"]
    # 400 m at 3.6 km/h is 400 s: 6.67 minutes
    assert o1["walk_min_stop"] == pytest.approx(400 / 60)
    assert round(o1["walk_min_stop"], 1) == 6.7
    assert o1["stop_id"] == "F" and o1["frequent_stop_id"] == "F"
    assert o1["frequent_stop_headway_min"] == 10.0
    assert o1["bike_min_frequent_stop"] == pytest.approx(400 / (12 / 3.6) / 60)  # 2 minutes
    assert o1["routes_within_threshold"] == 1  # R1 at F; S is 1,200 m away
    assert not o1["gap"]
    # O2 stands at S, whose 20-minute headway is not frequent: G is 700 m away
    assert o2["walk_min_stop"] == 0.0 and o2["stop_id"] == "S"
    assert o2["frequent_stop_id"] == "G"
    assert o2["walk_min_frequent_stop"] == pytest.approx(700 / 60)
    assert o2["routes_within_threshold"] == 1  # R2 only
    assert o2["gap"]
    # off the network: no minutes, in the gap
    assert np.isnan(o3["walk_min_stop"]) and pd.isna(o3["frequent_stop_id"]) and o3["gap"]
    assert list(result["population"]) == [100, 50, 10]
    assert list(result["district"]) == ["west", "east", "east"]


def test_a_longer_threshold_closes_the_gap_and_counts_more_routes(town):
    result = first(town, threshold_min=12).set_index("id")
    assert not result.loc["O2", "gap"]
    assert result.loc["O2", "routes_within_threshold"] == 2  # R2 at S and R1 at G


def test_a_twenty_minute_headway_is_frequent_only_when_allowed(town):
    result = first(town, max_headway_min=20).set_index("id")
    assert result.loc["O2", "frequent_stop_id"] == "S"
    assert result.loc["O2", "frequent_stop_headway_min"] == 20.0
    assert not result.loc["O2", "gap"]


def test_no_service_or_no_frequent_stop_is_a_warning_and_everyone_is_in_the_gap(town):
    network, homes = town
    for kwargs in ({"start": "10:00", "end": "11:00"}, {**WINDOW, "max_headway_min": 5}):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UnsnappedPointsWarning)
            with pytest.warns(AccessWarning, match="every point is in the gap"):
                result = tm.first_mile(network, homes, **kwargs)
        assert result["gap"].all()
        assert result["walk_min_frequent_stop"].isna().all()


def test_gap_summary_by_hand(town):
    result = first(town)
    summary = tm.gap_summary(result)
    row = summary.loc["all"]
    assert row["residents"] == 160
    assert row["residents_within_5_min"] == 0
    assert row["residents_within_10_min"] == 100  # O1 at 6.7 min
    assert row["residents_within_15_min"] == 150  # and O2 at 11.7 min
    assert row["residents_in_gap"] == 60
    assert row["gap_share"] == pytest.approx(60 / 160)
    assert row["median_walk_min_frequent_stop"] == pytest.approx(400 / 60)  # 100 of 160 people
    assert "jobs_within_45_min_mean" not in summary.columns
    by = tm.gap_summary(result.assign(jobs_cumulative_45min=[10.0, 40.0, 0.0]), by="district")
    assert list(by.index) == ["east", "west", "all"]
    assert by.loc["east", "residents_in_gap"] == 60 and by.loc["west", "residents_in_gap"] == 0
    assert by.loc["east", "median_walk_min_frequent_stop"] == pytest.approx(700 / 60)
    assert by.loc["all", "jobs_within_45_min_mean"] == pytest.approx((1000 + 2000) / 160)
    with pytest.raises(AccessError, match="'income'"):
        tm.gap_summary(result, by="income")


def test_last_mile_by_hand(town):
    network, _ = town
    places = points({"D1": (1100, 0), "D2": (300, 0)})
    places["jobs"] = [40, 10]
    result = tm.last_mile(network, places, opportunities="jobs", **WINDOW).set_index("id")
    assert result.loc["D1", "walk_min_from_frequent_stop"] == pytest.approx(700 / 60)  # F
    assert result.loc["D1", "frequent_stop_id"] == "F"
    assert result.loc["D1", "gap"] and result.loc["D1", "jobs_lost_to_gap"] == 40
    assert result.loc["D2", "walk_min_from_frequent_stop"] == pytest.approx(100 / 60)
    assert not result.loc["D2", "gap"] and result.loc["D2", "jobs_lost_to_gap"] == 0


def test_walksheds_count_people_by_network_time(town):
    network, homes = town
    homes = homes.assign(jobs=[1, 2, 3])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnsnappedPointsWarning)
        sheds = tm.walksheds(network, minutes=(5, 10, 12), points=homes, **WINDOW)
        dissolved = tm.walksheds(
            network, minutes=(5, 10, 12), points=homes, dissolve=True, **WINDOW
        )
    assert set(sheds["stop_id"]) == {"F", "G"}  # the frequent stops
    table = sheds.set_index(["stop_id", "walk_min"])
    assert table.loc[("F", 5.0), "residents"] == 0  # O1 is 400 m from F
    assert table.loc[("F", 10.0), "residents"] == 100
    assert table.loc[("F", 10.0), "jobs"] == 1
    assert table.loc[("G", 10.0), "residents"] == 0  # O2 is 700 m from G
    assert table.loc[("G", 12.0), "residents"] == 50
    assert list(dissolved["residents"]) == [0, 100, 150]
    assert list(dissolved["jobs"]) == [0, 1, 3]
    assert sheds.crs == "EPSG:4326"


def test_walkshed_polygon_follows_the_streets(town):
    network, _ = town
    sheds = tm.walksheds(network, stops=["F"], minutes=(5,), **WINDOW).to_crs(UTM)
    (shape,) = sheds.geometry
    # 300 m from F: x 100..700 on the main road and 300 m up the side street
    assert shape.area == pytest.approx(600 * 300 / 2, rel=0.01)
    origin = shapely.Point(*_utm(400, 0))
    assert shape.buffer(1).contains(origin)
    assert shape.contains(shapely.Point(*_utm(400, 250)))
    assert not shape.contains(shapely.Point(*_utm(400, 350)))
    assert not shape.contains(shapely.Point(*_utm(1000, 0)))


def _utm(x, y):
    from .osm_builder import X0, Y0

    return X0 + x, Y0 + y


def test_unknown_stop_ids_are_named(town):
    network, _ = town
    with pytest.raises(AccessError, match="'nowhere'"):
        tm.walksheds(network, stops=["F", "nowhere"], **WINDOW)


def test_bad_origins_are_named(town):
    network, homes = town
    with pytest.raises(RoutingError, match="no 'id' column"):
        tm.first_mile(network, homes.rename(columns={"id": "cell"}), **WINDOW)
    twice = pd.concat([homes, homes.iloc[[0]]])
    with pytest.raises(RoutingError, match="duplicate.*'O1'"):
        tm.first_mile(network, twice, **WINDOW)
    with pytest.raises(RoutingError, match="no CRS"):
        tm.first_mile(network, homes.set_crs(None, allow_override=True), **WINDOW)
    with pytest.raises(AccessError, match="population column 'people'"):
        tm.first_mile(network, homes, population="people", **WINDOW)
    negative = homes.assign(population=[100, -5, 10])
    with pytest.raises(AccessError, match="'O2' has -5"):
        tm.first_mile(network, negative, **WINDOW)
    off = points({"far": (0, 9000)}).assign(population=[1])
    with pytest.raises(RoutingError, match="none of the 1 origins"), warnings.catch_warnings():
        warnings.simplefilter("ignore", UnsnappedPointsWarning)
        tm.first_mile(network, off, **WINDOW)


def test_polygons_become_representative_points_with_a_warning(town):
    network, homes = town
    squares = homes.iloc[:2].to_crs(UTM)
    squares = squares.set_geometry(squares.buffer(20, cap_style="square")).to_crs(4326)
    with pytest.warns(AccessWarning, match="polygons"):
        result = tm.first_mile(network, squares, **WINDOW)
    assert result.set_index("id").loc["O1", "walk_min_stop"] == pytest.approx(400 / 60, abs=0.5)
    assert isinstance(result, gpd.GeoDataFrame)


def test_missing_values_count_as_zero_with_a_warning(town):
    network, homes = town
    holes = homes.assign(population=[100, np.nan, 10])
    with pytest.warns(AccessWarning, match="1 missing value.*'O2'"), warnings.catch_warnings():
        warnings.simplefilter("ignore", UnsnappedPointsWarning)
        result = tm.first_mile(network, holes, **WINDOW)
    assert list(result["population"]) == [100, 0, 10]


def test_h3_cells_get_hexagons(town):
    network, _ = town
    import h3

    lon, lat = lonlat(0, 0)
    cell = h3.latlng_to_cell(lat, lon, 9)
    homes = gpd.GeoDataFrame(
        {"id": [cell], "population": [1]},
        geometry=gpd.points_from_xy([lon], [lat]),
        crs="EPSG:4326",
    )
    result = tm.first_mile(network, homes, **WINDOW)
    (hexagon,) = result.geometry
    assert hexagon.geom_type == "Polygon" and len(hexagon.exterior.coords) == 7
    assert hexagon.contains(shapely.Point(lon, lat))


def test_cli_gaps_writes_a_geopackage_with_provenance(town, tmp_path, capsys):
    import json

    import pyogrio

    from transitmile.cli import main

    network, homes = town
    table = homes.iloc[:2].assign(jobs=[5, 7])
    table["lon"], table["lat"] = table.geometry.x, table.geometry.y
    csv = tmp_path / "homes.csv"
    table.drop(columns="geometry").to_csv(csv, index=False)
    common = [
        "gaps", "--osm", str(network.osm_pbf), "--gtfs", *map(str, network.gtfs),
        "--origins", str(csv), "--date", "2024-01-15", "--window", "07:00-09:00",
        "--opportunities", "jobs",
    ]  # fmt: skip
    assert main([*common, "-o", str(tmp_path / "gaps.gpkg")]) == 0
    out = capsys.readouterr().out
    assert "50 of 150 residents (33.3%) walk more than 10 min" in out
    layers = dict(pyogrio.list_layers(tmp_path / "gaps.gpkg"))
    assert set(layers) == {"first_mile", "last_mile", "walksheds", "coverage", "gap_summary"}
    first = gpd.read_file(tmp_path / "gaps.gpkg", layer="first_mile").set_index("id")
    assert first.loc["O1", "walk_min_frequent_stop"] == pytest.approx(400 / 60)
    assert bool(first.loc["O2", "gap"]) and first.crs == "EPSG:4326"
    sidecar = json.loads((tmp_path / "gaps.gpkg.json").read_text())
    assert sidecar["command"] == "gaps" and sidecar["window"] == "07:00-09:00"
    assert sidecar["layers"]["first_mile"]["network"]["service_date"] == "2024-01-15"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    # GeoParquet: the first layer at the path, the others beside it
    assert (
        "jobs_within_45_min_mean"
        not in gpd.read_file(tmp_path / "gaps.gpkg", layer="gap_summary").columns
    )
    assert main([*common, "--jobs-access", "-o", str(tmp_path / "gaps.parquet")]) == 0
    capsys.readouterr()
    assert gpd.read_parquet(tmp_path / "gaps.parquet")["gap"].tolist() == [False, True]
    summary = pd.read_parquet(tmp_path / "gaps.gap_summary.parquet")
    assert summary["residents"].tolist() == [150]
    # O1 and O2 are 1,200 m (20 min) apart on foot: each reaches both homes' 5 + 7 jobs
    assert summary["jobs_within_45_min_mean"].iloc[0] == 12
    first = gpd.read_parquet(tmp_path / "gaps.parquet").set_index("id")
    assert first["jobs_cumulative_30min"].tolist() == [12, 12]
    assert (tmp_path / "gaps.walksheds.parquet").is_file()


def test_cli_gaps_bad_input_is_one_line(town, tmp_path, capsys):
    from transitmile.cli import main

    network, _ = town
    code = main(
        ["gaps", "--osm", str(network.osm_pbf), "--gtfs", *map(str, network.gtfs),
         "--date", "2024-01-15", "-o", str(tmp_path / "gaps.shp")]
    )  # fmt: skip
    assert code == 2
    assert "must end in .gpkg or .parquet, got" in capsys.readouterr().err
    code = main(
        ["gaps", "--osm", str(network.osm_pbf), "--gtfs", *map(str, network.gtfs),
         "--date", "2024-01-15", "-o", str(tmp_path / "gaps.gpkg")]
    )  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert "--origins FILE is required" in err and len(err.strip().splitlines()) == 1
