"""The Porto Alegre study's scenarios on the real network: files, feeds and the r5py request."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import transitmile as tm
from transitmile import settings
from transitmile.engines.r5 import r5py_arguments, unsupported_reasons
from transitmile.engines.request import make_request
from transitmile.scenarios import read_scenarios, scenario_network

pytestmark = pytest.mark.slow

STUDY = Path(__file__).resolve().parent.parent / "data" / "studies" / "porto_alegre.yml"
DEPARTURE = dt.datetime(2019, 5, 13, 14, 0)


@pytest.fixture(scope="session")
def poa_scenarios(poa_network, tmp_path_factory):
    """Each scenario of the study applied to the Porto Alegre baseline (built once)."""
    network, _ = poa_network
    folder = tmp_path_factory.mktemp("scenarios")
    saved = settings.cache_dir
    settings.cache_dir = folder / "cache"
    try:
        return {
            s.name: (s, scenario_network(network, s, folder / "work"))
            for s in read_scenarios(STUDY)
        }
    finally:
        settings.cache_dir = saved


def test_study_names_the_four_kinds_of_fix_with_reasons(poa_scenarios):
    kinds = {s.interventions[0].kind for s, _ in poa_scenarios.values()}
    assert kinds == {"bike_share", "shuttle", "microtransit", "walking_links"}
    for scenario, _ in poa_scenarios.values():
        assert "minutes" in scenario.notes  # each place is justified from the gap map
        for item in scenario.interventions:
            assert item.total_costs().source  # a source, or the word assumption


def test_shuttle_gtfs_passes_the_feed_layer(poa_network, poa_scenarios, tmp_path):
    network, _ = poa_network
    scenario, built = poa_scenarios["shuttle_bom_jesus"]
    (shuttle,) = scenario.interventions
    path = shuttle.write_gtfs(network, tmp_path)
    feed = tm.load_feeds(path, date=network.date, progress=False)
    # a loop every 10 minutes from 06:00 to 22:00: 96 trips through 7 stops and back
    assert len(feed.trips) == 96 and feed.trips["headway_based"].all()
    assert feed.stop_times.groupby("trip_id").size().eq(8).all()
    # joined as one more feed: its stops are frequent in the study window
    assert [s.name for s in built.feed.sources][-1] == "shuttle_bom_jesus_loop"
    frequent = tm.frequent_stops(built.feed, "14:00", "16:00", max_headway_min=15)
    assert frequent["stop_id"].str.startswith("shuttle_bom_jesus_loop:").sum() == 7


@pytest.mark.parametrize("name", ["shuttle_bom_jesus", "walking_links"])
def test_network_edits_give_r5py_the_files_the_embedded_engine_routes_on(poa_scenarios, name):
    _, network = poa_scenarios[name]
    request = make_request(departure=DEPARTURE)
    arguments = r5py_arguments(network, request, classpath="/nowhere/r5.jar")
    # R5 builds its network from exactly the files the embedded engine was built from
    assert arguments["transport_network"] == {
        "osm_pbf": str(network.osm_pbf),
        "gtfs": [str(p) for p in network.gtfs],
    }
    assert network.walk.source == network.osm_pbf
    assert [s.path for s in network.feed.sources] == list(network.gtfs)
    assert unsupported_reasons(network, request) == []


def test_walking_links_edit_a_copy_of_the_extract(poa_network, poa_scenarios):
    baseline, _ = poa_network
    _, network = poa_scenarios["walking_links"]
    assert network.osm_pbf != baseline.osm_pbf and network.gtfs == baseline.gtfs
    added = network.walk.edges["osm_way_id"].max()
    assert added > baseline.walk.edges["osm_way_id"].max()  # the new footways


def test_access_services_share_the_baseline_and_are_not_sent_to_r5(poa_network, poa_scenarios):
    baseline, _ = poa_network
    _, network = poa_scenarios["bike_share_farrapos"]
    assert network.timetable is baseline.timetable and network.walk is baseline.walk
    reasons = unsupported_reasons(network, make_request(departure=DEPARTURE))
    assert any("not supported by r5py" in r for r in reasons)
