"""Travel time matrix benchmark on Porto Alegre (prints figures; asserts nothing about time).

All 1,227 hexgrid cells to all cells, WALK + TRANSIT, 2019-05-13 14:00, median.

Prints
- network build: cold (no cache) and cached, median of --repeat runs;
- the 60-minute-window matrix: wall time (median of --repeat runs) and peak memory:
  the process's high-water mark (which also holds the cold network builds and, when
  numba's on-disk cache is stale, the kernels' compilation) and, on Linux, the peak of
  the first matrix call above what the process held before it, then of the timed calls;
- one departure minute: transitmile vs ferrobus (a Rust RAPTOR on PyPI) on the same
  feed written out with complete times, medians of --repeat runs, and their ratio.

With ``--before PATH`` (a checkout of another commit, e.g. ``git worktree add PATH
f33fd79``, the code when the speed issue was filed) it prints instead the 60-minute
matrix of that code and of this checkout, in alternating fresh processes (each builds
its network from its own cache folder, makes one untimed call, then one timed call):
the ratio of the two is the speed-up measured on one machine in one run, which the
machine's drift from day to day does not move.

Usage: python benchmarks/ttm.py [--repeat 3] [--window 60] [--no-ferrobus] [--before PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
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


#: The process's high-water mark before :func:`reset_peak_rss` last reset it, MB.
_peak_before_reset = 0.0


def peak_rss_mb() -> float:
    """This process's peak RSS since it started, MB (resets by reset_peak_rss included)."""
    return max(_peak_before_reset, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0)


def rss_mb(field: str = "VmRSS") -> float | None:
    """This process's resident memory (``VmRSS``) or its peak (``VmHWM``), MB; Linux only."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    return None


def reset_peak_rss() -> bool:
    """Start the peak (``VmHWM``, and ``ru_maxrss`` with it) afresh (Linux 4.0+)."""
    global _peak_before_reset
    _peak_before_reset = peak_rss_mb()
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def numba_compiled() -> int:
    """Kernel signatures numba compiled in this process (cache misses, not cache loads)."""
    from numba.core.registry import CPUDispatcher

    from transitmile.engines import raptor

    kernels = [k for k in vars(raptor).values() if isinstance(k, CPUDispatcher)]
    return sum(sum(k.stats.cache_misses.values()) for k in kernels)


def timed(fn, repeat: int):
    times, result = [], None
    for _ in range(repeat):
        result = None  # the last run's frame is not held while the next one is computed
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

    held, compiled = rss_mb(), numba_compiled()
    measured = held is not None and reset_peak_rss()
    run()  # numba compiles once (cached on disk); that is not the product's speed
    first = rss_mb("VmHWM") if measured else None
    compiled = numba_compiled() - compiled
    again = rss_mb()
    measured = measured and reset_peak_rss()
    median, runs, frame = timed(run, repeat)
    reached = frame["travel_time"].notna().mean()
    print(
        f"matrix {len(cells)}x{len(cells)}, {window_min}-min window: median {median:6.2f} s "
        f"runs {[round(r, 2) for r in runs]}  reachable pairs {reached:.1%}  "
        f"median travel time {frame['travel_time'].median():.0f} min"
    )
    print(f"  = {median / window_min:.3f} s per departure minute")
    if measured:
        print(
            f"  first call: peak RSS {first:.0f} MB, {first - held:.0f} MB above the {held:.0f} MB "
            f"the process held before it; numba compiled {compiled} kernel(s) in it"
        )
        peak = rss_mb("VmHWM")
        print(
            f"  timed calls: peak RSS {peak:.0f} MB, {peak - again:.0f} MB above the "
            f"{again:.0f} MB held after the first (its freed memory is reused)"
        )
    return median


#: One timed 60-minute matrix in a fresh process, written against the API that every
#: version since the issue was filed shares; prints a JSON line.
_MATRIX_RUN = """
import datetime as dt, json, time, warnings
warnings.simplefilter("ignore")
import transitmile as tm
from transitmile import settings
settings.progress = False
data = tm.fetch_dataset("porto_alegre")
day = dt.datetime(2019, 5, 13, 14, 0)
network = tm.TransportNetwork(data.osm_pbf, data.gtfs, day.date(), progress=False)
def run():
    return tm.travel_time_matrix(
        network, data.origins, data.origins, departure=day,
        departure_time_window=dt.timedelta(minutes=WINDOW), engine="embedded", progress=False,
    )
run()
started = time.perf_counter()
frame = run()
wall = time.perf_counter() - started
print(json.dumps({"wall_s": wall, "reached": float(frame["travel_time"].notna().mean()),
                  "median_min": float(frame["travel_time"].median())}))
"""


def bench_against(before: str, window: int, repeat: int) -> None:
    """Alternate fresh-process runs of the matrix on the code at ``before`` and here."""
    here = str(Path(__file__).resolve().parent.parent)
    checkouts = {"before": str(Path(before).resolve()), "this checkout": here}
    cache = Path(os.environ.get("TRANSITMILE_CACHE_DIR", tempfile.gettempdir()))
    runs: dict[str, list[dict]] = {name: [] for name in checkouts}
    for _ in range(repeat):
        for name, root in checkouts.items():
            env = {
                **os.environ, "PYTHONPATH": root,
                # The network cache's format may differ between versions: a folder per
                # role (not per checkout folder name, which two checkouts may share).
                "TRANSITMILE_CACHE_DIR": str(cache / f"ttm-{name.replace(' ', '-')}"),
            }  # fmt: skip
            out = subprocess.run(
                [sys.executable, "-c", _MATRIX_RUN.replace("WINDOW", str(window))],
                env=env, cwd=root, check=True, capture_output=True, text=True,
            ).stdout  # fmt: skip
            runs[name].append(json.loads(out.strip().splitlines()[-1]))
    print(
        f"matrix 1227x1227, {window}-min window, {repeat} alternating fresh-process runs "
        f"of each (load {os.getloadavg()[0]:.1f}):"
    )
    medians = {}
    for name, results in runs.items():
        walls = [r["wall_s"] for r in results]
        medians[name] = statistics.median(walls)
        print(
            f"  {name:>13} ({checkouts[name]}): median {medians[name]:6.2f} s "
            f"runs {[round(w, 2) for w in walls]}  reachable pairs {results[0]['reached']:.1%}  "
            f"median travel time {results[0]['median_min']:.0f} min"
        )
    ratio = medians["before"] / medians["this checkout"]
    print(f"  this checkout is {ratio:.2f}x as fast as before, in the same run")


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

        def link():
            linked, kept = [], []
            for i, geom in enumerate(cells.geometry):
                try:
                    linked.append(ferrobus.create_transit_point(geom.y, geom.x, model, 1200, 10))
                    kept.append(i)
                except Exception:  # ferrobus refuses points it cannot connect
                    continue
            return linked, kept

        l_median, l_runs, (points, kept) = timed(link, repeat)
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
        whole = l_median + f_median
        print(f"one departure minute, {len(points)}x{len(points)} points (same run, same feed):")
        print(
            f"  ferrobus (5 km/h, <= 20 min walks, 10 nearest stops), matrix of linked points: "
            f"median {f_median:6.3f} s runs {[round(r, 3) for r in f_runs]} "
            f"reachable {f_reach:.1%}"
        )
        print(
            f"  ferrobus linking the points to streets and stops (create_transit_point): "
            f"median {l_median:6.3f} s runs {[round(r, 3) for r in l_runs]}; from coordinates "
            f"to matrix {whole:6.3f} s"
        )
        print(
            "  transitmile's times below are from coordinates to matrix (snapping, street "
            "searches, routing, frame); ratios to ferrobus's matrix alone / from coordinates"
        )
        for label, extra, limit in (
            ("transitmile, ferrobus's model (its walking and 10 nearest stops per point)",
             FERROBUS_LIKE, 10),
            ("transitmile, ferrobus-like walking (every stop within the walk)", FERROBUS_LIKE,
             None),
            ("transitmile, r5py defaults (3.6 km/h, access walks up to 2 h, egress 2 km)", {},
             None),
        ):  # fmt: skip
            with access_stop_limit(limit):
                ours(**extra)  # an untimed warm-up with these settings, as ours() above
                o_median, o_runs, o_result = timed(lambda extra=extra: ours(**extra), repeat)
            print(
                f"  {label}: median {o_median:6.3f} s runs {[round(r, 3) for r in o_runs]} "
                f"reachable {o_result['travel_time'].notna().mean():.1%}  "
                f"ratios {o_median / f_median:.2f} / {o_median / whole:.2f}"
            )
            if limit is not None:
                print(f"    {agreement(f_result, o_result, len(points))}")


@contextlib.contextmanager
def access_stop_limit(limit):
    """Set ``settings.access_stop_limit`` for the duration of the block."""
    saved = settings.access_stop_limit
    settings.access_stop_limit = limit
    try:
        yield
    finally:
        settings.access_stop_limit = saved


def agreement(f_result, frame, n: int) -> str:
    """How ferrobus's minutes and ours compare on the pairs both reach."""
    theirs = np.array(
        [[np.nan if t is None else t for t in row] for row in f_result], dtype=float
    ).reshape(n, n)
    ours = frame["travel_time"].to_numpy(dtype=float).reshape(n, n)
    both = np.isfinite(theirs) & np.isfinite(ours)
    diff = np.abs(theirs[both] / 60.0 - ours[both])
    return (
        f"against ferrobus, on the {both.mean():.1%} of pairs both reach: |difference| "
        f"median {np.median(diff):.1f} min, 90th percentile {np.percentile(diff, 90):.1f} min"
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--window", type=int, default=60)
    parser.add_argument("--no-ferrobus", action="store_true")
    parser.add_argument("--before", default=None, help="checkout to compare with")
    args = parser.parse_args(argv)
    settings.progress = False
    if args.before:
        bench_against(args.before, args.window, args.repeat)
        return
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
    print(f"after matrix: peak RSS {peak_rss_mb():.0f} MB (the process's high-water mark)")
    compiled = numba_compiled()
    print(
        f"numba kernels compiled in this process: {compiled}"
        + (" (the compiler's memory is in the high-water mark)" if compiled else
           " (all loaded from the on-disk cache)")
    )  # fmt: skip
    bench_matrix(network, data.origins, 1, args.repeat)
    if not args.no_ferrobus:
        bench_ferrobus(network, data, data.origins, args.repeat)


if __name__ == "__main__":
    main()
