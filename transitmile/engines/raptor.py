"""Range RAPTOR kernels in numba.

RAPTOR and its range variant rRAPTOR follow Delling, Pajor and Werneck (2012),
"Round-Based Public Transit Routing": round ``k`` finds the earliest arrival at
every stop with at most ``k`` rides; range RAPTOR runs one search per departure
minute from the latest to the earliest and keeps the labels of the later minutes,
which stay valid upper bounds (one may leave earlier and wait), so each minute only
explores what improves.

Conventions borrowed from R5 (Conveyal), so that results compare with r5py:

- a board slack (``board_slack_s``, R5's ``BOARD_SLACK_SECONDS``) is required before
  *every* boarding, including the first one after the access walk;
- labels are kept per round and are monotone in the round (``tau[k]`` is the best
  arrival with *at most* ``k`` rides), which keeps label reuse across minutes exact
  when the number of rides is limited;
- egress to destinations and walking transfers start only from arrivals by vehicle
  (no walk - walk chains), as R5 propagates ``bestNonTransferTimes``;
- headway-based trips (Monte Carlo, Conway, Byrd, van der Linden 2017): the
  scheduled search leaves them out; each draw of each minute starts from a copy of
  the scheduled labels with the headway blocks shifted by fresh random phases, as
  R5's FastRaptorWorker frequency search;
- percentiles over iterations by R5's ``TravelTimeReducer.findPercentileIndex``
  (``ceil(p / 100 * n) - 1`` into the sorted seconds, no interpolation), minutes by
  integer division (``convertToMinutes``), and a travel time counts only if it is
  below the cutoff (``PerTargetPropagater``: ``timeAtTarget < cutoffSeconds``).

Every function here is a plain ``@njit`` kernel over arrays, grouped in named tuples
(numba compiles attribute access to a field read, at no cost): :class:`Transit` is the
timetable and the walking transfers, :class:`Table` one sparse table (access, egress,
direct), :class:`Labels` the arrival labels of one search and :class:`Scratch` its
work lists. The Python side (:mod:`transitmile.engines.embedded`) validates inputs,
builds these tuples and shapes results.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit, prange

UNREACHED = np.int32(2**31 - 1)  # as R5's FastRaptorWorker.UNREACHED

# Rows of the parent array kept for path reconstruction (breakdown). Ride and
# transfer parents have their own rows: one stop can hold both a vehicle arrival
# (for egress, transfers) and a faster walking-transfer arrival (for boarding).
RIDE_PATTERN, RIDE_TRIP, RIDE_BOARD_POS, RIDE_ALIGHT_POS, WALK_FROM, WALK_S = range(6)
N_PARENT_ROWS = 6

_PULL_BLOCK = 32  # egress stops per vectorized block of the pull (see _propagate_egress)
_PILOT_ORIGINS = 4  # origins of a chunk that try the pruned search first (range_raptor_chunk)
# Percentiles over at most _NETWORK_MAX_ITER iterations go through a sorting network,
# _NETWORK_BLOCK destinations side by side (see _network_percentiles).
_NETWORK_MAX_ITER = 128
_NETWORK_BLOCK = 128
_NETWORK_SHIFT = 7  # bits of the iteration in a network key: 2**7 = _NETWORK_MAX_ITER
_NETWORK_CAP = (1 << (31 - _NETWORK_SHIFT)) - 1  # seconds at or above it: unreachable

# How a search treats headway-based (frequency) patterns.
#: Every pattern is an ordinary one (no headway trips, or their phases already drawn).
ALL_PATTERNS = 0
#: The scheduled search of a minute: headway patterns are left out.
SCHEDULED_ONLY = 1
#: A Monte Carlo draw from the scheduled labels (R5's frequency search): every headway
#: pattern is scanned in every round, scheduled patterns only from stops improved.
HEADWAY_DRAW = 2

#: The timetable (see :class:`~transitmile.engines.timetable.Timetable`) and the walking
#: transfers between stops (CSR), as the kernels read them.
Transit = namedtuple(
    "Transit",
    [
        "pattern_stop_ptr", "pattern_stops", "pattern_time_ptr", "arrivals", "departures",
        "pattern_block", "stop_pattern_ptr", "stop_pattern", "stop_position",
        "transfer_ptr", "transfer_to", "transfer_s",
    ],
)  # fmt: skip

#: One sparse table in CSR: row pointers (int64), column of each entry and its seconds (int32).
Table = namedtuple("Table", ["ptr", "to", "s"])

#: Labels of one search: best arrival with at most k rides by any means (``tau``) and by
#: vehicle (``tau_ride``), int32 ``[max_rides + 1, n_stops]``, and the parent pointers
#: int32 ``[N_PARENT_ROWS, max_rides + 1, n_stops]`` (``[N_PARENT_ROWS, 1, 1]`` unused).
Labels = namedtuple("Labels", ["tau", "tau_ride", "parent"])

#: Work lists of one search, reused across minutes and draws: marked stops (with their
#: flags), patterns to scan (``pattern_first`` all -1 between rounds), stops to egress
#: from (with flags), the round's new and ridden stops, and per stop the first scheduled
#: departure catchable from its round-0 label (-1 until set; see :func:`seed_access_range`).
Scratch = namedtuple(
    "Scratch",
    ["marked_list", "stop_flag", "pattern_first", "pattern_list", "egress_flag",
     "egress_list", "new_list", "ride_list", "departure_cursor"],
)  # fmt: skip


@njit(cache=True)
def new_scratch(n_stops, n_patterns):
    """Work lists for one search over ``n_stops`` stops and ``n_patterns`` patterns."""
    return Scratch(
        np.empty(n_stops, dtype=np.int32),
        np.zeros(n_stops, dtype=np.int8),
        np.full(n_patterns, -1, dtype=np.int32),
        np.empty(n_patterns, dtype=np.int32),
        np.zeros(n_stops, dtype=np.int8),
        np.empty(n_stops, dtype=np.int32),
        np.empty(n_stops, dtype=np.int32),
        np.empty(n_stops, dtype=np.int32),
        np.full(n_stops, -1, dtype=np.int64),
    )


@njit(cache=True)
def new_labels(max_rides, n_stops, record):
    """Unreached labels for ``max_rides`` rounds; parent pointers only when ``record``."""
    shape = (N_PARENT_ROWS, max_rides + 1, n_stops) if record else (N_PARENT_ROWS, 1, 1)
    return Labels(
        np.full((max_rides + 1, n_stops), UNREACHED, dtype=np.int32),
        np.full((max_rides + 1, n_stops), UNREACHED, dtype=np.int32),
        np.zeros(shape, dtype=np.int32),
    )


@njit(cache=True, inline="always")
def _carry_down(labels, k, stop, value):
    """Propagate an improved label to the later rounds (``tau[k]`` <= ``tau[k-1]``).

    Returns True when the last round improved too (a new best over all rounds).
    """
    last = labels.shape[0] - 1
    for j in range(k + 1, last + 1):
        if labels[j, stop] > value:
            labels[j, stop] = value
        else:
            return False
    return True


@njit(cache=True, inline="always")
def _first_trip_from(departures, base, n_trips, pos, hi, earliest):
    """Smallest trip index < ``hi`` departing at ``pos`` no earlier than ``earliest``."""
    lo = 0
    start = base + pos * n_trips
    while lo < hi:
        mid = (lo + hi) >> 1
        if departures[start + mid] < earliest:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, inline="always")
def _list_marked_patterns(tt, scratch, n_marked, scheduled_only, n_listed):
    """List the patterns through the marked stops, each from its first marked position.

    ``scratch.pattern_list[:n]`` gets the patterns and ``scratch.pattern_first`` their
    first positions (the caller resets it to -1 as it scans them); the marked stops'
    flags are cleared. ``scheduled_only`` leaves headway-based patterns out. The first
    ``n_listed`` entries are already listed (see :func:`seed_access_range`). Returns n.
    """
    marked_list, stop_flag = scratch.marked_list, scratch.stop_flag
    pattern_first, pattern_list = scratch.pattern_first, scratch.pattern_list
    n_pat = n_listed
    for i in range(n_marked):
        s = marked_list[i]
        stop_flag[s] = 0
        for j in range(np.uint64(tt.stop_pattern_ptr[s]), np.uint64(tt.stop_pattern_ptr[s + 1])):
            p = np.uint64(tt.stop_pattern[j])
            pos = tt.stop_position[j]
            if scheduled_only and tt.pattern_block[p] >= 0:
                continue
            if pattern_first[p] < 0:
                pattern_list[n_pat] = p
                n_pat += 1
                pattern_first[p] = pos
            elif pos < pattern_first[p]:
                pattern_first[p] = pos
    return n_pat


@njit(cache=True)
def raptor_rounds(
    tt, max_rides, board_slack_s, latest_arrival, pattern_shift, headway_mode,
    headway_patterns, labels, scratch, n_marked, n_egress, record, prune, n_listed=0,
):  # fmt: skip
    """Run rounds 1..``max_rides`` from the stops marked in round 0.

    Parameters
    ----------
    tt : Transit
        Timetable and walking transfers.
    max_rides, board_slack_s, latest_arrival : int
        Rounds, seconds needed before each boarding, latest arrival kept (seconds).
    pattern_shift : int32 [n_patterns]
        Seconds added to every time of a pattern (Monte Carlo phase of headway blocks).
    headway_mode : int
        :data:`ALL_PATTERNS`, :data:`SCHEDULED_ONLY` or :data:`HEADWAY_DRAW`; the
        draw search scans every pattern of ``headway_patterns`` in every round.
    labels : Labels
        Updated in place; keep them between minutes for range RAPTOR.
    scratch : Scratch
        ``marked_list[:n_marked]``: stops whose round-0 label improved (access);
        ``stop_flag`` all zero and ``pattern_first`` all -1 on entry and on exit.
    n_egress : int
        Stops already in ``scratch.egress_list``; stops whose best vehicle arrival over
        all rounds improves are appended (flag set); the caller clears the flags.
    n_listed : int
        Patterns round 0 listed itself for round 1 (``scratch.pattern_list[:n_listed]``
        with their ``pattern_first``), beside the patterns of the marked stops; see
        :func:`seed_access_range`.
    record : bool
        Store in ``labels.parent[:, k, s]`` how label ``(k, s)`` was last improved: the
        ride (pattern, trip, boarding and alighting positions) and the walking transfer
        (from stop, seconds). Labels reused from later minutes keep the parents they
        were set with, so the pointers describe the current labels after every call.
    prune : bool
        Propagate (mark for the next round, walk transfers from) only arrivals that
        beat the stop's best with any number of rides, ``tau[max_rides]`` (RAPTOR's
        local pruning, Delling, Pajor and Werneck 2012). Without it every improvement
        of a round's own label is propagated, which the ride limit needs: a later
        arrival with fewer rides can still lead where the earlier one, having used
        more rides, cannot. With it the labels are exact for an unlimited number of
        rides when nothing is left to propagate after the last round; see
        :func:`range_raptor_chunk` for how that makes them exact for the limit too.
        For :data:`ALL_PATTERNS` searches only (a headway draw scans patterns no mark
        lists); other modes ignore it.

    Returns
    -------
    n_egress : int
        The new ``n_egress``.
    n_left : int
        Stops still marked after the last round, whose improvements the ride limit kept
        from being propagated; 0 when the rounds ran out of marked stops before the
        limit or, with ``prune``, when one more round would improve no arrival (see
        :func:`_one_more_round_improves`).
    """
    tau, tau_ride, parent = labels.tau, labels.tau_ride, labels.parent
    prune = prune and headway_mode == ALL_PATTERNS
    marked_list, stop_flag = scratch.marked_list, scratch.stop_flag
    pattern_first, pattern_list = scratch.pattern_first, scratch.pattern_list
    egress_flag, egress_list = scratch.egress_flag, scratch.egress_list
    new_list, ride_list = scratch.new_list, scratch.ride_list
    pattern_stop_ptr, pattern_stops = tt.pattern_stop_ptr, tt.pattern_stops
    pattern_time_ptr, arrivals, departures = tt.pattern_time_ptr, tt.arrivals, tt.departures
    transfer_ptr, transfer_to, transfer_s = tt.transfer_ptr, tt.transfer_to, tt.transfer_s
    for k in range(1, max_rides + 1):
        if n_marked == 0 and (k > 1 or n_listed == 0) and headway_mode != HEADWAY_DRAW:
            break
        n_pat = _list_marked_patterns(tt, scratch, n_marked, headway_mode == SCHEDULED_ONLY,
                                      n_listed if k == 1 else 0)  # fmt: skip
        if headway_mode == HEADWAY_DRAW:
            # Any labelled stop may board a re-phased headway trip: scan them all.
            for h in range(len(headway_patterns)):
                p = headway_patterns[h]
                if pattern_first[p] < 0:
                    pattern_list[n_pat] = p
                    n_pat += 1
                pattern_first[p] = 0
        n_new = 0
        n_ride = 0
        # The round's label rows as views, indexed below by unsigned stops: no row
        # arithmetic or negative-index wraparound per access in the hottest loops
        # (7% of a full search on POA, the same labels).
        tau_k, tau_prev, tau_last = tau[k], tau[k - 1], tau[max_rides]
        ride_k, ride_last = tau_ride[k], tau_ride[max_rides]
        for i in range(n_pat):
            p = pattern_list[i]
            first = pattern_first[p]
            pattern_first[p] = -1
            s0 = pattern_stop_ptr[p]
            n_pos = pattern_stop_ptr[p + 1] - s0
            base = pattern_time_ptr[p]
            n_trips = (pattern_time_ptr[p + 1] - base) // n_pos
            shift = pattern_shift[p]
            trip = -1
            board_pos = -1
            for pos in range(first, n_pos):
                s = np.uint64(pattern_stops[s0 + pos])
                if trip >= 0:
                    t_arr = arrivals[base + pos * n_trips + trip] + shift
                    if t_arr <= latest_arrival:
                        if t_arr < ride_k[s]:
                            # Later rounds hold the best of rounds < k (carried at the
                            # end of each round), so the last one tells a new best.
                            best_overall = t_arr < ride_last[s]
                            ride_k[s] = t_arr
                            if record:
                                parent[RIDE_PATTERN, k, s] = p
                                parent[RIDE_TRIP, k, s] = trip
                                parent[RIDE_BOARD_POS, k, s] = board_pos
                                parent[RIDE_ALIGHT_POS, k, s] = pos
                            if stop_flag[s] & 2 == 0 and (best_overall or not prune):
                                stop_flag[s] |= 2
                                ride_list[n_ride] = s
                                n_ride += 1
                            # Egress only from a new best over all rounds: a round-k
                            # improvement that a path with more rides already beats
                            # cannot improve any destination.
                            if best_overall and egress_flag[s] == 0:
                                egress_flag[s] = 1
                                egress_list[n_egress] = s
                                n_egress += 1
                        if t_arr < tau_k[s]:
                            # Read before the write: in the last round it is the same label.
                            propagate = not prune or t_arr < tau_last[s]
                            tau_k[s] = t_arr
                            if stop_flag[s] & 1 == 0 and propagate:
                                stop_flag[s] |= 1
                                new_list[n_new] = s
                                n_new += 1
                # Board (or switch to) an earlier trip if the previous round allows.
                ready = tau_prev[s]
                if ready < UNREACHED:
                    hi = n_trips if trip < 0 else trip
                    earliest = ready + board_slack_s - shift
                    if hi > 0 and departures[base + pos * n_trips + hi - 1] >= earliest:
                        trip = _first_trip_from(departures, base, n_trips, pos, hi, earliest)
                        board_pos = pos
        # Walking transfers from stops reached by vehicle in this round.
        for i in range(n_ride):
            s = ride_list[i]
            stop_flag[s] &= 1
            t0 = tau_ride[k, s]
            _carry_down(tau_ride, k, s, t0)
            # Unsigned indices here too (~350,000 relaxations per origin on POA).
            for j in range(np.uint64(transfer_ptr[s]), np.uint64(transfer_ptr[s + 1])):
                s2 = np.uint64(transfer_to[j])
                t_arr = t0 + transfer_s[j]
                if t_arr <= latest_arrival and t_arr < tau_k[s2]:
                    propagate = not prune or t_arr < tau_last[s2]
                    tau_k[s2] = t_arr
                    if record:
                        parent[WALK_FROM, k, s2] = s
                        parent[WALK_S, k, s2] = transfer_s[j]
                    if stop_flag[s2] & 1 == 0 and propagate:
                        stop_flag[s2] |= 1
                        new_list[n_new] = s2
                        n_new += 1
        for i in range(n_new):
            s = new_list[i]
            stop_flag[s] = 0
            marked_list[i] = s
            _carry_down(tau, k, s, tau[k, s])
        n_marked = n_new
    for i in range(n_marked):
        stop_flag[marked_list[i]] = 0
    if (
        prune
        and n_marked > 0
        and not _one_more_round_improves(
            tt, max_rides, board_slack_s, latest_arrival, pattern_shift, labels, scratch, n_marked
        )
    ):
        n_marked = 0
    return n_egress, n_marked


@njit(cache=True)
def _one_more_round_improves(tt, max_rides, board_slack_s, latest_arrival, pattern_shift,
                             labels, scratch, n_marked):  # fmt: skip
    """Whether a round beyond the last would improve any vehicle arrival.

    A dry run of round ``max_rides + 1`` of a pruned search (every pattern, as
    :data:`ALL_PATTERNS`, shifted by ``pattern_shift``) from the stops
    marked in the last round (``scratch.marked_list[:n_marked]``): nothing is written.
    When no ride would beat a stop's best vehicle arrival, no walking transfer starts
    either and the search has nothing left to propagate, so an unlimited number of
    rides would end with the same labels. Stops at the end of their lines, the usual
    last improvements, are settled this way rather than failing the check.
    """
    tau, tau_ride = labels.tau, labels.tau_ride
    pattern_first, pattern_list = scratch.pattern_first, scratch.pattern_list
    k = max_rides
    n_pat = _list_marked_patterns(tt, scratch, n_marked, False, 0)
    improves = False
    for i in range(n_pat):
        p = pattern_list[i]
        first = pattern_first[p]
        pattern_first[p] = -1
        if improves:
            continue  # only restoring pattern_first
        s0 = tt.pattern_stop_ptr[p]
        n_pos = tt.pattern_stop_ptr[p + 1] - s0
        base = tt.pattern_time_ptr[p]
        n_trips = (tt.pattern_time_ptr[p + 1] - base) // n_pos
        shift = pattern_shift[p]
        trip = -1
        for pos in range(first, n_pos):
            s = tt.pattern_stops[s0 + pos]
            if trip >= 0:
                t_arr = tt.arrivals[base + pos * n_trips + trip] + shift
                if t_arr <= latest_arrival and t_arr < tau_ride[k, s]:
                    improves = True
                    break
            ready = tau[k, s]
            if ready < UNREACHED:
                hi = n_trips if trip < 0 else trip
                earliest = ready + board_slack_s - shift
                if hi > 0 and tt.departures[base + pos * n_trips + hi - 1] >= earliest:
                    trip = _first_trip_from(tt.departures, base, n_trips, pos, hi, earliest)
    return improves


@njit(cache=True)
def seed_access(tt, tau, access, origin, t_depart, latest_arrival, scratch):
    """Round 0: walk from the origin to its stops; returns the number of marked stops.

    ``access`` is a :class:`Table` (origin x stop); improved stops are appended to
    ``scratch.marked_list``.
    """
    no_departures = np.zeros(0, dtype=np.int64)
    n_marked, _ = seed_access_range(tt, tau, access, origin, t_depart, latest_arrival, 0,
                                    no_departures, no_departures.astype(np.int32), scratch,
                                    False)  # fmt: skip
    return n_marked


@njit(cache=True)
def stop_departures(tt):
    """Departures of the scheduled patterns at every stop, sorted (CSR; seconds).

    Returns ``(ptr, departures)``: int64 ``[n_stops + 1]`` and int32. Headway-based
    patterns are left out (the scheduled search does not ride them).
    """
    n_stops = len(tt.stop_pattern_ptr) - 1
    ptr = np.zeros(n_stops + 1, dtype=np.int64)
    for s in range(n_stops):
        count = 0
        for j in range(tt.stop_pattern_ptr[s], tt.stop_pattern_ptr[s + 1]):
            p = tt.stop_pattern[j]
            if tt.pattern_block[p] < 0:
                n_pos = tt.pattern_stop_ptr[p + 1] - tt.pattern_stop_ptr[p]
                count += (tt.pattern_time_ptr[p + 1] - tt.pattern_time_ptr[p]) // n_pos
        ptr[s + 1] = ptr[s] + count
    departures = np.empty(ptr[n_stops], dtype=np.int32)
    for s in range(n_stops):
        k = ptr[s]
        for j in range(tt.stop_pattern_ptr[s], tt.stop_pattern_ptr[s + 1]):
            p = tt.stop_pattern[j]
            if tt.pattern_block[p] < 0:
                n_pos = tt.pattern_stop_ptr[p + 1] - tt.pattern_stop_ptr[p]
                n_trips = (tt.pattern_time_ptr[p + 1] - tt.pattern_time_ptr[p]) // n_pos
                start = tt.pattern_time_ptr[p] + tt.stop_position[j] * n_trips
                departures[k : k + n_trips] = tt.departures[start : start + n_trips]
                k += n_trips
        departures[ptr[s] : ptr[s + 1]].sort()
    return ptr, departures


@njit(cache=True, inline="always")
def _catches_new_departure(departures, lo, hi, cursor, s, earliest):
    """Whether stop ``s``'s new label catches a departure its old one missed.

    ``departures[lo:hi]`` are the stop's sorted departures; ``cursor[s]`` (-1 before
    the first label) is the first one at or after the old label plus the slack, and is
    moved to the first at or after ``earliest``, the new label plus the slack.
    """
    c = cursor[s]
    if c < 0:  # the first label of this stop: always scan from it
        while lo < hi:
            mid = (lo + hi) >> 1
            if departures[mid] < earliest:
                lo = mid + 1
            else:
                hi = mid
        cursor[s] = lo
        return True
    start = c
    while c > lo and departures[c - 1] >= earliest:
        c -= 1
    cursor[s] = c
    return c < start  # a departure in [new + slack, old + slack)


@njit(cache=True)
def seed_access_range(tt, tau, access, origin, t_depart, latest_arrival, board_slack_s, dep_ptr,
                      departures, scratch, prune):  # fmt: skip
    """Round 0 of a range RAPTOR minute: like :func:`seed_access`, scanning less.

    Each minute every access stop is reached 60 s earlier, but an earlier arrival only
    matters where it catches a trip the later one missed: a scheduled departure at the
    stop in ``[new + slack, old + slack)``. Elsewhere the earliest catchable trip of
    every pattern is unchanged, so scanning from the stop would repeat the previous
    minute's rides exactly (its label is still lowered, for the boarding tests of
    patterns scanned from other stops). The same holds pattern by pattern: of a stop
    that catches a new departure, only the patterns with such a departure are listed
    for round 1, each from the stop's position (a stop has 2.8 patterns on average on
    POA, rarely more than one with a departure in the minute). A pattern left out
    boards at this stop the trip it boarded here before, so scanning it from here
    would only repeat those arrivals; and where a stop further on lists it, boarding
    here would ride that same trip past it, which (trips do not overtake) arrives no
    earlier than the new one. Round-0 labels feed neither transfers nor egress (both
    start from vehicle arrivals), so boarding is all they can change.

    ``dep_ptr, departures`` come from :func:`stop_departures` (empty: mark every stop
    whose label improved, as a fresh search must); ``scratch.departure_cursor``
    keeps, per stop, the first departure at or after the label plus the slack, so that
    each minute only steps back over the departures of its own 60 seconds (the labels
    of one origin only fall from minute to minute). A stop's first label marks the
    stop, so all its patterns are scanned. With ``prune`` (see :func:`raptor_rounds`)
    a stop is scanned from only if its walk beats its best arrival with any number of
    rides; the cursor still moves, as a departure the walk catches is caught as well
    from that earlier arrival, which was propagated when it was set.

    Returns
    -------
    n_marked : int
        Stops appended to ``scratch.marked_list`` (their patterns are listed by
        :func:`raptor_rounds`).
    n_listed : int
        Patterns listed in ``scratch.pattern_list`` for round 1 (``raptor_rounds``'s
        ``n_listed``).
    """
    marked_list, stop_flag = scratch.marked_list, scratch.stop_flag
    cursor = scratch.departure_cursor
    n = 0
    n_listed = 0
    for j in range(access.ptr[origin], access.ptr[origin + 1]):
        s = access.to[j]
        t_arr = t_depart + access.s[j]
        old = tau[0, s]
        if t_arr <= latest_arrival and t_arr < old:
            propagate = not prune or t_arr < tau[tau.shape[0] - 1, s]
            tau[0, s] = t_arr
            _carry_down(tau, 0, s, t_arr)
            earliest = np.int64(t_arr) + board_slack_s
            first_label = len(dep_ptr) == 0 or cursor[s] < 0
            if len(dep_ptr) > 0 and not _catches_new_departure(
                departures, dep_ptr[s], dep_ptr[s + 1], cursor, s, earliest
            ):
                continue
            if not propagate:
                continue
            if not first_label:
                n_listed = _list_new_departures(tt, scratch, n_listed, s, earliest,
                                                np.int64(old) + board_slack_s)  # fmt: skip
            elif stop_flag[s] == 0:
                stop_flag[s] = 1
                marked_list[n] = s
                n += 1
    return n, n_listed


@njit(cache=True, inline="always")
def _list_new_departures(tt, scratch, n_listed, s, earliest, old_earliest):
    """List the scheduled patterns with a departure at stop ``s`` in ``[earliest, old_earliest)``.

    Each from the stop's position, as :func:`_list_marked_patterns` lists them. The
    listing's six lines are written out in both rather than shared: a shared inlined
    helper measured 4% slower in that function, which runs every round.
    """
    pattern_first = scratch.pattern_first
    for j in range(tt.stop_pattern_ptr[s], tt.stop_pattern_ptr[s + 1]):
        p = tt.stop_pattern[j]
        if tt.pattern_block[p] >= 0:
            continue  # headway patterns: the draws scan them all
        pos = tt.stop_position[j]
        base = tt.pattern_time_ptr[p]
        n_trips = (tt.pattern_time_ptr[p + 1] - base) // (
            tt.pattern_stop_ptr[p + 1] - tt.pattern_stop_ptr[p]
        )
        trip = _first_trip_from(tt.departures, base, n_trips, pos, n_trips, earliest)
        if trip >= n_trips or tt.departures[base + pos * n_trips + trip] >= old_earliest:
            continue
        if pattern_first[p] < 0:
            scratch.pattern_list[n_listed] = p
            n_listed += 1
            pattern_first[p] = pos
        elif pos < pattern_first[p]:
            pattern_first[p] = pos
    return n_listed


@njit(cache=True)
def pattern_shifts(pattern_block, block_offsets):
    """Per-pattern time shift (seconds) for one Monte Carlo draw of block phases."""
    out = np.zeros(len(pattern_block), dtype=np.int32)
    for p in range(len(pattern_block)):
        b = pattern_block[p]
        if b >= 0:
            out[p] = block_offsets[b]
    return out


@njit(cache=True)
def percentile_index(n, percentile):
    """Index of a percentile in ``n`` sorted values, R5's ``findPercentileIndex``.

    ``ceil(percentile / 100 * n) - 1``: the smallest value such that at least
    ``percentile`` percent of the values are <= it (no interpolation).
    """
    return max(0, int(np.ceil(percentile / 100.0 * n)) - 1)


@njit(cache=True)
def _propagate_egress(n_egress, scratch, tau_ride, egress, egress_t, direct, t0, latest,
                      dest_arrival):  # fmt: skip
    """Improve destination arrivals from the stops whose best vehicle arrival improved.

    Push (few stops improved, the usual range RAPTOR minute): scan the improved
    stops' egress rows (``egress``, stop x destination), cut at ``latest`` (rows are
    sorted by time). Pull (many improved, e.g. the first minute): for each destination
    scan its stops (``egress_t``, destination x stop) by increasing egress time and stop
    once even the earliest vehicle arrival anywhere plus the walk cannot beat the best
    known arrival, walking door to door or the cutoff. A pulled arrival may stay above
    the true one only where it is no better than walking or the cutoff, which stays true
    for earlier minutes too.
    """
    egress_list = scratch.egress_list
    max_rides = tau_ride.shape[0] - 1
    n_stops = tau_ride.shape[1]
    _clear_egress(n_egress, scratch)
    if 4 * n_egress < n_stops:
        bound = _useful_arrival_bound(egress_t.ptr, dest_arrival, direct, t0, latest)
        for e in range(n_egress):
            s = egress_list[e]
            t_stop = tau_ride[max_rides, s]
            # Unsigned indices, as in raptor_rounds' loops: no wraparound per access.
            for j in range(np.uint64(egress.ptr[s]), np.uint64(egress.ptr[s + 1])):
                t_arr = t_stop + egress.s[j]
                if t_arr >= bound:
                    break
                dst = np.uint64(egress.to[j])
                if t_arr < dest_arrival[dst]:
                    dest_arrival[dst] = t_arr
        return
    earliest = UNREACHED
    for e in range(n_egress):
        earliest = min(earliest, tau_ride[max_rides, egress_list[e]])
    best_ride = tau_ride[max_rides]
    egress_t_ptr, egress_t_from, egress_t_s = egress_t.ptr, egress_t.to, egress_t.s
    for dst in range(len(dest_arrival)):
        cap = min(dest_arrival[dst], latest)
        if direct[dst] < UNREACHED:
            cap = min(cap, t0 + direct[dst])
        # Blocks of _PULL_BLOCK stops: a branch-free minimum numba vectorizes, the
        # cut-off tested per block. Stops past the cut-off can only give arrivals
        # >= cap, which leave the minimum below the initial cap unchanged.
        best = np.int64(UNREACHED)
        j = egress_t_ptr[dst]
        end = egress_t_ptr[dst + 1]
        while j < end and earliest + egress_t_s[j] < min(cap, best):
            stop = min(j + _PULL_BLOCK, end)
            for jj in range(np.uint64(j), np.uint64(stop)):
                best = min(best, best_ride[np.uint64(egress_t_from[jj])] + egress_t_s[jj])
            j = stop
        if best < cap:
            dest_arrival[dst] = best


@njit(cache=True)
def _useful_arrival_bound(egress_t_ptr, dest_arrival, direct, t0, latest):
    """Latest arrival at a destination that can still change a travel time (seconds).

    The largest, over the destinations that some stop reaches on foot, of the best known
    arrival, the cutoff ``latest`` and walking door to door. An arrival at or after it
    is no better than one of these at every destination, in this minute and in every
    earlier one (they start earlier, and walking's arrival moves with them), so a
    sorted egress row can stop there: the same cut as the pull's, for all rows at once.
    """
    bound = t0
    for dst in range(len(dest_arrival)):
        if egress_t_ptr[dst + 1] > egress_t_ptr[dst]:
            cap = min(dest_arrival[dst], latest)
            if direct[dst] < UNREACHED:
                cap = min(cap, t0 + direct[dst])
            bound = max(bound, cap)
    return bound


@njit(cache=True)
def _clear_egress(n_egress, scratch):
    """Clear the flags of the stops listed for egress."""
    for e in range(n_egress):
        scratch.egress_flag[scratch.egress_list[e]] = 0


@njit(cache=True)
def _record_iteration(times, it, dest_arrival, direct, t0, max_time_s):
    """Travel time of one iteration: the better of transit and walking door to door."""
    for dst in range(len(dest_arrival)):
        tt = direct[dst]
        if dest_arrival[dst] < UNREACHED and dest_arrival[dst] - t0 < tt:
            tt = dest_arrival[dst] - t0
        # R5 keeps a time only if it is < the cutoff (PerTargetPropagater).
        times[it, dst] = tt if tt < max_time_s else UNREACHED


@njit(cache=True)
def _direct_row(direct, origin, n_dest):
    """Door-to-door street seconds from one origin to every destination (UNREACHED if none)."""
    row = np.full(n_dest, UNREACHED, dtype=np.int32)
    for j in range(direct.ptr[origin], direct.ptr[origin + 1]):
        row[direct.to[j]] = direct.s[j]
    return row


@njit(cache=True)
def _origin_setup(tt, direct, origin, n_dest, max_rides, has_headway, record):
    """Per-origin state: work lists, labels, draw labels and the door-to-door street row."""
    n_stops = len(tt.stop_pattern_ptr) - 1
    scratch = new_scratch(n_stops, len(tt.pattern_stop_ptr) - 1)
    labels = new_labels(max_rides, n_stops, record)
    draw = new_labels(max_rides, n_stops if has_headway else 1, record)
    return scratch, labels, draw, _direct_row(direct, origin, n_dest)


@njit(cache=True)
def _scheduled_search(tt, access, origin, t0, latest, max_rides, board_slack_s, setup, labels,
                      scratch, record, prune):  # fmt: skip
    """One departure minute's search on the scheduled service.

    ``setup`` is ``(no_shift, mode, headway_patterns, dep_ptr, departures)`` from
    :func:`_search_setup` and :func:`stop_departures`. Returns ``(n_egress, n_left)``
    as :func:`raptor_rounds`.
    """
    no_shift, mode, headway_patterns, dep_ptr, departures = setup
    n_marked, n_listed = seed_access_range(tt, labels.tau, access, origin, t0, latest,
                                           board_slack_s, dep_ptr, departures, scratch,
                                           prune)  # fmt: skip
    return raptor_rounds(
        tt, max_rides, board_slack_s, latest, no_shift, mode, headway_patterns,
        labels, scratch, n_marked, 0, record, prune, n_listed,
    )  # fmt: skip


@njit(cache=True)
def _draw_search(tt, labels, draw, offsets, max_rides, board_slack_s, latest,
                 headway_patterns, scratch, record):  # fmt: skip
    """One Monte Carlo draw from the minute's scheduled ``labels`` into ``draw``.

    Returns ``n_egress`` and the draw's per-pattern shifts.
    """
    draw.tau[:] = labels.tau
    draw.tau_ride[:] = labels.tau_ride
    if record:
        draw.parent[:] = labels.parent
    shift = pattern_shifts(tt.pattern_block, offsets)
    n_egress, _ = raptor_rounds(
        tt, max_rides, board_slack_s, latest, shift, HEADWAY_DRAW, headway_patterns,
        draw, scratch, 0, 0, record, False,
    )  # fmt: skip
    return n_egress, shift


@njit(cache=True)
def _search_setup(tt, block_offsets):
    """Per-chunk constants: headway patterns, a zero shift, the scheduled search's mode."""
    n_patterns = len(tt.pattern_stop_ptr) - 1
    headway_patterns = np.flatnonzero(tt.pattern_block >= 0).astype(np.int32)
    has_headway = block_offsets.shape[2] > 0
    mode = SCHEDULED_ONLY if has_headway else ALL_PATTERNS
    return headway_patterns, np.zeros(n_patterns, dtype=np.int32), mode, has_headway


@njit(cache=True, inline="always")
def _select(keys, k):
    """Reorder ``keys`` so that ``keys[k]`` is the k-th smallest (Hoare's quickselect).

    Smaller keys end up before ``k``, larger after, so selecting a larger ``k`` next
    may start from the same array.
    """
    lo, hi = 0, len(keys) - 1
    while lo < hi:
        mid = (lo + hi) >> 1
        a, b, c = keys[lo], keys[mid], keys[hi]  # median of three as the pivot
        if a > b:
            a, b = b, a
        if b > c:
            b = c
            if a > b:
                b = a
        i, j = lo, hi
        while i <= j:
            while keys[i] < b:
                i += 1
            while keys[j] > b:
                j -= 1
            if i <= j:
                keys[i], keys[j] = keys[j], keys[i]
                i += 1
                j -= 1
        if k <= j:
            hi = j
        elif k >= i:
            lo = i
        else:
            return


@njit(cache=True)
def _percentiles_of(times, pct_index, mid_index, out, median_iteration):
    """Percentile minutes of every destination over the iterations (R5's method).

    ``out`` float64 ``[n_dest, n_pct]`` (NaN stays where unreachable) and
    ``median_iteration`` int32 ``[n_dest]`` (-1 if unreachable) are written. Each
    iteration's key is ``seconds << 32 | iteration``: unique, ordered as a stable sort
    of the seconds would order them, so a quickselect finds the same element (and the
    same median iteration) as sorting, in linear time.
    """
    n_iter, n_dest = times.shape
    keys = np.empty(n_iter, dtype=np.int64)
    for dst in range(n_dest):
        for it in range(n_iter):
            keys[it] = (np.int64(times[it, dst]) << 32) | it
        for q in range(len(pct_index)):
            _select(keys, pct_index[q])
            v = keys[pct_index[q]] >> 32
            if v < UNREACHED:
                out[dst, q] = v // 60
        _select(keys, mid_index)
        key = keys[mid_index]
        median_iteration[dst] = key & 0xFFFFFFFF if key >> 32 < UNREACHED else -1


@njit(cache=True)
def selection_network(n_iter, wanted):
    """List the comparators that put the ``wanted`` positions of ``n_iter`` keys in order.

    Batcher's odd-even merge sort (Batcher 1968) for the next power of two, without
    the comparators that touch padding (padding sorts last, so they never swap) or
    that cannot change a wanted position (pruned backwards from the outputs). For 60
    iterations and the median: 411 of 543 comparators.

    Parameters
    ----------
    n_iter : int
        Keys to sort.
    wanted : int64 [k]
        Positions (0-based, in sorted order) needed.

    Returns
    -------
    int64 [n_comparators, 2]
        ``(i, j)``, ``i < j``, applied in order: the smaller key goes to ``i``.
    """
    n = 1
    log_n = 0
    while n < n_iter:
        n *= 2
        log_n += 1
    pairs = np.empty((n * (log_n * (log_n + 1) // 4 + 1), 2), dtype=np.int64)
    count = 0
    p = 1
    while p < n:
        k = p
        while k >= 1:
            for j in range(k % p, n - k, 2 * k):
                for i in range(min(k, n - j - k)):
                    if (i + j) // (2 * p) == (i + j + k) // (2 * p) and i + j + k < n_iter:
                        pairs[count, 0] = i + j
                        pairs[count, 1] = i + j + k
                        count += 1
            k //= 2
        p *= 2
    needed = np.zeros(max(n_iter, 1), dtype=np.bool_)
    for w in wanted:
        needed[w] = True
    keep = np.zeros(count, dtype=np.bool_)
    for c in range(count - 1, -1, -1):
        i, j = pairs[c, 0], pairs[c, 1]
        if needed[i] or needed[j]:
            keep[c] = True
            needed[i] = True
            needed[j] = True
    return pairs[:count][keep]


@njit(cache=True)
def _network_percentiles(times, pairs, pct_index, mid_index, out, median_iteration):
    """:func:`_percentiles_of` through a sorting network (same outputs, exactly).

    Each key is ``min(seconds, _NETWORK_CAP) << _NETWORK_SHIFT | iteration`` (int32):
    unique and ordered as a stable sort of the seconds orders them, since seconds are
    below the cutoff or ``UNREACHED``, and both ``n_iter <= _NETWORK_MAX_ITER`` and
    the cutoff below ``_NETWORK_CAP`` (the caller checks). ``pairs`` comes from
    :func:`selection_network`; any network that sorts puts the same unique keys at the
    wanted positions. The comparators run on ``_NETWORK_BLOCK`` destinations at once,
    branch-free minima and maxima the compiler vectorizes: on POA's 60-minute window
    about 2.7x faster than a quickselect per destination.
    """
    n_iter, n_dest = times.shape
    keys = np.empty((n_iter, _NETWORK_BLOCK), dtype=np.int32)
    for d0 in range(0, n_dest, _NETWORK_BLOCK):
        width = min(_NETWORK_BLOCK, n_dest - d0)
        for it in range(n_iter):
            row = keys[it]
            for b in range(width):
                row[b] = (min(times[it, d0 + b], _NETWORK_CAP) << _NETWORK_SHIFT) | it
            row[width:] = 0
        for c in range(len(pairs)):
            lo, hi = keys[pairs[c, 0]], keys[pairs[c, 1]]
            for b in range(_NETWORK_BLOCK):
                x, y = lo[b], hi[b]
                lo[b] = min(x, y)
                hi[b] = max(x, y)
        for b in range(width):
            for q in range(len(pct_index)):
                v = keys[pct_index[q], b] >> _NETWORK_SHIFT
                if v < _NETWORK_CAP:
                    out[d0 + b, q] = v // 60
            key = keys[mid_index, b]
            reached = key >> _NETWORK_SHIFT < _NETWORK_CAP
            median_iteration[d0 + b] = key & (_NETWORK_MAX_ITER - 1) if reached else -1


@njit(cache=True)
def _origin_iterations(tt, access, o, departure_s, n_minutes, max_rides, board_slack_s,
                       max_time_s, block_offsets, setup, egress, egress_t, direct, times,
                       prune):  # fmt: skip
    """Every iteration's travel time from origin row ``o`` into ``times`` [n_iter, n_dest].

    Returns False when ``prune`` is set and some minute's search was cut short by the
    ride limit (see :func:`range_raptor_chunk`); ``times`` is then incomplete.
    """
    no_shift, mode, headway_patterns, dep_ptr, departures = setup
    has_headway = block_offsets.shape[2] > 0
    n_draws = block_offsets.shape[1]
    n_dest = times.shape[1]
    # Per-origin scratch: each prange worker owns its labels.
    scratch, labels, draw, direct_row = _origin_setup(
        tt, direct, o, n_dest, max_rides, has_headway, False
    )
    dest_arrival = np.full(n_dest, UNREACHED, dtype=np.int32)
    draw_dest = np.empty(n_dest if has_headway else 1, dtype=np.int32)
    for mi in range(n_minutes - 1, -1, -1):
        t0 = departure_s + 60 * mi
        latest = t0 + max_time_s
        n_egress, n_left = _scheduled_search(tt, access, o, t0, latest, max_rides,
                                             board_slack_s, setup, labels, scratch, False,
                                             prune)  # fmt: skip
        if prune and n_left > 0:
            return False
        # Destination arrivals from later minutes stay valid (one may wait).
        _propagate_egress(n_egress, scratch, labels.tau_ride, egress, egress_t, direct_row,
                          t0, latest, dest_arrival)  # fmt: skip
        if not has_headway:
            _record_iteration(times, mi, dest_arrival, direct_row, t0, max_time_s)
            continue
        for d in range(n_draws):
            draw_dest[:] = dest_arrival
            n_egress, _ = _draw_search(tt, labels, draw, block_offsets[mi, d], max_rides,
                                       board_slack_s, latest, headway_patterns, scratch,
                                       False)  # fmt: skip
            _propagate_egress(n_egress, scratch, draw.tau_ride, egress, egress_t,
                              direct_row, t0, latest, draw_dest)  # fmt: skip
            _record_iteration(times, mi * n_draws + d, draw_dest, direct_row, t0, max_time_s)
    return True


@njit(cache=True, parallel=True)
def range_raptor_chunk(
    origins, departure_s, n_minutes, max_rides, board_slack_s, max_time_s, percentiles,
    block_offsets, n_dest, tt, access, egress, egress_t, direct, median_iteration,
    keep_iterations, iterations, prune, searched_again,
):  # fmt: skip
    """Travel time percentiles from each origin row to every destination.

    Scheduled service: range RAPTOR, one search per minute from the latest, labels
    reused. Headway-based service (as R5's FastRaptorWorker): the scheduled search
    leaves the headway patterns out; then, for each Monte Carlo draw of the minute,
    a search starts from a copy of the scheduled labels with the headway blocks
    shifted by the draw's phases, scanning every headway pattern and the scheduled
    patterns at stops it improves.

    With ``prune`` (scheduled service only) each origin is first searched propagating
    only arrivals that beat a stop's best with any number of rides (see
    :func:`raptor_rounds`). When every minute's rounds end with nothing left to
    propagate, its labels are the earliest arrivals with unlimited rides; they are
    also arrivals of journeys with at most ``max_rides`` rides, so no search within
    the limit can do better, nor (having no more rides) worse: they are exactly the
    labels of the per-round search, and so are the travel times. An origin where the
    limit cut some minute's rounds short is searched again with every round's labels
    (``searched_again[i]`` set to 1). The first :data:`_PILOT_ORIGINS` origins of the
    chunk go first; if half or more of them are searched again, the ride limit binds
    on this network and the other origins keep every round's labels from the start
    (``searched_again[i]`` set to 2).

    Parameters
    ----------
    origins : int64 [n]
        Rows of the access/direct tables to route from.
    departure_s : int
        First departure minute, seconds after midnight.
    n_minutes : int
        Departure minutes in the window.
    max_rides, board_slack_s, max_time_s : int
        Rounds, boarding slack (s) and cutoff (s).
    percentiles : float64 [n_pct]
        Percentiles of the travel times over the iterations.
    block_offsets : int32 [n_minutes, n_draws, n_blocks]
        Phase offsets of headway blocks per minute and draw (``n_blocks`` 0 and
        ``n_draws`` 1 for a scheduled-only timetable).
    n_dest : int
        Number of destinations.
    tt : Transit
        Timetable and walking transfers.
    access, direct : Table
        Origin x stop and origin x destination seconds.
    egress, egress_t : Table
        Stop x destination, and the same transposed (destination x stop), each row
        sorted by time (see :func:`transitmile.engines.embedded.egress_tables`).
    median_iteration : int32 [n, n_dest]
        Out: the iteration (``minute * n_draws + draw``) at the median, -1 if unreachable.
    keep_iterations, iterations : bool, int32 [n, n_iter, n_dest]
        When ``keep_iterations``, every iteration's travel time (seconds,
        ``UNREACHED`` if none) is written to ``iterations``.
    prune : bool
        Search with pruning first (ignored when the timetable has headway trips).
    searched_again : int8 [n]
        Out: 0 where the pruned search stood (or ``prune`` is off), 1 where it was cut
        short and the origin searched again, 2 where it was not tried (see above).

    Returns
    -------
    float64 [n, n_dest, n_pct]
        Whole minutes (seconds // 60, as R5), NaN where unreachable.
    """
    n_orig = len(origins)
    n_draws = block_offsets.shape[1]
    n_iter = n_minutes * n_draws
    out = np.full((n_orig, n_dest, len(percentiles)), np.nan)
    pct_index = np.empty(len(percentiles), dtype=np.int64)
    for q in range(len(percentiles)):
        pct_index[q] = percentile_index(n_iter, percentiles[q])
    mid_index = percentile_index(n_iter, 50.0)
    by_network = n_iter <= _NETWORK_MAX_ITER and max_time_s < _NETWORK_CAP
    pairs = np.empty((0, 2), dtype=np.int64)
    if by_network:  # long windows (many draws) keep the quickselect: no network to build
        wanted = np.empty(len(pct_index) + 1, dtype=np.int64)
        wanted[:-1] = pct_index
        wanted[-1] = mid_index
        pairs = selection_network(n_iter, wanted)
    headway_patterns, no_shift, mode, has_headway = _search_setup(tt, block_offsets)
    dep_ptr, departures = stop_departures(tt)
    setup = (no_shift, mode, headway_patterns, dep_ptr, departures)
    pruned = prune and not has_headway
    n_pilot = min(n_orig, _PILOT_ORIGINS) if pruned else 0
    for phase in range(2):
        lo, hi = (0, n_pilot) if phase == 0 else (n_pilot, n_orig)
        attempt = pruned
        if phase == 1 and n_pilot > 0:
            # Where the ride limit binds (few rides allowed), most pruned searches are
            # cut short and redone: the pilot origins tell, and the rest skip the attempt.
            redone = 0
            for i in range(n_pilot):
                redone += searched_again[i]
            attempt = 2 * redone < n_pilot
        for j in prange(hi - lo):
            i = lo + j
            times = np.empty((n_iter, n_dest), dtype=np.int32)
            searched_again[i] = 0 if attempt or not pruned else 2
            if not _origin_iterations(tt, access, origins[i], departure_s, n_minutes,
                                      max_rides, board_slack_s, max_time_s, block_offsets,
                                      setup, egress, egress_t, direct, times,
                                      attempt):  # fmt: skip
                searched_again[i] = 1
                _origin_iterations(tt, access, origins[i], departure_s, n_minutes, max_rides,
                                   board_slack_s, max_time_s, block_offsets, setup, egress,
                                   egress_t, direct, times, False)  # fmt: skip
            if keep_iterations:
                iterations[i] = times
            if by_network:
                _network_percentiles(times, pairs, pct_index, mid_index, out[i],
                                     median_iteration[i])  # fmt: skip
            else:
                _percentiles_of(times, pct_index, mid_index, out[i], median_iteration[i])
    return out


@njit(cache=True, inline="always")
def _first_round(labels, k, stop):
    """Smallest round holding the same label as round ``k`` (where it was set)."""
    value = labels[k, stop]
    while k > 0 and labels[k - 1, stop] == value:
        k -= 1
    return k


@njit(cache=True)
def trace_trip(stop, t0, labels, tt, shift, parts):
    """Walk parent pointers back from a vehicle arrival at ``stop``.

    Adds seconds to ``parts`` = [access, waiting, in_vehicle, transfer] (egress is the
    caller's). Waiting is measured from arrival at the boarding stop to the vehicle's
    departure, so it includes the board slack.
    """
    tau, tau_ride, parent = labels.tau, labels.tau_ride, labels.parent
    pattern_stop_ptr, pattern_time_ptr = tt.pattern_stop_ptr, tt.pattern_time_ptr
    max_rides = tau.shape[0] - 1
    k = _first_round(tau_ride, max_rides, stop)
    s = stop
    while True:
        # (k, s) is a vehicle arrival.
        p = parent[RIDE_PATTERN, k, s]
        trip = parent[RIDE_TRIP, k, s]
        base = pattern_time_ptr[p]
        n_trips = (pattern_time_ptr[p + 1] - base) // (
            pattern_stop_ptr[p + 1] - pattern_stop_ptr[p]
        )
        board_pos = parent[RIDE_BOARD_POS, k, s]
        t_dep = tt.departures[base + board_pos * n_trips + trip] + shift[p]
        t_arr = tt.arrivals[base + parent[RIDE_ALIGHT_POS, k, s] * n_trips + trip] + shift[p]
        parts[2] += t_arr - t_dep
        s = tt.pattern_stops[pattern_stop_ptr[p] + board_pos]
        parts[1] += t_dep - tau[k - 1, s]
        k = _first_round(tau, k - 1, s)
        if k == 0:
            parts[0] += tau[0, s] - t0
            return
        if tau_ride[k, s] != tau[k, s]:
            # Reached s by a walking transfer from a vehicle arrival in round k.
            parts[3] += parent[WALK_S, k, s]
            s = parent[WALK_FROM, k, s]
        k = _first_round(tau_ride, k, s)


@njit(cache=True)
def _trace_destination(dst, t0, labels, egress_t, direct, tt, shift, parts, out, i):
    """Best egress stop of ``dst`` at the current labels, then the trip's parts into ``out``."""
    best_ride = labels.tau_ride[labels.tau_ride.shape[0] - 1]
    best = UNREACHED
    best_stop = -1
    best_egress = 0
    for j in range(egress_t.ptr[dst], egress_t.ptr[dst + 1]):
        s = egress_t.to[j]
        if best_ride[s] < UNREACHED:
            t_arr = best_ride[s] + egress_t.s[j]
            if t_arr < best:
                best = t_arr
                best_stop = s
                best_egress = egress_t.s[j]
    if best_stop < 0 or direct[dst] <= best - t0:
        return  # walking door to door: not a transit trip
    parts[:] = 0
    trace_trip(best_stop, t0, labels, tt, shift, parts)
    for q in range(4):
        out[q, i, dst] = parts[q]
    out[4, i, dst] = best_egress


@njit(cache=True)
def _median_buckets(median_iteration, n_iter):
    """Destinations grouped by their median iteration (counting sort): pointers, members."""
    bucket_ptr = np.zeros(n_iter + 1, dtype=np.int64)
    for dst in range(len(median_iteration)):
        if median_iteration[dst] >= 0:
            bucket_ptr[median_iteration[dst] + 1] += 1
    for it in range(n_iter):
        bucket_ptr[it + 1] += bucket_ptr[it]
    fill = bucket_ptr[:-1].copy()
    bucket = np.empty(bucket_ptr[n_iter], dtype=np.int32)
    for dst in range(len(median_iteration)):
        it = median_iteration[dst]
        if it >= 0:
            bucket[fill[it]] = dst
            fill[it] += 1
    return bucket_ptr, bucket


@njit(cache=True, parallel=True)
def breakdown_chunk_kernel(
    origins, departure_s, n_minutes, max_rides, board_slack_s, max_time_s, block_offsets,
    n_dest, tt, access, egress_t, direct, median_iteration,
):  # fmt: skip
    """Seconds of access, waiting, in-vehicle, transfer and egress of each median trip.

    The searches of :func:`range_raptor_chunk` again (the same per-origin set-up and
    minute searches), now with parent pointers: right after each minute's search the
    labels are exactly that minute's (labels reused from later minutes carry their own
    parents), so the destinations whose median iteration is this minute (and draw) are
    traced then, before earlier minutes overwrite the parents. Draw searches run only
    for draws that are some destination's median. A trip reused from a later minute
    shows the extra time as initial waiting. ``egress_t`` is the egress table
    transposed (destination x stop).

    Returns
    -------
    float64 [5, n, n_dest]
        Seconds per part; NaN where the median trip is unreachable or walks door to door.
    """
    n_orig = len(origins)
    n_draws = block_offsets.shape[1]
    n_iter = n_minutes * n_draws
    out = np.full((5, n_orig, n_dest), np.nan)
    headway_patterns, no_shift, mode, has_headway = _search_setup(tt, block_offsets)
    dep_ptr, departures = stop_departures(tt)
    for i in prange(n_orig):
        o = origins[i]
        bucket_ptr, bucket = _median_buckets(median_iteration[i], n_iter)
        if bucket_ptr[n_iter] == 0:
            continue
        scratch, labels, draw, direct_row = _origin_setup(
            tt, direct, o, n_dest, max_rides, has_headway, True
        )
        parts = np.zeros(4, dtype=np.int64)
        for mi in range(n_minutes - 1, -1, -1):
            t0, latest = departure_s + 60 * mi, departure_s + 60 * mi + max_time_s
            # Every round's labels (no pruning): the parents must describe the journeys
            # the per-round search finds, ties included.
            n_egress, _ = _scheduled_search(tt, access, o, t0, latest, max_rides,
                                            board_slack_s,
                                            (no_shift, mode, headway_patterns, dep_ptr,
                                             departures),
                                            labels, scratch, True, False)  # fmt: skip
            _clear_egress(n_egress, scratch)
            for d in range(n_draws):
                it = mi * n_draws + d
                if bucket_ptr[it] == bucket_ptr[it + 1]:
                    continue
                searched, shift = labels, no_shift
                if has_headway:
                    n_egress, shift = _draw_search(tt, labels, draw, block_offsets[mi, d],
                                                   max_rides, board_slack_s, latest,
                                                   headway_patterns, scratch, True)  # fmt: skip
                    _clear_egress(n_egress, scratch)
                    searched = draw
                for b in range(bucket_ptr[it], bucket_ptr[it + 1]):
                    _trace_destination(bucket[b], t0, searched, egress_t, direct_row, tt, shift,
                                       parts, out, i)  # fmt: skip
    return out
