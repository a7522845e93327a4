"""Properties of the access layer on the real Porto Alegre network.

A sample of the hexgrid (every 7th cell, 176 cells across the city), 14:00-16:00 on
Monday 2019-05-13, when both EPTC buses and Trensurb trains run.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import transitmile as tm
from transitmile.access import AccessWarning
from transitmile.streets import UnsnappedPointsWarning

pytestmark = pytest.mark.slow

WINDOW = {"start": "14:00", "end": "16:00"}


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
