"""Compile a :class:`~transitmile.feeds.Feed` into the flat arrays RAPTOR scans.

RAPTOR (Delling, Pajor, Werneck 2012, "Round-Based Public Transit Routing") groups
trips into *routes*: trips with the same stop sequence whose trips never overtake
one another, so that at every stop the departures of the route are sorted and the
earliest catchable trip is a binary search. Here such a route is called a
*pattern* (as in R5 and OpenTripPlanner) to keep it apart from a GTFS route:

- trips with the identical stop sequence form a pattern;
- a pattern whose trips overtake (a later trip arrives somewhere before an
  earlier one, common in real feeds) is split greedily into FIFO sub-patterns;
- headway-based trips (``frequencies.txt`` with ``exact_times=0``) of one
  frequency block get pattern(s) of their own, so that the Monte Carlo phase shift
  applied to the whole block moves all trips of a pattern together and keeps it FIFO.

Times are stored position-major (``base + position * n_trips + trip``) so that the
departures of a pattern at one stop are contiguous for the boarding search.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import FeedError, RoutingError, show_value
from ..sparse import indptr_from_rows

__all__ = ["Timetable", "compile_timetable"]

_STOP_TIME_COLUMNS = ("trip_id", "stop_id", "stop_sequence", "arrival_time", "departure_time")
_TRIP_COLUMNS = ("trip_id", "route_id", "headway_based", "frequency_block", "headway_s")


@dataclass
class Timetable:
    """A feed's service for one date as flat numpy arrays (picklable, read-only).

    Attributes
    ----------
    stop_ids : numpy.ndarray
        object ``[n_stops]``; the ids passed to :func:`compile_timetable` come first
        in their order (stop index = position), feed stops served by trips but not
        passed follow (usable for riding through and transfers only).
    n_given_stops : int
        How many of ``stop_ids`` were passed by the caller.
    pattern_route_ids : numpy.ndarray
        object ``[n_patterns]``, GTFS route_id of each pattern.
    pattern_stop_ptr, pattern_stops : numpy.ndarray
        int64 ``[n_patterns + 1]`` and int32: stop indices of each pattern in order.
    pattern_trip_ptr : numpy.ndarray
        int64 ``[n_patterns + 1]``: trips of pattern ``p`` are ``trip_ids[ptr[p]:ptr[p+1]]``,
        sorted by departure.
    trip_ids : numpy.ndarray
        object ``[n_trips]``.
    pattern_time_ptr : numpy.ndarray
        int64 ``[n_patterns + 1]`` offsets into ``arrivals``/``departures``.
    arrivals, departures : numpy.ndarray
        int32 seconds after midnight of the service date, position-major per pattern.
    pattern_block : numpy.ndarray
        int32 ``[n_patterns]``: index of the headway block whose phase shifts this
        pattern in Monte Carlo draws, -1 for scheduled patterns.
    block_ids : numpy.ndarray
        int64 ``[n_blocks]``: the feed's ``frequency_block`` ids of headway blocks.
    block_headway_s : numpy.ndarray
        int32 ``[n_blocks]``: headway of each block, seconds.
    stop_pattern_ptr, stop_pattern, stop_position : numpy.ndarray
        int64 ``[n_stops + 1]``, int32, int32: the patterns serving each stop and the
        stop's position in each.
    """

    stop_ids: np.ndarray
    n_given_stops: int
    pattern_route_ids: np.ndarray
    pattern_stop_ptr: np.ndarray
    pattern_stops: np.ndarray
    pattern_trip_ptr: np.ndarray
    trip_ids: np.ndarray
    pattern_time_ptr: np.ndarray
    arrivals: np.ndarray
    departures: np.ndarray
    pattern_block: np.ndarray
    block_ids: np.ndarray
    block_headway_s: np.ndarray
    stop_pattern_ptr: np.ndarray
    stop_pattern: np.ndarray
    stop_position: np.ndarray

    @property
    def n_stops(self) -> int:
        """Number of stops (the feed's stops, in the order given to compile_timetable)."""
        return len(self.stop_ids)

    @property
    def n_patterns(self) -> int:
        """Number of patterns (trips sharing one stop sequence and one headway block)."""
        return len(self.pattern_stop_ptr) - 1

    @property
    def n_trips(self) -> int:
        """Number of trips in the timetable (rows of ``trip_ids``)."""
        return len(self.trip_ids)

    @property
    def has_headway_trips(self) -> bool:
        """True when Monte Carlo draws are needed (some trips run by headway)."""
        return len(self.block_ids) > 0


def _require(table: pd.DataFrame, columns: Sequence[str], where: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise FeedError(f"{where} lacks column(s) {missing}; has {show_value(list(table.columns))}")


def _stop_index(
    feed_stop_ids: np.ndarray, stop_ids: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Stop ids in engine order (given first, then unsnapped served stops) and each row's index."""
    given = pd.Index(np.asarray(stop_ids, dtype=object))
    if given.has_duplicates:
        dup = given[given.duplicated()][0]
        raise RoutingError(f"parameter 'stop_ids' has duplicates, e.g. {show_value(dup)}")
    extra = pd.Index(pd.unique(feed_stop_ids)).difference(given, sort=False)
    all_ids = given.append(extra)
    return np.asarray(all_ids, dtype=object), all_ids.get_indexer(feed_stop_ids).astype(np.int32)


def _fifo_groups(arr: np.ndarray, dep: np.ndarray) -> list[list[int]]:
    """Split trips (rows, already sorted by departure) into groups that never overtake.

    Greedy first fit: a trip joins the first group whose last trip it does not
    overtake at any stop (arrival and departure both no earlier). Trips sorted by
    first departure make each group's rows sorted at every position.
    """
    groups: list[list[int]] = []
    lasts: list[int] = []
    for t in range(arr.shape[0]):
        for g, last in enumerate(lasts):
            if np.all(arr[t] >= arr[last]) and np.all(dep[t] >= dep[last]):
                groups[g].append(t)
                lasts[g] = t
                break
        else:
            groups.append([t])
            lasts.append(t)
    return groups


def compile_timetable(feed, stop_ids: Sequence[str]) -> Timetable:
    """Compile a feed's trips into RAPTOR patterns and stop indexes.

    Parameters
    ----------
    feed : transitmile.feeds.Feed
        One service date, complete times (seconds after midnight), frequencies expanded.
    stop_ids : sequence of str
        Stop ids in the order the caller's tables use (access/egress/transfer columns
        and rows). Served stops missing from it are appended after it.

    Returns
    -------
    Timetable

    Raises
    ------
    FeedError
        If a table lacks a required column or a trip has a missing stop time.
    RoutingError
        If ``stop_ids`` has duplicates.
    """
    _require(feed.stop_times, _STOP_TIME_COLUMNS, "feed.stop_times")
    _require(feed.trips, _TRIP_COLUMNS, "feed.trips")
    st = feed.stop_times.loc[:, list(_STOP_TIME_COLUMNS)].sort_values(
        ["trip_id", "stop_sequence"], kind="stable"
    )
    for col in ("arrival_time", "departure_time"):
        if st[col].isna().any():
            bad = st.loc[st[col].isna(), "trip_id"].iloc[0]
            raise FeedError(
                f"feed.stop_times column {col!r} has missing times, e.g. trip {show_value(bad)}"
            )
    all_stop_ids, stop_idx = _stop_index(st["stop_id"].to_numpy(dtype=object), stop_ids)
    arr = st["arrival_time"].to_numpy(dtype=np.int64)
    dep = np.maximum(st["departure_time"].to_numpy(dtype=np.int64), arr)
    trip_of_row = st["trip_id"].to_numpy(dtype=object)
    starts = np.flatnonzero(np.r_[True, trip_of_row[1:] != trip_of_row[:-1]])
    ends = np.r_[starts[1:], len(st)]
    trip_ids = trip_of_row[starts]

    trips = feed.trips.drop_duplicates("trip_id").set_index("trip_id")
    info = trips.reindex(trip_ids)
    route_ids = info["route_id"].to_numpy(dtype=object)
    headway = info["headway_based"].fillna(False).to_numpy(dtype=bool)
    block = info["frequency_block"].fillna(-1).to_numpy(dtype=np.int64)
    headway_s = info["headway_s"].to_numpy(dtype=np.float64)

    # A pattern key: the stop sequence, plus the block for headway trips (own patterns).
    keys: dict[tuple, list[int]] = {}
    for t in range(len(trip_ids)):
        seq = stop_idx[starts[t] : ends[t]]
        if len(seq) < 2:
            continue  # a one-stop trip carries nobody anywhere
        key = (seq.tobytes(), int(block[t]) if headway[t] else -1, route_ids[t])
        keys.setdefault(key, []).append(t)

    block_index: dict[int, int] = {}
    pat_route, pat_stops, pat_trips, pat_arr, pat_dep, pat_block = [], [], [], [], [], []
    for (seq_bytes, blk, route), members in keys.items():
        seq = np.frombuffer(seq_bytes, dtype=np.int32)
        rows = starts[np.asarray(members)][:, None] + np.arange(len(seq))
        a, d = arr[rows], dep[rows]
        order = np.lexsort(tuple(d[:, p] for p in range(d.shape[1] - 1, -1, -1)))
        a, d = a[order], d[order]
        members = np.asarray(members)[order]
        if blk >= 0 and blk not in block_index:
            block_index[blk] = len(block_index)
        for group in _fifo_groups(a, d):
            pat_route.append(route)
            pat_stops.append(seq)
            pat_trips.append(trip_ids[members[group]])
            pat_arr.append(a[group].T.ravel())  # position-major
            pat_dep.append(d[group].T.ravel())
            pat_block.append(block_index[blk] if blk >= 0 else -1)

    block_ids = np.array(sorted(block_index, key=block_index.get), dtype=np.int64)
    block_headway = np.zeros(len(block_ids), dtype=np.int32)
    for b, blk in enumerate(block_ids):
        hw = headway_s[(block == blk) & headway]
        if not (len(hw) and np.isfinite(hw[0]) and hw[0] > 0):
            raise FeedError(
                f"feed.trips column 'headway_s' must be > 0 for headway-based trips, "
                f"frequency_block {blk} has {show_value(hw[:1].tolist())}"
            )
        block_headway[b] = int(round(hw[0]))

    return _assemble(
        all_stop_ids, len(stop_ids), pat_route, pat_stops, pat_trips, pat_arr, pat_dep,
        pat_block, block_ids, block_headway,
    )  # fmt: skip


def _ptr(lengths: Sequence[int]) -> np.ndarray:
    out = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(np.asarray(lengths, dtype=np.int64), out=out[1:])
    return out


def _assemble(
    stop_ids,
    n_given,
    pat_route,
    pat_stops,
    pat_trips,
    pat_arr,
    pat_dep,
    pat_block,
    block_ids,
    block_headway,
) -> Timetable:
    """Concatenate per-pattern pieces and build the stop -> (pattern, position) index."""
    n_stops = len(stop_ids)
    stop_ptr = _ptr([len(s) for s in pat_stops])
    stops = np.concatenate(pat_stops).astype(np.int32) if pat_stops else np.zeros(0, np.int32)
    times = [np.zeros(0, np.int64)]
    too_late = max((int(x.max()) for x in pat_dep if len(x)), default=0)
    if too_late >= 2**31 - 2 * 86400:
        raise FeedError(f"feed.stop_times has a time too large: {show_value(too_late)} s")
    pattern_of = np.repeat(np.arange(len(pat_stops), dtype=np.int32), np.diff(stop_ptr))
    position = np.arange(len(stops), dtype=np.int64) - np.repeat(stop_ptr[:-1], np.diff(stop_ptr))
    order = np.argsort(stops, kind="stable")
    return Timetable(
        stop_ids=np.asarray(stop_ids, dtype=object),
        n_given_stops=int(n_given),
        pattern_route_ids=np.asarray(pat_route, dtype=object),
        pattern_stop_ptr=stop_ptr,
        pattern_stops=stops,
        pattern_trip_ptr=_ptr([len(t) for t in pat_trips]),
        trip_ids=np.concatenate(pat_trips) if pat_trips else np.zeros(0, dtype=object),
        pattern_time_ptr=_ptr([len(a) for a in pat_arr]),
        arrivals=np.concatenate(pat_arr or times).astype(np.int32),
        departures=np.concatenate(pat_dep or times).astype(np.int32),
        pattern_block=np.asarray(pat_block, dtype=np.int32),
        block_ids=block_ids,
        block_headway_s=block_headway,
        stop_pattern_ptr=indptr_from_rows(stops, n_stops),
        stop_pattern=pattern_of[order],
        stop_position=position[order].astype(np.int32),
    )
