"""Model levers on Porto Alegre: their effect on speed *and* on the results.

All 1,227 hexgrid cells to all cells, WALK + TRANSIT, 2019-05-13 14:00, r5py defaults,
a 60-minute window. Each variant changes one setting of :mod:`transitmile.settings`;
the runs are interleaved (variant A, B, A, B, ...) so that a machine's changing load
falls on all of them alike. Prints, per variant, the median wall and process CPU time
and, against the first variant, how many origin-destination pairs changed, by how much,
and how many became reachable or unreachable.

Variants (``r5-rules``, the defaults, first; the others lift one or more of R5's rules):

- ``r5-rules``: walking egress from the last stop capped at 2,000 m, as R5 builds its
  egress tables (``TransitLayer.WALK_DISTANCE_LIMIT_METERS``); walking transfers up to
  1,000 m (``TransitLayer.TRANSFER_DISTANCE_LIMIT_METERS``) and only to the nearest stop
  of each pattern (``TransferFinder.retainClosestStopsOnPatterns``);
- ``egress-2h``: egress walks up to the request's ``max_time_walking`` (2 h);
- ``transfers-all``: transfers to every stop within 1,000 m;
- ``before``: the model before these rules: 2-hour egress, transfers to every stop
  within 20 minutes' walk;
- ``nearest-10``: R5's rules, and each cell's first and last mile reach only its 10
  quickest stops (``settings.access_stop_limit``, ferrobus's ``max_nearest_stops``);
- ``per-round``: R5's rules, searched keeping every round's labels throughout
  (``settings.prune_dominated = False``): not a model lever, the same answers by
  construction, so its line shows the pruning's speed and checks that no pair changed.

Usage: python benchmarks/model_levers.py [--repeat 3] [--window 60] [--origins N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
import warnings

import numpy as np

import transitmile as tm
from transitmile import settings
from transitmile.streets import UnsnappedPointsWarning

DEPARTURE = dt.datetime(2019, 5, 13, 14, 0)

VARIANTS = {
    "r5-rules": {},
    "egress-2h": {"egress_walk_limit_m": None},
    "transfers-all": {"transfers_closest_stop_per_pattern": False},
    "before": {
        "egress_walk_limit_m": None,
        "transfer_limit_m": None,
        "transfers_closest_stop_per_pattern": False,
    },
    "nearest-10": {"access_stop_limit": 10},
    "per-round": {"prune_dominated": False},
}


def run_variant(network, origins, cells, window: int, overrides: dict):
    saved = {k: getattr(settings, k) for k in overrides}
    try:
        for key, value in overrides.items():
            setattr(settings, key, value)
        wall, cpu = time.perf_counter(), time.process_time()
        frame = tm.travel_time_matrix(
            network, origins, cells, departure=DEPARTURE,
            departure_time_window=dt.timedelta(minutes=window), engine="embedded",
            progress=False,
        )  # fmt: skip
        return time.perf_counter() - wall, time.process_time() - cpu, frame
    finally:
        for key, value in saved.items():
            setattr(settings, key, value)


def compare(base, other) -> str:
    a = base["travel_time"].to_numpy(dtype=float)
    b = other["travel_time"].to_numpy(dtype=float)
    both = ~np.isnan(a) & ~np.isnan(b)
    diff = b[both] - a[both]
    changed = int((diff != 0).sum())
    lost = int((~np.isnan(a) & np.isnan(b)).sum())
    gained = int((np.isnan(a) & ~np.isnan(b)).sum())
    text = (
        f"{changed:,} of {len(a):,} pairs changed ({changed / len(a):.2%}), "
        f"{lost:,} became unreachable, {gained:,} reachable"
    )
    if changed:
        moved = diff[diff != 0]
        text += (
            f"; change min {moved.min():+.0f} / median {np.median(moved):+.0f} / "
            f"max {moved.max():+.0f} min"
        )
    return text


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--window", type=int, default=60)
    parser.add_argument("--origins", type=int, default=0, help="first N cells (0: all)")
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS))
    args = parser.parse_args(argv)
    settings.progress = False
    warnings.simplefilter("ignore", UnsnappedPointsWarning)
    data = tm.fetch_dataset("porto_alegre")
    network = tm.TransportNetwork(data.osm_pbf, data.gtfs, DEPARTURE.date(), progress=False)
    cells = data.origins
    origins = cells.iloc[: args.origins] if args.origins else cells
    run_variant(network, origins.iloc[:8], cells, 1, {})  # numba compiles (cached on disk)
    times = {name: [] for name in args.variants}
    frames = {}
    for _ in range(args.repeat):
        for name in args.variants:
            wall, cpu, frame = run_variant(network, origins, cells, args.window, VARIANTS[name])
            times[name].append((wall, cpu))
            frames[name] = frame
    print(
        f"{len(origins)} x {len(cells)} cells, {args.window}-minute window, r5py defaults; "
        f"medians of {args.repeat} interleaved runs (wall / process CPU, s)"
    )
    base = args.variants[0]
    for name in args.variants:
        wall = statistics.median(t[0] for t in times[name])
        cpu = statistics.median(t[1] for t in times[name])
        line = f"  {name:14s} {wall:6.2f} s / {cpu:6.2f} s"
        if name != base:
            line += f"   vs {base}: {compare(frames[base], frames[name])}"
        print(line)


if __name__ == "__main__":
    main()
