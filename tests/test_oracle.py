"""RAPTOR against a time-expanded graph oracle on a real slice of Porto Alegre.

The oracle knows nothing of patterns, rounds or labels: nodes are stop events
(a trip departing or arriving at a stop) and "ready to board at stop s from time
x" nodes, one per departure at s, chained in time order at each stop. Edges:

- ready(s, d - slack) -> departure event d at s (board, slack before every boarding),
- ready chain at s: each ready node -> the next later one (wait),
- departure (trip, i) -> arrival (trip, i + 1) (ride), arrival (trip, i) -> departure
  (trip, i) (stay on board),
- arrival at s at time a -> first ready node at s with ready time >= a,
- arrival at s at time a -> first ready node at s2 with ready time >= a + walk(s, s2).

Every node has a fixed time, so the earliest arrival at a stop is the earliest
arrival event reachable from the origin (breadth-first search). RAPTOR with
unlimited rides must agree at every stop: by vehicle, and by vehicle plus one
final walking transfer.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order

from transitmile.engines.embedded import chunk_for, compute_travel_times, stop_arrival_times
from transitmile.engines.tables import SparseTimes, sparse_times_from_dense
from transitmile.engines.timetable import compile_timetable

SLACK = 60
START, END = 13 * 3600, 14 * 3600 + 30 * 60  # the EPTC sample feed runs around 14:00
WALK_SPEED = 1.2  # m/s
MAX_WALK_M = 400.0


@pytest.fixture(scope="module")
def poa_slice(poa_feed):
    """Trensurb plus the 40 busiest EPTC routes, trips leaving 13:00-14:30, and walks."""
    st = poa_feed.stop_times
    trips = poa_feed.trips
    first_dep = st.groupby("trip_id", sort=False)["departure_time"].min()
    in_window = first_dep[(first_dep >= START) & (first_dep < END)].index
    trips = trips[trips["trip_id"].isin(in_window)]
    eptc = trips[trips["route_id"].str.startswith("poa_eptc:")]
    busiest = eptc["route_id"].value_counts().index[:40]
    keep = trips[
        trips["route_id"].str.startswith("poa_trensurb:") | trips["route_id"].isin(busiest)
    ]
    stop_times = st[st["trip_id"].isin(keep["trip_id"])]
    stop_ids = np.asarray(sorted(stop_times["stop_id"].unique()), dtype=object)

    class Slice:
        pass

    feed = Slice()
    feed.stop_times, feed.trips = stop_times, keep
    stops = poa_feed.stops.set_index("stop_id").loc[stop_ids]
    transfers = _haversine_walks(stops["stop_lat"].to_numpy(), stops["stop_lon"].to_numpy())
    return feed, list(stop_ids), transfers


def _haversine_walks(lat: np.ndarray, lon: np.ndarray) -> SparseTimes:
    """Walking seconds between stops within MAX_WALK_M (a stand-in for street times)."""
    phi, lam = np.radians(lat), np.radians(lon)
    dphi = phi[:, None] - phi[None, :]
    dlam = lam[:, None] - lam[None, :]
    h = np.sin(dphi / 2) ** 2 + np.cos(phi[:, None]) * np.cos(phi[None, :]) * np.sin(dlam / 2) ** 2
    metres = 2 * 6_371_000 * np.arcsin(np.sqrt(h))
    np.fill_diagonal(metres, np.inf)
    return sparse_times_from_dense(np.rint(metres / WALK_SPEED), max_s=MAX_WALK_M / WALK_SPEED)


class TimeExpandedOracle:
    """Reachability in the time-expanded graph described in the module docstring."""

    def __init__(self, feed, stop_ids, transfers: SparseTimes, slack: int):
        index = {s: i for i, s in enumerate(stop_ids)}
        st = feed.stop_times.sort_values(["trip_id", "stop_sequence"])
        stop = st["stop_id"].map(index).to_numpy()
        arr = st["arrival_time"].to_numpy(np.int64)
        dep = np.maximum(st["departure_time"].to_numpy(np.int64), arr)
        trip = st["trip_id"].to_numpy()
        n = len(st)
        same_trip_next = np.r_[trip[1:] == trip[:-1], False]
        # Nodes: [0, n) departure events, [n, 2n) arrival events, [2n, 3n) ready nodes
        # (ready node k belongs to departure event k, ready time dep - slack).
        ready_order = np.lexsort((dep, stop))
        ready_key = stop[ready_order] * 10**7 + (dep[ready_order] - slack)
        self.n, self.stop, self.arr = n, stop, arr
        self.ready_order, self.ready_key = ready_order, ready_key
        self.n_stops = len(stop_ids)
        rows, cols = [], []

        def edge(u, v):
            rows.append(np.asarray(u))
            cols.append(np.asarray(v))

        ride = np.flatnonzero(same_trip_next)
        edge(ride, n + ride + 1)  # ride to the next stop
        edge(n + np.arange(n), np.arange(n))  # stay on board
        edge(2 * n + ready_order, ready_order)  # board
        chain = np.flatnonzero(stop[ready_order][1:] == stop[ready_order][:-1])
        edge(2 * n + ready_order[chain], 2 * n + ready_order[chain + 1])  # wait at the stop
        # Alight: to the first ready node at the same stop, or at a stop within a walk.
        counts = np.diff(transfers.indptr)
        walk_from = np.concatenate([np.arange(n), np.repeat(np.arange(n), counts[stop])])
        walk_to = np.concatenate(
            [stop]
            + [transfers.indices[transfers.indptr[s] : transfers.indptr[s + 1]] for s in stop]
        )
        walk_s = np.concatenate(
            [np.zeros(n, np.int64)]
            + [transfers.seconds[transfers.indptr[s] : transfers.indptr[s + 1]] for s in stop]
        )
        target = self._first_ready(walk_to, arr[walk_from] + walk_s)
        ok = target >= 0
        edge(n + walk_from[ok], 2 * n + target[ok])
        self.walk_from, self.walk_to, self.walk_s = walk_from, walk_to, walk_s
        u, v = np.concatenate(rows), np.concatenate(cols)
        self.graph = sp.csr_matrix((np.ones(len(u)), (u, v)), shape=(3 * n, 3 * n))

    def _first_ready(self, stops: np.ndarray, times: np.ndarray) -> np.ndarray:
        """Departure event index of the first ready node at ``stops`` no earlier than ``times``."""
        pos = np.searchsorted(self.ready_key, stops * 10**7 + times)
        found = pos < len(self.ready_key)
        pos = np.minimum(pos, len(self.ready_key) - 1)
        found &= self.stop[self.ready_order[pos]] == stops
        return np.where(found, self.ready_order[pos], -1)

    def arrivals(self, origin: int, departure_s: int) -> tuple[np.ndarray, np.ndarray]:
        """(by vehicle or final walk, by vehicle) earliest arrival per stop, -1 unreached."""
        first = self._first_ready(np.array([origin]), np.array([departure_s]))[0]
        if first < 0:
            reached = np.zeros(0, dtype=np.int64)
        else:  # everything reachable from being ready at the origin's first departure
            reached = breadth_first_order(self.graph, 2 * self.n + first, return_predecessors=False)
        alight = reached[(reached >= self.n) & (reached < 2 * self.n)] - self.n
        vehicle = np.full(self.n_stops, np.iinfo(np.int64).max)
        np.minimum.at(vehicle, self.stop[alight], self.arr[alight])
        best = vehicle.copy()
        best[origin] = departure_s
        mask = np.isin(self.walk_from, alight)
        np.minimum.at(best, self.walk_to[mask], self.arr[self.walk_from[mask]] + self.walk_s[mask])
        for a in (vehicle, best):
            a[a == np.iinfo(np.int64).max] = -1
        return best, vehicle


@pytest.fixture(scope="module")
def oracle_case(poa_slice):
    feed, stop_ids, transfers = poa_slice
    timetable = compile_timetable(feed, stop_ids)
    return timetable, transfers, TimeExpandedOracle(feed, stop_ids, transfers, SLACK)


def test_slice_is_a_real_network(oracle_case):
    timetable, transfers, oracle = oracle_case
    assert timetable.n_trips > 300 and timetable.n_stops > 500
    assert len(transfers.seconds) > 500


@pytest.mark.parametrize("departure_s", [START, START + 17 * 60 + 30, START + 45 * 60])
def test_raptor_matches_time_expanded_oracle(oracle_case, departure_s):
    timetable, transfers, oracle = oracle_case
    rng = np.random.default_rng(departure_s)
    origins = rng.choice(timetable.n_stops, size=25, replace=False)
    n_reached = 0
    for origin in origins:
        best, vehicle = stop_arrival_times(
            timetable, transfers, int(origin), departure_s, max_rides=40,
            board_slack_s=SLACK, max_time_s=6 * 3600,
        )  # fmt: skip
        want_best, want_vehicle = oracle.arrivals(int(origin), departure_s)
        np.testing.assert_array_equal(vehicle, want_vehicle, err_msg=f"origin {origin}")
        np.testing.assert_array_equal(best, want_best, err_msg=f"origin {origin}")
        n_reached += int((vehicle >= 0).sum())
    assert n_reached > 25 * 50  # the comparison is not vacuous


def test_range_raptor_minutes_match_the_oracle(oracle_case):
    # Through the product entry point: origins are stops (access 0 s), destinations
    # are stops (egress 0 s from the vehicle arrival). Every minute of a 6-minute
    # window (range RAPTOR reuses labels between minutes) equals a fresh oracle search.
    timetable, transfers, oracle = oracle_case
    n = timetable.n_stops
    rng = np.random.default_rng(7)
    origins = rng.choice(n, size=8, replace=False)
    identity = sparse_times_from_dense(np.where(np.eye(n, dtype=bool), 0.0, np.inf))
    access = sparse_times_from_dense(
        np.where(origins[:, None] == np.arange(n)[None, :], 0.0, np.inf)
    )
    departure = START + 10 * 60
    result = compute_travel_times(
        timetable, transfers, access, identity, None, departure_s=departure, n_minutes=6,
        max_time_s=4 * 3600, max_rides=40, board_slack_s=SLACK, keep_iterations=True,
        progress=False,
    )  # fmt: skip
    for i, origin in enumerate(origins):
        for m in range(6):
            t0 = departure + 60 * m
            _, vehicle = oracle.arrivals(int(origin), t0)
            want = np.where(vehicle >= 0, vehicle - t0, -1)
            got = result.iterations[i, m]
            np.testing.assert_array_equal(got, want, err_msg=f"origin {origin} minute {m}")


# Properties on the whole Porto Alegre network, hexgrid cells to hexgrid cells, with a
# crow-fly walking stand-in for the street tables (3.6 km/h, 15-minute limit).


def _crow_fly(lat1, lon1, lat2, lon2, max_s: float) -> SparseTimes:
    p1, p2 = np.radians(lat1)[:, None], np.radians(lat2)[None, :]
    dl = np.radians(lon2)[None, :] - np.radians(lon1)[:, None]
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    seconds = np.rint(2 * 6_371_000 * np.arcsin(np.sqrt(h)) / 1.0)  # 3.6 km/h = 1 m/s
    return sparse_times_from_dense(seconds, max_s=max_s)


@pytest.fixture(scope="module")
def poa_cells(poa_feed):
    import pandas as pd

    from transitmile.data import fetch_file

    cells = pd.read_csv(fetch_file("poa_hexgrid.csv"))
    stops = poa_feed.stops[poa_feed.stops["stop_id"].isin(poa_feed.stop_times["stop_id"])]
    timetable = compile_timetable(poa_feed, stops["stop_id"].tolist())
    slat, slon = stops["stop_lat"].to_numpy(), stops["stop_lon"].to_numpy()
    clat, clon = cells["lat"].to_numpy(), cells["lon"].to_numpy()
    origins = np.random.default_rng(3).choice(len(cells), size=40, replace=False)
    olat, olon = clat[origins], clon[origins]
    within = 15 * 60
    tables = {
        "transfers": _crow_fly(slat, slon, slat, slon, 600),
        "access": _crow_fly(olat, olon, slat, slon, within),
        "egress": _crow_fly(slat, slon, clat, clon, within),
        "direct": _crow_fly(olat, olon, clat, clon, within),
    }
    return timetable, tables


def _route(poa_cells, **kwargs):
    timetable, tables = poa_cells
    params = {
        "departure_s": 14 * 3600,
        "n_minutes": 10,
        "percentiles": (25, 50, 75),
        "board_slack_s": 60,
        "progress": False,
    }
    params.update(kwargs)
    return compute_travel_times(
        timetable, tables["transfers"], tables["access"], tables["egress"], tables["direct"],
        **params,
    )  # fmt: skip


def _as_inf(iterations: np.ndarray) -> np.ndarray:
    return np.where(iterations < 0, np.inf, iterations.astype(float))


def test_percentiles_are_ordered(poa_cells):
    result = _route(poa_cells)
    p25, p50, p75 = (result.minutes[..., q] for q in range(3))
    reached = np.isfinite(p75)
    assert reached.mean() > 0.5
    assert np.all(np.isfinite(p25[reached]) & np.isfinite(p50[reached]))
    assert np.all(p25[reached] <= p50[reached]) and np.all(p50[reached] <= p75[reached])
    # NaN at a lower percentile implies NaN above it.
    assert not np.any(np.isnan(p25) & np.isfinite(p50))


def test_more_rides_are_never_slower(poa_cells):
    previous = None
    for rides in (1, 2, 3, 8):
        now = _as_inf(_route(poa_cells, max_rides=rides, keep_iterations=True).iterations)
        if previous is not None:
            assert np.all(now <= previous)
            assert np.any(now < previous)  # extra rides help somewhere
        previous = now


def test_widening_the_window_keeps_the_minutes_inside_it(poa_cells):
    # Range RAPTOR reuses labels from later minutes: a wider window (more minutes
    # after, and before) must leave each shared departure minute exactly as it was.
    narrow = _route(poa_cells, departure_s=14 * 3600 + 300, n_minutes=5, keep_iterations=True)
    wide = _route(poa_cells, departure_s=14 * 3600, n_minutes=20, keep_iterations=True)
    np.testing.assert_array_equal(narrow.iterations, wide.iterations[:, 5:10])
    single = _route(poa_cells, departure_s=14 * 3600 + 420, n_minutes=1, keep_iterations=True)
    np.testing.assert_array_equal(single.iterations[:, 0], wide.iterations[:, 7])


def test_range_search_equals_a_fresh_search_every_minute(poa_cells):
    # A range search reuses the labels of later minutes and scans from an access stop
    # only where its earlier arrival catches a departure the later one missed
    # (seed_access_range). A one-minute search does neither: every minute of the
    # window must equal it.
    window = _route(poa_cells, n_minutes=30, keep_iterations=True)
    for minute in range(30):
        fresh = _route(poa_cells, departure_s=14 * 3600 + 60 * minute, n_minutes=1,
                       keep_iterations=True)  # fmt: skip
        np.testing.assert_array_equal(
            fresh.iterations[:, 0], window.iterations[:, minute], err_msg=f"minute {minute}"
        )


@pytest.mark.parametrize("rides", [1, 2, 3, 8])
def test_pruned_search_equals_the_per_round_search(poa_cells, rides):
    # prune_dominated propagates only arrivals that beat a stop's best with any number
    # of rides, checks that the ride limit cut no minute's search short, and searches an
    # origin failing the check again with every round's labels. Every iteration must
    # equal the per-round search's, whether origins pass the check or not.
    pruned = _route(poa_cells, max_rides=rides, keep_iterations=True)
    per_round = _route(poa_cells, max_rides=rides, keep_iterations=True, prune_dominated=False)
    np.testing.assert_array_equal(pruned.iterations, per_round.iterations)
    np.testing.assert_array_equal(pruned.minutes, per_round.minutes)


def test_pruned_search_is_checked_and_redone_where_the_ride_limit_binds(poa_cells):
    # Both paths of the check are taken on real data: with one ride the pilot origins'
    # pruned searches are cut short and redone; with r5py's eight, few are.
    from transitmile.engines.embedded import plan_chunks, run_chunk

    timetable, tables = poa_cells
    share = {}
    for rides in (1, 8):
        template, blocks = plan_chunks(
            timetable, tables["transfers"], tables["access"], tables["egress"],
            tables["direct"], departure_s=14 * 3600, n_minutes=10, max_rides=rides,
            board_slack_s=60, chunk_size=10_000,
        )  # fmt: skip
        (block,) = blocks
        again = np.zeros(block.stop - block.start, dtype=np.int8)
        run_chunk(chunk_for(template, block), searched_again=again)
        share[rides] = np.bincount(again, minlength=3) / len(again)
    # One ride: the four pilot origins are cut short and redone, the rest skip the attempt.
    assert share[1][1] >= 2 / 40 and share[1][1] + share[1][2] == 1
    assert share[8][0] > 0.9 and share[8][2] == 0


def test_breakdown_adds_up_to_the_median(poa_cells):
    result = _route(poa_cells, percentiles=(50,), breakdown=True, keep_iterations=True)
    parts = result.breakdown
    total = sum(parts[k] for k in parts)
    transit = np.isfinite(total)
    assert transit.mean() > 0.3
    # Parts are seconds / 60 of the median iteration; the reported minutes floor it.
    np.testing.assert_array_equal(np.floor(total[transit] + 1e-9), result.minutes[..., 0][transit])
    for k in parts:
        assert np.all(parts[k][transit] >= 0), k
    assert np.all(parts["in_vehicle"][transit] > 0)
    assert np.all(parts["waiting"][transit] >= 1)  # board slack before every boarding
    # Where walking door to door wins, there is no breakdown.
    walk = np.isfinite(result.minutes[..., 0]) & ~transit
    assert walk.any()


def test_monte_carlo_searches_on_real_data_equal_full_searches(oracle_case):
    # Pretend the Trensurb metro runs by headway (each rail pattern its own block,
    # 10-minute headway): every iteration's draw search, started from the scheduled
    # labels, must equal a plain RAPTOR search with that iteration's phases.
    import dataclasses

    from transitmile.engines.embedded import draw_phase_offsets

    timetable, transfers, _ = oracle_case
    rail = np.array([r.startswith("poa_trensurb:") for r in timetable.pattern_route_ids])
    block = np.full(timetable.n_patterns, -1, dtype=np.int32)
    block[rail] = np.arange(rail.sum())
    timetable = dataclasses.replace(
        timetable,
        pattern_block=block,
        block_ids=np.arange(rail.sum(), dtype=np.int64),
        block_headway_s=np.full(rail.sum(), 600, dtype=np.int32),
    )
    n = timetable.n_stops
    rail_stops = np.unique(
        np.concatenate([timetable.pattern_stops[timetable.pattern_stop_ptr[p] : timetable.pattern_stop_ptr[p + 1]] for p in np.flatnonzero(rail)])
    )  # fmt: skip
    rng = np.random.default_rng(11)
    origins = np.concatenate(
        [rng.choice(rail_stops, 3, replace=False), rng.choice(n, 3, replace=False)]
    )
    access = sparse_times_from_dense(np.where(origins[:, None] == np.arange(n), 0.0, np.inf))
    identity = sparse_times_from_dense(np.where(np.eye(n, dtype=bool), 0.0, np.inf))
    departure, n_minutes = START + 15 * 60, 3
    result = compute_travel_times(
        timetable, transfers, access, identity, None, departure_s=departure,
        n_minutes=n_minutes, max_time_s=4 * 3600, max_rides=8, board_slack_s=SLACK,
        monte_carlo_draws=6, seed=3, keep_iterations=True, progress=False,
    )  # fmt: skip
    offsets = draw_phase_offsets(timetable, n_minutes, 6, 3)
    assert result.n_iterations == 6 and offsets.shape[1] == 2
    for i, origin in enumerate(origins):
        for m in range(n_minutes):
            t0 = departure + 60 * m
            for d in range(2):
                _, vehicle = stop_arrival_times(
                    timetable, transfers, int(origin), t0, max_rides=8, board_slack_s=SLACK,
                    max_time_s=4 * 3600, block_offsets=offsets[m, d],
                )  # fmt: skip
                want = np.where(vehicle >= 0, vehicle - t0, -1)
                np.testing.assert_array_equal(
                    result.iterations[i, m * 2 + d], want, err_msg=f"{origin} {m} {d}"
                )


def test_sparse_egress_equals_a_dense_min_plus_product(poa_cells):
    # The kernels propagate egress sparsely (push from improved stops, or pull per
    # destination with pruning bounds). Check against the dense definition: travel
    # time = min(direct, min over stops of vehicle arrival + egress) - departure,
    # unreachable from max_time on, with vehicle arrivals per stop from a run whose
    # "destinations" are the stops themselves.
    timetable, tables = poa_cells
    n = timetable.n_stops
    origins = slice(0, 8)
    access = tables["access"]
    lo, hi = access.indptr[origins.start], access.indptr[origins.stop]
    access8 = SparseTimes(access.indptr[: origins.stop + 1] - lo, access.indices[lo:hi],
                          access.seconds[lo:hi], (8, access.shape[1]))  # fmt: skip
    direct = tables["direct"]
    lo, hi = direct.indptr[0], direct.indptr[8]
    direct8 = SparseTimes(direct.indptr[:9] - lo, direct.indices[lo:hi], direct.seconds[lo:hi],
                          (8, direct.shape[1]))  # fmt: skip
    common = {"departure_s": 14 * 3600, "n_minutes": 5, "max_time_s": 5400,
              "board_slack_s": 60, "keep_iterations": True, "progress": False}  # fmt: skip
    identity = sparse_times_from_dense(np.where(np.eye(n, dtype=bool), 0.0, np.inf))
    at_stops = compute_travel_times(timetable, tables["transfers"], access8, identity, None,
                                    **common).iterations  # fmt: skip
    result = compute_travel_times(timetable, tables["transfers"], access8, tables["egress"],
                                  direct8, **common).iterations  # fmt: skip
    egress = tables["egress"].to_dense()
    walk = direct8.to_dense()
    for o in range(8):
        for m in range(5):
            stop_tt = np.where(at_stops[o, m] >= 0, at_stops[o, m], np.inf)
            transit = np.min(stop_tt[:, None] + egress, axis=0)
            want = np.minimum(transit, walk[o])
            want = np.where(want < 5400, want, -1)
            np.testing.assert_array_equal(result[o, m], want, err_msg=f"origin {o} minute {m}")
