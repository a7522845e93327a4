"""Properties of the access layer on the real Porto Alegre network.

A sample of the hexgrid (every 7th cell, 176 cells across the city), 14:00-16:00 on
Monday 2019-05-13, when both EPTC buses and Trensurb trains run.
"""

from __future__ import annotations

import datetime as dt
import importlib
import warnings

import numpy as np
import pandas as pd
import pytest

import transitmile as tm
from transitmile.access import AccessWarning
from transitmile.streets import UnsnappedPointsWarning

pytestmark = pytest.mark.slow

WINDOW = {"start": "14:00", "end": "16:00"}
DEPARTURE = dt.datetime(2019, 5, 13, 14, 0)


@pytest.fixture(scope="module")
def cells(poa_network):
    _, data = poa_network
    return data.origins.iloc[::7].reset_index(drop=True)


def quietly(function, *args, **kwargs):
    """Run without the expected warnings (cells off the OSM extract, missing jobs)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnsnappedPointsWarning)
        warnings.simplefilter("ignore", AccessWarning)
        return function(*args, **kwargs)


@pytest.fixture(scope="module")
def first(poa_network, cells):
    network, _ = poa_network
    return quietly(tm.first_mile, network, cells, **WINDOW)


def test_gap_and_served_residents_add_up_to_everyone(first, cells):
    cells = cells.assign(band=np.where(cells["population"] > 800, "dense", "sparse"))
    result = first.assign(band=cells["band"])
    summary = tm.gap_summary(result, by="band")
    served = result.loc[~result["gap"], "population"].groupby(result["band"]).sum()
    for band in ("dense", "sparse"):
        assert summary.loc[band, "residents_in_gap"] + served[band] == pytest.approx(
            cells.loc[cells["band"] == band, "population"].sum()
        )
    total = summary.loc["all"]
    assert total["residents"] == cells["population"].sum()
    assert total["residents_in_gap"] + served.sum() == total["residents"]
    assert 0 < total["gap_share"] < 1
    within = [total[f"residents_within_{m}_min"] for m in (5, 10, 15)]
    assert within == sorted(within)
    assert within[1] == total["residents"] - total["residents_in_gap"]  # threshold 10 min


def test_nearest_stop_is_never_farther_than_the_nearest_frequent_stop(first):
    both = first.dropna(subset=["walk_min_stop", "walk_min_frequent_stop"])
    assert len(both) > 0.9 * len(first)
    assert (both["walk_min_stop"] <= both["walk_min_frequent_stop"]).all()
    assert (both["frequent_stop_headway_min"] <= 15).all()
    cycled = first.dropna(subset=["bike_min_frequent_stop"])
    assert (cycled["bike_min_frequent_stop"] < cycled["walk_min_frequent_stop"]).mean() > 0.9


def test_frequent_stop_count_equals_frequent_stops(poa_network, cells, first):
    network, _ = poa_network
    frequent = tm.frequent_stops(network.feed, **WINDOW, max_headway_min=15)
    assert first.attrs["frequent_stops"] == len(frequent)
    assert set(first["frequent_stop_id"].dropna()) <= set(frequent["stop_id"])
    sheds = quietly(tm.walksheds, network, minutes=(5,), **WINDOW)
    assert len(sheds) == len(frequent)
    assert set(sheds["stop_id"]) == set(frequent["stop_id"])


def test_a_bigger_threshold_never_adds_gap_residents(poa_network, cells):
    network, _ = poa_network
    gaps = [
        quietly(tm.first_mile, network, cells, threshold_min=t, **WINDOW)["gap"].to_numpy()
        for t in (5, 10, 15)
    ]
    for narrow, wide in zip(gaps, gaps[1:], strict=False):
        assert not (wide & ~narrow).any()
    assert gaps[0].sum() > gaps[2].sum()


def test_walkshed_residents_grow_with_the_band(poa_network, cells):
    network, _ = poa_network
    frequent = tm.frequent_stops(network.feed, **WINDOW)["stop_id"].iloc[::40]
    sheds = quietly(tm.walksheds, network, stops=frequent, points=cells, **WINDOW)
    wide = sheds.pivot(index="stop_id", columns="walk_min", values="residents")
    assert (np.diff(wide.to_numpy(), axis=1) >= 0).all()
    dissolved = quietly(
        tm.walksheds, network, stops=frequent, points=cells, dissolve=True, **WINDOW
    ).set_index("walk_min")
    # each resident counted once: no more than the sum over stops, no less than the best stop
    assert (dissolved["residents"] <= wide.sum()).all()
    assert (dissolved["residents"] >= wide.max()).all()
    assert dissolved.geometry.is_valid.all()


def test_last_mile_loses_only_the_opportunities_in_the_gap(poa_network, cells):
    network, _ = poa_network
    result = quietly(tm.last_mile, network, cells, **WINDOW)
    for name in ("jobs", "schools", "healthcare"):
        lost = result[f"{name}_lost_to_gap"]
        assert lost.sum() == pytest.approx(result.loc[result["gap"], name].sum())
        assert (lost[~result["gap"]] == 0).all()


ROUTING = {
    "departure": DEPARTURE,
    "departure_time_window": dt.timedelta(minutes=3),
    "max_time": dt.timedelta(minutes=61),
}


@pytest.fixture(scope="module")
def matrix(poa_network, cells):
    network, _ = poa_network
    return quietly(
        tm.travel_time_matrix, network, cells, engine="embedded", progress=False, **ROUTING
    )


@pytest.mark.parametrize("measure", ["cumulative", "interval", "gravity", "2sfca"])
def test_network_direct_accessibility_equals_the_matrix(
    poa_network, cells, matrix, measure, monkeypatch
):
    module = importlib.import_module("transitmile.access.accessibility")
    network, _ = poa_network
    monkeypatch.setattr(module, "CHUNK_ORIGINS", 32)  # several chunks from 176 origins
    options = {"opportunities": "healthcare", "measure": measure, "cutoffs": (30, 45, 60)}
    from_matrix = quietly(tm.accessibility, matrix, cells, origins=cells, **options)
    direct = quietly(
        tm.accessibility, network, cells, origins=cells, engine="embedded", progress=False,
        **ROUTING, **options,
    )  # fmt: skip
    assert list(direct.columns) == list(from_matrix.columns)
    pd.testing.assert_frame_equal(direct, from_matrix, check_exact=True)
    assert (direct.iloc[:, 1:].to_numpy() > 0).any()


def test_two_step_floating_catchment_conserves_supply(cells, matrix):
    result = quietly(
        tm.accessibility, matrix, cells, "healthcare", "2sfca", cutoffs=(15, 30, 60)
    ).set_index("id")
    people = cells.set_index("id")["population"]
    supply = cells.set_index("id")["healthcare"].fillna(0)
    for cutoff in (15, 30, 60):
        within = matrix[matrix["travel_time"] <= cutoff]
        demanded = within.assign(people=people.reindex(within["from_id"]).to_numpy())
        reached = demanded[demanded["people"] > 0]["to_id"].unique()
        column = f"healthcare_2sfca_{cutoff}min"
        assert (people * result[column]).sum() == pytest.approx(supply[reached].sum(), rel=1e-9)
    totals = [(people * result[f"healthcare_2sfca_{c}min"]).sum() for c in (15, 30, 60)]
    assert totals == sorted(totals) and totals[0] > 0


def test_first_last_mile_share_of_typical_trips(poa_network, cells):
    network, _ = poa_network
    trips = quietly(
        tm.travel_time_matrix, network, cells, engine="embedded", progress=False,
        breakdown=True, **ROUTING,
    )  # fmt: skip
    share = tm.first_last_mile_share(trips, cells.fillna({"jobs": 0}), "jobs")
    known = share.dropna()
    assert len(known) > 0.8 * len(cells)
    assert ((known["first_last_mile_share"] > 0) & (known["first_last_mile_share"] < 1)).all()
    assert (known["access_min"] + known["egress_min"] <= known["trip_min"] + 1e-9).all()
    assert (known["opportunities_by_transit"] <= cells["jobs"].sum()).all()
