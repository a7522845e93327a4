"""Validation of routing parameters: r5py's names and defaults, clear errors."""

from __future__ import annotations

import datetime as dt

import pytest

from transitmile.engines.request import make_request
from transitmile.errors import RoutingError, TransitmileError

DEPARTURE = dt.datetime(2019, 5, 13, 14, 0)


def test_defaults_follow_r5py():
    r = make_request(departure=DEPARTURE)
    assert r.departure_time_window_s == 600
    assert r.percentiles == (50,)
    assert r.transport_modes == ("TRANSIT", "WALK")
    assert r.access_modes == ("WALK",)
    assert r.egress_modes == ("WALK",)  # egress defaults to access, as in r5py
    assert r.max_time_s == 7200
    assert r.max_time_walking_s == 7200 and r.max_time_cycling_s == 7200
    assert (r.speed_walking, r.speed_cycling) == (3.6, 12.0)
    assert r.max_public_transport_rides == 8
    assert r.min_transfer_time_s == 60
    assert r.departure_seconds == 14 * 3600
    assert r.n_departure_minutes == 10
    assert r.direct_modes == ("WALK",) and r.uses_transit


def test_egress_follows_access_unless_given():
    assert make_request(departure=DEPARTURE, access_modes=["BICYCLE"]).egress_modes == ("BICYCLE",)
    r = make_request(departure=DEPARTURE, access_modes=["BICYCLE"], egress_modes=["WALK"])
    assert r.egress_modes == ("WALK",)


def test_max_time_grows_to_the_longest_leg_limit():
    r = make_request(
        departure=DEPARTURE,
        max_time=dt.timedelta(minutes=30),
        max_time_walking=dt.timedelta(minutes=45),
    )
    assert r.max_time_s == 45 * 60
    assert r.max_time_walking_s == 45 * 60
    assert r.max_time_cycling_s == 45 * 60


def test_modes_accept_enum_like_objects_and_lower_case():
    class Mode:
        name = "BICYCLE"

    r = make_request(departure=DEPARTURE, transport_modes=[Mode(), "transit"])
    assert r.transport_modes == ("BICYCLE", "TRANSIT")


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"transport_modes": ["CAR"]}, ["transport_modes", "'CAR'"]),
        ({"access_modes": ["TRANSIT"]}, ["access_modes", "TRANSIT"]),
        ({"speed_walking": -1}, ["speed_walking", "-1"]),
        ({"speed_cycling": "fast"}, ["speed_cycling", "'fast'"]),
        ({"percentiles": [0]}, ["percentiles", "0"]),
        ({"percentiles": [100]}, ["percentiles", "100"]),
        ({"percentiles": [50.5]}, ["percentiles", "50.5"]),
        ({"percentiles": []}, ["percentiles", "empty"]),
        ({"max_time": dt.timedelta(0)}, ["max_time", "got 0 min"]),
        (
            {"departure_time_window": dt.timedelta(seconds=30)},
            ["departure_time_window", "got 0.5 min"],
        ),
        # durations are shown in minutes, never as timedelta(days=-1, seconds=86100)
        ({"departure_time_window": dt.timedelta(minutes=-5)}, ["departure_time_window", "-5 min"]),
        ({"max_time": float("nan")}, ["max_time", "nan min"]),
        (
            {"departure": dt.datetime(2019, 5, 13, 14, tzinfo=dt.timezone(dt.timedelta(hours=2)))},
            ["departure", "2019-05-13T14:00:00+02:00", "UTC offset"],
        ),
        ({"max_public_transport_rides": 0}, ["max_public_transport_rides", "0"]),
        ({"max_public_transport_rides": 2.5}, ["max_public_transport_rides", "2.5"]),
        ({"max_time": "2h"}, ["max_time", "'2h'"]),
    ],
)
def test_bad_parameters_name_the_parameter_and_value(kwargs, words):
    with pytest.raises(RoutingError) as err:
        make_request(**{"departure": DEPARTURE, **kwargs})
    for word in words:
        assert word in str(err.value)


def test_departure_must_be_a_datetime():
    with pytest.raises(TransitmileError, match="departure.*'14:00'"):
        make_request(departure="14:00")


def test_routing_error_is_a_value_error():
    assert issubclass(RoutingError, ValueError)
