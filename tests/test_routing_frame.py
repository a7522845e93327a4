"""The r5py-shaped frame and the checks on origins/destinations (no network needed)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString, Point

from transitmile.engines.frame import result_frame
from transitmile.errors import RoutingError
from transitmile.routing import check_points
from transitmile.sparse import SparseTimes, min_tables


def points(ids, crs="EPSG:4326"):
    return gpd.GeoDataFrame(
        {"id": ids}, geometry=[Point(-51.2 + 0.001 * i, -30.0) for i in range(len(ids))], crs=crs
    )


def test_frame_names_columns_like_r5py():
    o, d = points(["a", "b"]), points(["a", "c", "d"])
    minutes = np.arange(12, dtype=float).reshape(2, 3, 2)
    minutes[1, 2, :] = np.nan
    frame = result_frame(o, d, minutes, (25, 75), None)
    assert list(frame.columns) == ["from_id", "to_id", "travel_time_p25", "travel_time_p75"]
    assert list(frame["from_id"]) == ["a", "a", "a", "b", "b", "b"]
    assert list(frame["to_id"]) == ["a", "c", "d", "a", "c", "d"]
    # an origin is 0 minutes from itself (r5py sets this), other values as given
    assert frame["travel_time_p25"].tolist()[:3] == [0.0, 2.0, 4.0]
    assert frame["travel_time_p75"].tolist()[3:5] == [7.0, 9.0]
    assert np.isnan(frame["travel_time_p75"].iloc[5])
    median_only = result_frame(o, d, minutes[:, :, :1], (50,), None)
    assert list(median_only.columns) == ["from_id", "to_id", "travel_time"]
    one_other = result_frame(o, d, minutes[:, :, :1], (75,), None)
    assert list(one_other.columns) == ["from_id", "to_id", "travel_time_p75"]


def test_frame_zeroes_exactly_the_pairs_of_a_point_with_itself():
    # Destinations shared with the origins in another order, plus one of their own.
    o, d = points([10, 20, 30]), points([30, 40, 10])
    frame = result_frame(o, d, np.full((3, 3, 1), 5.0), (50,), None)
    assert list(frame["from_id"]) == [10, 10, 10, 20, 20, 20, 30, 30, 30]
    assert list(frame["to_id"]) == [30, 40, 10] * 3
    assert frame["travel_time"].tolist() == [5.0, 5.0, 0.0, 5.0, 5.0, 5.0, 0.0, 5.0, 5.0]
    # object ids stay object (no inference to a string dtype)
    o_obj = points(["x", "y"]).astype({"id": object})
    frame = result_frame(o_obj, o_obj, np.full((2, 2, 1), 5.0), (50,), None)
    assert frame["from_id"].dtype == object and frame["to_id"].dtype == object
    assert frame["travel_time"].tolist() == [0.0, 5.0, 5.0, 0.0]


def test_frame_keeps_integer_id_dtype():
    o = points([10, 20])
    frame = result_frame(o, o, np.ones((2, 2, 1)), (50,), None)
    assert frame["from_id"].dtype == o["id"].dtype
    assert frame["travel_time"].dtype == "float64"


def test_min_tables_takes_pairwise_minimum_including_zero_times():
    # row 0 reaches columns 0 and 2 (5 s and 0 s), row 1 reaches column 1 (7 s)
    a = SparseTimes(
        np.array([0, 2, 3]), np.array([0, 2, 1], np.int32), np.array([5, 0, 7], np.int32), (2, 3)
    )
    b = SparseTimes(
        np.array([0, 1, 2]), np.array([2, 1], np.int32), np.array([3, 9], np.int32), (2, 3)
    )
    both = min_tables([a, b], None)
    dense = both.to_dense(fill=np.inf)
    expected = np.array([[5, np.inf, 0], [np.inf, 7, np.inf]])
    np.testing.assert_array_equal(dense, expected)


@pytest.mark.parametrize(
    "layer, words",
    [
        (points(["a", "a"]), ["origins", "duplicate", "'a'"]),
        (points(["a"]).drop(columns="id"), ["origins", "'id'"]),
        (gpd.GeoDataFrame({"id": ["a"]}, geometry=[Point(0, 0)]), ["origins", "CRS"]),
        (
            gpd.GeoDataFrame({"id": ["l"]}, geometry=[LineString([(0, 0), (1, 1)])], crs=4326),
            ["Point", "'l'", "LineString"],
        ),
        (points([]), ["origins", "empty"]),
    ],
)
def test_bad_points_are_named(layer, words):
    with pytest.raises(RoutingError) as err:
        check_points(layer, "origins")
    for word in words:
        assert word in str(err.value)


def test_plain_dataframe_is_refused():
    with pytest.raises(RoutingError, match="GeoDataFrame"):
        check_points(points(["a"]).drop(columns="geometry"), "origins")
