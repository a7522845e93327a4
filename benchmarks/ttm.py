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
from pathlib import Path

import numpy as np

import transitmile as tm
from transitmile import settings
from transitmile.feeds import write_gtfs

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
            for pickled in Path(cache).glob("**/*.pkl"):
                pickled.unlink()
            return build()

        median, runs, _ = timed(cold, repeat)
        print(f"network build, cold:   median {median:6.2f} s  runs {[round(r, 2) for r in runs]}")
        median, runs, network = timed(build, repeat)
        print(f"network build, cached: median {median:6.2f} s  runs {[round(r, 2) for r in runs]}")
    settings.cache_dir = saved
    return network


def bench_matrix(network, cells, window_min: int, repeat: int):
    def run():
        return tm.travel_time_matrix(
            network,
            cells,
            cells,
            departure=DEPARTURE,
            departure_time_window=dt.timedelta(minutes=window_min),
            engine="embedded",
            progress=False,
        )

    run()  # numba compilation (cached on disk after the first process) is not the product's speed
    median, runs, frame = timed(run, repeat)
    reached = frame["travel_time"].notna().mean()
    print(
        f"matrix {len(cells)}x{len(cells)}, {window_min}-min window: median {median:6.2f} s "
        f"runs {[round(r, 2) for r in runs]}  reachable pairs {reached:.1%}  "
        f"median travel time {frame['travel_time'].median():.0f} min"
    )
    return median


def bench_ferrobus(network, data, cells, repeat: int) -> None:
    try:
        import ferrobus
    except ImportError:
        print("ferrobus not installed: pip install ferrobus (dev extra)")
        return
    with tempfile.TemporaryDirectory() as folder:
        gtfs_dir = Path(folder) / "poa_complete"
        write_gtfs(network.feed, gtfs_dir)
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
        subset = cells.iloc[kept]
        seconds = DEPARTURE.hour * 3600

        def ferro():
            return ferrobus.travel_time_matrix(model, points, seconds, 8)

        def ours():
            return tm.travel_time_matrix(
                network,
                subset,
                subset,
                departure=DEPARTURE,
                departure_time_window=dt.timedelta(minutes=1),
                engine="embedded",
                progress=False,
            )

        ours()
        f_median, f_runs, f_result = timed(ferro, repeat)
        o_median, o_runs, o_result = timed(ours, repeat)
        f_reach = np.mean([t is not None for row in f_result for t in row])
        print(f"one departure, {len(points)}x{len(points)} points:")
        print(
            f"  ferrobus:    median {f_median:6.3f} s runs {[round(r, 3) for r in f_runs]} reachable {f_reach:.1%}"
        )
        print(
            f"  transitmile: median {o_median:6.3f} s runs {[round(r, 3) for r in o_runs]} "
            f"reachable {o_result['travel_time'].notna().mean():.1%}"
        )
        print(f"  ratio transitmile / ferrobus: {o_median / f_median:.2f}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--window", type=int, default=60)
    parser.add_argument("--no-ferrobus", action="store_true")
    args = parser.parse_args(argv)
    settings.progress = False
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
    if not args.no_ferrobus:
        bench_ferrobus(network, data, data.origins, args.repeat)


if __name__ == "__main__":
    main()
