"""Properties of travel_time_matrix on the real Porto Alegre network.

Every 15th hexgrid cell (82 origins and destinations across the city), 14:00 on
Monday 2019-05-13, when both EPTC buses and Trensurb trains run.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

import transitmile as tm

pytestmark = pytest.mark.slow

DEPARTURE = dt.datetime(2019, 5, 13, 14, 0)


@pytest.fixture(scope="module")
def cells(poa_network):
    network, data = poa_network
    return data.origins.iloc[::15].reset_index(drop=True)


def matrix(poa_network, cells, **kwargs):
    network, _ = poa_network
    kwargs.setdefault("departure", DEPARTURE)
    frame = tm.travel_time_matrix(
        network, cells, cells, engine="embedded", progress=False, **kwargs
    )
    return frame.set_index(["from_id", "to_id"])


def no_slower(fast, slow, column="travel_time"):
    """Where ``slow`` reaches, ``fast`` reaches too and takes no longer."""
    reached = slow[column].notna()
    assert fast.loc[reached, column].notna().all()
    gap = (fast.loc[reached, column] - slow.loc[reached, column]).to_numpy()
    assert (gap <= 0).all(), f"{(gap > 0).sum()} pairs slower, worst by {gap.max()} min"


@pytest.fixture(scope="module")
def base(poa_network, cells):
    return matrix(poa_network, cells)


def test_transit_is_useful_and_never_worse_than_walking(poa_network, cells, base):
    walk = matrix(poa_network, cells, transport_modes=("WALK",))
    no_slower(base, walk)
    both = base["travel_time"].notna() & walk["travel_time"].notna()
    faster = (base.loc[both, "travel_time"] < walk.loc[both, "travel_time"]).mean()
    assert faster > 0.5, f"transit beats walking for only {faster:.0%} of pairs"
    assert base["travel_time"].notna().mean() > walk["travel_time"].notna().mean()


def test_percentiles_are_ordered(poa_network, cells):
    frame = matrix(poa_network, cells, percentiles=(5, 25, 50, 75, 95))
    values = frame[[f"travel_time_p{p}" for p in (5, 25, 50, 75, 95)]].dropna().to_numpy()
    assert len(values) > 0.5 * len(frame)
    assert (np.diff(values, axis=1) >= 0).all()
    assert (values[:, -1] > values[:, 0]).mean() > 0.3  # the window matters for many pairs


def test_faster_walking_is_never_slower(poa_network, cells, base):
    brisk = matrix(poa_network, cells, speed_walking=4.8)
    no_slower(brisk, base)


def test_more_rides_are_never_slower(poa_network, cells, base):
    one = matrix(poa_network, cells, max_public_transport_rides=1)
    two = matrix(poa_network, cells, max_public_transport_rides=2)
    no_slower(two, one)
    no_slower(base, two)


@pytest.mark.parametrize("rides", [8, 3])
def test_pruned_search_gives_the_per_round_search_s_matrix(poa_network, cells, monkeypatch, rides):
    # settings.prune_dominated changes how the search runs, never its answer: real
    # streets, r5py's 10-minute window, several percentiles, with the ride limit loose
    # (r5py's 8: the pruned searches stand) and binding (3: they are redone).
    from transitmile import settings

    kwargs = {"percentiles": (5, 50, 95), "max_public_transport_rides": rides}
    pruned = matrix(poa_network, cells, **kwargs)
    monkeypatch.setattr(settings, "prune_dominated", False)
    per_round = matrix(poa_network, cells, **kwargs)
    assert pruned.attrs["settings"]["prune_dominated"] is True
    assert per_round.attrs["settings"]["prune_dominated"] is False
    pd.testing.assert_frame_equal(pruned, per_round)


def test_less_boarding_slack_is_never_slower(poa_network, cells, base):
    quick = matrix(poa_network, cells, min_transfer_time=dt.timedelta(seconds=0))
    no_slower(quick, base)


def test_breakdown_adds_up_to_the_median_trip(poa_network, cells):
    frame = matrix(poa_network, cells, breakdown=True)
    parts = ["access_time", "wait_time", "in_vehicle_time", "transfer_time", "egress_time"]
    transit = frame.dropna(subset=parts)
    assert len(transit) > 0.3 * len(frame)
    total = transit[parts].sum(axis=1)
    # parts are exact minutes; travel_time is the floor of the same trip's minutes
    assert (np.floor(total + 1e-9) == transit["travel_time"]).all()
    assert (transit[parts] >= 0).all().all()
    assert (transit["in_vehicle_time"] > 0).all()


def test_unsnapped_stops_do_not_break_routing(poa_network):
    network, _ = poa_network
    snapped = network.snapped_stops("WALK").snapped
    # about 30% of the stops lie beyond the OSM extract: they stay in the timetable
    assert 0.5 < snapped.mean() < 0.9
    assert len(network.stops) == 4010


def test_shared_searches_give_the_same_matrix(poa_network, cells, base):
    # Destinations that are the origins reuse the walking access table as egress (walking
    # is symmetric); a copy of the layer takes the general path: the frames must be equal.
    network, _ = poa_network
    copy = cells.copy()
    general = tm.travel_time_matrix(
        network, cells, copy, departure=DEPARTURE, engine="embedded", progress=False
    ).set_index(["from_id", "to_id"])
    assert general["travel_time"].equals(base["travel_time"])
