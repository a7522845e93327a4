"""Travel time matrix benchmark on Porto Alegre (prints figures; asserts nothing about time).

All 1,227 hexgrid cells to all cells, WALK + TRANSIT, 2019-05-13 14:00, median.

Prints
- network build: cold (no cache) and cached, median of --repeat runs;
- the 60-minute-window matrix: wall time (median of --repeat runs) and peak memory;
- one departure minute: transitmile vs ferrobus (a Rust RAPTOR on PyPI) on the same
  feed written out with complete times, medians of --repeat runs, and their ratio.

Usage: python benchmarks/ttm.py [--repeat 3] [--window 60] [--no-ferrobus]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

import transitmile as tm
from transitmile import settings
from transitmile.feeds import write_gtfs
from transitmile.streets import UnsnappedPointsWarning

DEPARTURE = dt.datetime(2019, 5, 13, 14, 0)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def timed(fn, repeat: int):
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times, result


def bench_build(data, repeat: int) -> tm.TransportNetwork:
    def build():
        return tm.TransportNetwork(data.osm_pbf, data.gtfs, DEPARTURE.date(), progress=False)

    saved = settings.cache_dir
    with tempfile.TemporaryDirectory() as cache:
        settings.cache_dir = Path(cache)

        def cold():
            for entry in Path(cache).glob("networks/*.npz"):
                entry.unlink()
            return build()

        median, runs, _ = timed(cold, repeat)
        print(f"network build, cold:   median {median:6.2f} s  runs {[round(r, 2) for r in runs]}")
        median, runs, network = timed(build, repeat)
        print(f"network build, cached: median {median:6.2f} s  runs {[round(r, 2) for r in runs]}")
    settings.cache_dir = saved
    return network


def bench_matrix(network, cells, window_min: int, repeat: int) -> float:
    def run():
        return tm.travel_time_matrix(
            network, cells, cells, departure=DEPARTURE,
            departure_time_window=dt.timedelta(minutes=window_min), engine="embedded",
            progress=False,
        )  # fmt: skip

    run()  # numba compiles once (cached on disk); that is not the product's speed
    median, runs, frame = timed(run, repeat)
    reached = frame["travel_time"].notna().mean()
    print(
        f"matrix {len(cells)}x{len(cells)}, {window_min}-min window: median {median:6.2f} s "
        f"runs {[round(r, 2) for r in runs]}  reachable pairs {reached:.1%}  "
        f"median travel time {frame['travel_time'].median():.0f} min"
    )
    print(f"  = {median / window_min:.3f} s per departure minute")
    return median


#: ferrobus connects each point to at most 10 stops within 20 minutes' walk at 5 km/h;
#: the embedded engine with the same walking speed and leg limit is the fair match.
FERROBUS_LIKE = {"speed_walking": 5.0, "max_time_walking": dt.timedelta(minutes=20)}


def bench_ferrobus(network, data, cells, repeat: int) -> None:
    try:
        import ferrobus
    except ImportError:
        print("ferrobus not installed: pip install ferrobus (dev extra)")
        return
    with tempfile.TemporaryDirectory() as folder:
        gtfs_dir = write_gtfs(network.feed, Path(folder) / "poa_complete")
        started = time.perf_counter()
        model = ferrobus.create_transit_model(
            str(data.osm_pbf), [str(gtfs_dir)], DEPARTURE.date(), 1200
        )
        print(f"ferrobus model build: {time.perf_counter() - started:6.2f} s")
        points, kept = [], []
        for i, geom in enumerate(cells.geometry):
            try:
                points.append(ferrobus.create_transit_point(geom.y, geom.x, model, 1200, 10))
                kept.append(i)
            except Exception:  # ferrobus refuses points it cannot connect
                continue
        subset = cells.iloc[kept].reset_index(drop=True)
        seconds = DEPARTURE.hour * 3600

        def ferro():
            return ferrobus.travel_time_matrix(model, points, seconds, 8)

        def ours(**settings_):
            return tm.travel_time_matrix(
                network, subset, subset, departure=DEPARTURE,
                departure_time_window=dt.timedelta(minutes=1), engine="embedded",
                progress=False, **settings_,
            )  # fmt: skip

        ours()
        f_median, f_runs, f_result = timed(ferro, repeat)
        f_reach = np.mean([t is not None for row in f_result for t in row])
        print(f"one departure minute, {len(points)}x{len(points)} points (same run, same feed):")
        print(
            f"  ferrobus (5 km/h, <= 20 min walks, 10 nearest stops): median {f_median:6.3f} s "
            f"runs {[round(r, 3) for r in f_runs]} reachable {f_reach:.1%}"
        )
        for label, extra in (
            ("transitmile, ferrobus-like walking", FERROBUS_LIKE),
            ("transitmile, r5py defaults (3.6 km/h, access walks up to 2 h, egress 2 km)", {}),
        ):
            o_median, o_runs, o_result = timed(lambda extra=extra: ours(**extra), repeat)
            print(
                f"  {label}: median {o_median:6.3f} s runs {[round(r, 3) for r in o_runs]} "
                f"reachable {o_result['travel_time'].notna().mean():.1%}  "
                f"ratio to ferrobus {o_median / f_median:.2f}"
            )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--window", type=int, default=60)
    parser.add_argument("--no-ferrobus", action="store_true")
    args = parser.parse_args(argv)
    settings.progress = False
    # The five hexgrid cells beyond the OSM extract are reported once here, not per run.
    warnings.simplefilter("ignore", UnsnappedPointsWarning)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, transitmile {tm.__version__}")
    with contextlib.suppress(OSError):
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        )
        print(f"commit {commit.stdout.strip()}")
    data = tm.fetch_dataset("porto_alegre")
    network = bench_build(data, args.repeat)
    print(f"after build: peak RSS {peak_rss_mb():.0f} MB")
    bench_matrix(network, data.origins, args.window, args.repeat)
    print(f"after matrix: peak RSS {peak_rss_mb():.0f} MB")
    bench_matrix(network, data.origins, 1, args.repeat)
    if not args.no_ferrobus:
        bench_ferrobus(network, data, data.origins, args.repeat)


if __name__ == "__main__":
    main()
