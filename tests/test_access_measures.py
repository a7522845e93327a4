"""Accessibility, inequality and door-to-door shares on tiny tables worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import transitmile as tm
from transitmile.errors import AccessError

# Two neighbourhoods and two clinics (Luo & Wang's 2SFCA, worked by hand):
# O1 (100 people) is 10 min from D1 and 40 from D2; O2 (300 people) 20 and 25 min.
MATRIX = pd.DataFrame(
    {
        "from_id": ["O1", "O1", "O2", "O2"],
        "to_id": ["D1", "D2", "D1", "D2"],
        "travel_time": [10.0, 40.0, 20.0, 25.0],
    }
)
CLINICS = pd.DataFrame({"id": ["D1", "D2"], "doctors": [10.0, 20.0], "jobs": [10, 20]})
HOMES = pd.DataFrame({"id": ["O1", "O2"], "population": [100, 300]})


def access(measure, cutoffs, **kwargs):
    import geopandas as gpd

    origins = gpd.GeoDataFrame(HOMES, geometry=gpd.points_from_xy([0, 1], [0, 0]), crs=4326)
    kwargs.setdefault("opportunities", "jobs")
    return tm.accessibility(
        MATRIX, CLINICS, measure=measure, cutoffs=cutoffs, origins=origins, **kwargs
    ).set_index("id")


def test_cumulative_opportunities():
    result = access("cumulative", (30, 45))
    assert list(result.columns) == ["jobs_cumulative_30min", "jobs_cumulative_45min"]
    assert result.loc["O1"].tolist() == [10, 30]
    assert result.loc["O2"].tolist() == [30, 30]
    # a cutoff counts trips of exactly that length (IPEA: travel_time <= cutoff)
    assert access("cumulative", (25,)).loc["O2", "jobs_cumulative_25min"] == 30


def test_cumulative_interval_is_the_mean_over_the_minutes_of_the_interval():
    result = access("interval", (20, 30))
    assert list(result.columns) == ["jobs_interval_20_30min"]
    assert result.loc["O1", "jobs_interval_20_30min"] == pytest.approx(10.0)
    # D2 (25 min) counts at the cutoffs 25..30: 6 of the 11
    assert result.loc["O2", "jobs_interval_20_30min"] == pytest.approx(10 + 20 * 6 / 11)
    single = [access("cumulative", (c,)).iloc[:, 0] for c in range(20, 31)]
    assert result.iloc[:, 0].to_numpy() == pytest.approx(np.mean(single, axis=0))


def test_gravity_with_negative_exponential_decay():
    result = access("gravity", (30,), decay=0.1)
    assert result.loc["O1", "jobs_gravity_30min"] == pytest.approx(10 * math.exp(-1))
    assert result.loc["O2", "jobs_gravity_30min"] == pytest.approx(
        10 * math.exp(-2) + 20 * math.exp(-2.5)
    )


def test_two_step_floating_catchment_by_hand():
    result = access("2sfca", (15, 30), opportunities="doctors")
    # 30 min: D1 serves 400 people (10/400 each), D2 only O2's 300 (20/300 each)
    assert result.loc["O1", "doctors_2sfca_30min"] == pytest.approx(10 / 400)
    assert result.loc["O2", "doctors_2sfca_30min"] == pytest.approx(10 / 400 + 20 / 300)
    # 15 min: only O1 reaches D1, nobody reaches D2
    assert result.loc["O1", "doctors_2sfca_15min"] == pytest.approx(10 / 100)
    assert result.loc["O2", "doctors_2sfca_15min"] == 0
    # supply is conserved: people x access adds up to the doctors someone reaches
    people = HOMES.set_index("id")["population"]
    assert (people * result["doctors_2sfca_30min"]).sum() == pytest.approx(30)
    assert (people * result["doctors_2sfca_15min"]).sum() == pytest.approx(10)


def test_two_step_floating_catchment_reads_people_from_the_destinations_layer():
    layer = pd.DataFrame(
        {"id": ["O1", "O2", "D1", "D2"], "population": [100, 300, 0, 0], "doctors": [0, 0, 10, 20]}
    )
    result = tm.accessibility(MATRIX, layer, "doctors", "2sfca", cutoffs=(30,)).set_index("id")
    assert result.loc["O2", "doctors_2sfca_30min"] == pytest.approx(10 / 400 + 20 / 300)
    with pytest.raises(AccessError, match="people at each origin"):
        tm.accessibility(MATRIX, CLINICS, "doctors", "2sfca", cutoffs=(30,))


def test_percentile_columns_and_bad_arguments():
    spread = MATRIX.rename(columns={"travel_time": "travel_time_p25"})
    result = tm.accessibility(spread, CLINICS, cutoffs=(30,), percentile=25).set_index("id")
    assert result.loc["O1", "jobs_cumulative_30min"] == 10
    with pytest.raises(AccessError, match="travel_time_p50"):
        tm.accessibility(spread, CLINICS)
    with pytest.raises(AccessError, match="'measure'.*'isochrone'"):
        tm.accessibility(MATRIX, CLINICS, measure="isochrone")
    with pytest.raises(AccessError, match="'cutoffs'"):
        tm.accessibility(MATRIX, CLINICS, cutoffs=(30, -5))
    with pytest.raises(AccessError, match="'interval'"):
        tm.accessibility(MATRIX, CLINICS, measure="interval", cutoffs=(30,))
    with pytest.raises(AccessError, match="opportunity column 'beds'"):
        tm.accessibility(MATRIX, CLINICS, opportunities="beds")
    with pytest.raises(AccessError, match="'D2' has -20"):
        tm.accessibility(MATRIX, CLINICS.assign(jobs=[10, -20]))


# ------------------------------------------------------------------------ inequality
def frame(**columns):
    return pd.DataFrame(columns)


def test_palma_ratio_worked():
    ten = frame(access=[0, 1, 2, 3, 4, 5, 6, 7, 8, 20], population=[1] * 10)
    # richest 10% (by access): 20; poorest 40%: mean of 0..3 = 1.5
    assert tm.inequality(ten, "access").loc["all", "palma_ratio"] == pytest.approx(20 / 1.5)
    # ranked by income the other way round, the poorest have the most access
    poor_first = ten.assign(income=list(range(10, 0, -1)))
    table = tm.inequality(poor_first, "access", rank_by="income")
    assert table.loc["all", "palma_ratio"] == 0
    # a unit straddling the 40% line is split: 30% at 1 and 10% of the next at 3
    split = frame(access=[1, 3, 9], population=[3, 3, 4])
    assert tm.inequality(split, "access").loc["all", "palma_ratio"] == pytest.approx(9 / 1.5)


def test_gini_and_concentration_worked():
    four = frame(access=[0, 0, 10, 30], population=[1, 1, 1, 1], income=[1, 2, 3, 4])
    assert tm.inequality(four, "access", "gini").loc["all", "gini"] == pytest.approx(0.625)
    pooled = frame(access=[0, 10, 30], population=[2, 1, 1])
    assert tm.inequality(pooled, "access", "gini").loc["all", "gini"] == pytest.approx(0.625)
    rich = tm.inequality(four, "access", "concentration", rank_by="income")
    assert rich.loc["all", "concentration_index"] == pytest.approx(0.625)
    poor = tm.inequality(
        four.assign(income=[4, 3, 2, 1]), "access", "concentration", rank_by="income"
    )
    assert poor.loc["all", "concentration_index"] == pytest.approx(-0.625)
    itself = tm.inequality(four, "access", "concentration")
    assert itself.loc["all", "concentration_index"] == pytest.approx(0.625)  # = Gini


def test_theil_between_and_within_add_up():
    data = frame(access=[1, 1, 2, 4], population=[1, 1, 1, 1], area=["a", "a", "b", "b"])
    table = tm.inequality(data, "access", "theil", by="area")
    row = table.loc["all"]
    assert row["theil_t"] == pytest.approx(0.25 * math.log(2))
    assert row["theil_between"] == pytest.approx(0.25 * math.log(0.5) + 0.75 * math.log(1.5))
    t_b = 0.5 * ((2 / 3) * math.log(2 / 3) + (4 / 3) * math.log(4 / 3))
    assert row["theil_within"] == pytest.approx(0.75 * t_b)
    assert row["theil_between"] + row["theil_within"] == pytest.approx(row["theil_t"], abs=1e-15)
    assert table.loc["a", "theil_t"] == 0
    assert table.loc["b", "theil_t"] == pytest.approx(t_b)


def test_fgt_poverty_worked():
    data = frame(access=[0, 5, 10, 20], population=[1, 1, 1, 1])
    row = tm.inequality(data, "access", "fgt", poverty_line=10).loc["all"]
    assert row["fgt0_headcount"] == 0.5  # 10 itself is not below the line
    assert row["fgt1_gap"] == pytest.approx((1 + 0.5) / 4)
    assert row["fgt2_severity"] == pytest.approx((1 + 0.25) / 4)
    with pytest.raises(AccessError, match="poverty_line"):
        tm.inequality(data, "access", "fgt")


def test_inequality_by_group_and_bad_arguments():
    data = frame(access=[0, 10, 30, 30], population=[1, 1, 2, 0], city=["x", "x", "y", "y"])
    table = tm.inequality(data, "access", "gini", by="city")
    assert list(table.index) == ["x", "y", "all"]
    assert table.loc["x", "gini"] == pytest.approx(0.5)
    assert table.loc["y", "gini"] == 0
    assert table.loc["y", "population"] == 2 and table.loc["y", "mean"] == 30
    with pytest.raises(AccessError, match="'measure'"):
        tm.inequality(data, "access", "atkinson")
    with pytest.raises(AccessError, match="column 'income'"):
        tm.inequality(data, "access", rank_by="income")
    with pytest.raises(AccessError, match="rank_by"):
        tm.inequality(data.assign(income=1), "access", "gini", rank_by="income")


# ----------------------------------------------------------------------- door to door
def test_first_last_mile_share_weighted_by_opportunities():
    parts = ["access_time", "wait_time", "in_vehicle_time", "transfer_time", "egress_time"]
    rows = pd.DataFrame(
        [
            ["O1", "D1", 5, 2, 10, 0, 3],  # 20 min, first/last mile 8: 0.4
            ["O1", "D2", 5, 5, 20, 5, 5],  # 40 min, 10: 0.25
            ["O1", "D3", np.nan, np.nan, np.nan, np.nan, np.nan],  # walked: no transit trip
            ["O1", "O1", 0, 0, 0, 0, 0],  # itself
            ["O2", "D1", np.nan, np.nan, np.nan, np.nan, np.nan],
        ],
        columns=["from_id", "to_id", *parts],
    )
    jobs = pd.DataFrame({"id": ["D1", "D2", "D3", "O1"], "jobs": [30, 10, 99, 5]})
    result = tm.first_last_mile_share(rows, jobs).set_index("id")
    o1 = result.loc["O1"]
    assert o1["first_last_mile_share"] == pytest.approx((30 * 0.4 + 10 * 0.25) / 40)
    assert o1["access_min"] == 5
    assert o1["egress_min"] == pytest.approx((30 * 3 + 10 * 5) / 40)
    assert o1["trip_min"] == pytest.approx((30 * 20 + 10 * 40) / 40)
    assert o1["opportunities_by_transit"] == 40
    assert np.isnan(result.loc["O2", "first_last_mile_share"])
    with pytest.raises(AccessError, match="breakdown=True"):
        tm.first_last_mile_share(MATRIX, jobs)
