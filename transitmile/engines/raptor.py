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

Every function here is a plain ``@njit`` kernel over arrays; the Python side
(:mod:`transitmile.engines.embedded`) validates inputs and shapes results.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

UNREACHED = np.int32(2**31 - 1)  # as R5's FastRaptorWorker.UNREACHED

# Rows of the parent array kept for path reconstruction (breakdown). Ride and
# transfer parents have their own rows: one stop can hold both a vehicle arrival
# (for egress, transfers) and a faster walking-transfer arrival (for boarding).
RIDE_PATTERN, RIDE_TRIP, RIDE_BOARD_POS, RIDE_ALIGHT_POS, WALK_FROM, WALK_S = range(6)
N_PARENT_ROWS = 6

_PULL_BLOCK = 32  # egress stops per vectorized block of the pull (see _propagate_egress)


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


@njit(cache=True)
def raptor_rounds(
    max_rides,
    board_slack_s,
    latest_arrival,
    pattern_stop_ptr,
    pattern_stops,
    pattern_time_ptr,
    arrivals,
    departures,
    pattern_shift,
    pattern_block,
    headway_mode,
    headway_patterns,
    stop_pattern_ptr,
    stop_pattern,
    stop_position,
    transfer_ptr,
    transfer_to,
    transfer_s,
    tau,
    tau_ride,
    marked_list,
    n_marked,
    stop_flag,
    pattern_first,
    pattern_list,
    egress_flag,
    egress_list,
    n_egress,
    record,
    parent,
):
    """Run rounds 1..``max_rides`` from the stops marked in round 0.

    Parameters
    ----------
    pattern_shift : int32 [n_patterns]
        Seconds added to every time of a pattern (Monte Carlo phase of headway blocks).
    pattern_block, headway_mode, headway_patterns
        ``headway_mode`` 0: every pattern (scheduled or shifted headway) is an ordinary
        pattern. 1: scheduled search, headway patterns are left out. 2: Monte Carlo
        draw search starting from the scheduled labels (R5's frequency search): every
        headway pattern (``headway_patterns``) is scanned in every round, scheduled
        patterns only from stops improved in this draw.
    tau, tau_ride : int32 [max_rides + 1, n_stops]
        Best arrival (seconds) with at most ``k`` rides, by any means / by vehicle.
        Updated in place; keep them between minutes for range RAPTOR.
    marked_list, n_marked
        Stops whose round-0 label improved (access); ``stop_flag`` all zero on entry.
    pattern_first, pattern_list
        Scratch: ``pattern_first`` all -1 on entry and on exit.
    egress_flag, egress_list, n_egress
        Stops whose best vehicle arrival over all rounds improved are appended (flag
        set) for egress; the caller clears the flags.
    record, parent
        When ``record``, ``parent[:, k, s]`` (int32 ``[N_PARENT_ROWS, max_rides + 1,
        n_stops]``) stores how labels ``(k, s)`` were last improved: the ride (pattern,
        trip, boarding and alighting positions) and the walking transfer (from stop,
        seconds). Labels reused from later minutes keep the parents they were set
        with, so the pointers describe the current labels after every call.

    Returns
    -------
    int
        The new ``n_egress``.
    """
    new_list = np.empty_like(marked_list)
    ride_list = np.empty_like(marked_list)
    for k in range(1, max_rides + 1):
        if n_marked == 0 and headway_mode != 2:
            break
        # Patterns through marked stops, scanned from the first marked position.
        n_pat = 0
        for i in range(n_marked):
            s = marked_list[i]
            stop_flag[s] = 0
            for j in range(stop_pattern_ptr[s], stop_pattern_ptr[s + 1]):
                p = stop_pattern[j]
                pos = stop_position[j]
                if headway_mode == 1 and pattern_block[p] >= 0:
                    continue
                if pattern_first[p] < 0:
                    pattern_list[n_pat] = p
                    n_pat += 1
                    pattern_first[p] = pos
                elif pos < pattern_first[p]:
                    pattern_first[p] = pos
        if headway_mode == 2:
            # Any labelled stop may board a re-phased headway trip: scan them all.
            for h in range(len(headway_patterns)):
                p = headway_patterns[h]
                if pattern_first[p] < 0:
                    pattern_list[n_pat] = p
                    n_pat += 1
                pattern_first[p] = 0
        n_new = 0
        n_ride = 0
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
                s = pattern_stops[s0 + pos]
                if trip >= 0:
                    t_arr = arrivals[base + pos * n_trips + trip] + shift
                    if t_arr <= latest_arrival:
                        if t_arr < tau_ride[k, s]:
                            # Later rounds hold the best of rounds < k (carried at the
                            # end of each round), so the last one tells a new best.
                            best_overall = t_arr < tau_ride[max_rides, s]
                            tau_ride[k, s] = t_arr
                            if record:
                                parent[RIDE_PATTERN, k, s] = p
                                parent[RIDE_TRIP, k, s] = trip
                                parent[RIDE_BOARD_POS, k, s] = board_pos
                                parent[RIDE_ALIGHT_POS, k, s] = pos
                            if stop_flag[s] & 2 == 0:
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
                        if t_arr < tau[k, s]:
                            tau[k, s] = t_arr
                            if stop_flag[s] & 1 == 0:
                                stop_flag[s] |= 1
                                new_list[n_new] = s
                                n_new += 1
                # Board (or switch to) an earlier trip if the previous round allows.
                ready = tau[k - 1, s]
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
            # An unsigned index spares numba's negative-index wraparound on every
            # access of this hottest loop (~350,000 relaxations per origin on POA).
            for j in range(np.uint64(transfer_ptr[s]), np.uint64(transfer_ptr[s + 1])):
                s2 = transfer_to[j]
                t_arr = t0 + transfer_s[j]
                if t_arr <= latest_arrival and t_arr < tau[k, s2]:
                    tau[k, s2] = t_arr
                    if record:
                        parent[WALK_FROM, k, s2] = s
                        parent[WALK_S, k, s2] = transfer_s[j]
                    if stop_flag[s2] & 1 == 0:
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
    return n_egress


@njit(cache=True)
def seed_access(
    tau,
    access_ptr,
    access_to,
    access_s,
    origin,
    t_depart,
    latest_arrival,
    marked_list,
    stop_flag,
):
    """Round 0: walk from the origin to its stops; returns the number of marked stops."""
    n = 0
    for j in range(access_ptr[origin], access_ptr[origin + 1]):
        s = access_to[j]
        t_arr = t_depart + access_s[j]
        if t_arr <= latest_arrival and t_arr < tau[0, s]:
            tau[0, s] = t_arr
            _carry_down(tau, 0, s, t_arr)
            if stop_flag[s] == 0:
                stop_flag[s] = 1
                marked_list[n] = s
                n += 1
    return n


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
def _propagate_egress(n_egress, egress_list, egress_flag, tau_ride, egress_ptr, egress_to,
                      egress_s, egress_t_ptr, egress_t_from, egress_t_s, direct, t0, latest,
                      dest_arrival):  # fmt: skip
    """Improve destination arrivals from the stops whose best vehicle arrival improved.

    Push (few stops improved, the usual range RAPTOR minute): scan the improved
    stops' egress rows, cut at ``latest`` (rows are sorted by time). Pull (many
    improved, e.g. the first minute): for each destination scan its stops by
    increasing egress time and stop once even the earliest vehicle arrival anywhere
    plus the walk cannot beat the best known arrival, walking door to door or the
    cutoff. A pulled arrival may stay above the true one only where it is no better
    than walking or the cutoff, which stays true for earlier minutes too.
    """
    max_rides = tau_ride.shape[0] - 1
    n_stops = tau_ride.shape[1]
    for e in range(n_egress):
        egress_flag[egress_list[e]] = 0
    if 4 * n_egress < n_stops:
        for e in range(n_egress):
            s = egress_list[e]
            t_stop = tau_ride[max_rides, s]
            for j in range(egress_ptr[s], egress_ptr[s + 1]):
                t_arr = t_stop + egress_s[j]
                if t_arr >= latest:
                    break
                if t_arr < dest_arrival[egress_to[j]]:
                    dest_arrival[egress_to[j]] = t_arr
        return
    earliest = UNREACHED
    for e in range(n_egress):
        earliest = min(earliest, tau_ride[max_rides, egress_list[e]])
    best_ride = tau_ride[max_rides]
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
                best = min(best, best_ride[egress_t_from[jj]] + egress_t_s[jj])
            j = stop
        if best < cap:
            dest_arrival[dst] = best


@njit(cache=True)
def _record_iteration(times, it, dest_arrival, direct, t0, max_time_s):
    """Travel time of one iteration: the better of transit and walking door to door."""
    for dst in range(len(dest_arrival)):
        tt = direct[dst]
        if dest_arrival[dst] < UNREACHED and dest_arrival[dst] - t0 < tt:
            tt = dest_arrival[dst] - t0
        # R5 keeps a time only if it is < the cutoff (PerTargetPropagater).
        times[it, dst] = tt if tt < max_time_s else UNREACHED


@njit(cache=True, parallel=True)
def range_raptor_chunk(
    origins, departure_s, n_minutes, max_rides, board_slack_s, max_time_s, percentiles,
    block_offsets, n_dest,
    pattern_stop_ptr, pattern_stops, pattern_time_ptr, arrivals, departures, pattern_block,
    stop_pattern_ptr, stop_pattern, stop_position,
    transfer_ptr, transfer_to, transfer_s,
    access_ptr, access_to, access_s,
    egress_ptr, egress_to, egress_s,
    egress_t_ptr, egress_t_from, egress_t_s,
    direct_ptr, direct_to, direct_s,
    median_iteration, keep_iterations, iterations,
):  # fmt: skip
    """Travel time percentiles from each origin row to every destination.

    Scheduled service: range RAPTOR, one search per minute from the latest, labels
    reused. Headway-based service (as R5's FastRaptorWorker): the scheduled search
    leaves the headway patterns out; then, for each Monte Carlo draw of the minute,
    a search starts from a copy of the scheduled labels with the headway blocks
    shifted by the draw's phases, scanning every headway pattern and the scheduled
    patterns at stops it improves.

    Parameters
    ----------
    origins : int64 [n]
        Rows of the access/direct tables to route from.
    departure_s : int
        First departure minute, seconds after midnight.
    n_minutes : int
        Departure minutes in the window.
    block_offsets : int32 [n_minutes, n_draws, n_blocks]
        Phase offsets of headway blocks per minute and draw (``n_blocks`` 0 and
        ``n_draws`` 1 for a scheduled-only timetable).
    percentiles : float64 [n_pct]
    egress_ptr, egress_to, egress_s
        Stop x destination CSR table, each row sorted by ``egress_s`` (see
        :func:`transitmile.engines.embedded.egress_tables`).
    egress_t_ptr, egress_t_from, egress_t_s
        The same table transposed (destination x stop), rows sorted by time.
    median_iteration : int32 [n, n_dest]
        Out: the iteration (``minute * n_draws + draw``) at the median, -1 if unreachable.
    keep_iterations, iterations : bool, int32 [n, n_iter, n_dest]
        When ``keep_iterations``, every iteration's travel time (seconds,
        ``UNREACHED`` if none) is written to ``iterations``.

    Returns
    -------
    float64 [n, n_dest, n_pct]
        Whole minutes (seconds // 60, as R5), NaN where unreachable.
    """
    n_orig = len(origins)
    n_stops = len(stop_pattern_ptr) - 1
    n_pat = len(pattern_stop_ptr) - 1
    n_draws = block_offsets.shape[1]
    has_headway = block_offsets.shape[2] > 0
    n_iter = n_minutes * n_draws
    n_pct = len(percentiles)
    out = np.full((n_orig, n_dest, n_pct), np.nan)
    pct_index = np.empty(n_pct, dtype=np.int64)
    for q in range(n_pct):
        pct_index[q] = percentile_index(n_iter, percentiles[q])
    mid_index = percentile_index(n_iter, 50.0)
    headway_patterns = np.flatnonzero(pattern_block >= 0).astype(np.int32)
    no_shift = np.zeros(n_pat, dtype=np.int32)
    scheduled_mode = 1 if has_headway else 0
    no_parent = np.zeros((N_PARENT_ROWS, 1, 1), dtype=np.int32)
    for i in prange(n_orig):
        o = origins[i]
        # Per-origin scratch: each prange worker owns its labels.
        tau = np.empty((max_rides + 1, n_stops), dtype=np.int32)
        tau_ride = np.empty((max_rides + 1, n_stops), dtype=np.int32)
        marked_list = np.empty(n_stops, dtype=np.int32)
        stop_flag = np.zeros(n_stops, dtype=np.int8)
        pattern_first = np.full(n_pat, -1, dtype=np.int32)
        pattern_list = np.empty(n_pat, dtype=np.int32)
        egress_flag = np.zeros(n_stops, dtype=np.int8)
        egress_list = np.empty(n_stops, dtype=np.int32)
        dest_arrival = np.full(n_dest, UNREACHED, dtype=np.int32)
        direct = np.full(n_dest, UNREACHED, dtype=np.int32)
        for j in range(direct_ptr[o], direct_ptr[o + 1]):
            direct[direct_to[j]] = direct_s[j]
        times = np.empty((n_iter, n_dest), dtype=np.int32)
        tau[:] = UNREACHED
        tau_ride[:] = UNREACHED
        # Draw labels (only used with headway trips; tiny otherwise).
        n_draw_stops = n_stops if has_headway else 1
        draw_tau = np.empty((max_rides + 1, n_draw_stops), dtype=np.int32)
        draw_tau_ride = np.empty((max_rides + 1, n_draw_stops), dtype=np.int32)
        draw_dest = np.empty(n_dest if has_headway else 1, dtype=np.int32)
        for mi in range(n_minutes - 1, -1, -1):
            t0 = departure_s + 60 * mi
            latest = t0 + max_time_s
            n_marked = seed_access(
                tau, access_ptr, access_to, access_s, o, t0, latest, marked_list, stop_flag
            )
            n_egress = raptor_rounds(
                max_rides, board_slack_s, latest,
                pattern_stop_ptr, pattern_stops, pattern_time_ptr, arrivals, departures,
                no_shift, pattern_block, scheduled_mode, headway_patterns,
                stop_pattern_ptr, stop_pattern, stop_position,
                transfer_ptr, transfer_to, transfer_s, tau, tau_ride,
                marked_list, n_marked, stop_flag, pattern_first, pattern_list,
                egress_flag, egress_list, 0, False, no_parent,
            )  # fmt: skip
            # Destination arrivals from later minutes stay valid (one may wait).
            _propagate_egress(n_egress, egress_list, egress_flag, tau_ride, egress_ptr,
                              egress_to, egress_s, egress_t_ptr, egress_t_from, egress_t_s,
                              direct, t0, latest, dest_arrival)  # fmt: skip
            if not has_headway:
                _record_iteration(times, mi, dest_arrival, direct, t0, max_time_s)
                continue
            for d in range(n_draws):
                draw_tau[:] = tau
                draw_tau_ride[:] = tau_ride
                draw_dest[:] = dest_arrival
                n_egress = raptor_rounds(
                    max_rides, board_slack_s, latest,
                    pattern_stop_ptr, pattern_stops, pattern_time_ptr, arrivals, departures,
                    pattern_shifts(pattern_block, block_offsets[mi, d]), pattern_block, 2,
                    headway_patterns, stop_pattern_ptr, stop_pattern, stop_position,
                    transfer_ptr, transfer_to, transfer_s, draw_tau, draw_tau_ride,
                    marked_list, 0, stop_flag, pattern_first, pattern_list,
                    egress_flag, egress_list, 0, False, no_parent,
                )  # fmt: skip
                _propagate_egress(n_egress, egress_list, egress_flag, draw_tau_ride,
                                  egress_ptr, egress_to, egress_s, egress_t_ptr, egress_t_from,
                                  egress_t_s, direct, t0, latest, draw_dest)  # fmt: skip
                _record_iteration(times, mi * n_draws + d, draw_dest, direct, t0, max_time_s)
        if keep_iterations:
            iterations[i] = times
        column = np.empty(n_iter, dtype=np.int32)
        order = np.zeros(n_iter, dtype=np.int64)  # the order of a single iteration
        for dst in range(n_dest):
            for it in range(n_iter):
                column[it] = times[it, dst]
            if n_iter > 1:  # 1.5 M one-element sorts on POA cost ~5% of a 1-minute run
                order = np.argsort(column, kind="mergesort")
            for q in range(n_pct):
                v = column[order[pct_index[q]]]
                if v < UNREACHED:
                    out[i, dst, q] = v // 60
            mid = order[mid_index]
            median_iteration[i, dst] = mid if column[mid] < UNREACHED else -1
    return out


@njit(cache=True, inline="always")
def _first_round(labels, k, stop):
    """Smallest round holding the same label as round ``k`` (where it was set)."""
    value = labels[k, stop]
    while k > 0 and labels[k - 1, stop] == value:
        k -= 1
    return k


@njit(cache=True)
def trace_trip(
    stop,
    t0,
    tau,
    tau_ride,
    parent,
    pattern_stop_ptr,
    pattern_stops,
    pattern_time_ptr,
    arrivals,
    departures,
    shift,
    parts,
):
    """Walk parent pointers back from a vehicle arrival at ``stop``.

    Adds seconds to ``parts`` = [access, waiting, in_vehicle, transfer] (egress is the
    caller's). Waiting is measured from arrival at the boarding stop to the vehicle's
    departure, so it includes the board slack.
    """
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
        t_dep = departures[base + board_pos * n_trips + trip] + shift[p]
        t_arr = arrivals[base + parent[RIDE_ALIGHT_POS, k, s] * n_trips + trip] + shift[p]
        parts[2] += t_arr - t_dep
        s = pattern_stops[pattern_stop_ptr[p] + board_pos]
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
def _trace_destination(dst, t0, tau, tau_ride, parent, egress_t_ptr, egress_t_from, egress_t_s,
                       direct, pattern_stop_ptr, pattern_stops, pattern_time_ptr, arrivals,
                       departures, shift, parts, out, i):  # fmt: skip
    """Best egress stop of ``dst`` at the current labels, then the trip's parts into ``out``."""
    max_rides = tau.shape[0] - 1
    best = UNREACHED
    best_stop = -1
    best_egress = 0
    for j in range(egress_t_ptr[dst], egress_t_ptr[dst + 1]):
        s = egress_t_from[j]
        if tau_ride[max_rides, s] < UNREACHED:
            t_arr = tau_ride[max_rides, s] + egress_t_s[j]
            if t_arr < best:
                best = t_arr
                best_stop = s
                best_egress = egress_t_s[j]
    if best_stop < 0 or direct[dst] <= best - t0:
        return  # walking door to door: not a transit trip
    parts[:] = 0
    trace_trip(best_stop, t0, tau, tau_ride, parent, pattern_stop_ptr, pattern_stops,
               pattern_time_ptr, arrivals, departures, shift, parts)  # fmt: skip
    for q in range(4):
        out[q, i, dst] = parts[q]
    out[4, i, dst] = best_egress


@njit(cache=True, parallel=True)
def breakdown_chunk_kernel(
    origins, departure_s, n_minutes, max_rides, board_slack_s, max_time_s, block_offsets,
    n_dest,
    pattern_stop_ptr, pattern_stops, pattern_time_ptr, arrivals, departures, pattern_block,
    stop_pattern_ptr, stop_pattern, stop_position,
    transfer_ptr, transfer_to, transfer_s,
    access_ptr, access_to, access_s,
    egress_t_ptr, egress_t_from, egress_t_s,
    direct_ptr, direct_to, direct_s,
    median_iteration,
):  # fmt: skip
    """Seconds of access, waiting, in-vehicle, transfer and egress of each median trip.

    The searches of :func:`range_raptor_chunk` again, now with parent pointers: right
    after each minute's search the labels are exactly that minute's (labels reused
    from later minutes carry their own parents), so the destinations whose median
    iteration is this minute (and draw) are traced then, before earlier minutes
    overwrite the parents. Draw searches run only for draws that are some
    destination's median. A trip reused from a later minute shows the extra time as
    initial waiting. ``egress_t_*`` is the egress table transposed (destination x stop).

    Returns
    -------
    float64 [5, n, n_dest]
        Seconds per part; NaN where the median trip is unreachable or walks door to door.
    """
    n_orig = len(origins)
    n_stops = len(stop_pattern_ptr) - 1
    n_pat = len(pattern_stop_ptr) - 1
    n_draws = block_offsets.shape[1]
    has_headway = block_offsets.shape[2] > 0
    n_iter = n_minutes * n_draws
    out = np.full((5, n_orig, n_dest), np.nan)
    headway_patterns = np.flatnonzero(pattern_block >= 0).astype(np.int32)
    no_shift = np.zeros(n_pat, dtype=np.int32)
    scheduled_mode = 1 if has_headway else 0
    for i in prange(n_orig):
        o = origins[i]
        tau = np.full((max_rides + 1, n_stops), UNREACHED, dtype=np.int32)
        tau_ride = np.full((max_rides + 1, n_stops), UNREACHED, dtype=np.int32)
        parent = np.zeros((N_PARENT_ROWS, max_rides + 1, n_stops), dtype=np.int32)
        marked_list = np.empty(n_stops, dtype=np.int32)
        stop_flag = np.zeros(n_stops, dtype=np.int8)
        pattern_first = np.full(n_pat, -1, dtype=np.int32)
        pattern_list = np.empty(n_pat, dtype=np.int32)
        egress_flag = np.zeros(n_stops, dtype=np.int8)
        egress_list = np.empty(n_stops, dtype=np.int32)
        direct = np.full(n_dest, UNREACHED, dtype=np.int32)
        for j in range(direct_ptr[o], direct_ptr[o + 1]):
            direct[direct_to[j]] = direct_s[j]
        parts = np.zeros(4, dtype=np.int64)
        # Destinations bucketed by their median iteration (counting sort).
        bucket_ptr = np.zeros(n_iter + 1, dtype=np.int64)
        for dst in range(n_dest):
            if median_iteration[i, dst] >= 0:
                bucket_ptr[median_iteration[i, dst] + 1] += 1
        if bucket_ptr.sum() == 0:
            continue
        for it in range(n_iter):
            bucket_ptr[it + 1] += bucket_ptr[it]
        fill = bucket_ptr[:-1].copy()
        bucket = np.empty(bucket_ptr[n_iter], dtype=np.int32)
        for dst in range(n_dest):
            it = median_iteration[i, dst]
            if it >= 0:
                bucket[fill[it]] = dst
                fill[it] += 1
        n_draw_stops = n_stops if has_headway else 1
        draw_tau = np.empty((max_rides + 1, n_draw_stops), dtype=np.int32)
        draw_tau_ride = np.empty((max_rides + 1, n_draw_stops), dtype=np.int32)
        draw_parent = np.empty((N_PARENT_ROWS, max_rides + 1, n_draw_stops), dtype=np.int32)
        for mi in range(n_minutes - 1, -1, -1):
            t0 = departure_s + 60 * mi
            latest = t0 + max_time_s
            n_marked = seed_access(
                tau, access_ptr, access_to, access_s, o, t0, latest, marked_list, stop_flag
            )
            n_egress = raptor_rounds(
                max_rides, board_slack_s, latest,
                pattern_stop_ptr, pattern_stops, pattern_time_ptr, arrivals, departures,
                no_shift, pattern_block, scheduled_mode, headway_patterns,
                stop_pattern_ptr, stop_pattern, stop_position,
                transfer_ptr, transfer_to, transfer_s, tau, tau_ride,
                marked_list, n_marked, stop_flag, pattern_first, pattern_list,
                egress_flag, egress_list, 0, True, parent,
            )  # fmt: skip
            for e in range(n_egress):
                egress_flag[egress_list[e]] = 0
            for d in range(n_draws):
                it = mi * n_draws + d
                if bucket_ptr[it] == bucket_ptr[it + 1]:
                    continue
                if not has_headway:
                    labels, ride_labels, parents, shift = tau, tau_ride, parent, no_shift
                else:
                    draw_tau[:] = tau
                    draw_tau_ride[:] = tau_ride
                    draw_parent[:] = parent
                    shift = pattern_shifts(pattern_block, block_offsets[mi, d])
                    n_egress = raptor_rounds(
                        max_rides, board_slack_s, latest,
                        pattern_stop_ptr, pattern_stops, pattern_time_ptr, arrivals,
                        departures, shift, pattern_block, 2, headway_patterns,
                        stop_pattern_ptr, stop_pattern, stop_position,
                        transfer_ptr, transfer_to, transfer_s, draw_tau, draw_tau_ride,
                        marked_list, 0, stop_flag, pattern_first, pattern_list,
                        egress_flag, egress_list, 0, True, draw_parent,
                    )  # fmt: skip
                    for e in range(n_egress):
                        egress_flag[egress_list[e]] = 0
                    labels, ride_labels, parents = draw_tau, draw_tau_ride, draw_parent
                for b in range(bucket_ptr[it], bucket_ptr[it + 1]):
                    _trace_destination(
                        bucket[b], t0, labels, ride_labels, parents, egress_t_ptr,
                        egress_t_from, egress_t_s, direct, pattern_stop_ptr, pattern_stops,
                        pattern_time_ptr, arrivals, departures, shift, parts, out, i,
                    )  # fmt: skip
    return out
