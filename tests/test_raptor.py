"""Embedded RAPTOR engine on tiny hand-made networks with answers worked out by hand.

Times are seconds after midnight; the engine reports whole minutes (seconds // 60,
as R5) and NaN for unreachable. Unless a test says otherwise: one departure minute
at 0 s, board slack 0 s, origin 0 and destination 0.
"""

from __future__ import annotations

import pickle
import types

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transitmile.engines import raptor
from transitmile.engines.embedded import (
    chunk_for,
    compute_travel_times,
    draw_phase_offsets,
    kernel_transit,
)
from transitmile.engines.raptor import (
    UNREACHED,
    _network_percentiles,
    _percentiles_of,
    percentile_index,
    selection_network,
)
from transitmile.engines.tables import empty_sparse_times, sparse_times_from_dense
from transitmile.engines.timetable import compile_timetable
from transitmile.errors import FeedError, RoutingError

INF = np.inf


def hand_feed(trips, headway=None):
    """A Feed-like object from ``{trip_id: (route_id, [(stop, arrival, departure), ...])}``.

    ``headway`` maps trip ids to ``(frequency_block, headway_s)`` for headway-based trips.
    """
    headway = headway or {}
    stop_rows, trip_rows = [], []
    for trip_id, (route_id, calls) in trips.items():
        block, hw = headway.get(trip_id, (-1, np.nan))
        trip_rows.append(
            {
                "trip_id": trip_id,
                "route_id": route_id,
                "headway_based": trip_id in headway,
                "frequency_block": block,
                "headway_s": hw,
            }
        )
        for seq, (stop, arr, dep) in enumerate(calls):
            stop_rows.append(
                {
                    "trip_id": trip_id,
                    "stop_id": stop,
                    "stop_sequence": seq,
                    "arrival_time": arr,
                    "departure_time": dep,
                }
            )
    return types.SimpleNamespace(stop_times=pd.DataFrame(stop_rows), trips=pd.DataFrame(trip_rows))


def run(feed, stops, access, egress, transfers=None, direct=None, **kwargs):
    """Compile and route; tables are dense lists of seconds (inf = no pair)."""
    timetable = compile_timetable(feed, stops)
    params = {
        "departure_s": 0,
        "n_minutes": 1,
        "percentiles": (50,),
        "max_time_s": 7200,
        "max_rides": 8,
        "board_slack_s": 0,
        "progress": False,
    }
    params.update(kwargs)
    return compute_travel_times(
        timetable,
        None if transfers is None else sparse_times_from_dense(np.array(transfers, float)),
        sparse_times_from_dense(np.array(access, float)),
        sparse_times_from_dense(np.array(egress, float)),
        None if direct is None else sparse_times_from_dense(np.array(direct, float)),
        **params,
    )


# One line A -> B -> C: leaves A at 600, B at 960 (dwell 60 s), reaches C at 1200.
LINE = hand_feed({"t1": ("R1", [("A", 0, 600), ("B", 900, 960), ("C", 1200, 1200)])})


def test_single_line_one_departure():
    # Walk 300 s to A (ready at 300, +60 slack = 360 <= 600): board at 600.
    # Destination 0 via C: 1200 + 120 egress = 1320 s = 22 min.
    # Destination 1 via B: arrive B 900 + 60 egress = 960 s = 16 min.
    result = run(
        LINE,
        ["A", "B", "C"],
        access=[[300, INF, INF]],
        egress=[[INF, INF], [INF, 60], [120, INF]],
        board_slack_s=60,
    )
    np.testing.assert_array_equal(result.minutes[0, :, 0], [22, 16])


def test_single_line_departure_window():
    # Minutes m = 0..9 leave at 60 m; A is ready at 60 m + 60 walk + 60 slack <= 600
    # for m <= 8. Arrival at the destination is 1200 + 120 = 1320, so travel time is
    # 1320 - 60 m: m=0 -> 1320 ... m=8 -> 840; m=9 misses the only trip.
    # Sorted: 840, 900, ..., 1320, unreachable (10 iterations).
    # R5's index ceil(p/100 * 10) - 1: p5 -> 0 (840 s = 14 min), p50 -> 4 (1080 s = 18 min),
    # p95 -> 9 (unreachable).
    result = run(
        LINE,
        ["A", "B", "C"],
        access=[[60, INF, INF]],
        egress=[[INF], [INF], [120]],
        n_minutes=10,
        percentiles=(5, 50, 95),
        board_slack_s=60,
        keep_iterations=True,
    )
    np.testing.assert_array_equal(result.minutes[0, 0], [14, 18, np.nan])
    expected = [1320 - 60 * m for m in range(9)] + [-1]
    np.testing.assert_array_equal(result.iterations[0, :, 0], expected)
    assert result.n_iterations == 10


def test_trip_at_minute_seven_of_a_ten_minute_window():
    # The only trip leaves A at 420 (minute 7) and reaches B at 720; access 0, egress 0.
    # Minute m <= 7 travels 720 - 60 m seconds: 12, 11, 10, 9, 8, 7, 6, 5 minutes;
    # minutes 8 and 9 are unreachable. Sorted: 5..12 min, NaN, NaN.
    # p10 -> index 0 (5), p50 -> index 4 (9), p80 -> index 7 (12), p90 -> index 8 (NaN).
    feed = hand_feed({"t": ("R", [("A", 420, 420), ("B", 720, 720)])})
    result = run(
        feed,
        ["A", "B"],
        access=[[0, INF]],
        egress=[[INF], [0]],
        n_minutes=10,
        percentiles=(10, 50, 80, 90),
        keep_iterations=True,
    )
    np.testing.assert_array_equal(result.minutes[0, 0], [5, 9, 12, np.nan])
    np.testing.assert_array_equal(
        result.iterations[0, :, 0], [720, 660, 600, 540, 480, 420, 360, 300, -1, -1]
    )


# Stop A is served by two routes: R1 leaves A at 120 and 540, R2 at 240 only.
TWO_ROUTES_AT_A = hand_feed(
    {
        "r1a": ("R1", [("A", 120, 120), ("B", 420, 420)]),
        "r1b": ("R1", [("A", 540, 540), ("B", 840, 840)]),
        "r2": ("R2", [("A", 240, 240), ("C", 540, 540)]),
    }
)


def test_a_range_minute_scans_only_the_routes_with_a_new_departure():
    # Access 0 s to A, egress 0 s from B (destination 0) and C (destination 1); minute m
    # leaves at 60 m. B: m <= 2 catch R1 at 120 (arrive 420), later minutes R1 at 540
    # (arrive 840). C: m <= 4 catch R2 at 240 (arrive 540), later minutes nothing.
    result = run(
        TWO_ROUTES_AT_A,
        ["A", "B", "C"],
        access=[[0, INF, INF]],
        egress=[[INF, INF], [0, INF], [INF, 0]],
        n_minutes=10,
        keep_iterations=True,
    )
    to_b = [420 - 60 * m for m in range(3)] + [840 - 60 * m for m in range(3, 10)]
    to_c = [540 - 60 * m for m in range(5)] + [-1] * 5
    np.testing.assert_array_equal(result.iterations[0, :, 0], to_b)
    np.testing.assert_array_equal(result.iterations[0, :, 1], to_c)


def test_round_zero_lists_a_route_only_in_the_minutes_it_departs_anew():
    # The same timetable, searched minute by minute from the last (9) down, as the
    # range search does. Minute 9 is A's first label: the stop is marked (every
    # route). After that A is scanned only in the minutes where its earlier arrival
    # catches a departure the later one missed, and then only on that route:
    # minute 4 (R2 at 240, in [240, 300)) and minute 2 (R1 at 120, in [120, 180)).
    timetable = compile_timetable(TWO_ROUTES_AT_A, ["A", "B", "C"])
    transit = kernel_transit(timetable, empty_sparse_times(3, 3))
    dep_ptr, departures = raptor.stop_departures(transit)
    labels = raptor.new_labels(8, timetable.n_stops, False)
    scratch = raptor.new_scratch(timetable.n_stops, timetable.n_patterns)
    access = raptor.Table(np.array([0, 1]), np.array([0], np.int32), np.array([0], np.int32))
    no_shift = np.zeros(timetable.n_patterns, np.int32)
    scanned = {}
    for m in range(9, -1, -1):
        latest = 60 * m + 7200
        n_marked, n_listed = raptor.seed_access_range(
            transit, labels.tau, access, 0, 60 * m, latest, 0, dep_ptr, departures, scratch,
            False,
        )  # fmt: skip
        routes = timetable.pattern_route_ids[scratch.pattern_list[:n_listed]]
        scanned[m] = (n_marked, sorted(routes))
        n_egress, _ = raptor.raptor_rounds(
            transit, 8, 0, latest, no_shift, raptor.ALL_PATTERNS, np.zeros(0, np.int32),
            labels, scratch, n_marked, 0, False, False, n_listed,
        )  # fmt: skip
        scratch.egress_flag[:] = 0
    quiet = (0, [])
    assert scanned == {
        9: (1, []), 8: quiet, 7: quiet, 6: quiet, 5: quiet, 4: (0, ["R2"]), 3: quiet,
        2: (0, ["R1"]), 1: quiet, 0: quiet,
    }  # fmt: skip
    assert (scratch.pattern_first == -1).all() and not scratch.stop_flag.any()


def test_breakdown_of_a_median_trip_found_at_a_later_minute():
    # Same trip as above. The median iteration is minute 3 (leaves at 180 s): range
    # RAPTOR reuses the minute-7 labels, so the breakdown must show the wait at A:
    # access 0, waiting 180..420 = 4 min, in-vehicle 420..720 = 5 min: 9 min.
    feed = hand_feed({"t": ("R", [("A", 420, 420), ("B", 720, 720)])})
    result = run(feed, ["A", "B"], access=[[0, INF]], egress=[[INF], [0]], n_minutes=10,
                 breakdown=True)  # fmt: skip
    parts = {k: v[0, 0] for k, v in result.breakdown.items()}
    assert parts == {"access": 0, "waiting": 4, "in_vehicle": 5, "transfer": 0, "egress": 0}
    assert result.minutes[0, 0, 0] == 9


# Line 1 A -> B arrives at B at 900. Line 2 leaves B at 960 (arrives C 1500) and at
# 1560 (arrives C 2100). Destination 0 is 60 s from C.
CONNECTION = hand_feed(
    {
        "l1": ("R1", [("A", 600, 600), ("B", 900, 900)]),
        "l2a": ("R2", [("B", 960, 960), ("C", 1500, 1500)]),
        "l2b": ("R2", [("B", 1560, 1560), ("C", 2100, 2100)]),
    }
)


@pytest.mark.parametrize(
    ("slack", "minutes"),
    [
        # 900 + 60 = 960 <= 960: the connection holds, C at 1500 + 60 egress = 26 min.
        (60, 26),
        # 900 + 61 = 961 > 960: missed, next trip reaches C at 2100 + 60 = 36 min.
        (61, 36),
    ],
)
def test_transfer_with_board_slack_decisive(slack, minutes):
    result = run(
        CONNECTION,
        ["A", "B", "C"],
        access=[[0, INF, INF]],
        egress=[[INF], [INF], [60]],
        board_slack_s=slack,
    )
    assert result.minutes[0, 0, 0] == minutes


# Line 2 stops at B2, a 120 s walk from B: leaves B2 at 1080 (C 1500) and 1680 (C 2100).
WALK_CONNECTION = hand_feed(
    {
        "l1": ("R1", [("A", 600, 600), ("B", 900, 900)]),
        "l2a": ("R2", [("B2", 1080, 1080), ("C", 1500, 1500)]),
        "l2b": ("R2", [("B2", 1680, 1680), ("C", 2100, 2100)]),
    }
)
WALK_STOPS = ["A", "B", "B2", "C"]


def walk_transfers(seconds):
    table = np.full((4, 4), INF)
    table[1, 2] = table[2, 1] = seconds
    return table


@pytest.mark.parametrize(
    ("walk", "minutes"),
    [
        # B 900 + 120 walk = 1020, + 60 slack = 1080 <= 1080: C 1500 + 60 = 26 min.
        (120, 26),
        # 900 + 121 + 60 = 1081 > 1080: missed connection, 2100 + 60 = 36 min.
        (121, 36),
    ],
)
def test_walking_transfer_between_stops(walk, minutes):
    result = run(
        WALK_CONNECTION,
        WALK_STOPS,
        access=[[120, INF, INF, INF]],
        egress=[[INF], [INF], [INF], [60]],
        transfers=walk_transfers(walk),
        board_slack_s=60,
    )
    assert result.minutes[0, 0, 0] == minutes


def test_no_walking_transfer_no_connection():
    # Without the B -> B2 walk nothing reaches line 2: unreachable.
    result = run(
        WALK_CONNECTION,
        WALK_STOPS,
        access=[[120, INF, INF, INF]],
        egress=[[INF], [INF], [INF], [60]],
        board_slack_s=60,
    )
    assert np.isnan(result.minutes[0, 0, 0])


def test_breakdown_of_a_trip_with_a_walking_transfer():
    # Leave at 0, walk 120 s to A (access 2 min), wait 120..600 (8 min, slack included),
    # ride to B 600..900 (5 min), walk to B2 900..1020 (2 min), wait 1020..1080 (1 min),
    # ride to C 1080..1500 (7 min), walk 60 s (1 min). Total 1560 s = 26 min.
    result = run(
        WALK_CONNECTION,
        WALK_STOPS,
        access=[[120, INF, INF, INF]],
        egress=[[INF], [INF], [INF], [60]],
        transfers=walk_transfers(120),
        board_slack_s=60,
        breakdown=True,
    )
    parts = {k: v[0, 0] for k, v in result.breakdown.items()}
    assert parts == {"access": 2, "waiting": 9, "in_vehicle": 12, "transfer": 2, "egress": 1}
    assert sum(parts.values()) == result.minutes[0, 0, 0] == 26


def test_breakdown_is_nan_when_walking_door_to_door_wins():
    # By transit 26 min; walking directly takes 1500 s = 25 min: not a transit trip.
    result = run(
        WALK_CONNECTION,
        WALK_STOPS,
        access=[[120, INF, INF, INF]],
        egress=[[INF], [INF], [INF], [60]],
        transfers=walk_transfers(120),
        direct=[[1500]],
        board_slack_s=60,
        breakdown=True,
    )
    assert result.minutes[0, 0, 0] == 25
    assert all(np.isnan(v[0, 0]) for v in result.breakdown.values())


def test_overtaking_trips_are_split_into_fifo_patterns():
    # Same stops A -> B -> C. The local leaves A at 0 and reaches C at 1000; the express
    # leaves A at 100 and overtakes it, reaching C at 500. One pattern with the trips in
    # departure order would board the local (first trip leaving A) and arrive at 1000.
    # Correct: take the express, 500 s = 8 min.
    feed = hand_feed(
        {
            "local": ("R", [("A", 0, 0), ("B", 500, 500), ("C", 1000, 1000)]),
            "express": ("R", [("A", 100, 100), ("B", 300, 300), ("C", 500, 500)]),
        }
    )
    timetable = compile_timetable(feed, ["A", "B", "C"])
    assert timetable.n_patterns == 2
    result = run(feed, ["A", "B", "C"], access=[[0, INF, INF]], egress=[[INF], [INF], [0]])
    assert result.minutes[0, 0, 0] == 8


def test_fifo_trips_share_one_pattern():
    feed = hand_feed(
        {
            "a": ("R", [("A", 0, 0), ("B", 500, 500)]),
            "b": ("R", [("A", 600, 600), ("B", 1100, 1100)]),
        }
    )
    timetable = compile_timetable(feed, ["A", "B"])
    assert timetable.n_patterns == 1
    # Trips of a pattern are stored in departure order.
    assert list(timetable.trip_ids) == ["a", "b"]


@pytest.mark.parametrize(("rides", "minutes"), [(1, 40), (2, 20)])
def test_max_rides(rides, minutes):
    # With two rides: A 600 -> B 900, B 960 -> C 1200: 20 min.
    # With one ride only the slow direct line: A 700 -> C 2400: 40 min.
    feed = hand_feed(
        {
            "fast1": ("R1", [("A", 600, 600), ("B", 900, 900)]),
            "fast2": ("R2", [("B", 960, 960), ("C", 1200, 1200)]),
            "slow": ("R3", [("A", 700, 700), ("C", 2400, 2400)]),
        }
    )
    result = run(
        feed,
        ["A", "B", "C"],
        access=[[0, INF, INF]],
        egress=[[INF], [INF], [0]],
        max_rides=rides,
        board_slack_s=60,
    )
    assert result.minutes[0, 0, 0] == minutes


@pytest.mark.parametrize(("rides", "seconds", "again"), [(2, [700, -1], 1), (3, [700, 640], 0)])
def test_pruned_search_is_redone_where_the_ride_limit_binds(rides, seconds, again):
    # Minute 60 (searched first): A 120 -> Y 200, Y 220 -> X 300, X 600 -> C 700: three
    # rides, 640 s. Minute 0 also catches the slow line A 30 -> X 500 (one ride), then
    # X 600 -> C 700: two rides, 700 s. With two rides allowed minute 60 cannot reach C,
    # and minute 0 needs the later arrival at X (500, one ride), which the earlier one
    # (300, two rides, kept from minute 60) dominates by time alone: the pruned search
    # would drop it. Its check sees the ride limit cut minute 60's rounds short (X was
    # improved in the last round) and searches the origin again with every round's
    # labels. With three rides minute 60's last round improves C, the end of its line:
    # a fourth round would improve nothing, so the pruned search stands.
    from transitmile.engines.embedded import plan_chunks, run_chunk

    feed = hand_feed(
        {
            "f1": ("R1", [("A", 120, 120), ("Y", 200, 200)]),
            "f2": ("R2", [("Y", 220, 220), ("X", 300, 300)]),
            "slow": ("R3", [("A", 30, 30), ("X", 500, 500)]),
            "c": ("R4", [("X", 600, 600), ("C", 700, 700)]),
        }
    )
    timetable = compile_timetable(feed, ["A", "Y", "X", "C"])
    results = {}
    for prune in (True, False):
        template, (block,) = plan_chunks(
            timetable, None, sparse_times_from_dense(np.array([[0, INF, INF, INF]])),
            sparse_times_from_dense(np.array([[INF], [INF], [INF], [0]])), None,
            departure_s=0, n_minutes=2, max_rides=rides, board_slack_s=0,
            keep_iterations=True, prune_dominated=prune,
        )  # fmt: skip
        searched_again = np.zeros(1, dtype=np.int8)
        _, _, iterations = run_chunk(chunk_for(template, block), searched_again=searched_again)
        results[prune] = iterations[0, :, 0]
        assert searched_again[0] == (again if prune else 0)
    np.testing.assert_array_equal(results[True], seconds)
    np.testing.assert_array_equal(results[False], seconds)


def test_direct_walk_and_max_time():
    # Transit reaches destination 0 at 1320 s (22 min); walking takes 1000 s (16 min).
    # Destination 1 only by transit, 1320 s. As R5, a time must be *below* max_time:
    # max_time 1320 s makes destination 1 unreachable, 1321 s keeps it.
    kwargs = {
        "access": [[300, INF, INF]],
        "egress": [[INF, INF], [INF, INF], [120, 120]],
        "direct": [[1000, INF]],
        "board_slack_s": 60,
    }
    result = run(LINE, ["A", "B", "C"], **kwargs)
    np.testing.assert_array_equal(result.minutes[0, :, 0], [16, 22])
    result = run(LINE, ["A", "B", "C"], max_time_s=1321, **kwargs)
    np.testing.assert_array_equal(result.minutes[0, :, 0], [16, 22])
    result = run(LINE, ["A", "B", "C"], max_time_s=1320, **kwargs)
    np.testing.assert_array_equal(result.minutes[0, :, 0], [16, np.nan])


def test_unlisted_stop_can_be_ridden_through_and_transferred_at():
    # X is served but not among the caller's stops (e.g. outside the street network).
    # A 600 -> X 900, then X 1000 -> C 1300: 1300 s = 21 min (slack 60 at X holds).
    feed = hand_feed(
        {
            "l1": ("R1", [("A", 600, 600), ("X", 900, 900)]),
            "l2": ("R2", [("X", 1000, 1000), ("C", 1300, 1300)]),
        }
    )
    timetable = compile_timetable(feed, ["A", "C"])
    assert list(timetable.stop_ids) == ["A", "C", "X"]
    result = run(feed, ["A", "C"], access=[[0, INF]], egress=[[INF], [0]], board_slack_s=60)
    assert result.minutes[0, 0, 0] == 21


# A headway-based route: every 600 s between 3000 and 9600, A -> B takes 300 s.
HEADWAY_TRIPS = {
    f"f#{k}": ("F", [("A", 3000 + 600 * k, 3000 + 600 * k), ("B", 3300 + 600 * k, 3300 + 600 * k)])
    for k in range(12)
}
FREQUENCY = hand_feed(HEADWAY_TRIPS, headway={t: (7, 600.0) for t in HEADWAY_TRIPS})


def test_frequency_route_waits_follow_the_monte_carlo_draws():
    # Each draw shifts the block by an offset u in [0, 600): departures at A are
    # 3000 + u + 600 k. Leaving A at 3600 (access 0, slack 0), the wait is u and the
    # trip takes u + 300 s. 60 draws in a one-minute window: 60 iterations; the
    # percentiles are R5's indexes into the sorted u + 300.
    timetable = compile_timetable(FREQUENCY, ["A", "B"])
    assert timetable.has_headway_trips
    assert list(timetable.block_headway_s) == [600]
    offsets = draw_phase_offsets(timetable, 1, 60, seed=42)[0, :, 0]
    assert offsets.shape == (60,)
    assert offsets.min() >= 0 and offsets.max() < 600
    times = np.sort(offsets + 300)
    result = run(
        FREQUENCY,
        ["A", "B"],
        access=[[0, INF]],
        egress=[[INF], [0]],
        departure_s=3600,
        percentiles=(10, 50, 90),
        monte_carlo_draws=60,
        seed=42,
    )
    assert result.n_iterations == 60
    # ceil(p / 100 * 60) - 1 = 5, 29, 53.
    np.testing.assert_array_equal(result.minutes[0, 0], times[[5, 29, 53]] // 60)
    # Median wait about half the headway (5 min) plus the 5 min ride; bounded by 5..14 min.
    assert 9 <= result.minutes[0, 0, 1] <= 11
    assert 5 <= result.minutes[0, 0, 0] <= result.minutes[0, 0, 1] <= result.minutes[0, 0, 2] <= 14


def test_frequency_draws_are_reproducible_and_spread_over_the_window():
    kwargs = {
        "access": [[0, INF]],
        "egress": [[INF], [0]],
        "departure_s": 3600,
        "n_minutes": 10,
        "percentiles": (25, 50, 75),
        "monte_carlo_draws": 60,
        "keep_iterations": True,
    }
    first = run(FREQUENCY, ["A", "B"], seed=1, **kwargs)
    again = run(FREQUENCY, ["A", "B"], seed=1, **kwargs)
    other = run(FREQUENCY, ["A", "B"], seed=2, **kwargs)
    # 10 minutes x ceil(60 / 10) = 6 draws per minute.
    assert first.n_iterations == 60
    np.testing.assert_array_equal(first.iterations, again.iterations)
    assert not np.array_equal(first.iterations, other.iterations)
    # Every iteration waits less than one headway: 300 <= travel time < 900 s.
    assert first.iterations.min() >= 300 and first.iterations.max() < 900


def test_scheduled_timetable_has_one_iteration_per_minute():
    result = run(LINE, ["A", "B", "C"], access=[[0, INF, INF]], egress=[[INF], [INF], [0]],
                 n_minutes=7, monte_carlo_draws=60)  # fmt: skip
    assert result.n_iterations == 7


def test_timetable_pickles():
    timetable = compile_timetable(FREQUENCY, ["A", "B"])
    again = pickle.loads(pickle.dumps(timetable))
    np.testing.assert_array_equal(again.departures, timetable.departures)


def test_chunks_give_the_same_answer():
    access = [[0, INF, INF], [INF, 0, INF], [60, INF, INF], [INF, INF, 0]]
    egress = [[0, INF], [INF, 0], [INF, 0]]
    one = run(CONNECTION, ["A", "B", "C"], access=access, egress=egress, chunk_size=4)
    many = run(CONNECTION, ["A", "B", "C"], access=access, egress=egress, chunk_size=1)
    np.testing.assert_array_equal(one.minutes, many.minutes)
    # Origin 1 starts at B: 960 -> C 1500 = 25 min; origin 3 starts at C: no ride, NaN.
    assert one.minutes[1, 1, 0] == 25 and np.isnan(one.minutes[3, 1, 0])


def test_bad_input_gets_clear_errors():
    with pytest.raises(RoutingError, match="duplicates"):
        compile_timetable(LINE, ["A", "A", "B"])
    feed = types.SimpleNamespace(
        stop_times=LINE.stop_times.drop(columns="arrival_time"), trips=LINE.trips
    )
    with pytest.raises(FeedError, match="arrival_time"):
        compile_timetable(feed, ["A"])
    with pytest.raises(RoutingError, match="n_minutes"):
        run(LINE, ["A", "B", "C"], access=[[0, INF, INF]], egress=[[0], [0], [0]], n_minutes=0)
    with pytest.raises(RoutingError, match="direct"):
        run(LINE, ["A", "B", "C"], access=[[0, INF, INF]], egress=[[0], [0], [0]],
            direct=[[0, 0]])  # fmt: skip
    with pytest.raises(RoutingError, match="percentiles"):
        run(LINE, ["A", "B", "C"], access=[[0, INF, INF]], egress=[[0], [0], [0]],
            percentiles=(0,))  # fmt: skip
    with pytest.raises(RoutingError, match=r"prune_dominated.*True or False, got 'yes'"):
        run(LINE, ["A", "B", "C"], access=[[0, INF, INF]], egress=[[0], [0], [0]],
            prune_dominated="yes")  # fmt: skip


def test_a_chunk_is_a_self_contained_picklable_unit():
    # What a worker would receive: run it after a pickle round trip, same answer as
    # the in-process entry point (origin 0 from A: 26 min, see the slack test).
    from transitmile.engines.embedded import RaptorChunk, egress_tables, run_chunk

    timetable = compile_timetable(CONNECTION, ["A", "B", "C"])
    egress, by_destination = egress_tables(sparse_times_from_dense(np.array([[INF], [INF], [60]])))
    chunk = RaptorChunk(
        timetable=timetable,
        transfers=sparse_times_from_dense(np.full((3, 3), INF)),
        access=sparse_times_from_dense(np.array([[0, INF, INF]])),
        egress=egress,
        egress_by_destination=by_destination,
        direct=sparse_times_from_dense(np.array([[INF]])),
        departure_s=0,
        n_minutes=1,
        percentiles=np.array([50.0]),
        max_time_s=7200,
        max_rides=8,
        board_slack_s=60,
        block_offsets=np.zeros((1, 1, 0), dtype=np.int32),
    )
    minutes, parts, iterations = run_chunk(pickle.loads(pickle.dumps(chunk)))
    assert minutes[0, 0, 0] == 26
    assert parts is None and iterations is None


def test_a_timetable_without_rides_still_walks():
    # A one-stop trip carries nobody: no patterns. Walking door to door still works.
    feed = hand_feed({"t": ("R", [("A", 600, 600)])})
    timetable = compile_timetable(feed, ["A", "B"])
    assert timetable.n_patterns == 0
    result = run(feed, ["A", "B"], access=[[0, INF]], egress=[[INF], [0]], direct=[[700]])
    assert result.minutes[0, 0, 0] == 11


def test_monte_carlo_draw_searches_equal_full_searches_with_the_same_phases():
    # Headway route F (A -> B every 10 min, as above) fed by a scheduled bus O -> A
    # (leaves O at 3500, at A 3550) and feeding a scheduled line B -> C every 4 min.
    # Each iteration (minute, draw) starts from the scheduled labels and only adds
    # what the re-phased headway trips give; it must equal a plain RAPTOR search of
    # the timetable with that draw's phases applied to every pattern.
    from transitmile.engines.embedded import stop_arrival_times

    trips = dict(HEADWAY_TRIPS)
    trips["feeder"] = ("S0", [("O", 3500, 3500), ("A", 3550, 3550)])
    for j in range(25):
        t = 3700 + 240 * j
        trips[f"s1-{j}"] = ("S1", [("B", t, t), ("C", t + 200, t + 200)])
    feed = hand_feed(trips, headway={t: (7, 600.0) for t in HEADWAY_TRIPS})
    stops = ["O", "A", "B", "C"]
    timetable = compile_timetable(feed, stops)
    n_minutes, seed = 10, 5
    access = [[0, INF, INF, INF], [INF, 0, INF, INF]]
    egress = [[INF, INF], [INF, INF], [0, INF], [INF, 0]]
    result = run(feed, stops, access=access, egress=egress, departure_s=3400,
                 n_minutes=n_minutes, monte_carlo_draws=60, seed=seed, board_slack_s=60,
                 keep_iterations=True)  # fmt: skip
    offsets = draw_phase_offsets(timetable, n_minutes, 60, seed)
    assert offsets.shape == (10, 6, 1) and result.n_iterations == 60
    for origin, origin_stop in enumerate((0, 1)):
        for minute in range(n_minutes):
            t0 = 3400 + 60 * minute
            for draw in range(6):
                _, vehicle = stop_arrival_times(timetable, None, origin_stop, t0,
                                                board_slack_s=60, block_offsets=offsets[minute, draw])  # fmt: skip
                want = np.where(vehicle[[2, 3]] >= 0, vehicle[[2, 3]] - t0, -1)
                got = result.iterations[origin, minute * 6 + draw]
                np.testing.assert_array_equal(got, want, err_msg=f"{origin} {minute} {draw}")
    # The draws matter: travel times to C vary between draws of one minute.
    assert len(np.unique(result.iterations[1, :6, 1])) > 1
    # The breakdown of the median draw adds up to the median travel time.
    median = run(feed, stops, access=access, egress=egress, departure_s=3400,
                 n_minutes=n_minutes, monte_carlo_draws=60, seed=seed, board_slack_s=60,
                 breakdown=True)  # fmt: skip
    # From O the feeder runs once (minute 0 only): the median is unreachable there.
    total = sum(median.breakdown.values())
    assert np.all(np.isnan(median.minutes[0])) and np.all(np.isnan(total[0]))
    np.testing.assert_array_equal(np.floor(total[1] + 1e-9), median.minutes[1, :, 0])
    assert np.all(median.breakdown["in_vehicle"][1] >= 5)  # at least the 300 s headway ride


def percentile_cases(max_iter, values, max_dest):
    """Iteration seconds of 1..max_dest destinations (a list each) and 1-3 percentiles."""
    return st.integers(1, max_iter).flatmap(
        lambda n: st.tuples(
            st.lists(
                st.lists(st.sampled_from(values), min_size=n, max_size=n),
                min_size=1,
                max_size=max_dest,
            ),
            st.lists(st.integers(1, 99), min_size=1, max_size=3),
        )
    )


def percentile_inputs(case):
    """``times [n_iter, n_dest]``, the percentiles' indices and the median's index."""
    columns, percentiles = case
    times = np.array(columns, dtype=np.int32).T.copy()
    n_iter = times.shape[0]
    pct_index = np.array([percentile_index(n_iter, p) for p in percentiles], dtype=np.int64)
    return times, pct_index, percentile_index(n_iter, 50.0)


@settings(max_examples=200, deadline=None)
@given(percentile_cases(90, [600, 601, 660, 720, 7199, int(UNREACHED)], max_dest=4))
def test_percentile_selection_equals_a_stable_sort(case):
    # R5's percentile of the sorted seconds, and the median iteration as a stable sort
    # orders ties (the earlier iteration first), whatever the values and their ties
    times, pct_index, mid = percentile_inputs(case)
    n_dest = times.shape[1]
    out = np.full((n_dest, len(pct_index)), np.nan)
    median_iteration = np.empty(n_dest, dtype=np.int32)
    _percentiles_of(times, pct_index, mid, out, median_iteration)
    for dst in range(n_dest):
        order = np.argsort(times[:, dst], kind="stable")
        for q, k in enumerate(pct_index):
            v = times[order[k], dst]
            expected = np.nan if v == UNREACHED else v // 60
            assert out[dst, q] == expected or (np.isnan(expected) and np.isnan(out[dst, q]))
        best = order[mid]
        assert median_iteration[dst] == (best if times[best, dst] != UNREACHED else -1)


@pytest.mark.parametrize("n_iter", [1, 2, 3, 10, 31, 60, 64, 65, 127, 128])
def test_selection_network_sorts_every_input_at_the_wanted_positions(n_iter):
    # Every 0/1 input sorted means every input sorted (Knuth's 0-1 principle); random
    # 0/1 inputs and permutations stand in for all of them beyond a few keys.
    rng = np.random.default_rng(n_iter)
    everything = selection_network(n_iter, np.arange(n_iter, dtype=np.int64))
    median = percentile_index(n_iter, 50.0)
    median_only = selection_network(n_iter, np.array([median]))
    assert len(median_only) <= len(everything)
    assert all(0 <= i < j < n_iter for i, j in everything)
    inputs = [rng.permutation(n_iter) for _ in range(50)]
    inputs += [rng.integers(0, 2, n_iter) for _ in range(50)]
    for keys in inputs:
        for pairs, positions in ((everything, slice(None)), (median_only, median)):
            out = keys.copy()
            for i, j in pairs:
                out[i], out[j] = min(out[i], out[j]), max(out[i], out[j])
            np.testing.assert_array_equal(out[positions], np.sort(keys)[positions])
    if n_iter == 60:
        assert len(median_only) == 411  # of Batcher's 543 for 64 keys (in the docstring)


@settings(max_examples=150, deadline=None)
@given(
    # more destinations than one block of the network
    percentile_cases(128, [0, 59, 60, 600, 601, 660, 7199, int(UNREACHED)], max_dest=140)
)
def test_network_percentiles_equal_the_quickselect(case):
    times, pct_index, mid = percentile_inputs(case)
    n_iter, n_dest = times.shape
    pairs = selection_network(n_iter, np.append(pct_index, mid))
    want_out, got_out = np.full((2, n_dest, len(pct_index)), np.nan)
    want_mid, got_mid = np.empty((2, n_dest), dtype=np.int32)
    _percentiles_of(times.copy(), pct_index, mid, want_out, want_mid)
    _network_percentiles(times, pairs, pct_index, mid, got_out, got_mid)
    np.testing.assert_array_equal(got_out, want_out)
    np.testing.assert_array_equal(got_mid, want_mid)
