"""Access layer benchmark on Porto Alegre (prints figures; asserts nothing about time).

Prints
- first_mile + last_mile + walksheds (all 1,227 hexgrid cells, 14:00-16:00, the
  frequent stops' 5/10/15-minute walksheds) on a cached network: each and their
  sum, medians of --repeat runs;
- accessibility (cumulative jobs within 30/45/60 min, 60-minute window from 14:00,
  all cells to all cells) straight from the network vs travel_time_matrix followed
  by the matrix-based measure: wall time (median of --repeat runs, each variant in
  its own process so that peak memory is its own) and peak RSS;
- peak memory of both with 7x the destinations (the cells' H3 children at
  resolution 10), for the first chunk of 256 origins.

Usage: python benchmarks/access.py [--repeat 3] [--skip-direct]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import warnings

import geopandas as gpd

# the script's folder is on sys.path: share the matrix benchmark's helpers
from ttm import DEPARTURE, peak_rss_mb, timed  # noqa: I001

import transitmile as tm
from transitmile import settings
from transitmile.access import AccessWarning
from transitmile.streets import UnsnappedPointsWarning

WINDOW = {"start": "14:00", "end": "16:00"}
ROUTING = {"departure": DEPARTURE, "departure_time_window": dt.timedelta(minutes=60)}


def network_and_cells():
    """Load the cached Porto Alegre network and its hexgrid cells."""
    data = tm.fetch_dataset("porto_alegre", progress=False)
    network = tm.TransportNetwork(data.osm_pbf, data.gtfs, DEPARTURE.date(), progress=False)
    return network, data.origins


def bench_street_measures(network, cells, repeat: int) -> None:
    """first_mile + last_mile + walksheds, each and in sum."""
    steps = {
        "first_mile": lambda: tm.first_mile(network, cells, **WINDOW),
        "last_mile": lambda: tm.last_mile(network, cells, **WINDOW),
        "walksheds": lambda: tm.walksheds(network, points=cells, **WINDOW),
    }
    for step in steps.values():
        step()  # first calls import and warm caches; not the product's speed
    totals = []
    per_step = {name: [] for name in steps}
    for _ in range(repeat):
        started = time.perf_counter()
        for name, step in steps.items():
            begun = time.perf_counter()
            step()
            per_step[name].append(time.perf_counter() - begun)
        totals.append(time.perf_counter() - started)
    for name, runs in per_step.items():
        print(f"  {name:<11} median {statistics.median(runs):6.2f} s")
    print(
        f"first_mile + last_mile + walksheds, {len(cells)} cells: median "
        f"{statistics.median(totals):6.2f} s  runs {[round(t, 2) for t in totals]}"
    )
    process = resource.getrusage(resource.RUSAGE_SELF)
    print(f"  CPU time of this process so far {process.ru_utime + process.ru_stime:.1f} s")


def h3_children(cells: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Resolution-10 children of the cells, with the parent's jobs split evenly."""
    import h3

    ids, lons, lats, jobs = [], [], [], []
    for cell, parent_jobs in zip(cells["id"], cells["jobs"].fillna(0), strict=True):
        children = sorted(h3.cell_to_children(cell, 10))
        for child in children:
            lat, lon = h3.cell_to_latlng(child)
            ids.append(child)
            lons.append(lon)
            lats.append(lat)
            jobs.append(parent_jobs / len(children))
    return gpd.GeoDataFrame(
        {"id": ids, "jobs": jobs}, geometry=gpd.points_from_xy(lons, lats), crs="EPSG:4326"
    )


def run_variant(variant: str, origins_limit: int, children: bool, repeat: int) -> dict:
    """Time one variant in this process (called in a child process)."""
    network, cells = network_and_cells()
    origins = cells.iloc[:origins_limit] if origins_limit else cells
    destinations = h3_children(cells) if children else cells

    def direct():
        return tm.accessibility(network, destinations, origins=origins, engine="embedded",
                                progress=False, **ROUTING)  # fmt: skip

    def matrix():
        frame = tm.travel_time_matrix(network, origins, destinations, engine="embedded",
                                      progress=False, **ROUTING)  # fmt: skip
        return tm.accessibility(frame, destinations, origins=origins)

    fn = direct if variant == "direct" else matrix
    # a first small call compiles numba's kernels (cached on disk): not the product's speed
    tm.travel_time_matrix(network, cells.iloc[:2], cells.iloc[:2], engine="embedded",
                          progress=False, departure=DEPARTURE)  # fmt: skip
    median, runs, result = timed(fn, repeat)
    return {
        "median_s": median,
        "runs": [round(r, 2) for r in runs],
        "peak_rss_mb": peak_rss_mb(),
        "jobs_45_mean": float(result["jobs_cumulative_45min"].mean()),
        "n_destinations": len(destinations),
        "n_origins": len(origins),
    }


def in_child(variant: str, origins_limit: int, children: bool, repeat: int) -> dict:
    """Run :func:`run_variant` in a fresh process; its figures as a dict."""
    command = [
        sys.executable, __file__, "--child", variant, "--origins", str(origins_limit),
        "--repeat", str(repeat), *(["--children"] if children else []),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_accessibility(repeat: int) -> None:
    """Network-direct vs matrix-based accessibility: time and peak memory."""
    figures = {v: in_child(v, 0, False, repeat) for v in ("matrix", "direct")}
    for variant, f in figures.items():
        print(
            f"accessibility {variant:<6} {f['n_origins']}x{f['n_destinations']}, 60-min window: "
            f"median {f['median_s']:6.2f} s runs {f['runs']}  peak RSS {f['peak_rss_mb']:.0f} MB  "
            f"mean jobs within 45 min {f['jobs_45_mean']:,.0f}"
        )
    ratio = figures["direct"]["median_s"] / figures["matrix"]["median_s"]
    print(f"  direct / matrix time: {ratio:.2f}")
    for variant in ("matrix", "direct"):
        small = in_child(variant, 256, False, 1)
        large = in_child(variant, 256, True, 1)
        print(
            f"  {variant:<6} 256 origins: peak RSS {small['peak_rss_mb']:.0f} MB with "
            f"{small['n_destinations']:,} destinations, {large['peak_rss_mb']:.0f} MB with "
            f"{large['n_destinations']:,}"
        )


def main(argv=None) -> None:
    """Run the benchmark (or one child variant)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-direct", action="store_true")
    parser.add_argument("--child", choices=["direct", "matrix"])
    parser.add_argument("--origins", type=int, default=0)
    parser.add_argument("--children", action="store_true")
    args = parser.parse_args(argv)
    settings.progress = False
    warnings.simplefilter("ignore", UnsnappedPointsWarning)
    warnings.simplefilter("ignore", AccessWarning)
    if args.child:
        print(json.dumps(run_variant(args.child, args.origins, args.children, args.repeat)))
        return
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, transitmile {tm.__version__}")
    network, cells = network_and_cells()
    bench_street_measures(network, cells, args.repeat)
    if not args.skip_direct:
        bench_accessibility(args.repeat)


if __name__ == "__main__":
    main()
