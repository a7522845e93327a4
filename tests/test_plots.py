"""Figures for the access-gap reports, on hand-made frames with worked-out titles."""

from __future__ import annotations

import geopandas as gpd
import matplotlib
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from transitmile import plots

matplotlib.use("Agg")


@pytest.fixture
def first_mile():
    """Four 1 km squares in UTM 22S (Porto Alegre): 1,000 residents, two in the gap."""
    squares = [box(480_000 + 1000 * i, 6_670_000, 481_000 + 1000 * i, 6_671_000) for i in range(4)]
    return gpd.GeoDataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "population": [100.0, 200.0, 300.0, 400.0],
            "walk_min_frequent_stop": [5.0, 12.0, np.nan, 8.0],
            "bike_min_frequent_stop": [2.0, 4.0, 20.0, 3.0],
            "gap": [False, True, True, False],
        },
        geometry=squares,
        crs="EPSG:32722",
    )


def test_weighted_share_counts_missing_as_beyond(first_mile):
    share = plots.weighted_share(first_mile["walk_min_frequent_stop"], first_mile["population"], 10)
    assert share == pytest.approx(0.5)  # 100 + 400 of 1,000; the NaN area is beyond reach


def test_first_mile_ecdf_title_states_both_shares(first_mile):
    ax = plots.plot_first_mile_ecdf(first_mile, 10)
    assert ax.get_title() == (
        "Residents within 10 min of frequent transit: 50% walking, 70% cycling"
    )
    assert "minutes" in ax.get_xlabel() and ax.get_ylabel() == "share of residents"
    # each curve ends at 1: the unreachable area is drawn at the cap, not dropped
    for line in ax.get_lines()[:2]:
        assert line.get_ydata()[-1] == pytest.approx(1.0)


def test_gap_map_outlines_the_gap_and_counts_its_residents(first_mile):
    ax = plots.plot_gap_map(first_mile, 10)
    assert ax.get_title() == "The gap (outlined, > 10 min walk): 2 of 4 areas, 500 residents"
    assert ax.get_xlabel() == "longitude (°)"


def test_walkshed_coverage_bars_are_shares_of_the_totals():
    coverage = pd.DataFrame(
        {"walk_min": [5.0, 10.0, 15.0], "residents": [100.0, 300.0, 600.0],
         "jobs": [50.0, 100.0, 200.0]}
    )  # fmt: skip
    ax = plots.plot_walkshed_coverage(coverage, residents=1000, jobs=400)
    assert ax.get_title() == (
        "Within 15 min walk of a frequent stop: 60% of residents, 50% of jobs"
    )
    heights = sorted(round(p.get_height(), 3) for p in ax.patches if p.get_height() > 0)
    assert heights == [0.1, 0.125, 0.25, 0.3, 0.5, 0.6]


def test_walkshed_map_states_the_widest_band_area(first_mile):
    coverage = gpd.GeoDataFrame(
        {"walk_min": [5.0, 15.0]},
        geometry=[box(480_000, 6_670_000, 480_500, 6_670_500),
                  box(480_000, 6_670_000, 482_000, 6_671_000)],
        crs="EPSG:32722",
    )  # fmt: skip
    ax = plots.plot_walkshed_map(coverage, first_mile)
    assert ax.get_title() == "Walksheds of frequent stops: 2.0 km² within 15 min"


def test_gap_map_interactive_layers_and_offline_guard(first_mile):
    fmap = plots.map_gaps(first_mile, 10)
    page = plots.interactive_map(fmap).page()
    assert '"in the gap (\\u003e 10 min walk) (2)"' in page  # layer names, with counts
    assert "served (2)" in page
    assert "if (window.L) {" in page and plots.OFFLINE_MESSAGE[:40] in page
    frame = plots.interactive_map(fmap)._repr_html_()
    assert frame.startswith("<iframe srcdoc=") and "Make this Notebook Trusted" not in frame


@pytest.fixture
def comparison():
    """A compare_scenarios-shaped table: the baseline and two scenarios, one failed."""
    return pd.DataFrame({
        "scenario": ["baseline", "shuttle", "links"],
        "error": [None, None, "StudyError: broken"],
        "residents_in_gap": [500.0, 300.0, np.nan],
        "time_saved_person_min_per_weekday": [np.nan, 1234.4, np.nan],
        "annualised_cost": [np.nan, 100_000.0, np.nan],
        "annual_time_savings_value": [np.nan, 150_000.0, np.nan],
        "benefit_cost_ratio": [np.nan, 1.5, np.nan],
    })  # fmt: skip


def test_scenario_table_headings_carry_units(comparison):
    table = plots.scenario_table(comparison, "BRL")
    assert list(table.index) == ["baseline", "shuttle", "links"]
    assert table.loc["shuttle", "time saved (person-min per weekday)"] == 1234.0
    assert table.loc["shuttle", "annualised cost (BRL per year)"] == 100_000.0
    assert table.loc["shuttle", "benefit-cost ratio"] == 1.5
    assert table.loc["links", "error"] == "StudyError: broken"


def test_scenario_bars_leave_out_the_baseline_and_mark_the_reference(comparison):
    ax = plots.plot_scenario_bars(
        comparison, "benefit_cost_ratio", label="benefit-cost ratio", title="t", reference=1.0
    )
    assert [t.get_text() for t in ax.get_yticklabels()] == ["shuttle", "links"]
    assert sorted(p.get_width() for p in ax.patches) == [0.0, 1.5]  # a failed scenario: 0
    assert ax.get_lines()[-1].get_xdata()[0] == 1.0


def test_intervention_shapes_place_a_shuttle_through_its_stops():
    from transitmile.scenarios import parse_scenarios

    scenarios = parse_scenarios(
        [{"name": "loop", "notes": "", "interventions": [{
            "type": "shuttle", "name": "l", "headway_min": 10, "start": "06:00", "end": "22:00",
            "speed_kmh": 15, "stops": ["s1", {"name": "x", "lon": -51.2, "lat": -30.0}],
        }]}],
        base_dir=".",
    )  # fmt: skip
    stops = gpd.GeoDataFrame(
        {"id": ["s1"]}, geometry=gpd.points_from_xy([-51.1], [-30.1]), crs=4326
    )
    shapes = plots.intervention_shapes(scenarios, stops)
    assert list(shapes["scenario"]) == ["loop"] and list(shapes["type"]) == ["shuttle"]
    assert list(shapes.geometry.iloc[0].coords) == [(-51.1, -30.1), (-51.2, -30.0)]


def test_first_mile_change_maps_minutes_saved_and_residents_out_of_the_gap(first_mile):
    after = first_mile.copy()
    after["walk_min_frequent_stop"] = [5.0, 9.0, 40.0, 8.0]  # b: 12 -> 9; c: beyond reach
    after["gap"] = [False, False, True, False]
    figure = plots.plot_first_mile_change(first_mile, {"shuttle": after})
    assert figure.axes[0].get_title() == "shuttle:\n1 areas closer, 200 residents out of the gap"
