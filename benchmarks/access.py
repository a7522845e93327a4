"""Access layer benchmark on Porto Alegre (prints figures; asserts nothing about time).

Prints
- first_mile + last_mile + walksheds (all 1,227 hexgrid cells, 14:00-16:00, the
  frequent stops' 5/10/15-minute walksheds) on a cached network: each and their
  sum, medians of --repeat runs;
- accessibility (cumulative jobs within 30/45/60 min, 60-minute window from 14:00,
  all cells to all cells) straight from the network vs travel_time_matrix followed
  by the matrix-based measure: wall and CPU time, medians of --repeat runs of each,
  interleaved in one process so that the machine's load drifts over both;
- peak memory of each (in its own process), all origins, with 1,227 and with 7x the
  destinations (the cells' H3 children at resolution 10), 10-minute window, trips up
  to 61 minutes.

Wall times on a shared machine vary with its load; CPU seconds (all threads) are
printed beside them, and the two variants run one after the other.

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
from ttm import DEPARTURE, peak_rss_mb  # noqa: I001

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
    totals, cpu_totals = [], []
    per_step = {name: [] for name in steps}
    per_cpu = {name: [] for name in steps}
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), cpu_seconds()
        for name, step in steps.items():
            begun, begun_cpu = time.perf_counter(), cpu_seconds()
            step()
            per_step[name].append(time.perf_counter() - begun)
            per_cpu[name].append(cpu_seconds() - begun_cpu)
        totals.append(time.perf_counter() - started)
        cpu_totals.append(cpu_seconds() - started_cpu)
    for name, runs in per_step.items():
        print(
            f"  {name:<11} median {statistics.median(runs):6.2f} s "
            f"(CPU {statistics.median(per_cpu[name]):.2f} s)"
        )
    print(
        f"first_mile + last_mile + walksheds, {len(cells)} cells: median "
        f"{statistics.median(totals):6.2f} s (CPU {statistics.median(cpu_totals):.2f} s)  "
        f"runs {[round(t, 2) for t in totals]}"
    )


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


def cpu_seconds() -> float:
    """CPU time of this process so far, all threads, seconds."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def variant_functions(network, cells, children: bool, memory: bool):
    """The matrix-based and network-direct accessibility runs, as functions."""
    destinations = h3_children(cells) if children else cells
    routing = dict(ROUTING)
    if memory:  # memory does not depend on the window; trips up to the largest cutoff
        routing.update(departure_time_window=dt.timedelta(minutes=10),
                       max_time=dt.timedelta(minutes=61))  # fmt: skip

    def direct():
        return tm.accessibility(network, destinations, origins=cells, engine="embedded",
                                progress=False, **routing)  # fmt: skip

    def matrix():
        frame = tm.travel_time_matrix(network, cells, destinations, engine="embedded",
                                      progress=False, **routing)  # fmt: skip
        return tm.accessibility(frame, destinations, origins=cells)

    return {"matrix": matrix, "direct": direct}, len(destinations)


def run_child(variant: str, children: bool, repeat: int, memory: bool) -> dict:
    """Time one variant, or both interleaved (``"both"``), in this process."""
    network, cells = network_and_cells()
    functions, n_destinations = variant_functions(network, cells, children, memory)
    # a first small call compiles numba's kernels (cached on disk): not the product's speed
    tm.travel_time_matrix(network, cells.iloc[:2], cells.iloc[:2], engine="embedded",
                          progress=False, departure=DEPARTURE)  # fmt: skip
    names = list(functions) if variant == "both" else [variant]
    wall = {name: [] for name in names}
    cpu = {name: [] for name in names}
    jobs = {}
    for _ in range(repeat):  # interleaved, so that the machine's load drifts over both
        for name in names:
            started, started_cpu = time.perf_counter(), cpu_seconds()
            result = functions[name]()
            wall[name].append(time.perf_counter() - started)
            cpu[name].append(cpu_seconds() - started_cpu)
            jobs[name] = float(result["jobs_cumulative_45min"].mean())
    return {
        name: {
            "median_s": statistics.median(wall[name]),
            "cpu_s": statistics.median(cpu[name]),
            "runs": [round(r, 2) for r in wall[name]],
            "jobs_45_mean": jobs[name],
            "peak_rss_mb": peak_rss_mb(),
            "n_destinations": n_destinations,
            "n_origins": len(cells),
        }
        for name in names
    }


def in_child(variant: str, children: bool, repeat: int, memory: bool = False) -> dict:
    """Run :func:`run_child` in a fresh process; its figures as a dict."""
    command = [
        sys.executable, __file__, "--child", variant, "--repeat", str(repeat),
        *(["--children"] if children else []), *(["--memory"] if memory else []),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_accessibility(repeat: int) -> None:
    """Network-direct vs matrix-based accessibility: time and peak memory."""
    figures = in_child("both", False, repeat)
    for variant, f in figures.items():
        print(
            f"accessibility {variant:<6} {f['n_origins']}x{f['n_destinations']}, 60-min window: "
            f"median {f['median_s']:6.2f} s (CPU {f['cpu_s']:.1f} s) runs {f['runs']}  "
            f"mean jobs within 45 min {f['jobs_45_mean']:,.0f}"
        )
    wall = figures["direct"]["median_s"] / figures["matrix"]["median_s"]
    cpu = figures["direct"]["cpu_s"] / figures["matrix"]["cpu_s"]
    print(f"  direct / matrix (interleaved runs): wall time {wall:.2f}, CPU time {cpu:.2f}")
    for variant in ("matrix", "direct"):
        small, large = (
            in_child(variant, children, 1, memory=True)[variant] for children in (False, True)
        )
        print(
            f"  {variant:<6} peak RSS {small['peak_rss_mb']:.0f} MB with "
            f"{small['n_destinations']:,} destinations, {large['peak_rss_mb']:.0f} MB with "
            f"{large['n_destinations']:,} (10-min window, trips up to 61 min)"
        )


def main(argv=None) -> None:
    """Run the benchmark (or one child variant)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-direct", action="store_true")
    parser.add_argument("--child", choices=["direct", "matrix", "both"])
    parser.add_argument("--children", action="store_true")
    parser.add_argument("--memory", action="store_true")
    args = parser.parse_args(argv)
    settings.progress = False
    warnings.simplefilter("ignore", UnsnappedPointsWarning)
    warnings.simplefilter("ignore", AccessWarning)
    if args.child:
        print(json.dumps(run_child(args.child, args.children, args.repeat, args.memory)))
        return
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, transitmile {tm.__version__}")
    network, cells = network_and_cells()
    bench_street_measures(network, cells, args.repeat)
    if not args.skip_direct:
        bench_accessibility(args.repeat)


if __name__ == "__main__":
    main()
