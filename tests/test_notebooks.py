"""Notebooks stay thin, output-free in git, and run end to end with papermill."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import nbformat
import pytest

matplotlib.use("Agg")

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


def test_there_are_numbered_notebooks():
    assert [p.name[:3] for p in NOTEBOOKS] == [f"{i:02d}_" for i in range(1, len(NOTEBOOKS) + 1)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs_and_with_a_parameters_cell(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "run nbstripout"
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1


def test_nbstripout_has_nothing_to_strip():
    import subprocess
    import sys

    pytest.importorskip("nbstripout")
    done = subprocess.run(
        [sys.executable, "-m", "nbstripout", "--verify", *map(str, NOTEBOOKS)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_notebook_of_the_study_ran(study_reports):
    folder, runs = study_reports
    assert {name: run.status for name, run in runs.items()} == {p.stem: "ok" for p in NOTEBOOKS}
    for name in runs:
        nb = nbformat.read(folder / f"{name}.ipynb", as_version=4)
        errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
        assert not errors, name


def _markdown(folder, name):
    nb = nbformat.read(folder / f"{name}.ipynb", as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    return [o.get("data", {}).get("text/markdown", "") for o in outputs], outputs


def test_feed_overview_records_the_frequent_stops_and_states_its_takeaway(study_reports, poa_feed):
    from transitmile import frequent_stops, stop_service

    folder, runs = study_reports
    records = runs["01_feed_overview"].records
    service = stop_service(poa_feed, "14:00", "16:00")
    assert records["stops"] == len(service) == 4010
    assert records["served_stops"] == int((service["trips"] > 0).sum())
    assert records["frequent_stops"] == len(frequent_stops(poa_feed, "14:00", "16:00", 15)) == 2489
    texts, outputs = _markdown(folder, "01_feed_overview")
    takeaway = next(t for t in texts if "Takeaway" in t)
    assert "2,489 of 3,873 stops served between 14:00 and 16:00 on 2019-05-13" in takeaway
    pngs = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(pngs) == 2  # the headway chart and the static map
    method = next(t for t in texts if "licences" in t)
    assert "ODbL" in method and "2019-05-13" in method


def test_headway_figure_is_titled_and_labelled(poa_feed):
    from transitmile import plots, stop_service

    service = stop_service(poa_feed, "14:00", "16:00")
    ax = plots.plot_stop_headways(service, 15, window="14:00-16:00")
    assert "64% of served stops are frequent" in ax.get_title()
    assert "min" in ax.get_xlabel() and ax.get_ylabel() == "stops"
    fmap = plots.map_stop_service(service, 15)
    html = fmap.get_root().render()
    assert "15 min) (2489)" in html  # the layer of frequent stops, with its count


def test_access_gaps_records_match_the_library_on_the_same_sample(study_reports, poa_network):
    import transitmile as tm
    from transitmile.study import origin_sample

    from .conftest import TEST_SAMPLE_ORIGINS

    folder, runs = study_reports
    records = runs["02_access_gaps"].records
    network, data = poa_network
    origins = origin_sample(data.origins, TEST_SAMPLE_ORIGINS)
    assert records["origins"] == len(origins) == TEST_SAMPLE_ORIGINS
    first_mile = tm.first_mile(network, origins, start="14:00", end="16:00", threshold_min=10)
    in_gap = float(first_mile.loc[first_mile["gap"], "population"].sum())
    assert records["residents"] == pytest.approx(float(origins["population"].sum()))
    assert records["residents_in_gap"] == pytest.approx(in_gap)
    assert records["gap_share"] == pytest.approx(in_gap / records["residents"])
    bands = records["walkshed_residents"]
    assert bands["5.0"] <= bands["10.0"] <= bands["15.0"] <= records["residents"]
    # residents within 10 minutes by the walksheds = those not in the gap by the first mile
    assert bands["10.0"] == pytest.approx(records["residents"] - in_gap)
    lost = records["opportunities_lost_to_gap"]
    assert 0 < lost["jobs"] < data.origins["jobs"].sum()
    # door to door: the best-served reach at least as much as the worst-served
    assert records["engine"] in ("embedded", "r5py")
    assert set(records["palma_ratio"]) == {"30", "45", "60"}
    assert all(1.0 <= ratio < 100 for ratio in records["palma_ratio"].values())
    assert 0.0 < records["median_first_last_mile_share"] < 1.0
    assert set(records["jobs_mean_by_gap"]) <= {"True", "False"}
    texts, outputs = _markdown(folder, "02_access_gaps")
    assert any("live more than 10 min on foot from frequent transit" in t for t in texts)
    method = next(t for t in texts if "licences" in t)
    assert f"Routing engine: {records['engine']}" in method and "percentile 50" in method
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 5


def test_interventions_records_a_comparison_that_recomputes_by_hand(study_reports):
    import pandas as pd

    folder, runs = study_reports
    records = runs["03_interventions"].records
    table = pd.DataFrame(records["comparison"]).set_index("scenario")
    assert table.index[0] == "baseline" and len(table) == 5
    ran = table.drop(index="baseline")
    assert ran["error"].isna().all(), ran["error"].dropna().to_dict()
    base = table.loc["baseline"]
    # no intervention makes a baseline figure worse
    assert (ran["residents_in_gap"] <= base["residents_in_gap"]).all()
    assert (ran["jobs_within_45_min_mean"] >= base["jobs_within_45_min_mean"] - 1e-6).all()
    assert (ran["time_saved_person_min_per_weekday"] >= 0).all()
    # the money recomputes from the table: value of time saved / annualised cost
    assert ran["benefit_cost_ratio"].to_numpy() == pytest.approx(
        (ran["annual_time_savings_value"] / ran["annualised_cost"]).to_numpy()
    )
    # the per-area change map agrees with the comparison for the network-editing scenarios
    walking = records["gap_residents_closed_by_walking"]
    assert set(walking) == {"shuttle_bom_jesus", "walking_links"}
    for name, closed in walking.items():
        assert closed == pytest.approx(ran.loc[name, "gap_residents_closed"])
    plan = pd.DataFrame(records["plan"])
    assert set(plan["scenario"]) <= set(ran.index)
    assert plan["phase"].iloc[0] == "90 days"
    texts, outputs = _markdown(folder, "03_interventions")
    assert any("90-day checklist has" in t for t in texts)
    method = next(t for t in texts if "licences" in t)
    assert "Value of time" in method and "Discount rate" in method
