"""Interventions on a tiny hand-made town, every value worked out by hand.

The town (metres east/north of a point in Porto Alegre, walking 3.6 km/h = 1 m/s):

- a road along y = 0 from x = 0 to x = 4,800;
- a street along y = 240 from x = 0 to x = 480, joined to the road only at x = 480
  (a river runs between them elsewhere): from O (0, 0) to P (0, 240) one walks
  480 + 240 + 480 = 1,200 m, 20 minutes;
- a bus from stop A (x = 500) to stop B (x = 4,500).
"""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Polygon

import transitmile as tm
from transitmile import settings
from transitmile.errors import StudyError
from transitmile.interventions import (
    BikeShare,
    Costs,
    Economics,
    Microtransit,
    Shuttle,
    WalkingLinks,
    annualised_cost,
    bike_share_seconds,
    capital_recovery_factor,
    on_demand_seconds,
)
from transitmile.scenarios import Scenario, scenario_network

from .gtfs_builder import write_feed
from .osm_builder import lonlat, points, write_osm

DAY = dt.date(2024, 1, 15)  # a Monday of the builder's weekday service
EIGHT = dt.datetime(2024, 1, 15, 8, 0)


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    folder = tmp_path_factory.mktemp("town")
    nodes = {1: (0.0, 0.0), 2: (480.0, 0.0), 3: (4800.0, 0.0), 4: (0.0, 240.0), 5: (480.0, 240.0)}
    ways = [
        (100, [1, 2, 3], {"highway": "residential"}),
        (101, [4, 5], {"highway": "residential"}),
        (102, [2, 5], {"highway": "residential"}),
    ]
    osm = write_osm(folder / "town.osm.pbf", nodes, ways)
    (ax, ay), (bx, by) = lonlat(500, 0), lonlat(4500, 0)
    gtfs = write_feed(
        folder / "bus",
        {
            "stops.txt": f"stop_id,stop_name,stop_lat,stop_lon\nA,A,{ay},{ax}\nB,B,{by},{bx}\n",
            "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
            "T1,08:10:00,08:10:00,A,1\nT1,08:20:00,08:20:00,B,2\n",
        },
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(settings, "cache_dir", folder / "cache")
        return tm.TransportNetwork(osm, [gtfs], DAY, progress=False)


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "cache_dir", tmp_path / "cache")
    return tmp_path


def walk_minutes(network, origin, destination):
    frame = tm.travel_time_matrix(
        network, origin, destination, departure=EIGHT, transport_modes=("WALK",),
        engine="embedded", progress=False,
    )  # fmt: skip
    return frame["travel_time"].tolist()


def square(x0, y0, x1, y1):
    return Polygon([lonlat(x0, y0), lonlat(x1, y0), lonlat(x1, y1), lonlat(x0, y1)])


# ----------------------------------------------------------------------------- costs
def test_capital_recovery_factor_by_hand():
    # 8 % over 10 years: 0.08 / (1 - 1.08^-10) = 0.08 / 0.536806... = 0.149029...
    assert capital_recovery_factor(0.08, 10) == pytest.approx(0.1490294887)
    assert capital_recovery_factor(0.0, 8) == 0.125
    # 1,000,000 of works over 10 years + 50,000 a year
    assert annualised_cost(1_000_000, 50_000, 10, 0.08) == pytest.approx(199_029.4887)


def test_negative_costs_name_the_field():
    with pytest.raises(StudyError, match="'capital' must be a number >= 0, got -5"):
        Costs(capital=-5)
    with pytest.raises(StudyError, match="'life_years' must be a number > 0"):
        Costs(capital=5, life_years=0)


def test_economics_needs_its_sources():
    with pytest.raises(StudyError, match="'trips_source' must be stated"):
        Economics(20.0, "survey", 2.0, "")
    economics = Economics(24.0, "survey", 2.0, "survey", annualisation_days=250)
    # 600 person-minutes a weekday = 10 h x 24 x 250 days
    assert economics.annual_value(600) == pytest.approx(60_000.0)


# -------------------------------------------------------------------- pure leg times
def test_bike_share_ride_by_hand():
    # two places, three stations, two targets; unlock 60 s, dock 30 s
    walk_in = np.array([[100.0, 400.0, np.inf], [np.inf, np.inf, 50.0]])
    ride = np.array([[0.0, 300.0, 900.0], [300.0, 0.0, 500.0], [900.0, 500.0, 0.0]])
    walk_out = np.array([[10.0, np.inf], [np.inf, 20.0], [np.inf, 40.0]])
    got = bike_share_seconds(walk_in, ride, walk_out, 60.0, 30.0)
    # place 0 -> target 0: via 1 -> 0: 400 + 300 + 10 (= 710) vs 0 -> 0 not a ride: 710 + 90
    # place 0 -> target 1: 100 + 300 + 20 = 420 (0 -> 1), 100 + 900 + 40 = 1,040 (0 -> 2)
    # place 1 -> target 0: 50 + 900 + 10 = 960; target 1: 50 + 500 + 20 = 570
    assert got.tolist() == [[800.0, 510.0], [1050.0, 660.0]]


def test_microtransit_leg_is_wait_plus_distance_times_detour_over_speed():
    # 2 km at 20 km/h with detour 1.5: 3,000 m / 5.555... m/s = 540 s, + 600 s wait
    assert on_demand_seconds(np.array([2000.0]), 600.0, 20.0, 1.5).tolist() == [
        pytest.approx(1140.0)
    ]


# -------------------------------------------------------------- on the hand-made town
def test_bike_share_ride_on_the_town_priced_by_hand(town):
    # O (0,0) walks 100 m to station S1 (100,0): 100 s; unlock 60 s; rides 4,000 m to S2
    # (4100,0) at 12 km/h: 1,200 s; docks 60 s; walks 200 m to D (4300,0): 200 s = 1,620 s
    stations = points({"S1": (100, 0), "S2": (4100, 0)}).assign(capacity=[10, 10])
    bikes = BikeShare("test", stations)
    o, d = points({"O": (0, 0)}), points({"D": (4300, 0)})
    request = tm.engines.request.make_request(departure=EIGHT)
    assert bikes.seconds_between(town, o, d, request).tolist() == [[1620.0]]
    # costs: 2 stations x 60,000 + 10 bikes (20 docks / 2) x 4,000; 10 x 6,000 a year
    costs = bikes.total_costs()
    assert (costs.capital, costs.annual_operating, costs.life_years) == (160_000, 60_000, 8)
    assert "assumption" in costs.source


def minutes_with_and_without_bikes(town, stations: dict, destination_x: float, minute: int):
    """O (0, 0) to D (destination_x, 0) leaving at 08:mm: minutes without and with bike-share."""
    network = scenario_network(town, Scenario("bikes", [BikeShare("pilot", points(stations))]))
    assert town.access_services == [] and network.timetable is town.timetable
    o, d = points({"O": (0, 0)}), points({"D": (destination_x, 0)})
    kwargs = {"departure": dt.datetime(2024, 1, 15, 8, minute), "engine": "embedded",
              "departure_time_window": dt.timedelta(minutes=1), "progress": False}  # fmt: skip
    return [
        tm.travel_time_matrix(net, o, d, **kwargs)["travel_time"].iloc[0] for net in (town, network)
    ]


def test_bike_share_reaches_the_bus_that_walking_misses(town):
    # leaving O at 08:02, walking 500 m reaches A at 08:10:20: too late for the only bus
    # (08:10, 60 s boarding slack), so O -> D (4,600 m) is a 4,600 s walk: 76 minutes.
    # By bike-share: walk 100 s to S1, unlock 60, ride 350 m at 12 km/h (105 s), dock 60,
    # walk 50 s to A: at A 08:08:15, bus 08:10 -> B 08:20, walk 100 s: 08:21:40 = 19 min
    stations = {"S1": (100, 0), "S2": (450, 0)}
    assert minutes_with_and_without_bikes(town, stations, 4600, minute=2) == [76.0, 19.0]


def test_bike_share_whole_trip_without_transit(town):
    # after the only bus has left (08:30), O -> D (4,300 m) walks 4,300 s: 71 minutes;
    # the bike-share ride of the hand-priced test above takes 1,620 s: 27 minutes
    stations = {"S1": (100, 0), "S2": (4100, 0)}
    assert minutes_with_and_without_bikes(town, stations, 4300, minute=30) == [71.0, 27.0]


def test_microtransit_from_inside_the_zone_to_its_hub(town):
    # O (0,0) is inside the zone, 500 m from hub A: 600 + 500 x 1.5 / (20 / 3.6) = 735 s;
    # P (0, 240) is outside; stop B is no hub
    zone = square(-100, -100, 300, 100)
    service = Microtransit("pilot", zone, hubs=["A"], wait_min=10, speed_kmh=20, detour_factor=1.5)
    request = tm.engines.request.make_request(departure=EIGHT)
    seconds = service.seconds_between(
        town, points({"O": (0, 0), "P": (0, 240)}), town.stops, request
    )
    stop = list(town.stops["id"])
    assert seconds[0, stop.index("A")] == pytest.approx(735.0)
    assert np.isinf(seconds[0, stop.index("B")]) and np.isinf(seconds[1]).all()
    with pytest.raises(StudyError, match="hubs' names stops not in the network: \\['Z'\\]"):
        Microtransit("pilot", zone, hubs=["Z"]).seconds_between(
            town, points({"O": (0, 0)}), town.stops, request
        )


def test_footbridge_turns_a_20_minute_detour_into_4_minutes(town, private_cache):
    o, p = points({"O": (0, 0)}), points({"P": (0, 240)})
    bridge = WalkingLinks(
        "footbridge", links=[LineString([lonlat(0, 0), lonlat(0, 240)])],
        costs=Costs(capital=2_000_000, life_years=30, source="assumption"),
    )  # fmt: skip
    scenario = scenario_network(town, Scenario("bridge", [bridge]), private_cache / "work")
    assert walk_minutes(town, o, p) == [20.0]
    assert walk_minutes(scenario, o, p) == [4.0]
    assert scenario.osm_pbf != town.osm_pbf and scenario.gtfs == town.gtfs
    # the streets are rebuilt from the edited copy; the feed and timetable are reused
    assert scenario.timetable is town.timetable and scenario.walk is not town.walk


def test_a_closed_way_leaves_the_walk_network_only(town, private_cache):
    # the connector at x = 480 (way 102) closed to pedestrians: gone from the walk graph,
    # still in the bike graph, and the street beyond it is no longer walkable
    closure = WalkingLinks("no crossing", closed_ways=[102], costs=Costs(capital=0))
    network = scenario_network(town, Scenario("closed", [closure]), private_cache / "work")
    assert 102 in set(town.walk.edges["osm_way_id"])
    assert {101, 102} & set(network.walk.edges["osm_way_id"]) == set()
    assert 102 in set(network.bike.edges["osm_way_id"])
    with pytest.raises(StudyError, match=r"closed_ways: \[999\] are not highway ways"):
        bad = WalkingLinks("bad", closed_ways=[999], costs=Costs(capital=0))
        scenario_network(town, Scenario("bad", [bad]), private_cache / "work")


def test_shuttle_with_a_10_minute_headway_adds_5_minutes_mean_wait(town, private_cache):
    from transitmile.engines.embedded import stop_arrival_times

    # 3,000 m between its stops at 18 km/h (5 m/s): 600 s; both directions; 08:00-10:00
    shuttle = Shuttle("feeder", [{"lon": lonlat(1000, 0)[0], "lat": lonlat(1000, 0)[1]},
                                 {"lon": lonlat(4000, 0)[0], "lat": lonlat(4000, 0)[1]}],
                      headway_min=10, start="08:00", end="10:00", speed_kmh=18)  # fmt: skip
    network = scenario_network(town, Scenario("shuttle", [shuttle]), private_cache / "work")
    ids = list(network.stops["id"])
    first, second = (ids.index(s) for s in ("shuttle_feeder:feeder_1", "shuttle_feeder:feeder_2"))
    timetable = network.timetable
    assert timetable.block_headway_s.tolist() == [600, 600]
    # the street graphs are the baseline's; everything else equals a build from scratch
    assert network.walk is town.walk and network.bike is town.bike
    scratch = tm.TransportNetwork(network.osm_pbf, network.gtfs, DAY, cache=False, progress=False)
    assert scratch.walk is not town.walk
    for ours, theirs in ((network.transfer_seconds(3.6, 1200), scratch.transfer_seconds(3.6, 1200)),
                         (network.timetable, scratch.timetable)):  # fmt: skip
        for name, value in vars(ours).items():
            if isinstance(value, np.ndarray):
                np.testing.assert_array_equal(value, getattr(theirs, name), err_msg=name)
    # every phase of the headway blocks, 0..599 s: at the stop 08:30:00, board after 60 s
    # slack, ride 600 s; the wait beyond the slack is uniform on 0..599 s
    departure = 8 * 3600 + 1800
    waits = []
    for phase in range(600):
        offsets = np.full(len(timetable.block_ids), phase, np.int32)
        _, by_vehicle = stop_arrival_times(timetable, None, first, departure, block_offsets=offsets)
        waits.append(by_vehicle[second] - departure - 600 - 60)
    assert np.mean(waits) == 299.5  # (600 - 1) / 2 s: 5 minutes, to the second's phase step
    # costs: a 20-minute cycle at a 10-minute headway needs 2 vehicles for 2 hours a day
    costs = shuttle.total_costs()
    assert costs.capital == 2 * 250_000 and costs.annual_operating == 2 * 2 * 250 * 120


def test_shuttle_gtfs_passes_the_feed_layer(town, private_cache):
    shuttle = Shuttle("loop", ["A", "B"], headway_min=15, start="07:00", end="09:00", loop=True)
    path = shuttle.write_gtfs(town, private_cache)
    feed = tm.load_feeds(path, date=DAY, progress=False)
    # a loop A -> B -> A every 15 minutes for 2 hours: 8 trips, headway-based
    assert len(feed.trips) == 8 and feed.trips["headway_based"].all()
    assert set(feed.trips["headway_s"]) == {900}
    first = feed.stop_times[feed.stop_times["trip_id"] == feed.trips["trip_id"].iloc[0]]
    legs = shuttle.leg_seconds(town, shuttle.stop_table(town))
    # A (500,0) to B (4500,0): 4,000 m at 18 km/h = 800 s each way; dwell 20 s at B
    assert legs.tolist() == [800.0, 800.0]
    assert (first["arrival_time"] - first["departure_time"].iloc[0]).tolist() == [0, 800, 1620]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"stops": ["A"]}, "'stops' needs at least two stops"),
        ({"headway_min": 0}, "'headway_min' must be a number > 0, got 0"),
        ({"start": "05:00", "end": "31:00"}, "inside the service day"),
        ({"costs": None, "name": "bad name"}, "'name' must be letters"),
    ],
)
def test_bad_shuttles_are_refused(kwargs, message):
    values = {"name": "s", "stops": ["A", "B"], "headway_min": 10} | kwargs
    with pytest.raises(StudyError, match=message):
        Shuttle(**values)


def test_geometry_in_a_projected_crs_is_refused():
    with pytest.raises(StudyError, match="'zone' has coordinates .* outside longitude/latitude"):
        Microtransit(
            "m", Polygon([(485000, 6674000), (486000, 6674000), (486000, 6675000)]), hubs=["A"]
        )


def test_scooter_leg_is_find_unlock_and_ride_inside_the_area(town):
    # O (0,0) and stop A (500,0) lie inside the area: 3 min to find a scooter, 1 to unlock,
    # 500 m at 15 km/h = 120 s: 360 s; stop B (4500,0) lies outside it
    from transitmile.interventions import Scooters

    scooters = Scooters("downtown", square(-100, -100, 1000, 100))
    request = tm.engines.request.make_request(departure=EIGHT)
    seconds = scooters.seconds_between(town, points({"O": (0, 0)}), town.stops, request)
    stop = list(town.stops["id"])
    assert seconds[0, stop.index("A")] == 360.0 and np.isinf(seconds[0, stop.index("B")])
    assert scooters.describe().endswith("in a 0.2 km2 service area")  # 1,100 m x 200 m


def test_stations_beyond_the_streets_are_reported_not_dropped(town):
    from transitmile.interventions import StationsOffNetworkWarning

    stations = points({"S1": (100, 0), "S2": (4100, 0), "far": (0, 5000)})
    with pytest.warns(StationsOffNetworkWarning, match=r"stations \['far'\] lie beyond"):
        BikeShare("pilot", stations).check(town)
    nowhere = points({"a": (0, 5000), "b": (100, 5000)})
    with pytest.raises(StudyError, match="none lies within the snap radius"):
        BikeShare("pilot", nowhere).check(town)


def test_geometry_outside_the_network_names_the_scenario_and_the_field(town):
    far = LineString([lonlat(0, 90_000), lonlat(100, 90_000)])
    bridge = WalkingLinks("bridge", links=[far], costs=Costs(capital=1, source="assumption"))
    with pytest.raises(
        StudyError, match="scenario 'far': walking_links 'bridge': field 'links' lies"
    ):
        scenario_network(town, Scenario("far", [bridge]))


def test_a_failing_scenario_keeps_its_error_and_the_others_go_on(town, private_cache):
    from transitmile.scenarios import compare_scenarios

    homes = points({"O": (0, 0), "P": (0, 240)}).assign(population=[100, 50])
    work = points({"D": (4600, 0)}).assign(jobs=[1000])
    bridge = WalkingLinks(
        "footbridge", links=[LineString([lonlat(0, 0), lonlat(0, 240)])],
        costs=Costs(capital=100_000, life_years=20, source="assumption"),
    )  # fmt: skip
    broken = Microtransit("pilot", square(-100, -100, 300, 100), hubs=["nowhere"])
    stations = points({"S1": (100, 0), "S2": (4100, 0), "far": (0, 5000)})
    bikes = BikeShare("pilot", stations)
    economics = Economics(10.0, "assumption", 1.0, "assumption")
    with warnings.catch_warnings():  # one bus trip: no stop is frequent (a valid answer)
        warnings.simplefilter("ignore")
        table = compare_scenarios(
            town, [Scenario("bridge", [bridge]), Scenario("broken", [broken]),
                   Scenario("bikes", [bikes])], homes, work,
            economics=economics, departure=EIGHT, departure_time_window=dt.timedelta(minutes=10),
            workdir=private_cache / "work",
        )  # fmt: skip
    rows = table.set_index("scenario")
    assert list(rows.index) == ["baseline", "bridge", "broken", "bikes"]
    assert "stations ['far'] lie beyond the street network" in rows.loc["bikes", "warnings"]
    assert pd.isna(rows.loc["bridge", "error"])
    assert rows.loc["bridge", "capital_cost"] == 100_000
    assert "scenario 'broken': microtransit 'pilot': field 'hubs'" in rows.loc["broken", "error"]
    assert np.isnan(rows.loc["broken", "benefit_cost_ratio"])


def test_the_network_cache_key_includes_the_interventions(town):
    stations = points({"S1": (100, 0), "S2": (4100, 0)})
    keys = [
        tm.TransportNetwork(town.osm_pbf, town.gtfs, DAY, access_services=services,
                            cache=False, progress=False)._cache_key()
        for services in ([], [BikeShare("a", stations)], [BikeShare("a", stations)],
                         [BikeShare("a", stations, unlock_min=2)])
    ]  # fmt: skip
    assert keys[0] != keys[1] and keys[1] == keys[2] and keys[2] != keys[3]
