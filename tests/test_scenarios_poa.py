"""The Porto Alegre study's scenarios on the real network: files, feeds and the r5py request."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import transitmile as tm
from transitmile import settings
from transitmile.engines.r5 import r5py_arguments, unsupported_reasons
from transitmile.engines.request import make_request
from transitmile.interventions import capital_recovery_factor
from transitmile.scenarios import (
    compare_scenarios,
    implementation_plan,
    read_economics,
    read_scenarios,
    scenario_network,
)

pytestmark = pytest.mark.slow

STUDY = Path(__file__).resolve().parent.parent / "data" / "studies" / "porto_alegre.yml"
DEPARTURE = dt.datetime(2019, 5, 13, 14, 0)


@pytest.fixture(scope="session")
def scenario_folder(tmp_path_factory):
    """One folder for the scenario files and their network cache, shared by the tests."""
    return tmp_path_factory.mktemp("scenarios")


@pytest.fixture(scope="session")
def poa_scenarios(poa_network, scenario_folder):
    """Each scenario of the study applied to the Porto Alegre baseline (built once)."""
    network, _ = poa_network
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(settings, "cache_dir", scenario_folder / "cache")
        return {
            s.name: (s, scenario_network(network, s, scenario_folder / "work"))
            for s in read_scenarios(STUDY)
        }


#: Cells the study's scenarios are aimed at (see the notes in porto_alegre.yml).
TARGET_CELLS = [
    "89a90e9244bffff", "89a90e92447ffff", "89a90e92457ffff",  # west of Farrapos
    "89a90129177ffff", "89a90129123ffff", "89a9012912bffff", "89a9012913bffff",  # Bom Jesus
    "89a9012a22fffff", "89a9012b1a7ffff", "89a9012a26bffff",  # Belem Velho
    "89a9012a15bffff", "89a90129e97ffff",  # the two cut-throughs
]  # fmt: skip


@pytest.fixture(scope="session")
def comparison(poa_network, poa_scenarios, scenario_folder):
    """compare_scenarios on every 50th cell plus the cells the scenarios aim at."""
    network, data = poa_network
    cells = data.origins
    sample = cells[(cells.index % 50 == 0) | cells["id"].isin(TARGET_CELLS)].reset_index(drop=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(settings, "cache_dir", scenario_folder / "cache")
        table = compare_scenarios(
            network, read_scenarios(STUDY), sample, cells, economics=read_economics(STUDY),
            departure=DEPARTURE, departure_time_window=dt.timedelta(minutes=10),
            start="14:00", end="16:00", workdir=scenario_folder / "work",
        )  # fmt: skip
    return table.set_index("scenario"), read_economics(STUDY)


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


def test_no_intervention_makes_a_baseline_metric_worse(comparison):
    table, _ = comparison
    ran = table.drop(index="baseline")
    assert ran["error"].isna().all(), ran["error"].dropna().to_dict()
    assert (ran["residents_within_10_min_change"] >= 0).all()
    assert (ran["residents_in_gap_change"] <= 0).all()
    assert (ran["median_first_mile_min_change"] <= 0).all()
    assert (ran["jobs_within_45_min_mean_change"] >= 0).all()
    assert (ran["gap_residents_closed"] == -ran["residents_in_gap_change"]).all()
    # every scenario helps someone it was aimed at
    assert (ran["time_saved_person_min_per_weekday"] > 0).all()


def test_costs_and_benefit_cost_ratio_recompute_by_hand(comparison):
    table, economics = comparison
    items = pd.DataFrame(table.attrs["interventions"]).set_index("scenario")
    for name, row in table.drop(index="baseline").iterrows():
        item = items.loc[name]
        crf = capital_recovery_factor(economics.discount_rate, item["life_years"])
        annualised = item["capital_cost"] * crf + item["annual_operating_cost"]
        assert row["annualised_cost"] == pytest.approx(annualised)
        hours_a_year = row["time_saved_person_min_per_weekday"] / 60 * economics.annualisation_days
        value = hours_a_year * economics.value_of_time_per_hour
        assert row["annual_time_savings_value"] == pytest.approx(value)
        assert row["benefit_cost_ratio"] == pytest.approx(value / annualised)
        closed = row["gap_residents_closed"]
        expected = annualised / closed if closed > 0 else np.nan
        assert row["cost_per_new_resident_served"] == pytest.approx(expected, nan_ok=True)


def test_plan_has_a_90_day_checklist_and_what_follows(comparison):
    table, _ = comparison
    plan = implementation_plan(table.reset_index().__finalize__(table))
    assert plan["phase"].tolist() == ["90 days", "90 days", "3-12 months", "1-3 years"]
    assert set(plan.loc[plan["phase"] == "90 days", "type"]) == {"bike_share", "microtransit"}
    assert sorted(plan["rank"]) == [1, 2, 3, 4]
