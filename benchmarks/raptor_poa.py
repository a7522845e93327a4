"""Time the embedded RAPTOR engine on Porto Alegre: all hexgrid cells to all cells.

Street tables are a crow-fly stand-in (haversine distance at walking speed), so the
figures measure the transit engine, not the street search: access/egress limited to
``--walk-min`` minutes, transfers to ``settings.max_transfer_time_s``.

    python benchmarks/raptor_poa.py [--minutes 1 60] [--walk-min 20] [--origins 1227]

Measured on the team machines, 2 cores (defaults: 1,227 x 1,227, 2 h cap, 8 rides, 3 percentiles):
1-minute window 0.66-0.70 s, 60-minute window 6.6 s (before the kernel work of branch
raptor2: 0.88 s and 7.7 s). The real street tables of ``travel_time_matrix`` are larger
(2 h walking by default), so its kernel time differs; see the commit messages.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import time

import numba
import numpy as np
import pandas as pd

from transitmile import settings
from transitmile.data import fetch_dataset, fetch_file
from transitmile.engines.embedded import compute_travel_times
from transitmile.engines.tables import sparse_times_from_dense
from transitmile.engines.timetable import compile_timetable
from transitmile.feeds import load_feeds


def crow_fly_seconds(lat1, lon1, lat2, lon2, speed_kmh: float) -> np.ndarray:
    """Dense walking seconds along great circles between two point sets."""
    p1, p2 = np.radians(lat1)[:, None], np.radians(lat2)[None, :]
    dl = np.radians(lon2)[None, :] - np.radians(lon1)[:, None]
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    metres = 2 * 6_371_000 * np.arcsin(np.sqrt(h))
    return np.rint(metres / (speed_kmh / 3.6))


def _headway_rail(timetable):
    """The timetable with each Trensurb pattern a headway block (10 min), for timing."""
    rail = np.array([r.startswith("poa_trensurb:") for r in timetable.pattern_route_ids])
    block = np.full(timetable.n_patterns, -1, dtype=np.int32)
    block[rail] = np.arange(rail.sum())
    print(f"headway-rail: {rail.sum()} Trensurb patterns made headway-based (600 s)")
    return dataclasses.replace(
        timetable,
        pattern_block=block,
        block_ids=np.arange(rail.sum(), dtype=np.int64),
        block_headway_s=np.full(rail.sum(), 600, dtype=np.int32),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, nargs="+", default=[1, 60])
    parser.add_argument("--walk-min", type=float, default=20.0)
    parser.add_argument("--origins", type=int, default=None)
    parser.add_argument("--rides", type=int, default=8)
    parser.add_argument("--chunk", type=int, default=256)
    parser.add_argument("--departure", default="14:00")
    parser.add_argument("--breakdown", action="store_true", help="also time the trip breakdown")
    parser.add_argument(
        "--headway-rail",
        action="store_true",
        help="time Monte Carlo draws: pretend the Trensurb metro runs every 10 min by headway",
    )
    parser.add_argument("--draws", type=int, default=60, help="Monte Carlo draws (r5py: 60)")
    args = parser.parse_args()

    t = time.perf_counter()
    feed = load_feeds(fetch_dataset("porto_alegre").gtfs, date=datetime.date(2019, 5, 13))
    print(f"load_feeds: {time.perf_counter() - t:.2f} s, {len(feed.stop_times):,} stop times")
    stops = feed.stops[feed.stops["stop_id"].isin(feed.stop_times["stop_id"])]
    t = time.perf_counter()
    timetable = compile_timetable(feed, stops["stop_id"].tolist())
    print(
        f"compile_timetable: {time.perf_counter() - t:.2f} s, {timetable.n_stops:,} stops, "
        f"{timetable.n_patterns:,} patterns, {timetable.n_trips:,} trips"
    )
    if args.headway_rail:
        timetable = _headway_rail(timetable)
    cells = pd.read_csv(fetch_file("poa_hexgrid.csv"))
    origins = cells.iloc[: args.origins] if args.origins else cells
    walk_s = args.walk_min * 60
    slat, slon = stops["stop_lat"].to_numpy(), stops["stop_lon"].to_numpy()
    t = time.perf_counter()
    access = sparse_times_from_dense(
        crow_fly_seconds(origins["lat"].to_numpy(), origins["lon"].to_numpy(), slat, slon, 3.6),
        walk_s,
    )
    egress = sparse_times_from_dense(
        crow_fly_seconds(slat, slon, cells["lat"].to_numpy(), cells["lon"].to_numpy(), 3.6), walk_s
    )
    direct = sparse_times_from_dense(
        crow_fly_seconds(origins["lat"].to_numpy(), origins["lon"].to_numpy(),
                         cells["lat"].to_numpy(), cells["lon"].to_numpy(), 3.6), walk_s,
    )  # fmt: skip
    transfer_dense = crow_fly_seconds(slat, slon, slat, slon, 3.6)
    np.fill_diagonal(transfer_dense, np.inf)
    transfers = sparse_times_from_dense(transfer_dense, settings.max_transfer_time_s)
    print(
        f"stand-in tables: {time.perf_counter() - t:.2f} s; access {len(access.seconds):,}, "
        f"egress {len(egress.seconds):,}, transfers {len(transfers.seconds):,} pairs "
        f"(walk <= {args.walk_min:g} min, transfers <= {settings.max_transfer_time_s // 60} min)"
    )
    h, m = (int(x) for x in args.departure.split(":"))
    kwargs = dict(departure_s=h * 3600 + m * 60, percentiles=(25, 50, 75), max_time_s=7200,
                  max_rides=args.rides, board_slack_s=60, chunk_size=args.chunk, progress=False,
                  monte_carlo_draws=args.draws)  # fmt: skip
    # Warm-up compiles (or loads the cache) on a small case.
    compute_travel_times(
        timetable, transfers, sparse_times_from_dense(np.full((1, timetable.n_stops), np.inf)),
        egress, None, n_minutes=1, **kwargs,
    )  # fmt: skip
    print(
        f"threads: {numba.get_num_threads()}, origins {len(origins):,} x destinations {len(cells):,}"
    )
    for n_minutes in args.minutes:
        t = time.perf_counter()
        result = compute_travel_times(
            timetable, transfers, access, egress, direct, n_minutes=n_minutes,
            breakdown=args.breakdown, **kwargs,
        )  # fmt: skip
        elapsed = time.perf_counter() - t
        reached = np.isfinite(result.minutes[..., 1]).mean()
        print(
            f"window {n_minutes:3d} min, {result.n_iterations} iterations: {elapsed:7.2f} s ({elapsed / n_minutes:.3f} s per minute), "
            f"median reachable {reached:.1%}, mean median {np.nanmean(result.minutes[..., 1]):.1f} min"
        )


if __name__ == "__main__":
    main()
